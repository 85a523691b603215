// Package memstore is the embedded, in-memory lifecycle.Store: the default for a single agent,
// and a fake for tests (Compact and SetUnavailable let a test force the error paths an etcd
// cluster would produce).
//
// It keeps every change since the last Compact, so a watcher can resume from any later
// revision; call Compact now and then, or the history grows without bound.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/podlife/podlife/lifecycle"
)

// ErrInvalidArgument is wrapped by the errors for an empty key or a negative revision other
// than lifecycle.AnyRevision: those are caller bugs, not store states, so they get their own
// sentinel.
var ErrInvalidArgument = errors.New("memstore: invalid argument")

// maxBatch caps the events in one WatchResponse so that replaying a long history does not
// copy it all at once.
const maxBatch = 1024

var _ lifecycle.Store = (*Store)(nil)

// Store is an in-memory lifecycle.Store. The zero value is not usable; call New.
type Store struct {
	mu          sync.RWMutex
	rev         int64                  // store revision: the last write's
	compacted   int64                  // history holds revisions compacted+1 .. rev
	kvs         map[string]entry       // live keys
	history     []lifecycle.WatchEvent // history[i] has revision compacted+1+i
	watchers    map[*watcher]struct{}  // open watches, fed by every write
	unavailable bool                   // SetUnavailable's outage
}

// entry is a live key. Its value is never changed or handed out, so history can share it.
type entry struct {
	value []byte
	rev   int64
}

// New returns an empty store at revision 0.
func New() *Store {
	return &Store{
		kvs:      make(map[string]entry),
		watchers: make(map[*watcher]struct{}),
	}
}

// Revision is the store's revision: that of the last successful write, 0 for a new store.
func (s *Store) Revision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

