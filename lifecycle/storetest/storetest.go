// Package storetest is the conformance test of lifecycle.Store: the behaviour memstore defines,
// run against any implementation, so that the in-memory store and the etcd adapter cannot drift
// apart. Call Run from a test of the implementation:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) lifecycle.Store { return memstore.New() })
//	}
//
// newStore must return an empty store (or an empty namespace of a shared one: revisions are
// checked relative to the store's revision when newStore returns, so other keys may have
// written before, but nothing else may write while a subtest runs). A store that can compact its
// history (a Compact(ctx, rev) method, see Compactor) is also checked for compaction. Options
// check what a store promises beyond lifecycle.Store (its error messages, its sentinel for caller
// bugs) and raise the load checks for a store that is fast enough.
package storetest

import (
	"context"
	"errors"
	"fmt"
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

// Compactor is a store whose history can be dropped before a revision, keeping that revision
// watchable, as etcd's compaction.
type Compactor interface {
	Compact(ctx context.Context, rev int64) error
}

// timeout bounds every wait for a watch response.
const timeout = 10 * time.Second

// Option adds to Run's checks.
type Option func(*config)

type config struct {
	errPrefix       string // every error message begins with it
	invalidArgument error  // nil: not checked
	load            int    // at least 1
}

// ErrorPrefix checks that the messages of the store's errors (for a done context and for
// invalid arguments) begin with prefix, as "memstore: ".
func ErrorPrefix(prefix string) Option { return func(c *config) { c.errPrefix = prefix } }

// InvalidArgument checks that the errors for an empty key or a negative prevRevision other than
// AnyRevision wrap sentinel, the store's own error for a caller bug.
func InvalidArgument(sentinel error) Option { return func(c *config) { c.invalidArgument = sentinel } }

// Load multiplies the writes of the load checks (SlowWatcherBlocksNoWriter, ConcurrentIncrements)
// by n, for a store fast enough to take more than a networked one (n < 1 counts as 1).
func Load(n int) Option { return func(c *config) { c.load = max(n, 1) } }

// checkPrefix checks that err's message begins with the ErrorPrefix and then op, if there is an
// ErrorPrefix.
func (c config) checkPrefix(t *testing.T, err error, op string) {
	t.Helper()
	if c.errPrefix != "" {
		assert.True(t, strings.HasPrefix(err.Error(), c.errPrefix+op), "%q begins with %q", err, c.errPrefix+op)
	}
}

// Run runs every conformance check as a subtest, each on a store of its own from newStore, with
// the checks opts add.
func Run(t *testing.T, newStore func(t *testing.T) lifecycle.Store, opts ...Option) {
	cfg := config{load: 1}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		f    func(*testing.T, *rig)
	}{
		{"CRUD", testCRUD},
		{"PutConditions", testPutConditions},
		{"DeleteConditions", testDeleteConditions},
		{"InvalidArguments", testInvalidArguments},
		{"ValuesAreCopied", testValuesAreCopied},
		{"List", testList},
		{"DoneContext", testDoneContext},
		{"Watch", testWatch},
		{"WatchResumeAfterCancel", testWatchResumeAfterCancel},
		{"WatchCancelCloses", testWatchCancelCloses},
		{"Compact", testCompact},
		{"SlowWatcherBlocksNoWriter", testSlowWatcher},
		{"RandomOpsMatchAModel", testModel},
		{"ConcurrentIncrements", testConcurrentIncrements},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f(t, newRig(t, newStore, cfg))
		})
	}
}

// rig is one store and its revision when the subtest began: revision n of a test is base+n.
type rig struct {
	s    lifecycle.Store
	base int64
	cfg  config
	// newStore makes another rig, for the cases of a table after the first.
	newStore func(t *testing.T) *rig
}

// newRig makes a store for one subtest (tables make one per case).
func newRig(t *testing.T, newStore func(t *testing.T) lifecycle.Store, cfg config) *rig {
	t.Helper()
	s := newStore(t)
	r := &rig{s: s, cfg: cfg}
	r.base = r.revision(t)
	r.newStore = func(t *testing.T) *rig {
		return newRig(t, newStore, cfg)
	}
	return r
}

