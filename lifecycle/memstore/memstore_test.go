package memstore

// What every lifecycle.Store must do is checked by storetest (memstore_conformance_test.go);
// these tests are of what only memstore has: Revision, Compact's own arguments and its effect on
// open watches, SetUnavailable, its watch goroutines and batches.

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/lifecycle"
)

const timeout = 5 * time.Second

// T is what the helpers need: *testing.T and *testing.B both have it.
type T interface {
	require.TestingT
	Helper()
}

// put writes unconditionally and fails the test on error.
func put(t T, s *Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Put(context.Background(), key, []byte(value), lifecycle.AnyRevision)
	require.NoError(t, err)
	return rev
}

// next reads one response, failing the test if none comes or the channel is closed.
func next(t T, ch <-chan lifecycle.WatchResponse) lifecycle.WatchResponse {
	t.Helper()
	select {
	case resp, ok := <-ch:
		require.True(t, ok, "watch channel closed early")
		return resp
	case <-time.After(timeout):
		require.FailNow(t, "no watch response")
		return lifecycle.WatchResponse{}
	}
}

// events reads responses until it has n events; any Err fails the test.
func events(t T, ch <-chan lifecycle.WatchResponse, n int) []lifecycle.WatchEvent {
	t.Helper()
	var evs []lifecycle.WatchEvent
	for len(evs) < n {
		resp := next(t, ch)
		require.NoError(t, resp.Err)
		require.NotEmpty(t, resp.Events, "response with neither events nor error")
		evs = append(evs, resp.Events...)
	}
	require.Len(t, evs, n, "more events than expected")
	return evs
}

// quiet checks that no response arrives for a short while.
func quiet(t T, ch <-chan lifecycle.WatchResponse) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		assert.Fail(t, "unexpected watch response", "ok=%v resp=%+v", ok, resp)
	case <-time.After(20 * time.Millisecond):
	}
}

// closed checks that ch is closed (after draining nothing: it must be closed now or soon).
func closed(t T, ch <-chan lifecycle.WatchResponse) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		require.False(t, ok, "want closed channel, got %+v", resp)
	case <-time.After(timeout):
		require.FailNow(t, "watch channel not closed")
	}
}

func putEv(key, value string, rev int64) lifecycle.WatchEvent {
	return lifecycle.WatchEvent{Type: lifecycle.WatchPut, KV: lifecycle.KV{Key: key, Value: []byte(value), Revision: rev}}
}

// TestRevision: Revision is 0 for a new store, then what List reports; only a write moves it.
func TestRevision(t *testing.T) {
	ctx := t.Context()
	s := New()
	check := func(want int64, after string) {
		t.Helper()
		_, rev, err := s.List(ctx, "")
		require.NoError(t, err)
		assert.Equal(t, want, rev, "List after %s", after)
		assert.Equal(t, want, s.Revision(), "Revision after %s", after)
	}
	check(0, "New")
	put(t, s, "a", "1")
	check(1, "the first write")
	_, err := s.Put(ctx, "a", nil, 0)
	require.ErrorIs(t, err, lifecycle.ErrConflict)
	check(1, "a lost CAS")
	require.NoError(t, s.Delete(ctx, "b", lifecycle.AnyRevision))
	check(1, "a delete of a missing key")
	require.NoError(t, s.Delete(ctx, "a", 1))
	check(2, "a delete")
}

// TestCompactOutOfRange: Compact refuses a revision the store has not reached or a negative one,
// as a caller bug, and compacts nothing.
func TestCompactOutOfRange(t *testing.T) {
	s := New()
	put(t, s, "a", "1")
	for _, rev := range []int64{2, -1} {
		err := s.Compact(rev)
		require.ErrorIs(t, err, ErrInvalidArgument)
		assert.Contains(t, err.Error(), fmt.Sprintf("rev %d", rev))
	}
	assert.Equal(t, int64(1), s.Revision(), "nothing written")
	assert.Equal(t, []lifecycle.WatchEvent{putEv("a", "1", 1)}, events(t, s.Watch(t.Context(), "", 1), 1),
		"nothing compacted")
}

func TestUnavailable(t *testing.T) {
	ctx := t.Context()
	s := New()
	put(t, s, "a", "1")
	w := s.Watch(ctx, "", 0)
	put(t, s, "a", "2") // buffered, not yet read

	s.SetUnavailable(true)
	calls := map[string]func() error{
		"get":     func() error { _, err := s.Get(ctx, "a"); return err },
		"list":    func() error { _, _, err := s.List(ctx, ""); return err },
		"put":     func() error { _, err := s.Put(ctx, "a", nil, lifecycle.AnyRevision); return err },
		"delete":  func() error { return s.Delete(ctx, "a", lifecycle.AnyRevision) },
		"compact": func() error { return s.Compact(1) },
		"watch": func() error {
			ch := s.Watch(ctx, "", 1)
			resp := next(t, ch)
			closed(t, ch)
			return resp.Err
		},
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			require.ErrorIs(t, call(), lifecycle.ErrStoreUnavailable)
		})
	}

	// The open watch delivers what it had, then the outage, then closes.
	assert.Equal(t, []lifecycle.WatchEvent{putEv("a", "2", 2)}, events(t, w, 1))
	resp := next(t, w)
	require.ErrorIs(t, resp.Err, lifecycle.ErrStoreUnavailable)
	closed(t, w)

	s.SetUnavailable(false)
	kv, err := s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, int64(2), kv.Revision, "the outage lost nothing and wrote nothing")
	w = s.Watch(ctx, "", kv.Revision+1)
	rev := put(t, s, "a", "3")
	assert.Equal(t, []lifecycle.WatchEvent{putEv("a", "3", rev)}, events(t, w, 1), "a new watch works")
}

