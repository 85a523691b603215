package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
	"github.com/podlife/podlife/phase"
)

// ack is a status write the store acknowledged: seq is at revision rev of key.
type ack struct {
	key string
	seq uint64
	rev int64
}

// TestThreeMembersOneStoppedLosesNoStatusWrite streams status writes from three writers (one pod
// each, compare-and-swap on the previous revision, as the agent's status writer) while the leader
// of a three-member cluster crashes (stops without handing over its leadership), then checks the
// history: every acknowledged write is
// there at its revision, each pod's sequence is 1..n without a gap, a repeat or a reordering, and
// the stopped member, started again, catches up.
func TestThreeMembersOneStoppedLosesNoStatusWrite(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{members: 3, fast: true})
	s := c.store(etcdstore.Config{RequestTimeout: time.Second})
	ctx := background(t)
	keys := lifecycle.Keys{}
	const node, writers, n, stopAt = "node-1", 3, 60, 20
	_, startRev, err := s.List(ctx, keys.Statuses(node))
	require.NoError(t, err)

	// A watcher follows the stream live across the stop, as the agent follows its pods: when its
	// watch ends (the member it was on went, or lost its leader) it watches again from the last
	// revision it saw + 1.
	type seen struct {
		key string
		seq uint64
		rev int64
	}
	var live []seen
	resumes := 0
	liveDone := make(chan struct{})
	wctx, stopWatching := context.WithCancel(ctx)
	go func() {
		defer close(liveDone)
		from := startRev + 1
		for len(live) < writers*n && wctx.Err() == nil {
			for resp := range s.Watch(wctx, keys.Statuses(node), from) {
				if resp.Err != nil {
					resumes++
					break
				}
				for _, ev := range resp.Events {
					rec, err := lifecycle.DecodeStatus(ev.KV.Value)
					if !assert.NoError(t, err) {
						return
					}
					live = append(live, seen{ev.KV.Key, rec.Seq, ev.KV.Revision})
					from = ev.KV.Revision + 1
				}
				if len(live) >= writers*n {
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	leader := c.leader()
	stopped := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var acks []ack
	var slowest time.Duration
	retried := 0
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			pod := lifecycle.PodRef{Namespace: "default", Name: fmt.Sprintf("pod-%d", w)}
			key := keys.Status(node, pod)
			var prev int64
			for seq := uint64(1); seq <= n; seq++ {
				if w == 0 && seq == stopAt {
					once.Do(func() {
						began := time.Now()
						c.crash(leader)
						t.Logf("leader m%d crashed in %v", leader, time.Since(began).Round(time.Millisecond))
						close(stopped)
					})
				}
				b, err := lifecycle.EncodeStatus(lifecycle.StatusRecord{Pod: pod, Node: node, Seq: seq,
					Status: phase.PodStatus{Phase: phase.Running, Message: fmt.Sprint("write ", seq)}})
				if !assert.NoError(t, err) {
					return
				}
				began := time.Now()
				rev, retries, err := writeStatus(ctx, s, key, b, seq, prev)
				if !assert.NoError(t, err, "write %d of %s", seq, key) {
					return
				}
				prev = rev
				mu.Lock()
				acks = append(acks, ack{key, seq, rev})
				slowest = max(slowest, time.Since(began))
				retried += retries
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	<-stopped
	require.Len(t, acks, writers*n)
	newLeader := c.leader()
	assert.NotEqual(t, leader, newLeader, "another member leads")
	t.Logf("%d writes, leader m%d crashed after %d; slowest write %v; %d retries after an error; m%d leads now",
		len(acks), leader, stopAt, slowest.Round(time.Millisecond), retried, newLeader)

	// The live watcher saw every acknowledged write once, in revision order.
	select {
	case <-liveDone:
	case <-time.After(10 * time.Second):
		stopWatching()
		<-liveDone
	}
	stopWatching()
	require.Len(t, live, writers*n, "the live watcher saw every write")
	liveSeq := map[string]uint64{}
	for i, e := range live {
		if i > 0 {
			require.Greater(t, e.rev, live[i-1].rev, "no duplicate, in order")
		}
		require.Equal(t, liveSeq[e.key]+1, e.seq, "%s: no gap across the stop", e.key)
		liveSeq[e.key] = e.seq
	}
	t.Logf("the live watch was resumed %d times by the watcher (the client resumes a broken stream by itself)", resumes)

	// The history, from a new watch: every write once, in order, at its acknowledged revision.
	want := map[int64]ack{}
	for _, a := range acks {
		want[a.rev] = a
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := s.Watch(hctx, keys.Statuses(node), startRev+1)
	lastSeq := map[string]uint64{}
	var lastRev int64
	for seen := 0; seen < writers*n; {
		var resp lifecycle.WatchResponse
		select {
		case resp = <-w:
		case <-time.After(10 * time.Second):
			require.FailNow(t, "history incomplete", "%d of %d writes seen", seen, writers*n)
		}
		require.NoError(t, resp.Err)
		for _, ev := range resp.Events {
			seen++
			require.Equal(t, lifecycle.WatchPut, ev.Type)
			require.Greater(t, ev.KV.Revision, lastRev)
			lastRev = ev.KV.Revision
			rec, err := lifecycle.DecodeStatus(ev.KV.Value)
			require.NoError(t, err)
			require.Equal(t, lastSeq[ev.KV.Key]+1, rec.Seq, "%s: no gap, no repeat, no reordering", ev.KV.Key)
			lastSeq[ev.KV.Key] = rec.Seq
			a, ok := want[ev.KV.Revision]
			require.True(t, ok, "revision %d (%s seq %d) was never acknowledged", ev.KV.Revision, ev.KV.Key, rec.Seq)
			require.Equal(t, ack{ev.KV.Key, rec.Seq, ev.KV.Revision}, a, "acknowledged at this revision")
			delete(want, ev.KV.Revision)
		}
	}
	assert.Empty(t, want, "acknowledged writes missing from the history")

	// The stopped member comes back and catches up.
	c.start(leader)
	c.waitReady(leader)
	back := c.store(etcdstore.Config{Endpoints: []string{c.endpoint(leader)}})
	eventually(t, 10*time.Second, func() bool {
		kvs, _, err := back.List(ctx, keys.Statuses(node))
		if err != nil || len(kvs) != writers {
			return false
		}
		for _, kv := range kvs {
			rec, err := lifecycle.DecodeStatus(kv.Value)
			if err != nil || rec.Seq != n {
				return false
			}
		}
		return true
	}, "the restarted member has every pod's last write")
}

// writeStatus is the agent's status write: compare-and-swap on prev; after an error, read the key
// again, and if the write went through after all, take it as acknowledged.
func writeStatus(ctx context.Context, s *etcdstore.Store, key string, b []byte, seq uint64, prev int64) (int64, int, error) {
	for retries := 0; ; retries++ {
		rev, err := s.Put(ctx, key, b, prev)
		if err == nil {
			return rev, retries, nil
		}
		if !errors.Is(err, lifecycle.ErrStoreUnavailable) && !errors.Is(err, lifecycle.ErrConflict) {
			return 0, retries, err
		}
		if ctx.Err() != nil {
			return 0, retries, err
		}
		kv, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, lifecycle.ErrKeyNotFound):
			prev = 0
			continue
		case err != nil:
			time.Sleep(20 * time.Millisecond)
			continue
		}
		rec, err := lifecycle.DecodeStatus(kv.Value)
		if err != nil {
			return 0, retries, err
		}
		if rec.Seq == seq {
			return kv.Revision, retries, nil // an unknown outcome that was a success
		}
		prev = kv.Revision
	}
}
