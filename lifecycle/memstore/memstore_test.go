package memstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/lifecycle"
)

const timeout = 5 * time.Second

// T is what the helpers need: *testing.T, *testing.B and *rapid.T all have it.
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

func delEv(key string, rev int64) lifecycle.WatchEvent {
	return lifecycle.WatchEvent{Type: lifecycle.WatchDelete, KV: lifecycle.KV{Key: key, Revision: rev}}
}

func TestCRUD(t *testing.T) {
	ctx := t.Context()
	s := New()
	require.Zero(t, s.Revision())

	_, err := s.Get(ctx, "a")
	require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
	assert.Contains(t, err.Error(), `"a"`, "the message names the key")

	rev, err := s.Put(ctx, "a", []byte("1"), 0)
	require.NoError(t, err)
	assert.Equal(t, int64(1), rev)
	kv, err := s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "a", Value: []byte("1"), Revision: 1}, kv)

	rev, err = s.Put(ctx, "b", []byte("2"), 0)
	require.NoError(t, err)
	assert.Equal(t, int64(2), rev)

	rev, err = s.Put(ctx, "a", []byte("3"), 1)
	require.NoError(t, err)
	assert.Equal(t, int64(3), rev)
	kv, err = s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "a", Value: []byte("3"), Revision: 3}, kv)
	kv, err = s.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, int64(2), kv.Revision, "another key's write leaves b's mod revision")

	require.NoError(t, s.Delete(ctx, "a", 3))
	assert.Equal(t, int64(4), s.Revision())
	_, err = s.Get(ctx, "a")
	require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)

	// Re-creating a deleted key is a create: prevRevision 0.
	rev, err = s.Put(ctx, "a", []byte("5"), 0)
	require.NoError(t, err)
	assert.Equal(t, int64(5), rev)

	// An empty value is stored and read back as empty, not missing.
	rev, err = s.Put(ctx, "empty", nil, 0)
	require.NoError(t, err)
	kv, err = s.Get(ctx, "empty")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "empty", Value: []byte{}, Revision: rev}, kv)
}

func TestPutConditions(t *testing.T) {
	// Each case runs on a store holding "a" at revision 1 and "b" at revision 2 (revision 2).
	tests := []struct {
		name    string
		key     string
		prev    int64
		wantRev int64
		// for a conflict:
		expected, actual int64
	}{
		{name: "create missing", key: "c", prev: 0, wantRev: 3},
		{name: "create existing", key: "a", prev: 0, expected: 0, actual: 1},
		{name: "current revision", key: "a", prev: 1, wantRev: 3},
		{name: "stale revision", key: "b", prev: 1, expected: 1, actual: 2},
		{name: "future revision", key: "b", prev: 7, expected: 7, actual: 2},
		{name: "revision on missing key", key: "c", prev: 2, expected: 2, actual: 0},
		{name: "any on existing", key: "a", prev: lifecycle.AnyRevision, wantRev: 3},
		{name: "any on missing", key: "c", prev: lifecycle.AnyRevision, wantRev: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := New()
			put(t, s, "a", "old")
			put(t, s, "b", "old")

			rev, err := s.Put(ctx, tt.key, []byte("new"), tt.prev)
			if tt.wantRev != 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.wantRev, rev)
				kv, err := s.Get(ctx, tt.key)
				require.NoError(t, err)
				assert.Equal(t, lifecycle.KV{Key: tt.key, Value: []byte("new"), Revision: tt.wantRev}, kv)
				return
			}
			require.ErrorIs(t, err, lifecycle.ErrConflict)
			var ce *lifecycle.ConflictError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, lifecycle.ConflictError{Key: tt.key, Expected: tt.expected, Actual: tt.actual}, *ce)
			assert.Zero(t, rev)
			assert.Equal(t, int64(2), s.Revision(), "a lost CAS writes nothing")
			if tt.actual != 0 {
				kv, err := s.Get(ctx, tt.key)
				require.NoError(t, err)
				assert.Equal(t, "old", string(kv.Value))
			}
		})
	}
}