// closedAfterDrain checks that a cancelled watch closes; it may still hand out what it had ready.
func closedAfterDrain(t *testing.T, ch <-chan lifecycle.WatchResponse) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			require.FailNow(t, "cancelled watch not closed")
		}
	}
}

// TestCompactKeepsWhatOpenWatchesBuffered: a watch has its replay from the moment it opens, so
// a compaction after that takes nothing from it (storetest reads before compacting: etcd
// delivers lazily).
func TestCompactKeepsWhatOpenWatchesBuffered(t *testing.T) {
	ctx := t.Context()
	s := New()
	for i := 1; i <= 5; i++ {
		put(t, s, "k"+strconv.Itoa(i), "v")
	}
	open := s.Watch(ctx, "", 1)
	require.NoError(t, s.Compact(5))
	assert.Equal(t, []int64{1, 2, 3, 4, 5}, revisions(events(t, open, 5)))
	quiet(t, open)
}

func revisions(evs []lifecycle.WatchEvent) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.KV.Revision)
	}
	return out
}

// watchGoroutines counts the running watch goroutines, of any store: counting all goroutines
// would also count those of the runtime and of testify.
func watchGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			// Every goroutine Watch starts, running yet or not, says it was created there.
			return strings.Count(string(buf[:n]), "created by github.com/podlife/podlife/lifecycle/memstore.(*Store).Watch")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitWatchGoroutines polls until there are n watch goroutines, and reports how many there are.
func waitWatchGoroutines(n int) int {
	deadline := time.Now().Add(timeout)
	for watchGoroutines() != n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return watchGoroutines()
}

func TestWatchCancelClosesAndLeavesNoGoroutine(t *testing.T) {
	s := New()
	put(t, s, "k", "v")
	// Earlier tests' watches end when their t.Context does, a moment after the test.
	require.Zero(t, waitWatchGoroutines(0), "watches of earlier tests still running")

	var cancels []context.CancelFunc
	var chans []<-chan lifecycle.WatchResponse
	for i := range 10 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		// Half are idle, half have unread events pending.
		chans = append(chans, s.Watch(ctx, "", int64(1+i%2)))
	}
	assert.Equal(t, 10, watchGoroutines(), "one goroutine per watch")
	s.mu.RLock()
	assert.Len(t, s.watchers, 10)
	s.mu.RUnlock()

	for i, cancel := range cancels {
		cancel()
		closedAfterDrain(t, chans[i])
	}
	assert.Zero(t, waitWatchGoroutines(0), "watch goroutines still running after cancel")
	s.mu.RLock()
	assert.Empty(t, s.watchers, "cancelled watches are unregistered")
	s.mu.RUnlock()
	put(t, s, "k", "after") // writes to no watcher
}

// TestWatchBatchesABacklog: a watch hands out at most maxBatch events a response, so the
// backlog of a reader that has not read yet comes in several responses, in order, none lost.
func TestWatchBatchesABacklog(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := New()
	w := s.Watch(ctx, "", 1)
	const n = 3 * maxBatch
	for i := range n {
		put(t, s, "k", strconv.Itoa(i))
	}

	var evs []lifecycle.WatchEvent
	responses := 0
	for len(evs) < n {
		resp := next(t, w)
		require.NoError(t, resp.Err)
		require.NotEmpty(t, resp.Events)
		require.LessOrEqual(t, len(resp.Events), maxBatch)
		responses++
		evs = append(evs, resp.Events...)
	}
	assert.GreaterOrEqual(t, responses, 3)
	require.Len(t, evs, n)
	for i, ev := range evs {
		require.Equal(t, int64(i+1), ev.KV.Revision)
		require.Equal(t, strconv.Itoa(i), string(ev.KV.Value))
	}
	quiet(t, w)
}

func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	s := New()
	value := []byte("pod status of a realistic-ish size, a few dozen bytes")
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "pods/default/pod-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rev, err := s.Put(ctx, keys[i%len(keys)], value, lifecycle.AnyRevision)
		if err != nil {
			b.Fatal(err)
		}
		if rev%4096 == 0 { // keep the history bounded, as a real user would
			if err := s.Compact(rev); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s := New()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "pods/default/pod-" + strconv.Itoa(i)
		put(b, s, keys[i], "pod status of a realistic-ish size, a few dozen bytes")
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}