// tester is what the helpers need: *testing.T and *rapid.T both have it.
type tester interface {
	require.TestingT
	Helper()
}

// revision is the store's revision, from a List.
func (r *rig) revision(t tester) int64 {
	t.Helper()
	_, rev, err := r.s.List(context.Background(), "")
	require.NoError(t, err)
	return rev
}

// rev is the test's revision n as the store numbers it.
func (r *rig) rev(n int64) int64 { return r.base + n }

// put writes unconditionally and fails the test on error.
func (r *rig) put(t tester, key, value string) int64 {
	t.Helper()
	rev, err := r.s.Put(context.Background(), key, []byte(value), lifecycle.AnyRevision)
	require.NoError(t, err)
	return rev
}

// next reads one response, failing the test if none comes or the channel is closed.
func next(t tester, ch <-chan lifecycle.WatchResponse) lifecycle.WatchResponse {
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
func events(t tester, ch <-chan lifecycle.WatchResponse, n int) []lifecycle.WatchEvent {
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
func quiet(t tester, ch <-chan lifecycle.WatchResponse) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		assert.Fail(t, "unexpected watch response", "ok=%v resp=%+v", ok, resp)
	case <-time.After(50 * time.Millisecond):
	}
}

// closed checks that ch is closed now or soon, with nothing left in it.
func closed(t tester, ch <-chan lifecycle.WatchResponse) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		require.False(t, ok, "want closed channel, got %+v", resp)
	case <-time.After(timeout):
		require.FailNow(t, "watch channel not closed")
	}
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

func putEv(key, value string, rev int64) lifecycle.WatchEvent {
	return lifecycle.WatchEvent{Type: lifecycle.WatchPut, KV: lifecycle.KV{Key: key, Value: []byte(value), Revision: rev}}
}

func delEv(key string, rev int64) lifecycle.WatchEvent {
	return lifecycle.WatchEvent{Type: lifecycle.WatchDelete, KV: lifecycle.KV{Key: key, Revision: rev}}
}

func revisions(evs []lifecycle.WatchEvent) []int64 {
	var out []int64
	for _, ev := range evs {
		out = append(out, ev.KV.Revision)
	}
	return out
}

func testCRUD(t *testing.T, r *rig) {
	ctx := t.Context()
	s := r.s

	_, err := s.Get(ctx, "a")
	require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
	assert.Contains(t, err.Error(), `"a"`, "the message names the key")

	rev, err := s.Put(ctx, "a", []byte("1"), 0)
	require.NoError(t, err)
	assert.Equal(t, r.rev(1), rev, "a write's revision is the store's next")
	kv, err := s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "a", Value: []byte("1"), Revision: r.rev(1)}, kv)

	rev, err = s.Put(ctx, "b", []byte("2"), 0)
	require.NoError(t, err)
	assert.Equal(t, r.rev(2), rev)

	rev, err = s.Put(ctx, "a", []byte("3"), r.rev(1))
	require.NoError(t, err)
	assert.Equal(t, r.rev(3), rev)
	kv, err = s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "a", Value: []byte("3"), Revision: r.rev(3)}, kv)
	kv, err = s.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, r.rev(2), kv.Revision, "another key's write leaves b's mod revision")

	require.NoError(t, s.Delete(ctx, "a", r.rev(3)))
	assert.Equal(t, r.rev(4), r.revision(t), "a delete is a write")
	_, err = s.Get(ctx, "a")
	require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)

	// Re-creating a deleted key is a create: prevRevision 0.
	rev, err = s.Put(ctx, "a", []byte("5"), 0)
	require.NoError(t, err)
	assert.Equal(t, r.rev(5), rev)

	// An empty value is stored and read back as empty, not missing.
	rev, err = s.Put(ctx, "empty", nil, 0)
	require.NoError(t, err)
	kv, err = s.Get(ctx, "empty")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "empty", Value: []byte{}, Revision: rev}, kv)
}