func TestDeleteConditions(t *testing.T) {
	// Each case runs on a store holding "a" at revision 1 and "b" at revision 2 (revision 2).
	tests := []struct {
		name     string
		key      string
		prev     int64
		wantRev  int64 // store revision afterwards
		conflict *lifecycle.ConflictError
	}{
		{name: "current revision", key: "a", prev: 1, wantRev: 3},
		{name: "any on existing", key: "b", prev: lifecycle.AnyRevision, wantRev: 3},
		{name: "any on missing is a no-op", key: "c", prev: lifecycle.AnyRevision, wantRev: 2},
		{name: "zero on missing is a no-op", key: "c", prev: 0, wantRev: 2},
		{name: "stale revision", key: "b", prev: 1, wantRev: 2,
			conflict: &lifecycle.ConflictError{Key: "b", Expected: 1, Actual: 2}},
		{name: "zero on existing", key: "a", prev: 0, wantRev: 2,
			conflict: &lifecycle.ConflictError{Key: "a", Expected: 0, Actual: 1}},
		{name: "revision on missing", key: "c", prev: 1, wantRev: 2,
			conflict: &lifecycle.ConflictError{Key: "c", Expected: 1, Actual: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := New()
			put(t, s, "a", "old")
			put(t, s, "b", "old")
			w := s.Watch(ctx, "", 0)

			err := s.Delete(ctx, tt.key, tt.prev)
			assert.Equal(t, tt.wantRev, s.Revision())
			if tt.conflict != nil {
				var ce *lifecycle.ConflictError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, *tt.conflict, *ce)
				quiet(t, w)
				return
			}
			require.NoError(t, err)
			_, err = s.Get(ctx, tt.key)
			require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
			if tt.wantRev == 2 {
				quiet(t, w) // a no-op delete is no change to watch
			} else {
				assert.Equal(t, []lifecycle.WatchEvent{delEv(tt.key, tt.wantRev)}, events(t, w, 1))
			}
		})
	}
}

func TestInvalidArguments(t *testing.T) {
	ctx := t.Context()
	s := New()
	put(t, s, "a", "1")
	tests := []struct {
		name string
		call func() error
		want string // in the message
	}{
		{"get empty key", func() error { _, err := s.Get(ctx, ""); return err }, "key"},
		{"put empty key", func() error { _, err := s.Put(ctx, "", nil, 0); return err }, "key"},
		{"delete empty key", func() error { return s.Delete(ctx, "", 0) }, "key"},
		{"put negative revision", func() error { _, err := s.Put(ctx, "a", nil, -2); return err }, "prevRevision -2"},
		{"delete negative revision", func() error { return s.Delete(ctx, "a", -5) }, "prevRevision -5"},
		{"compact future", func() error { return s.Compact(2) }, "rev 2"},
		{"compact negative", func() error { return s.Compact(-1) }, "rev -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, int64(1), s.Revision())
		})
	}
}

func TestValuesAreCopied(t *testing.T) {
	ctx := t.Context()
	s := New()
	w1 := s.Watch(ctx, "", 1)
	w2 := s.Watch(ctx, "", 1)

	buf := []byte("abc")
	_, err := s.Put(ctx, "k", buf, 0)
	require.NoError(t, err)
	buf[0] = 'X' // the caller reuses its buffer

	kv, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "abc", string(kv.Value), "Put copies the value in")
	kv.Value[0] = 'Y'

	kvs, _, err := s.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, "abc", string(kvs[0].Value), "Get copies the value out")
	kvs[0].Value[0] = 'Z'

	ev1 := events(t, w1, 1)[0]
	assert.Equal(t, "abc", string(ev1.KV.Value), "List copies the value out")
	ev1.KV.Value[0] = 'W'
	ev2 := events(t, w2, 1)[0]
	assert.Equal(t, "abc", string(ev2.KV.Value), "watchers do not share values")

	kv, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "abc", string(kv.Value), "a watch event's value is a copy")
	ev3 := events(t, s.Watch(ctx, "", 1), 1)[0]
	assert.Equal(t, "abc", string(ev3.KV.Value), "history is not aliased either")
}

