package lifecycle

import (
	"context"
	"errors"
	"fmt"
)

// Store is a small, etcd-shaped key-value store with revisions: the agent keeps pod specs and
// statuses in it, and a scheduler or a second agent reads them. Every write gets a new,
// store-wide revision, larger than every earlier one; a key's mod revision is the revision of
// its last write. Methods must be safe for concurrent use and return when ctx ends.
//
// The reference implementations are lifecycle/memstore (in memory) and the etcd adapter.
type Store interface {
	// Get reads one key; a missing key gives an error wrapping ErrKeyNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List reads every key under prefix, in key order, and the store's revision at that moment
	// (watch from revision+1 to miss nothing).
	List(ctx context.Context, prefix string) ([]KV, int64, error)
	// Put writes key if its mod revision is prevRevision (0: the key must not exist; AnyRevision:
	// whatever it is) and returns the new revision. A mismatch gives a *ConflictError.
	Put(ctx context.Context, key string, value []byte, prevRevision int64) (int64, error)
	// Delete removes key under the same condition as Put; a missing key with AnyRevision or 0
	// is not an error and changes nothing (no new revision, no watch event), as in etcd.
	Delete(ctx context.Context, key string, prevRevision int64) error
	// Watch streams every change under prefix from revision fromRevision on (0: from now on),
	// in revision order.
	// The channel is closed when ctx ends or after a response with Err (then the watch is over:
	// ErrCompacted means the revision is gone and the caller must List again).
	Watch(ctx context.Context, prefix string, fromRevision int64) <-chan WatchResponse
}

// AnyRevision as Put's or Delete's prevRevision writes whatever the key's revision is.
const AnyRevision int64 = -1

// KV is one key with its value and mod revision.
type KV struct {
	Key      string
	Value    []byte
	Revision int64
}

// WatchEventType is Put or Delete.
type WatchEventType uint8

// Watch event types.
const (
	WatchPut WatchEventType = iota + 1
	WatchDelete
)

// WatchEvent is one change. For a delete, KV.Value is empty and KV.Revision is the delete's
// revision.
type WatchEvent struct {
	Type WatchEventType
	KV   KV
}

// WatchResponse carries events in revision order, or the error that ended the watch.
type WatchResponse struct {
	Events []WatchEvent
	Err    error
}

// Store errors; test with errors.Is / errors.As.
var (
	// ErrKeyNotFound: Get found no such key.
	ErrKeyNotFound = errors.New("lifecycle: key not found")
	// ErrConflict: a Put or Delete lost a compare-and-swap; read again and retry.
	ErrConflict = errors.New("lifecycle: revision conflict")
	// ErrCompacted: a watch asked for a revision the store no longer keeps.
	ErrCompacted = errors.New("lifecycle: revision compacted")
	// ErrStoreUnavailable: the store cannot be reached.
	ErrStoreUnavailable = errors.New("lifecycle: store unavailable")
	// ErrUIDMismatch: the record at a pod's name belongs to another pod (another UID), as the
	// API server's "Precondition failed: UID in precondition". See UIDMismatchError.
	ErrUIDMismatch = errors.New("lifecycle: pod UID mismatch")
)

// ConflictError is a lost compare-and-swap: the key's revision was Actual (0: missing), not
// Expected. It wraps ErrConflict.
type ConflictError struct {
	Key              string
	Expected, Actual int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("lifecycle: revision conflict on %s: expected %d, is %d", e.Key, e.Expected, e.Actual)
}
func (e *ConflictError) Unwrap() error { return ErrConflict }

// UIDMismatchError is a Client call on a pod, named with its UID, whose name holds the record of
// another pod: Actual is that pod's UID. It wraps ErrUIDMismatch and also ErrKeyNotFound, since
// the pod the caller named is not there.
type UIDMismatchError struct {
	Key              string
	Expected, Actual string
}

func (e *UIDMismatchError) Error() string {
	return fmt.Sprintf("lifecycle: %s holds pod UID %q, not %q", e.Key, e.Actual, e.Expected)
}
func (e *UIDMismatchError) Unwrap() []error { return []error{ErrUIDMismatch, ErrKeyNotFound} }

// CompactedError is a watch from a revision older than the oldest kept, Compacted (etcd's
// CompactRevision: a compaction at revision r keeps r and drops what came before). It wraps
// ErrCompacted.
type CompactedError struct {
	Requested, Compacted int64
}

func (e *CompactedError) Error() string {
	return fmt.Sprintf("lifecycle: revision %d compacted (oldest kept is %d)", e.Requested, e.Compacted)
}
func (e *CompactedError) Unwrap() error { return ErrCompacted }