func testPutConditions(t *testing.T, r0 *rig) {
	// Each case runs on a store holding "a" at revision 1 and "b" at revision 2 (revision 2).
	// Revisions here are the test's; rig.rev maps them to the store's.
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
	abs := func(r *rig, n int64) int64 {
		if n <= 0 {
			return n // 0 and AnyRevision mean the same in every store
		}
		return r.rev(n)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			r := r0
			if i > 0 {
				r = r0.newStore(t)
			}
			s := r.s
			r.put(t, "a", "old")
			r.put(t, "b", "old")

			rev, err := s.Put(ctx, tt.key, []byte("new"), abs(r, tt.prev))
			if tt.wantRev != 0 {
				require.NoError(t, err)
				assert.Equal(t, r.rev(tt.wantRev), rev)
				kv, err := s.Get(ctx, tt.key)
				require.NoError(t, err)
				assert.Equal(t, lifecycle.KV{Key: tt.key, Value: []byte("new"), Revision: r.rev(tt.wantRev)}, kv)
				return
			}
			require.ErrorIs(t, err, lifecycle.ErrConflict)
			var ce *lifecycle.ConflictError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, lifecycle.ConflictError{Key: tt.key, Expected: abs(r, tt.expected), Actual: abs(r, tt.actual)}, *ce)
			assert.Zero(t, rev)
			assert.Equal(t, r.rev(2), r.revision(t), "a lost CAS writes nothing")
			if tt.actual != 0 {
				kv, err := s.Get(ctx, tt.key)
				require.NoError(t, err)
				assert.Equal(t, "old", string(kv.Value))
			}
		})
	}
}

func testDeleteConditions(t *testing.T, r0 *rig) {
	// Each case runs on a store holding "a" at revision 1 and "b" at revision 2 (revision 2).
	tests := []struct {
		name     string
		key      string
		prev     int64
		wantRev  int64 // store revision afterwards
		conflict bool
		expected int64
		actual   int64
	}{
		{name: "current revision", key: "a", prev: 1, wantRev: 3},
		{name: "any on existing", key: "b", prev: lifecycle.AnyRevision, wantRev: 3},
		{name: "any on missing is a no-op", key: "c", prev: lifecycle.AnyRevision, wantRev: 2},
		{name: "zero on missing is a no-op", key: "c", prev: 0, wantRev: 2},
		{name: "stale revision", key: "b", prev: 1, wantRev: 2, conflict: true, expected: 1, actual: 2},
		{name: "zero on existing", key: "a", prev: 0, wantRev: 2, conflict: true, expected: 0, actual: 1},
		{name: "revision on missing", key: "c", prev: 1, wantRev: 2, conflict: true, expected: 1, actual: 0},
	}
	abs := func(r *rig, n int64) int64 {
		if n <= 0 {
			return n
		}
		return r.rev(n)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := r0
			if i > 0 {
				r = r0.newStore(t)
			}
			s := r.s
			r.put(t, "a", "old")
			r.put(t, "b", "old")
			w := s.Watch(ctx, "", 0)

			err := s.Delete(ctx, tt.key, abs(r, tt.prev))
			assert.Equal(t, r.rev(tt.wantRev), r.revision(t))
			if tt.conflict {
				var ce *lifecycle.ConflictError
				require.ErrorAs(t, err, &ce)
				require.ErrorIs(t, err, lifecycle.ErrConflict)
				assert.Equal(t, lifecycle.ConflictError{Key: tt.key, Expected: abs(r, tt.expected), Actual: abs(r, tt.actual)}, *ce)
				quiet(t, w)
				return
			}
			require.NoError(t, err)
			_, err = s.Get(ctx, tt.key)
			require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
			if tt.wantRev == 2 {
				quiet(t, w) // a no-op delete is no change to watch
			} else {
				assert.Equal(t, []lifecycle.WatchEvent{delEv(tt.key, r.rev(tt.wantRev))}, events(t, w, 1))
			}
		})
	}
}

