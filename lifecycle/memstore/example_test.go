package memstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
)

// Two writers race on one key with compare-and-swap, and a watcher replays the history.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends the watch and its goroutine

	s := memstore.New()
	rev, _ := s.Put(ctx, "pods/web", []byte("Pending"), 0) // 0: create only
	fmt.Println("created at revision", rev)

	// Both read revision 1; the first write wins, the second gets a conflict.
	_, _ = s.Put(ctx, "pods/web", []byte("Running"), rev)
	_, err := s.Put(ctx, "pods/web", []byte("Failed"), rev)
	var conflict *lifecycle.ConflictError
	if errors.As(err, &conflict) {
		fmt.Printf("conflict: expected %d, is %d\n", conflict.Expected, conflict.Actual)
	}

	// Read again and retry, as the loser of a CAS should.
	kv, _ := s.Get(ctx, "pods/web")
	_, _ = s.Put(ctx, "pods/web", []byte("Succeeded"), kv.Revision)
	_ = s.Delete(ctx, "pods/web", lifecycle.AnyRevision)

	// A watch from revision 1 replays every change under the prefix.
	w := s.Watch(ctx, "pods/", 1)
	for seen := 0; seen < 4; {
		resp := <-w
		if resp.Err != nil {
			fmt.Println(resp.Err)
			return
		}
		for _, ev := range resp.Events {
			seen++
			if ev.Type == lifecycle.WatchDelete {
				fmt.Println(ev.KV.Revision, "delete", ev.KV.Key)
				continue
			}
			fmt.Println(ev.KV.Revision, "put", ev.KV.Key, string(ev.KV.Value))
		}
	}
	// Output:
	// created at revision 1
	// conflict: expected 1, is 2
	// 1 put pods/web Pending
	// 2 put pods/web Running
	// 3 put pods/web Succeeded
	// 4 delete pods/web
}
