package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
	"github.com/podlife/podlife/lifecycle/storetest"
)

// TestConformance runs memstore's behaviour against etcd: one member, a namespace per store.
func TestConformance(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	storetest.Run(t, func(t *testing.T) lifecycle.Store { return c.namespaced(t) })
}

func TestNewRefusesNoEndpoints(t *testing.T) {
	_, err := etcdstore.New(etcdstore.Config{})
	require.ErrorIs(t, err, etcdstore.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "Endpoints")
}

func TestUnreachableClusterFailsWithinTheDialTimeout(t *testing.T) {
	t.Parallel()
	eps := []string{fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	for name, cfg := range map[string]etcdstore.Config{
		"anonymous": {Endpoints: eps, DialTimeout: 500 * time.Millisecond},
		"with user": {Endpoints: eps, DialTimeout: 500 * time.Millisecond, Username: "u", Password: "p"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := etcdstore.New(cfg)
			took := time.Since(start)
			require.ErrorIs(t, err, lifecycle.ErrStoreUnavailable)
			var ue *etcdstore.UnavailableError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, eps, ue.Endpoints)
			assert.Equal(t, "connect", ue.Op)
			assert.Contains(t, err.Error(), eps[0], "the message names the endpoints")
			assert.Contains(t, err.Error(), eps[1])
			assert.Less(t, took, 2*time.Second, "within the dial timeout (500 ms), give or take")
			t.Logf("failed after %v: %v", took.Round(time.Millisecond), err)
		})
	}
}

// TestStoppedClusterIsUnavailableAndComesBack stops the only member under a store: every call
// fails within the request timeout with the typed error, and the store works again, watch
// included, once the member is back on its data.
func TestStoppedClusterIsUnavailableAndComesBack(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{RequestTimeout: 300 * time.Millisecond})
	ctx := t.Context()
	rev, err := s.Put(ctx, "k", []byte("1"), 0)
	require.NoError(t, err)
	w := s.Watch(ctx, "k", rev+1) // open across the outage

	c.stop(0)
	calls := map[string]func() error{
		"get":    func() error { _, err := s.Get(ctx, "k"); return err },
		"list":   func() error { _, _, err := s.List(ctx, ""); return err },
		"put":    func() error { _, err := s.Put(ctx, "k", []byte("x"), rev); return err },
		"delete": func() error { return s.Delete(ctx, "k", rev) },
		"watch": func() error {
			ch := s.Watch(ctx, "k", 0)
			resp := <-ch
			_, open := <-ch
			assert.False(t, open)
			return resp.Err
		},
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			start := time.Now()
			err := call()
			took := time.Since(start)
			require.ErrorIs(t, err, lifecycle.ErrStoreUnavailable)
			var ue *etcdstore.UnavailableError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, op, ue.Op)
			assert.Equal(t, c.endpoints(), ue.Endpoints)
			assert.Contains(t, err.Error(), c.endpoint(0))
			assert.Less(t, took, 2*time.Second, "within the request timeout (300 ms), give or take")
		})
	}

	c.start(0)
	c.waitReady(0)
	var rev2 int64
	// The client's reconnects back off while the member is down (grpc's default, up to
	// minutes), so the first write that works may be seconds after the member is back.
	eventually(t, 30*time.Second, func() bool {
		rev2, err = s.Put(ctx, "k", []byte("2"), rev)
		return err == nil
	}, "the store works again: %v", func() any { return err })
	kv, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "k", Value: []byte("2"), Revision: rev2}, kv, "the outage wrote nothing")
	select {
	case resp := <-w:
		require.NoError(t, resp.Err)
		require.Len(t, resp.Events, 1)
		assert.Equal(t, rev2, resp.Events[0].KV.Revision, "the watch open across the outage goes on, without a gap")
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the watch did not resume")
	}
}

func TestWrongPasswordIsNotUnavailable(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	require.NoError(t, etcdstore.EnableAuth(t.Context(), c.client(), "rootpw"))
	_, err := etcdstore.New(etcdstore.Config{Endpoints: c.endpoints(), Username: "root", Password: "wrong"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, lifecycle.ErrStoreUnavailable)
	assert.Contains(t, err.Error(), `"root"`)
	assert.Contains(t, err.Error(), "authentication failed")
}

func TestCanceledWatchCloses(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	w := s.Watch(ctx, "", 0)
	_, err := s.Put(t.Context(), "k", nil, 0)
	require.NoError(t, err)
	resp := <-w
	require.NoError(t, resp.Err)
	cancel()
	select {
	case _, ok := <-w:
		assert.False(t, ok, "nothing after the cancel")
	case <-time.After(5 * time.Second):
		require.FailNow(t, "canceled watch not closed")
	}
	// And a closed client ends an open watch with the typed error, not silence.
	w2 := s.Watch(t.Context(), "", 0)
	require.NoError(t, s.Client().Close())
	select {
	case resp, ok := <-w2:
		require.True(t, ok)
		require.True(t, errors.Is(resp.Err, lifecycle.ErrStoreUnavailable) || errors.Is(resp.Err, context.Canceled), "%v", resp.Err)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "watch of a closed client not ended")
	}
}

// watchGoroutines counts the goroutines Watch started that still run.
func watchGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "created by github.com/podlife/podlife/lifecycle/etcdstore.(*Store).Watch")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestWatchCancelLeavesNoGoroutine is not parallel, so that no other test's watch is counted.
func TestWatchCancelLeavesNoGoroutine(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	eventually(t, 5*time.Second, func() bool { return watchGoroutines() == 0 }, "watches of earlier tests still running")
	_, err := s.Put(t.Context(), "k", []byte("v"), 0)
	require.NoError(t, err)
	var cancels []context.CancelFunc
	for i := range 10 {
		ctx, cancel := context.WithCancel(t.Context())
		cancels = append(cancels, cancel)
		s.Watch(ctx, "", int64(1+i%3)) // some with an event pending that nobody reads
	}
	assert.Equal(t, 10, watchGoroutines(), "one goroutine per watch")
	for _, cancel := range cancels {
		cancel()
	}
	eventually(t, 5*time.Second, func() bool { return watchGoroutines() == 0 }, "watch goroutines still running after cancel: %d", watchGoroutines())
}

// TestListReadsPagesOfOneSnapshot lists more keys than one page (500) holds.
func TestListReadsPagesOfOneSnapshot(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	ctx := t.Context()
	const n = 1234
	var want []string
	for i := 0; i < n; i += 100 {
		var ops []clientv3.Op
		for j := i; j < min(i+100, n); j++ {
			k := fmt.Sprintf("/p/%05d", j)
			want = append(want, k)
			ops = append(ops, clientv3.OpPut(k, k))
		}
		_, err := s.Client().Txn(ctx).Then(ops...).Commit()
		require.NoError(t, err)
	}
	_, err := s.Put(ctx, "/q", nil, 0) // outside the prefix
	require.NoError(t, err)
	kvs, rev, err := s.List(ctx, "/p/")
	require.NoError(t, err)
	var got []string
	for _, kv := range kvs {
		got = append(got, kv.Key)
		require.Equal(t, kv.Key, string(kv.Value))
		require.LessOrEqual(t, kv.Revision, rev)
	}
	assert.Equal(t, want, got, "every key once, in order")
	_, latest, err := s.List(ctx, "/none")
	require.NoError(t, err)
	assert.Equal(t, latest, rev, "the store's revision")
}