// Get implements lifecycle.Store.
func (s *Store) Get(ctx context.Context, key string) (lifecycle.KV, error) {
	if err := ctx.Err(); err != nil {
		return lifecycle.KV{}, fmt.Errorf("memstore: get %q: %w", key, err)
	}
	if key == "" {
		return lifecycle.KV{}, fmt.Errorf("memstore: get: key is empty: %w", ErrInvalidArgument)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.unavailable {
		return lifecycle.KV{}, fmt.Errorf("memstore: get %q: %w", key, lifecycle.ErrStoreUnavailable)
	}
	e, ok := s.kvs[key]
	if !ok {
		return lifecycle.KV{}, fmt.Errorf("memstore: get %q: %w", key, lifecycle.ErrKeyNotFound)
	}
	return lifecycle.KV{Key: key, Value: clone(e.value), Revision: e.rev}, nil
}

// List implements lifecycle.Store. An empty prefix lists every key.
func (s *Store) List(ctx context.Context, prefix string) ([]lifecycle.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("memstore: list %q: %w", prefix, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.unavailable {
		return nil, 0, fmt.Errorf("memstore: list %q: %w", prefix, lifecycle.ErrStoreUnavailable)
	}
	var kvs []lifecycle.KV
	for k, e := range s.kvs {
		if strings.HasPrefix(k, prefix) {
			kvs = append(kvs, lifecycle.KV{Key: k, Value: clone(e.value), Revision: e.rev})
		}
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return kvs, s.rev, nil
}

// Put implements lifecycle.Store. The value is copied, so the caller may reuse its buffer.
func (s *Store) Put(ctx context.Context, key string, value []byte, prevRevision int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: put %q: %w", key, err)
	}
	if err := validate("put", key, prevRevision); err != nil {
		return 0, err
	}
	v := clone(value) // outside the lock: writers hold it only for the map and the fan-out
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unavailable {
		return 0, fmt.Errorf("memstore: put %q: %w", key, lifecycle.ErrStoreUnavailable)
	}
	cur, ok := s.kvs[key]
	if err := check(key, prevRevision, cur.rev, ok); err != nil {
		return 0, err
	}
	s.rev++
	s.kvs[key] = entry{value: v, rev: s.rev}
	s.record(lifecycle.WatchEvent{Type: lifecycle.WatchPut, KV: lifecycle.KV{Key: key, Value: v, Revision: s.rev}})
	return s.rev, nil
}

// Delete implements lifecycle.Store. Deleting a missing key with prevRevision AnyRevision or 0
// (both conditions hold for a missing key) changes nothing: no new revision and no watch event,
// as in etcd.
func (s *Store) Delete(ctx context.Context, key string, prevRevision int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete %q: %w", key, err)
	}
	if err := validate("delete", key, prevRevision); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unavailable {
		return fmt.Errorf("memstore: delete %q: %w", key, lifecycle.ErrStoreUnavailable)
	}
	cur, ok := s.kvs[key]
	if err := check(key, prevRevision, cur.rev, ok); err != nil {
		return err
	}
	if !ok {
		return nil
	}
	s.rev++
	delete(s.kvs, key)
	s.record(lifecycle.WatchEvent{Type: lifecycle.WatchDelete, KV: lifecycle.KV{Key: key, Revision: s.rev}})
	return nil
}

// Watch implements lifecycle.Store. A fromRevision <= 0 watches from the next write on.
//
// Each watch buffers its events without bound, so a slow reader never blocks writers and never
// misses an event; it only costs memory. The caller must cancel ctx when it stops reading: that
// is what ends the watch's goroutine.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) <-chan lifecycle.WatchResponse {
	if err := ctx.Err(); err != nil {
		return failed(fmt.Errorf("memstore: watch %q: %w", prefix, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unavailable {
		return failed(fmt.Errorf("memstore: watch %q: %w", prefix, lifecycle.ErrStoreUnavailable))
	}
	if fromRevision <= 0 {
		fromRevision = s.rev + 1
	}
	if fromRevision <= s.compacted {
		return failed(fmt.Errorf("memstore: watch %q: %w", prefix,
			&lifecycle.CompactedError{Requested: fromRevision, Compacted: s.compacted + 1}))
	}
	w := &watcher{prefix: prefix, from: fromRevision, wake: make(chan struct{}, 1)}
	// Replay under the lock that writers take, so no write falls between history and live.
	if i := fromRevision - s.compacted - 1; i < int64(len(s.history)) {
		for _, ev := range s.history[i:] {
			if strings.HasPrefix(ev.KV.Key, prefix) {
				w.queue = append(w.queue, ev)
			}
		}
	}
	s.watchers[w] = struct{}{}
	out := make(chan lifecycle.WatchResponse)
	go w.run(ctx, s, out)
	return out
}

// Compact drops the history before rev, as etcd's compaction does: a later Watch from rev still
// works, one from an earlier revision fails with a *lifecycle.CompactedError whose Compacted is
// rev, the oldest revision still watchable. Open watches keep what they have buffered.
// Compacting to an older revision than before does nothing.
func (s *Store) Compact(rev int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unavailable {
		return fmt.Errorf("memstore: compact %d: %w", rev, lifecycle.ErrStoreUnavailable)
	}
	if rev < 0 || rev > s.rev {
		return fmt.Errorf("memstore: compact: rev %d is outside 0..%d (the store revision): %w",
			rev, s.rev, ErrInvalidArgument)
	}
	drop := rev - 1 // s.compacted counts the revisions dropped
	if drop <= s.compacted {
		return nil
	}
	// A fresh slice, so the dropped events (and their values) can be garbage collected.
	s.history = append([]lifecycle.WatchEvent(nil), s.history[drop-s.compacted:]...)
	s.compacted = drop
	return nil
}

// SetUnavailable simulates an outage for tests: while it is on, every method that returns an
// error (all but Revision) fails with one wrapping lifecycle.ErrStoreUnavailable, and turning it
// on ends every open watch with that error (after the events it has already buffered), as a lost
// connection would. Turning it off lets new calls and watches through; nothing is lost.
func (s *Store) SetUnavailable(unavailable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = unavailable
	if !unavailable {
		return
	}
	for w := range s.watchers {
		w.fail(fmt.Errorf("memstore: watch %q: %w", w.prefix, lifecycle.ErrStoreUnavailable))
		delete(s.watchers, w)
	}
}

// record appends ev to the history and hands it to every matching watch. Called with s.mu held.
func (s *Store) record(ev lifecycle.WatchEvent) {
	s.history = append(s.history, ev)
	for w := range s.watchers {
		if ev.KV.Revision >= w.from && strings.HasPrefix(ev.KV.Key, w.prefix) {
			w.push(ev)
		}
	}
}

func (s *Store) removeWatcher(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

// watcher is one open watch: writers push into its queue and never wait; its goroutine moves
// the queue to the caller's channel at the caller's pace.
type watcher struct {
	prefix string
	from   int64
	wake   chan struct{} // capacity 1: "the queue or err changed"

	mu    sync.Mutex
	queue []lifecycle.WatchEvent
	err   error // ends the watch once queue is drained
}

func (w *watcher) push(ev lifecycle.WatchEvent) {
	w.mu.Lock()
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	w.signal()
}

func (w *watcher) fail(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	w.signal()
}

func (w *watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default: // already signalled
	}
}

func (w *watcher) run(ctx context.Context, s *Store, out chan<- lifecycle.WatchResponse) {
	defer close(out)
	defer s.removeWatcher(w)
	for ctx.Err() == nil {
		w.mu.Lock()
		batch := w.queue
		if len(batch) > maxBatch {
			batch = batch[:maxBatch]
		}
		w.queue = w.queue[len(batch):]
		if len(w.queue) == 0 {
			w.queue = nil // release the drained backing array
		}
		err := w.err
		w.mu.Unlock()

		var resp lifecycle.WatchResponse
		switch {
		case len(batch) > 0:
			resp.Events = make([]lifecycle.WatchEvent, len(batch))
			for i, ev := range batch {
				if ev.Type == lifecycle.WatchPut {
					ev.KV.Value = clone(ev.KV.Value) // each reader gets its own copy
				}
				resp.Events[i] = ev
			}
		case err != nil:
			resp.Err = err
		default:
			select {
			case <-w.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case out <- resp:
			if resp.Err != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// failed is a watch that is over before it starts: one response with err, then closed. It needs
// no goroutine.
func failed(err error) <-chan lifecycle.WatchResponse {
	ch := make(chan lifecycle.WatchResponse, 1)
	ch <- lifecycle.WatchResponse{Err: err}
	close(ch)
	return ch
}

func validate(op, key string, prevRevision int64) error {
	if key == "" {
		return fmt.Errorf("memstore: %s: key is empty: %w", op, ErrInvalidArgument)
	}
	if prevRevision < 0 && prevRevision != lifecycle.AnyRevision {
		return fmt.Errorf("memstore: %s %q: prevRevision %d is negative and not lifecycle.AnyRevision: %w",
			op, key, prevRevision, ErrInvalidArgument)
	}
	return nil
}

// check is the compare of compare-and-swap: cur is the key's mod revision, present whether it
// exists.
func check(key string, prevRevision, cur int64, present bool) error {
	if prevRevision == lifecycle.AnyRevision {
		return nil
	}
	actual := int64(0)
	if present {
		actual = cur
	}
	if prevRevision != actual {
		return &lifecycle.ConflictError{Key: key, Expected: prevRevision, Actual: actual}
	}
	return nil
}

// clone copies b, giving a non-nil slice for a stored value so that an empty value reads back
// the same way whatever the caller passed.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