func testInvalidArguments(t *testing.T, r *rig) {
	ctx := t.Context()
	s := r.s
	r.put(t, "a", "1")
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			assert.NotErrorIs(t, err, lifecycle.ErrConflict)
			assert.NotErrorIs(t, err, lifecycle.ErrKeyNotFound)
			assert.NotErrorIs(t, err, lifecycle.ErrStoreUnavailable)
			if r.cfg.invalidArgument != nil {
				assert.ErrorIs(t, err, r.cfg.invalidArgument)
			}
			r.cfg.checkPrefix(t, err, "")
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, r.rev(1), r.revision(t), "nothing written")
		})
	}
}

func testValuesAreCopied(t *testing.T, r *rig) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := r.s
	w1 := s.Watch(ctx, "", r.rev(1))
	w2 := s.Watch(ctx, "", r.rev(1))

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
	require.Len(t, kvs, 1)
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
	ev3 := events(t, s.Watch(ctx, "", r.rev(1)), 1)[0]
	assert.Equal(t, "abc", string(ev3.KV.Value), "history is not aliased either")
}

func testList(t *testing.T, r *rig) {
	ctx := t.Context()
	s := r.s
	for _, k := range []string{"pods/b", "pods/a", "nodes/x", "pods/c", "podsx"} {
		r.put(t, k, k)
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
			assert.Equal(t, r.rev(6), rev, "the store's revision, whatever the prefix")
			var keys []string
			for _, kv := range kvs {
				keys = append(keys, kv.Key)
				assert.Equal(t, kv.Key, string(kv.Value))
				got, err := s.Get(ctx, kv.Key)
				require.NoError(t, err)
				assert.Equal(t, got.Revision, kv.Revision)
			}
			assert.Equal(t, tt.want, keys, "in key order")
		})
	}
}

func testDoneContext(t *testing.T, r *rig) {
	s := r.s
	r.put(t, "a", "1")
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
				ch := s.Watch(ctx, "", r.rev(1))
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
				assert.Contains(t, err.Error(), op, "the message names the operation")
				r.cfg.checkPrefix(t, err, op)
			})
		}
	}
	assert.Equal(t, r.rev(1), r.revision(t), "no write went through")
}

func testWatch(t *testing.T, r0 *rig) {
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
		from   int64 // the test's revision; <= 0 as it is
		want   []int64
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
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := r0
			if i > 0 {
				r = r0.newStore(t)
			}
			s := r.s
			write := func(ev lifecycle.WatchEvent) {
				if ev.Type == lifecycle.WatchPut {
					r.put(t, ev.KV.Key, string(ev.KV.Value))
				} else {
					require.NoError(t, s.Delete(ctx, ev.KV.Key, lifecycle.AnyRevision))
				}
			}
			for _, ev := range history[:5] {
				write(ev)
			}
			from := tt.from
			if from > 0 {
				from = r.rev(from)
			}
			w := s.Watch(ctx, tt.prefix, from)
			for _, ev := range history[5:] {
				write(ev)
			}
			var want []lifecycle.WatchEvent
			for _, n := range tt.want {
				ev := history[n-1]
				ev.KV.Revision = r.rev(n)
				want = append(want, ev)
			}
			got := events(t, w, len(want))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			quiet(t, w)
		})
	}
}