func TestList(t *testing.T) {
	ctx := t.Context()
	s := New()
	for _, k := range []string{"pods/b", "pods/a", "nodes/x", "pods/c", "podsx"} {
		put(t, s, k, k)
	}
	require.NoError(t, s.Delete(ctx, "pods/c", lifecycle.AnyRevision))

	tests := []struct {
		prefix string
		want   []string
	}{
		{"pods/", []string{"pods/a", "pods/b"}},
		{"pods", []string{"pods/a", "pods/b", "podsx"}},
		{"", []string{"nodes/x", "pods/a", "pods/b", "podsx"}},
		{"none/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			kvs, rev, err := s.List(ctx, tt.prefix)
			require.NoError(t, err)
			assert.Equal(t, int64(6), rev)
			var keys []string
			for _, kv := range kvs {
				keys = append(keys, kv.Key)
				assert.Equal(t, kv.Key, string(kv.Value))
				got, err := s.Get(ctx, kv.Key)
				require.NoError(t, err)
				assert.Equal(t, got.Revision, kv.Revision)
			}
			assert.Equal(t, tt.want, keys)
		})
	}
}

func TestDoneContext(t *testing.T) {
	s := New()
	put(t, s, "a", "1")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	for name, ctx := range map[string]context.Context{"canceled": canceled, "expired": expired} {
		want := ctx.Err()
		calls := map[string]func() error{
			"get":    func() error { _, err := s.Get(ctx, "a"); return err },
			"list":   func() error { _, _, err := s.List(ctx, ""); return err },
			"put":    func() error { _, err := s.Put(ctx, "a", nil, lifecycle.AnyRevision); return err },
			"delete": func() error { return s.Delete(ctx, "a", lifecycle.AnyRevision) },
			"watch": func() error {
				ch := s.Watch(ctx, "", 1)
				resp := next(t, ch)
				closed(t, ch)
				assert.Empty(t, resp.Events)
				return resp.Err
			},
		}
		for op, call := range calls {
			t.Run(name+"/"+op, func(t *testing.T) {
				err := call()
				require.ErrorIs(t, err, want)
				assert.Contains(t, err.Error(), "memstore: "+op)
			})
		}
	}
	assert.Equal(t, int64(1), s.Revision(), "no write went through")
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

func TestWatch(t *testing.T) {
	// Each case runs on a store with this history:
	// 1 put pods/a, 2 put nodes/x, 3 put pods/b, 4 delete pods/a, 5 put pods/a2
	// and then writes 6 put pods/c, 7 put nodes/y after the watch is open.
	history := []lifecycle.WatchEvent{
		putEv("pods/a", "1", 1), putEv("nodes/x", "2", 2), putEv("pods/b", "3", 3),
		delEv("pods/a", 4), putEv("pods/a2", "5", 5), putEv("pods/c", "6", 6), putEv("nodes/y", "7", 7),
	}
	tests := []struct {
		name   string
		prefix string
		from   int64
		want   []int64 // revisions of the events seen
	}{
		{"everything from 1", "", 1, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"replay from the middle", "", 3, []int64{3, 4, 5, 6, 7}},
		{"from the next revision", "", 6, []int64{6, 7}},
		{"from now on, zero", "", 0, []int64{6, 7}},
		{"from now on, negative", "", -1, []int64{6, 7}},
		{"from the future", "", 7, []int64{7}},
		{"prefix", "pods/", 1, []int64{1, 3, 4, 5, 6}},
		{"prefix a key itself", "pods/a", 1, []int64{1, 4, 5}},
		{"prefix live only", "nodes/", 0, []int64{7}},
		{"prefix nothing", "none/", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s := New()
			write := func(ev lifecycle.WatchEvent) {
				if ev.Type == lifecycle.WatchPut {
					put(t, s, ev.KV.Key, string(ev.KV.Value))
				} else {
					require.NoError(t, s.Delete(ctx, ev.KV.Key, lifecycle.AnyRevision))
				}
			}
			for _, ev := range history[:5] {
				write(ev)
			}
			w := s.Watch(ctx, tt.prefix, tt.from)
			for _, ev := range history[5:] {
				write(ev)
			}
			var want []lifecycle.WatchEvent
			for _, r := range tt.want {
				want = append(want, history[r-1])
			}
			got := events(t, w, len(want))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			quiet(t, w)
		})
	}
}

