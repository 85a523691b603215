package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/podlife/podlife/lifecycle"
)

// DefaultLeaseTTL is a node lease's time to live when LeaseOptions.TTL is 0. Kubelet renews its
// node Lease every 10 s and the node controller waits 40 s (50 s since 1.32); 10 s here is
// detection within 10 to 11 s of the agent's last renewal.
const DefaultLeaseTTL = 10 * time.Second

// LeaseKey is node's lease key, <prefix>/nodes/<node>/lease: inside the node's prefix, so that the
// role GrantNode makes covers it.
func LeaseKey(keys lifecycle.Keys, node string) string { return keys.Lease(node) }

// LeaseRecord is the value of a lease key. It is for people reading the store: what counts is
// only that the key exists, which etcd ends with the lease.
type LeaseRecord struct {
	APIVersion string    `json:"apiVersion"`
	Node       string    `json:"node"`
	TTLSeconds int64     `json:"ttlSeconds"`
	AcquiredAt time.Time `json:"acquiredAt"`
}

// LeaseOptions tune HoldLease.
type LeaseOptions struct {
	// TTL is the lease's time to live, rounded up to whole seconds (etcd's unit); 0 means
	// DefaultLeaseTTL. etcd raises a TTL below its minimum (1.5 election timeouts, 2 s with the
	// default 1 s election timeout) to that minimum.
	TTL time.Duration
	// RetryPeriod is the wait before trying again to get a new lease after the old one was lost;
	// 0 means 1 s.
	RetryPeriod time.Duration
	// Logger: nil means zap.NewNop().
	Logger *zap.Logger
}

// Lease is a node lease an agent holds: the lease key exists while the lease is kept alive. If
// the lease is lost anyway (the cluster was unreachable for longer than the TTL), Lease takes a
// new one and writes the key again as soon as the cluster answers.
type Lease struct {
	cli   *clientv3.Client
	node  string
	key   string
	ttl   int64
	retry time.Duration
	log   *zap.Logger
	stop  context.CancelFunc
	done  chan struct{}

	mu sync.Mutex
	id clientv3.LeaseID
}

// HoldLease takes a lease of opts.TTL for node, writes the node's lease key under it and keeps it
// alive (clientv3's KeepAlive) until ctx ends: run it beside the node's lifecycle.Agent, with the
// agent's context. Ending ctx stops the renewals only: the key goes
// when the lease expires, as it would for an agent that crashed. Revoke ends it at once.
func HoldLease(ctx context.Context, cli *clientv3.Client, keys lifecycle.Keys, node string, opts LeaseOptions) (*Lease, error) {
	if err := checkNode(node); err != nil {
		return nil, err
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultLeaseTTL
	}
	if opts.RetryPeriod <= 0 {
		opts.RetryPeriod = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	ttl := int64((opts.TTL + time.Second - 1) / time.Second)
	l := &Lease{cli: cli, node: node, key: LeaseKey(keys, node), ttl: ttl, retry: opts.RetryPeriod,
		log: opts.Logger.With(zap.String("node", node)), done: make(chan struct{})}
	kctx, cancel := context.WithCancel(ctx)
	ka, err := l.acquire(kctx)
	if err != nil {
		cancel()
		return nil, err
	}
	l.stop = cancel
	go l.run(kctx, ka)
	return l, nil
}

// ID is the etcd lease now held.
func (l *Lease) ID() clientv3.LeaseID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.id
}

// Key is the lease key.
func (l *Lease) Key() string { return l.key }

// Done is closed when the lease is no longer renewed (its context ended, or Revoke).
func (l *Lease) Done() <-chan struct{} { return l.done }

// Revoke stops the renewals and revokes the lease, so its key goes now: for a node drained on
// purpose. A supervisor then marks the node's remaining pods Unknown at once.
func (l *Lease) Revoke(ctx context.Context) error {
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(ctx, time.Duration(l.ttl)*time.Second)
	defer cancel()
	if _, err := l.cli.Revoke(ctx, l.ID()); err != nil {
		if errors.Is(rpctypes.Error(err), rpctypes.ErrLeaseNotFound) {
			return nil // expired already: the key is gone
		}
		return wrapErr(ctx, l.cli, time.Duration(l.ttl)*time.Second, "revoke lease", l.key, err)
	}
	return nil
}

// acquire grants a lease, writes the key under it and starts the renewals.
func (l *Lease) acquire(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	timeout := time.Duration(l.ttl) * time.Second
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g, err := l.cli.Grant(rctx, l.ttl)
	if err != nil {
		return nil, wrapErr(ctx, l.cli, timeout, "grant lease", l.key, err)
	}
	b, err := json.Marshal(LeaseRecord{APIVersion: lifecycle.APIVersion, Node: l.node, TTLSeconds: g.TTL, AcquiredAt: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("etcdstore: encoding the lease record: %w", err)
	}
	// Unconditional: a key still held by this node's previous lease (an agent restarted within
	// the TTL) moves to the new lease, and the old one's expiry no longer removes it.
	if _, err := l.cli.Put(rctx, l.key, string(b), clientv3.WithLease(g.ID)); err != nil {
		_, _ = l.cli.Revoke(rctx, g.ID)
		return nil, wrapErr(ctx, l.cli, timeout, "put", l.key, err)
	}
	ka, err := l.cli.KeepAlive(ctx, g.ID)
	if err != nil {
		return nil, wrapErr(ctx, l.cli, timeout, "keep lease alive", l.key, err)
	}
	l.mu.Lock()
	l.id = g.ID
	l.mu.Unlock()
	l.log.Info("node lease held", zap.String("key", l.key), zap.Int64("ttlSeconds", g.TTL), zap.Int64("lease", int64(g.ID)))
	return ka, nil
}

func (l *Lease) run(ctx context.Context, ka <-chan *clientv3.LeaseKeepAliveResponse) {
	defer close(l.done)
	for {
		for range ka { // the client warns about renewals nobody reads
		}
		if ctx.Err() != nil || l.cli.Ctx().Err() != nil { // ended, or the client was closed
			return
		}
		l.log.Warn("node lease lost; taking a new one", zap.String("key", l.key), zap.Int64("lease", int64(l.ID())))
		for {
			t := time.NewTimer(l.retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			var err error
			if ka, err = l.acquire(ctx); err == nil {
				break
			}
			l.log.Warn("taking a new node lease failed; will retry", zap.Error(err))
		}
	}
}

// checkNode refuses node names that would break the key layout.
func checkNode(node string) error {
	if node == "" {
		return fmt.Errorf("etcdstore: node: Required value: %w", ErrInvalidArgument)
	}
	for _, r := range node {
		if r == '/' || r < ' ' {
			return fmt.Errorf("etcdstore: node: Invalid value %q: must not contain '/' or control characters: %w", node, ErrInvalidArgument)
		}
	}
	return nil
}