func testWatchResumeAfterCancel(t *testing.T, r *rig) {
	s := r.s
	for i := range 3 {
		r.put(t, "k", strconv.Itoa(i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := s.Watch(ctx, "", r.rev(1))
	first := next(t, w).Events // whatever the first response holds
	require.NotEmpty(t, first)
	r.put(t, "k", "3") // may or may not reach w before the cancel
	cancel()
	// Writes while nobody watches.
	for i := 4; i < 7; i++ {
		r.put(t, "k", strconv.Itoa(i))
	}
	closedAfterDrain(t, w) // the client stopped reading at cancel: the rest is not "seen"

	last := first[len(first)-1].KV.Revision
	w2 := s.Watch(t.Context(), "", last+1)
	r.put(t, "k", "7")
	rest := events(t, w2, int(r.rev(8)-last))

	var got []int64
	for _, ev := range append(first, rest...) {
		got = append(got, ev.KV.Revision-r.base)
		assert.Equal(t, strconv.Itoa(int(ev.KV.Revision-r.base-1)), string(ev.KV.Value))
	}
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8}, got, "no gap, no duplicate")
	quiet(t, w2)
}

func testWatchCancelCloses(t *testing.T, r *rig) {
	s := r.s
	r.put(t, "k", "v")
	var cancels []context.CancelFunc
	var chans []<-chan lifecycle.WatchResponse
	for i := range 6 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		// Half are idle, half have an unread event pending.
		chans = append(chans, s.Watch(ctx, "", r.rev(int64(1+i%2))))
	}
	for i, cancel := range cancels {
		cancel()
		closedAfterDrain(t, chans[i])
	}
	r.put(t, "k", "after") // writes to no watcher
}

func testCompact(t *testing.T, r *rig) {
	c, ok := r.s.(Compactor)
	if !ok {
		t.Skipf("%T has no Compact(ctx, rev)", r.s)
	}
	ctx := t.Context()
	s := r.s
	for i := 1; i <= 5; i++ {
		r.put(t, "k"+strconv.Itoa(i), "v")
	}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	open := s.Watch(wctx, "", r.rev(1))
	// Read the open watch's events before compacting: a store may deliver lazily (etcd does).
	require.Equal(t, []int64{1, 2, 3, 4, 5}, rel(r, revisions(events(t, open, 5))))
	require.NoError(t, c.Compact(ctx, r.rev(4)), "revisions before 4 are dropped, 4 is kept (as etcd)")
	require.NoError(t, c.Compact(ctx, r.rev(2)), "compacting to an older revision is a no-op")
	require.NoError(t, c.Compact(ctx, r.rev(4)), "and so is compacting again")

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
			from := tt.from
			if from > 0 {
				from = r.rev(from)
			}
			w := s.Watch(wctx, "", from)
			if tt.want == nil && tt.from > 0 {
				resp := next(t, w)
				assert.Empty(t, resp.Events)
				var ce *lifecycle.CompactedError
				require.ErrorAs(t, resp.Err, &ce)
				require.ErrorIs(t, resp.Err, lifecycle.ErrCompacted)
				assert.Equal(t, lifecycle.CompactedError{Requested: r.rev(tt.from), Compacted: r.rev(4)}, *ce)
				closed(t, w)
				return
			}
			assert.Equal(t, tt.want, rel(r, revisions(events(t, w, len(tt.want)))))
			quiet(t, w)
		})
	}

	// Compacting everything leaves the store usable and watchable from now on.
	require.NoError(t, c.Compact(ctx, r.rev(5)))
	next5 := s.Watch(wctx, "", r.rev(5))
	assert.Equal(t, []int64{5}, rel(r, revisions(events(t, next5, 1))), "the compaction revision itself stays watchable")
	w := s.Watch(wctx, "", r.rev(6))
	rev := r.put(t, "k6", "v")
	assert.Equal(t, []lifecycle.WatchEvent{putEv("k6", "v", rev)}, events(t, w, 1))
	kvs, _, err := s.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, kvs, 6, "compaction drops history, not keys")
}

// rel turns store revisions back into the test's.
func rel(r *rig, revs []int64) []int64 {
	var out []int64
	for _, rev := range revs {
		out = append(out, rev-r.base)
	}
	return out
}

