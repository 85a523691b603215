package etcdstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
)

// TestLeaseKeyLivesWithTheLease: the key stays while the lease is renewed, past its TTL, and
// goes within about a TTL once renewals stop, as for a crashed agent. The TTL is 3 s, renewed
// every second, so that a loaded machine (CI runs packages side by side under -race) starving
// the renewals for a second or two does not end the lease.
func TestLeaseKeyLivesWithTheLease(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	keys := lifecycle.Keys{}
	ctx, stop := context.WithCancel(t.Context())
	l, err := etcdstore.HoldLease(ctx, s.Client(), keys, "node-1", etcdstore.LeaseOptions{TTL: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "/podlife/nodes/node-1/lease", l.Key())
	kv, err := s.Get(t.Context(), l.Key())
	require.NoError(t, err)
	var rec etcdstore.LeaseRecord
	require.NoError(t, json.Unmarshal(kv.Value, &rec))
	assert.Equal(t, lifecycle.APIVersion, rec.APIVersion)
	assert.Equal(t, "node-1", rec.Node)
	assert.Equal(t, int64(3), rec.TTLSeconds)
	ttl, err := s.Client().TimeToLive(t.Context(), l.ID(), clientv3.WithAttachedKeys())
	require.NoError(t, err)
	assert.Equal(t, []string{l.Key()}, keysOf(ttl.Keys), "the key is attached to the lease")

	first := l.ID()
	time.Sleep(4 * time.Second) // past the TTL
	_, err = s.Get(t.Context(), l.Key())
	require.NoError(t, err, "renewed, the key outlives the TTL")
	assert.Equal(t, first, l.ID(), "the same lease all along")

	stop()
	<-l.Done()
	stopped := time.Now()
	eventually(t, 15*time.Second, func() bool {
		_, err := s.Get(t.Context(), l.Key())
		return err != nil
	}, "the key goes with the lease")
	took := time.Since(stopped)
	// etcd checks for expired leases every 500 ms; a loaded machine delays that further.
	assert.Less(t, took, 8*time.Second, "about the TTL (3 s) after the last renewal")
	t.Logf("lease key gone %v after the last renewals stopped", took.Round(10*time.Millisecond))
}

func keysOf(b [][]byte) []string {
	var out []string
	for _, k := range b {
		out = append(out, string(k))
	}
	return out
}

func TestLeaseRevokeRemovesTheKeyAtOnce(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	l, err := etcdstore.HoldLease(t.Context(), s.Client(), lifecycle.Keys{}, "node-1", etcdstore.LeaseOptions{TTL: 30 * time.Second})
	require.NoError(t, err)
	require.NoError(t, l.Revoke(t.Context()))
	_, err = s.Get(t.Context(), l.Key())
	require.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
	select {
	case <-l.Done():
	default:
		assert.Fail(t, "Done not closed after Revoke")
	}
}

// TestLeaseIsTakenAgainAfterItIsLost: a lease lost under a live holder (here revoked behind its
// back; in life, a cluster unreachable for longer than the TTL) is replaced and the key written
// again.
func TestLeaseIsTakenAgainAfterItIsLost(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	core, logs := observer.New(zap.InfoLevel)
	l, err := etcdstore.HoldLease(t.Context(), s.Client(), lifecycle.Keys{}, "node-1",
		etcdstore.LeaseOptions{TTL: 2 * time.Second, RetryPeriod: 50 * time.Millisecond, Logger: zap.New(core)})
	require.NoError(t, err)
	first := l.ID()
	_, err = s.Client().Revoke(t.Context(), first)
	require.NoError(t, err)
	eventually(t, 5*time.Second, func() bool {
		_, err := s.Get(t.Context(), l.Key())
		return l.ID() != first && err == nil
	}, "a new lease and the key back")
	assert.NotEmpty(t, logs.FilterMessage("node lease lost; taking a new one").All())
	ttl, err := s.Client().TimeToLive(t.Context(), l.ID(), clientv3.WithAttachedKeys())
	require.NoError(t, err)
	assert.Equal(t, []string{l.Key()}, keysOf(ttl.Keys))
}

func TestHoldLeaseErrors(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	_, err := etcdstore.HoldLease(t.Context(), s.Client(), lifecycle.Keys{}, "a/b", etcdstore.LeaseOptions{})
	require.ErrorIs(t, err, etcdstore.ErrInvalidArgument)
	_, err = etcdstore.HoldLease(t.Context(), s.Client(), lifecycle.Keys{}, "", etcdstore.LeaseOptions{})
	require.ErrorIs(t, err, etcdstore.ErrInvalidArgument)
	c.stop(0)
	start := time.Now()
	_, err = etcdstore.HoldLease(t.Context(), s.Client(), lifecycle.Keys{}, "node-1", etcdstore.LeaseOptions{TTL: time.Second})
	require.ErrorIs(t, err, lifecycle.ErrStoreUnavailable)
	assert.Contains(t, err.Error(), c.endpoint(0))
	assert.Less(t, time.Since(start), 3*time.Second)
}
