package memstore_test

import (
	"context"
	"testing"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/storetest"
)

// compactable gives memstore's Compact the context argument storetest.Compactor has.
type compactable struct{ *memstore.Store }

func (c compactable) Compact(_ context.Context, rev int64) error { return c.Store.Compact(rev) }

// TestConformance checks memstore against every lifecycle.Store check, with its error messages
// and sentinel, and ten times the load an etcd cluster is given.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) lifecycle.Store { return compactable{memstore.New()} },
		storetest.ErrorPrefix("memstore: "), storetest.InvalidArgument(memstore.ErrInvalidArgument), storetest.Load(10))
}
