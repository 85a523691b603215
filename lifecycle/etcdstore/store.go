package etcdstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/podlife/podlife/lifecycle"
)

// Defaults for Config and Options.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
)

// listPage is how many keys one range request of List reads: a node with thousands of pods is
// read in pages of one snapshot instead of one response that could pass gRPC's message limit.
const listPage = 500

// Errors of this package; test with errors.Is. Store errors also wrap lifecycle's sentinels
// (lifecycle.ErrKeyNotFound, ErrConflict, ErrCompacted, ErrStoreUnavailable).
var (
	// ErrPermissionDenied: etcd authentication is on and the user may not read or write the key
	// (with GrantNode, a node's user touching another node's keys).
	ErrPermissionDenied = errors.New("etcdstore: permission denied")
	// ErrInvalidArgument: an empty key or a negative revision other than lifecycle.AnyRevision,
	// caller bugs rather than store states (memstore has the same sentinel).
	ErrInvalidArgument = errors.New("etcdstore: invalid argument")
)

// UnavailableError is a request that got no answer from the cluster: no endpoint could be
// reached, no member had a leader, or nothing answered within the request timeout. It wraps
// lifecycle.ErrStoreUnavailable and the cause. After an UnavailableError on a write, the write may
// or may not have been applied: read the key again before retrying it (the agent's status writer
// does).
type UnavailableError struct {
	Op        string   // get, list, put, delete, watch, connect
	Key       string   // the key or prefix, "" for connect
	Endpoints []string // the endpoints the client was given
	Err       error
}

func (e *UnavailableError) Error() string {
	what := e.Op
	if e.Key != "" {
		what = fmt.Sprintf("%s %q", e.Op, e.Key)
	}
	return fmt.Sprintf("etcdstore: %s: etcd unavailable at %s: %v", what, strings.Join(e.Endpoints, ","), e.Err)
}

// Unwrap gives both lifecycle.ErrStoreUnavailable and the cause to errors.Is and errors.As.
func (e *UnavailableError) Unwrap() []error { return []error{lifecycle.ErrStoreUnavailable, e.Err} }

// Config is how New connects to a cluster.
type Config struct {
	// Endpoints are the members' client URLs (https:// with TLS), e.g. "https://10.0.0.1:2379".
	Endpoints []string
	// TLS, when set, is used for every connection: RootCAs to check the members, Certificates for
	// client-certificate authentication.
	TLS *tls.Config
	// Username and Password log in when etcd authentication is on (see GrantNode).
	Username, Password string
	// DialTimeout bounds New's first contact with the cluster; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds every request that the caller's context does not bound more tightly;
	// 0 means DefaultRequestTimeout. Without it, a request to an unreachable cluster would wait
	// for its context forever (gRPC waits for a connection).
	RequestTimeout time.Duration
	// Logger receives the store's and the etcd client's logs; nil means zap.NewNop().
	Logger *zap.Logger
}

// Options tune a Store made by NewFromClient.
type Options struct {
	// RequestTimeout: see Config.RequestTimeout.
	RequestTimeout time.Duration
	// Logger: nil means zap.NewNop().
	Logger *zap.Logger
}

var _ lifecycle.Store = (*Store)(nil)

// Store is a lifecycle.Store on an etcd cluster. It is safe for concurrent use.
type Store struct {
	cli     *clientv3.Client
	owned   bool // New made cli, so Close closes it
	timeout time.Duration
	log     *zap.Logger
}

// New connects to the cluster and checks within cfg.DialTimeout that a member answers; an
// unreachable cluster gives an *UnavailableError naming the endpoints. Close the store when done.
func New(cfg Config) (*Store, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("etcdstore: Endpoints: Required value: %w", ErrInvalidArgument)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	eps := slices.Clone(cfg.Endpoints)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   eps,
		TLS:         cfg.TLS,
		Username:    cfg.Username,
		Password:    cfg.Password,
		DialTimeout: cfg.DialTimeout,
		// gRPC's default reconnect back-off grows to 2 minutes; an agent should find the cluster
		// again within seconds of its return.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: cfg.DialTimeout,
		})},
		Logger: cfg.Logger.Named("etcd-client"),
	})
	if err != nil {
		// With a user, clientv3.New already logs in, within the dial timeout.
		return nil, connectErr(eps, cfg.Username, err)
	}
	// Without one it does not talk to the cluster at all: ask for the member list, which needs no
	// permission, so that a wrong endpoint fails here rather than at the first request.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	if _, err := cli.MemberList(ctx, clientv3.WithSerializable()); err != nil {
		_ = cli.Close()
		return nil, connectErr(eps, cfg.Username, err)
	}
	s := NewFromClient(cli, Options{RequestTimeout: cfg.RequestTimeout, Logger: cfg.Logger})
	s.owned = true
	return s, nil
}