func testSlowWatcher(t *testing.T, r *rig) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := r.s
	w := s.Watch(ctx, "", r.rev(1))
	n := 300 * r.cfg.load

	done := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := s.Put(ctx, "k", []byte(strconv.Itoa(i)), lifecycle.AnyRevision); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(4 * timeout):
		require.FailNow(t, "writers blocked by a watcher that does not read")
	}

	for i, ev := range events(t, w, n) {
		require.Equal(t, r.rev(int64(i+1)), ev.KV.Revision)
		require.Equal(t, strconv.Itoa(i), string(ev.KV.Value))
	}
}

// testModel runs rapid's random sequences of writes (-rapid.checks of them, each on keys of its
// own) against a map and checks every result and the store's revision after it, the final
// contents, and that a watch from the sequence's first revision sees exactly the successful
// writes.
func testModel(t *testing.T, r *rig) {
	s := r.s
	testCtx := t.Context()
	runs := 0
	rapid.Check(t, func(t *rapid.T) {
		ctx, cancel := context.WithCancel(testCtx)
		defer cancel()
		runs++
		prefix := fmt.Sprintf("model%d/", runs) // fresh keys, also when rapid shrinks
		revision := func() int64 {
			_, rev, err := s.List(ctx, prefix)
			require.NoError(t, err)
			return rev
		}
		base := revision()
		w := s.Watch(ctx, prefix, base+1)

		type mkv struct {
			value string
			rev   int64
		}
		model := map[string]mkv{}
		rev := base
		var want []lifecycle.WatchEvent

		key := rapid.SampledFrom([]string{"a", "b", "c", "a/x"})
		n := rapid.IntRange(0, 60).Draw(t, "ops")
		for i := range n {
			k := prefix + key.Draw(t, "key")
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
				prev = base + rapid.Int64Range(1, rev-base+2).Draw(t, "prev")
			}
			ok := prev == lifecycle.AnyRevision || prev == cur.rev
			conflict := lifecycle.ConflictError{Key: k, Expected: prev, Actual: cur.rev}

			if rapid.Bool().Draw(t, "put") {
				v := fmt.Sprint(i)
				got, err := s.Put(ctx, k, []byte(v), prev)
				if !ok {
					requireConflict(t, conflict, err)
				} else {
					require.NoError(t, err, "op %d", i)
					require.Greater(t, got, rev, "revisions strictly increase")
					rev = got
					model[k] = mkv{v, rev}
					want = append(want, putEv(k, v, rev))
				}
			} else {
				err := s.Delete(ctx, k, prev)
				if !ok {
					requireConflict(t, conflict, err)
				} else {
					require.NoError(t, err, "op %d", i)
					if exists {
						rev++
						delete(model, k)
						want = append(want, delEv(k, rev))
					}
				}
			}
			require.Equal(t, rev, revision(), "the store's revision after op %d", i)
		}

		kvs, listRev, err := s.List(ctx, prefix)
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

func requireConflict(t tester, want lifecycle.ConflictError, err error) {
	t.Helper()
	var ce *lifecycle.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, want, *ce)
}

// testConcurrentIncrements is a CAS counter under contention, with a watcher checking that every
// increment is seen once, in order.
func testConcurrentIncrements(t *testing.T, r *rig) {
	const workers = 8
	perWorker := 20 * r.cfg.load
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := r.s
	rev0, err := s.Put(ctx, "n", []byte("0"), 0)
	require.NoError(t, err)
	w := s.Watch(ctx, "n", rev0+1)

	var mu sync.Mutex
	conflicts := 0
	var wg sync.WaitGroup
	for range workers {
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
					mu.Lock()
					conflicts++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	kv, err := s.Get(ctx, "n")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers*perWorker), string(kv.Value))
	assert.Equal(t, rev0+int64(workers*perWorker), r.revision(t), "one revision per increment: a lost CAS writes nothing")
	for i, ev := range events(t, w, workers*perWorker) {
		require.Equal(t, rev0+1+int64(i), ev.KV.Revision)
		require.Equal(t, strconv.Itoa(i+1), string(ev.KV.Value), "each increment seen once, in order")
	}
	t.Logf("%d lost compare-and-swaps", conflicts)
}