func TestWatchResumeAfterCancel(t *testing.T) {
	s := New()
	for i := range 3 {
		put(t, s, "k", strconv.Itoa(i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := s.Watch(ctx, "", 1)
	first := next(t, w).Events // whatever the first response holds
	require.NotEmpty(t, first)
	put(t, s, "k", "3") // may or may not reach w before the cancel
	cancel()
	// Writes while nobody watches.
	for i := 4; i < 7; i++ {
		put(t, s, "k", strconv.Itoa(i))
	}
	closedAfterDrain(t, w) // the client stopped reading at cancel: the rest is not "seen"

	last := first[len(first)-1].KV.Revision
	w2 := s.Watch(t.Context(), "", last+1)
	put(t, s, "k", "7")
	rest := events(t, w2, int(8-last))

	var revs []int64
	for _, ev := range append(first, rest...) {
		revs = append(revs, ev.KV.Revision)
		assert.Equal(t, strconv.Itoa(int(ev.KV.Revision-1)), string(ev.KV.Value))
	}
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8}, revs, "no gap, no duplicate")
	quiet(t, w2)
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

func TestCompact(t *testing.T) {
	ctx := t.Context()
	s := New()
	for i := 1; i <= 5; i++ {
		put(t, s, "k"+strconv.Itoa(i), "v")
	}
	open := s.Watch(ctx, "", 1) // buffers 1..5 before the compaction
	require.NoError(t, s.Compact(4), "revisions before 4 are dropped, 4 is kept (as etcd)")
	require.NoError(t, s.Compact(2), "compacting to an older revision is a no-op")
	require.NoError(t, s.Compact(4), "and so is compacting again")

	tests := []struct {
		from int64
		want []int64 // nil: compacted
	}{
		{1, nil},
		{3, nil},
		{4, []int64{4, 5}},
		{5, []int64{5}},
		{0, nil}, // from now on: nothing yet, so not compacted either
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.from), func(t *testing.T) {
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			w := s.Watch(wctx, "", tt.from)
			if tt.want == nil && tt.from > 0 {
				resp := next(t, w)
				assert.Empty(t, resp.Events)
				var ce *lifecycle.CompactedError
				require.ErrorAs(t, resp.Err, &ce)
				require.ErrorIs(t, resp.Err, lifecycle.ErrCompacted)
				assert.Equal(t, lifecycle.CompactedError{Requested: tt.from, Compacted: 4}, *ce)
				closed(t, w)
				return
			}
			var revs []int64
			for _, ev := range events(t, w, len(tt.want)) {
				revs = append(revs, ev.KV.Revision)
			}
			assert.Equal(t, tt.want, revs)
			quiet(t, w)
		})
	}

	var revs []int64
	for _, ev := range events(t, open, 5) {
		revs = append(revs, ev.KV.Revision)
	}
	assert.Equal(t, []int64{1, 2, 3, 4, 5}, revs, "an open watch keeps what it buffered")

	// Compacting everything leaves the store usable and watchable from now on.
	require.NoError(t, s.Compact(5))
	next5 := s.Watch(ctx, "", 5)
	assert.Equal(t, []int64{5}, revisions(events(t, next5, 1)), "the compaction revision itself stays watchable")
	w := s.Watch(ctx, "", 6)
	rev := put(t, s, "k6", "v")
	assert.Equal(t, []lifecycle.WatchEvent{putEv("k6", "v", rev)}, events(t, w, 1))
	kvs, _, err := s.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, kvs, 6, "compaction drops history, not keys")
}

// watchGoroutines counts the running watch goroutines, of any store: counting all goroutines
// would also count those of the runtime and of testify.
func revisions(evs []lifecycle.WatchEvent) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.KV.Revision)
	}
	return out
}

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

func TestSlowWatcherBlocksNoWriter(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := New()
	w := s.Watch(ctx, "", 1)
	const n = 3 * maxBatch // more than one response's worth

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if _, err := s.Put(ctx, "k", []byte(strconv.Itoa(i)), lifecycle.AnyRevision); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		require.FailNow(t, "writers blocked by a watcher that does not read")
	}

	evs := events(t, w, n)
	for i, ev := range evs {
		require.Equal(t, int64(i+1), ev.KV.Revision)
		require.Equal(t, strconv.Itoa(i), string(ev.KV.Value))
	}
}

