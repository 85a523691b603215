package etcdstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/phase"
)

// The supervisor's rules, on memstore (it needs only a lifecycle.Store): the etcd lease expiry
// is in lease_test.go and agent_test.go.

func statusRecord(node, name string, ph phase.Phase, seq uint64) lifecycle.StatusRecord {
	return lifecycle.StatusRecord{
		Pod: lifecycle.PodRef{Namespace: "default", Name: name}, Node: node, Seq: seq,
		UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Status: phase.PodStatus{Phase: ph, PodIP: "10.0.0.7", Conditions: []phase.Condition{
			{Type: phase.PodReady, Status: phase.ConditionTrue},
			{Type: phase.PodScheduled, Status: phase.ConditionTrue},
		}},
		Checkpoint: lifecycle.Checkpoint{Sandbox: lifecycle.SandboxCheckpoint{ID: "sb-" + name, Attempt: 1}},
	}
}

func putStatus(t *testing.T, s lifecycle.Store, keys lifecycle.Keys, r lifecycle.StatusRecord) int64 {
	t.Helper()
	b, err := lifecycle.EncodeStatus(r)
	require.NoError(t, err)
	rev, err := s.Put(context.Background(), keys.Status(r.Node, r.Pod), b, lifecycle.AnyRevision)
	require.NoError(t, err)
	return rev
}

func getStatus(t *testing.T, s lifecycle.Store, keys lifecycle.Keys, node, name string) (lifecycle.StatusRecord, int64) {
	t.Helper()
	kv, err := s.Get(context.Background(), keys.Status(node, lifecycle.PodRef{Namespace: "default", Name: name}))
	require.NoError(t, err)
	r, err := lifecycle.DecodeStatus(kv.Value)
	require.NoError(t, err)
	return r, kv.Revision
}

type supervised struct {
	store  *memstore.Store
	keys   lifecycle.Keys
	logs   *observer.ObservedLogs
	cancel context.CancelFunc
	done   chan error
}

func supervise(t *testing.T, s *memstore.Store, keys lifecycle.Keys) *supervised {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	sup, err := etcdstore.NewSupervisor(etcdstore.SupervisorConfig{Store: s, Keys: keys, Logger: zap.New(core), RetryPeriod: 10 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	r := &supervised{store: s, keys: keys, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- sup.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-r.done)
	})
	return r
}

func TestSupervisorMarksALostNodesPods(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	keys := lifecycle.Keys{Prefix: "/p"}
	s := memstore.New()
	for _, node := range []string{"node-1", "node-2"} {
		_, err := s.Put(ctx, etcdstore.LeaseKey(keys, node), []byte(`{}`), 0)
		require.NoError(t, err)
	}
	running := statusRecord("node-1", "web", phase.Running, 7)
	putStatus(t, s, keys, running)
	putStatus(t, s, keys, statusRecord("node-1", "pending", phase.Pending, 2))
	putStatus(t, s, keys, statusRecord("node-1", "done", phase.Succeeded, 9))
	failedBefore := putStatus(t, s, keys, statusRecord("node-1", "failed", phase.Failed, 3))
	junkKey := keys.Status("node-1", lifecycle.PodRef{Namespace: "default", Name: "junk"})
	_, err := s.Put(ctx, junkKey, []byte(`{"apiVersion":"other/v2"}`), 0)
	require.NoError(t, err)
	otherBefore := putStatus(t, s, keys, statusRecord("node-2", "web", phase.Running, 1))

	sup := supervise(t, s, keys)
	time.Sleep(50 * time.Millisecond)
	r, _ := getStatus(t, s, keys, "node-1", "web")
	assert.Equal(t, phase.Running, r.Status.Phase, "a node with its lease is left alone")

	before := time.Now()
	require.NoError(t, s.Delete(ctx, etcdstore.LeaseKey(keys, "node-1"), lifecycle.AnyRevision))
	eventually(t, 5*time.Second, func() bool {
		r, _ := getStatus(t, s, keys, "node-1", "pending")
		return r.Status.Phase == phase.Unknown
	}, "node-1's pods marked")

	got, _ := getStatus(t, s, keys, "node-1", "web")
	want := running
	want.APIVersion = lifecycle.APIVersion
	want.Seq = 8
	want.Writer = etcdstore.SupervisorWriter
	want.Status.Phase = phase.Unknown
	want.Status.Reason = phase.ReasonNodeLost
	want.Status.Message = "Node node-1 which was running pod web is unresponsive"
	require.Len(t, got.Status.Conditions, 2)
	assert.Equal(t, phase.ConditionFalse, got.Status.Conditions[0].Status, "Ready False")
	assert.False(t, got.Status.Conditions[0].LastTransitionTime.Before(before.Truncate(time.Second)))
	want.Status.Conditions[0].Status = phase.ConditionFalse
	want.Status.Conditions[0].LastTransitionTime = got.Status.Conditions[0].LastTransitionTime
	want.UpdatedAt = got.UpdatedAt
	assert.False(t, got.UpdatedAt.Before(before.Truncate(time.Second)))
	assert.Equal(t, want, got, "phase, reason, message, Ready, Seq+1, Writer; checkpoint and the rest kept")

	r, _ = getStatus(t, s, keys, "node-1", "done")
	assert.Equal(t, phase.Succeeded, r.Status.Phase, "terminal pods stay as they are")
	_, rev := getStatus(t, s, keys, "node-1", "failed")
	assert.Equal(t, failedBefore, rev)
	kv, err := s.Get(ctx, junkKey)
	require.NoError(t, err)
	assert.Equal(t, `{"apiVersion":"other/v2"}`, string(kv.Value), "a foreign record is not touched")
	skipped := sup.logs.FilterMessage("supervisor: skipping a status record that does not decode").All()
	require.Len(t, skipped, 1)
	assert.Equal(t, junkKey, skipped[0].ContextMap()["key"])
	_, rev = getStatus(t, s, keys, "node-2", "web")
	assert.Equal(t, otherBefore, rev, "another node is not touched")

	// The node's agent comes back: its lease, then its own report, which the supervisor leaves.
	_, err = s.Put(ctx, etcdstore.LeaseKey(keys, "node-1"), []byte(`{}`), 0)
	require.NoError(t, err)
	back := running
	back.Seq = 9
	putStatus(t, s, keys, back)
	time.Sleep(50 * time.Millisecond)
	r, _ = getStatus(t, s, keys, "node-1", "web")
	assert.Equal(t, phase.Running, r.Status.Phase)
	assert.Empty(t, r.Writer)
}