func connectErr(eps []string, user string, err error) error {
	err = rpctypes.Error(err)
	if errors.Is(err, rpctypes.ErrAuthFailed) {
		return fmt.Errorf("etcdstore: logging in as %q at %s: %w", user, strings.Join(eps, ","), err)
	}
	return &UnavailableError{Op: "connect", Endpoints: eps, Err: err}
}

// NewFromClient wraps a client the caller made and keeps closing (Close leaves it open): to
// share one connection, or to use a namespaced KV and Watcher (go.etcd.io/etcd/client/v3/namespace).
func NewFromClient(cli *clientv3.Client, opts Options) *Store {
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	return &Store{cli: cli, timeout: opts.RequestTimeout, log: opts.Logger}
}

// Client is the etcd client, for HoldLease and for what the Store interface does not cover.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Close closes the client if New made it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcdstore: closing the client: %w", err)
	}
	return nil
}

// request bounds ctx by the request timeout.
func (s *Store) request(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Get implements lifecycle.Store.
func (s *Store) Get(ctx context.Context, key string) (lifecycle.KV, error) {
	if err := s.check(ctx, "get", key, 0); err != nil {
		return lifecycle.KV{}, err
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	resp, err := s.cli.Get(rctx, key)
	if err != nil {
		return lifecycle.KV{}, s.wrap(ctx, "get", key, err)
	}
	if len(resp.Kvs) == 0 {
		return lifecycle.KV{}, fmt.Errorf("etcdstore: get %q: %w", key, lifecycle.ErrKeyNotFound)
	}
	kv := resp.Kvs[0]
	return lifecycle.KV{Key: key, Value: value(kv.Value), Revision: kv.ModRevision}, nil
}

// List implements lifecycle.Store. An empty prefix lists every key. It reads in pages of one
// snapshot (the revision of the first page), so the result is consistent however long it is.
func (s *Store) List(ctx context.Context, prefix string) ([]lifecycle.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("etcdstore: list %q: %w", prefix, err)
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	start := prefix
	if prefix == "" {
		start, end = "\x00", "\x00" // the whole keyspace, as WithPrefix has it
	}
	var out []lifecycle.KV
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(listPage)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		rctx, cancel := s.request(ctx)
		resp, err := s.cli.Get(rctx, start, opts...)
		cancel()
		if err != nil {
			return nil, 0, s.wrap(ctx, "list", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			out = append(out, lifecycle.KV{Key: string(kv.Key), Value: value(kv.Value), Revision: kv.ModRevision})
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, rev, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Put implements lifecycle.Store: a transaction that writes only if the key's mod revision is
// prevRevision (create revision 0 for prevRevision 0), and otherwise reads the key, so that the
// *lifecycle.ConflictError names the revision that won, in the same round trip.
func (s *Store) Put(ctx context.Context, key string, val []byte, prevRevision int64) (int64, error) {
	if err := s.check(ctx, "put", key, prevRevision); err != nil {
		return 0, err
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	if prevRevision == lifecycle.AnyRevision {
		resp, err := s.cli.Put(rctx, key, string(val))
		if err != nil {
			return 0, s.wrap(ctx, "put", key, err)
		}
		return resp.Header.Revision, nil
	}
	resp, err := s.cli.Txn(rctx).If(condition(key, prevRevision)).
		Then(clientv3.OpPut(key, string(val))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return 0, s.wrap(ctx, "put", key, err)
	}
	if !resp.Succeeded {
		return 0, conflict(key, prevRevision, resp)
	}
	return resp.Header.Revision, nil
}

// Delete implements lifecycle.Store. A missing key with prevRevision AnyRevision or 0 is a no-op
// (etcd writes no revision for a delete that deletes nothing).
func (s *Store) Delete(ctx context.Context, key string, prevRevision int64) error {
	if err := s.check(ctx, "delete", key, prevRevision); err != nil {
		return err
	}
	rctx, cancel := s.request(ctx)
	defer cancel()
	if prevRevision == lifecycle.AnyRevision {
		if _, err := s.cli.Delete(rctx, key); err != nil {
			return s.wrap(ctx, "delete", key, err)
		}
		return nil
	}
	var then []clientv3.Op
	if prevRevision != 0 {
		then = append(then, clientv3.OpDelete(key))
	}
	resp, err := s.cli.Txn(rctx).If(condition(key, prevRevision)).Then(then...).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return s.wrap(ctx, "delete", key, err)
	}
	if !resp.Succeeded {
		return conflict(key, prevRevision, resp)
	}
	return nil
}

// Compact drops the history before rev, as memstore.Store.Compact: a watch from rev still works,
// one from before fails with a *lifecycle.CompactedError. etcd's own auto-compaction does the
// same; this is for callers (and tests) that compact by hand.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	rctx, cancel := s.request(ctx)
	defer cancel()
	if _, err := s.cli.Compact(rctx, rev); err != nil {
		if errors.Is(rpctypes.Error(err), rpctypes.ErrCompacted) {
			return nil // already compacted further: nothing to do, as memstore
		}
		return s.wrap(ctx, "compact", fmt.Sprint(rev), err)
	}
	return nil
}

// condition is the compare of compare-and-swap.
func condition(key string, prevRevision int64) clientv3.Cmp {
	if prevRevision == 0 {
		return clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(key), "=", prevRevision)
}

// conflict reads the actual revision from the transaction's else branch.
func conflict(key string, expected int64, resp *clientv3.TxnResponse) error {
	var actual int64
	if len(resp.Responses) > 0 {
		if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
			actual = r.Kvs[0].ModRevision
		}
	}
	return &lifecycle.ConflictError{Key: key, Expected: expected, Actual: actual}
}

// check refuses a done context and caller bugs before anything goes on the wire.
func (s *Store) check(ctx context.Context, op, key string, prevRevision int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcdstore: %s %q: %w", op, key, err)
	}
	if key == "" {
		return fmt.Errorf("etcdstore: %s: key is empty: %w", op, ErrInvalidArgument)
	}
	if prevRevision < 0 && prevRevision != lifecycle.AnyRevision {
		return fmt.Errorf("etcdstore: %s %q: prevRevision %d is negative and not lifecycle.AnyRevision: %w",
			op, key, prevRevision, ErrInvalidArgument)
	}
	return nil
}

// wrap turns a client error into the error this package promises: the caller's context error,
// ErrPermissionDenied, an *UnavailableError, or the etcd error, each naming op and key.
func (s *Store) wrap(ctx context.Context, op, key string, err error) error {
	return wrapErr(ctx, s.cli, s.timeout, op, key, err)
}

func wrapErr(ctx context.Context, cli *clientv3.Client, timeout time.Duration, op, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("etcdstore: %s %q: %w", op, key, cerr)
	}
	err = rpctypes.Error(err)
	switch {
	case isPermissionDenied(err):
		as := "" // a user from a client certificate is known to the server only
		if cli.Username != "" {
			as = fmt.Sprintf(" as user %q", cli.Username)
		}
		return fmt.Errorf("etcdstore: %s %q%s: %w: %w", op, key, as, ErrPermissionDenied, err)
	case isUnavailable(err):
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", timeout, err)
		}
		return &UnavailableError{Op: op, Key: key, Endpoints: cli.Endpoints(), Err: err}
	}
	return fmt.Errorf("etcdstore: %s %q: %w", op, key, err)
}

func isPermissionDenied(err error) bool {
	if errors.Is(err, rpctypes.ErrPermissionDenied) || status.Code(err) == codes.PermissionDenied {
		return true
	}
	// A watch canceled by the server carries the reason as text only.
	return strings.Contains(err.Error(), rpctypes.ErrPermissionDenied.Error())
}

// isUnavailable is every error that says the cluster did not answer, rather than refused.
func isUnavailable(err error) bool {
	for _, e := range []error{
		context.DeadlineExceeded, clientv3.ErrNoAvailableEndpoints,
		rpctypes.ErrNoLeader, rpctypes.ErrNotCapable, rpctypes.ErrStopped, rpctypes.ErrTimeout,
		rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost,
		rpctypes.ErrTimeoutWaitAppliedIndex, rpctypes.ErrUnhealthy, rpctypes.ErrLeaderChanged,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	case codes.Canceled: // the client was closed under the request
		return true
	}
	return false
}

// value gives an empty value as an empty, non-nil slice, as memstore does: protobuf does not
// tell an empty value from none.
func value(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