// TestModel runs random writes against a map and checks every result, the final contents,
// and that a watch from revision 1 sees exactly the successful writes.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := New()
		w := s.Watch(ctx, "", 1)

		type mkv struct {
			value string
			rev   int64
		}
		model := map[string]mkv{}
		var rev int64
		var want []lifecycle.WatchEvent

		key := rapid.SampledFrom([]string{"a", "b", "c", "a/x"})
		n := rapid.IntRange(0, 60).Draw(t, "ops")
		for i := range n {
			k := key.Draw(t, "key")
			cur, exists := model[k]
			var prev int64
			switch rapid.IntRange(0, 3).Draw(t, "prevKind") {
			case 0:
				prev = lifecycle.AnyRevision
			case 1:
				prev = 0
			case 2:
				prev = cur.rev // right (or 0 for a missing key)
			case 3:
				prev = rapid.Int64Range(1, rev+2).Draw(t, "prev")
			}
			ok := prev == lifecycle.AnyRevision || prev == cur.rev
			conflict := lifecycle.ConflictError{Key: k, Expected: prev, Actual: cur.rev}

			if rapid.Bool().Draw(t, "put") {
				v := fmt.Sprint(i)
				got, err := s.Put(ctx, k, []byte(v), prev)
				if !ok {
					requireConflict(t, conflict, err)
					continue
				}
				require.NoError(t, err)
				require.Greater(t, got, rev, "revisions strictly increase")
				rev = got
				model[k] = mkv{v, rev}
				want = append(want, putEv(k, v, rev))
			} else {
				err := s.Delete(ctx, k, prev)
				if !ok {
					requireConflict(t, conflict, err)
					continue
				}
				require.NoError(t, err)
				if exists {
					rev++
					delete(model, k)
					want = append(want, delEv(k, rev))
				}
			}
			require.Equal(t, rev, s.Revision())
		}

		kvs, listRev, err := s.List(ctx, "")
		require.NoError(t, err)
		require.Equal(t, rev, listRev)
		got := map[string]mkv{}
		for _, kv := range kvs {
			got[kv.Key] = mkv{string(kv.Value), kv.Revision}
		}
		require.Equal(t, model, got)
		for k, m := range model {
			kv, err := s.Get(ctx, k)
			require.NoError(t, err)
			require.Equal(t, m, mkv{string(kv.Value), kv.Revision})
		}

		evs := events(t, w, len(want))
		if diff := cmp.Diff(want, evs); diff != "" {
			t.Fatalf("watch (-want +got):\n%s", diff)
		}
	})
}

func requireConflict(t T, want lifecycle.ConflictError, err error) {
	t.Helper()
	var ce *lifecycle.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, want, *ce)
}

// TestConcurrentIncrements is a CAS counter under contention, with a watcher checking that every
// increment is seen once, in order.
func TestConcurrentIncrements(t *testing.T) {
	const workers, perWorker = 8, 200
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := New()
	rev0, err := s.Put(ctx, "n", []byte("0"), 0)
	require.NoError(t, err)
	w := s.Watch(ctx, "n", rev0+1)

	var conflicts sync.Map
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for range perWorker {
				for {
					kv, err := s.Get(ctx, "n")
					if err != nil {
						t.Error(err)
						return
					}
					n, err := strconv.Atoi(string(kv.Value))
					if err != nil {
						t.Error(err)
						return
					}
					_, err = s.Put(ctx, "n", []byte(strconv.Itoa(n+1)), kv.Revision)
					if err == nil {
						break
					}
					if !errors.Is(err, lifecycle.ErrConflict) {
						t.Error(err)
						return
					}
					conflicts.Store(g, true)
				}
			}
		})
	}
	wg.Wait()

	kv, err := s.Get(ctx, "n")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers*perWorker), string(kv.Value))
	assert.Equal(t, int64(1+workers*perWorker), s.Revision())

	for i, ev := range events(t, w, workers*perWorker) {
		require.Equal(t, rev0+1+int64(i), ev.KV.Revision)
		require.Equal(t, strconv.Itoa(i+1), string(ev.KV.Value), "each increment seen once, in order")
	}
	n := 0
	conflicts.Range(func(any, any) bool { n++; return true })
	t.Logf("%d of %d workers lost at least one CAS", n, workers)
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