func TestSupervisorMarksNodesWithoutALeaseAtStartAndOnce(t *testing.T) {
	t.Parallel()
	keys := lifecycle.Keys{}
	s := memstore.New()
	putStatus(t, s, keys, statusRecord("node-3", "web", phase.Running, 1))
	sup := supervise(t, s, keys)
	eventually(t, 5*time.Second, func() bool {
		r, _ := getStatus(t, s, keys, "node-3", "web")
		return r.Status.Phase == phase.Unknown && r.Writer == etcdstore.SupervisorWriter
	}, "a node with statuses and no lease is lost")
	_, rev := getStatus(t, s, keys, "node-3", "web")

	// An outage ends the supervisor's watch; it lists again and marks nothing twice.
	s.SetUnavailable(true)
	time.Sleep(50 * time.Millisecond)
	s.SetUnavailable(false)
	eventually(t, 5*time.Second, func() bool {
		return len(sup.logs.FilterMessage("supervisor: watch ended; listing again").All()) > 0
	}, "the watch ended")
	time.Sleep(100 * time.Millisecond)
	_, rev2 := getStatus(t, s, keys, "node-3", "web")
	assert.Equal(t, rev, rev2, "an already marked pod is not written again")
}

func TestSupervisorMarksANodeLostWhileItsWatchWasDown(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	keys := lifecycle.Keys{}
	s := memstore.New()
	_, err := s.Put(ctx, etcdstore.LeaseKey(keys, "node-1"), nil, 0)
	require.NoError(t, err)
	putStatus(t, s, keys, statusRecord("node-1", "web", phase.Running, 1))
	supervise(t, s, keys)
	time.Sleep(20 * time.Millisecond)
	s.SetUnavailable(true) // ends the watch
	s.SetUnavailable(false)
	require.NoError(t, s.Compact(s.Revision()))
	require.NoError(t, s.Delete(ctx, etcdstore.LeaseKey(keys, "node-1"), lifecycle.AnyRevision))
	eventually(t, 5*time.Second, func() bool {
		r, _ := getStatus(t, s, keys, "node-1", "web")
		return r.Status.Phase == phase.Unknown
	}, "marked after the relist")
}

func TestSupervisorFailsToStartWithoutAStore(t *testing.T) {
	_, err := etcdstore.NewSupervisor(etcdstore.SupervisorConfig{})
	require.ErrorContains(t, err, "Store: Required value")
	s := memstore.New()
	s.SetUnavailable(true)
	sup, err := etcdstore.NewSupervisor(etcdstore.SupervisorConfig{Store: s})
	require.NoError(t, err)
	require.ErrorIs(t, sup.Run(t.Context()), lifecycle.ErrStoreUnavailable)
}
