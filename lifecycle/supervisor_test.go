package lifecycle_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// TestNodeLostRecord: the record a Supervisor writes for a lost node's pod, the one rule the
// etcd adapter's Supervisor and a simulation's lost node share. The Supervisor's watching and
// writing are tested in lifecycle/etcdstore (on memstore and on etcd).
func TestNodeLostRecord(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(time.Minute)
	ref := lifecycle.PodRef{Namespace: "default", Name: "web", UID: "u1"}
	record := func(ph phase.Phase, ready phase.ConditionStatus, writer string) lifecycle.StatusRecord {
		return lifecycle.StatusRecord{Pod: ref, Node: "node-1", Seq: 7, Writer: writer, UpdatedAt: t0,
			Status: phase.PodStatus{Phase: ph, PodIP: "10.0.0.7", Conditions: []phase.Condition{
				{Type: phase.PodScheduled, Status: phase.ConditionTrue, LastTransitionTime: t0},
				{Type: phase.PodReady, Status: ready, LastTransitionTime: t0},
			}},
			Checkpoint: lifecycle.Checkpoint{Sandbox: lifecycle.SandboxCheckpoint{ID: "sb-1", Attempt: 1}}}
	}
	marked := func(ready phase.ConditionStatus, readyAt time.Time) lifecycle.StatusRecord {
		r := record(phase.Unknown, ready, lifecycle.SupervisorWriter)
		r.Seq, r.UpdatedAt = 8, now
		r.Status.Reason = phase.ReasonNodeLost
		r.Status.Message = "Node node-1 which was running pod web is unresponsive"
		r.Status.Conditions[1].LastTransitionTime = readyAt
		return r
	}
	for _, tc := range []struct {
		name   string
		in     lifecycle.StatusRecord
		want   lifecycle.StatusRecord
		marked bool
	}{
		{"a running ready pod turns Unknown, NodeLost, not Ready, one Seq above, the checkpoint kept",
			record(phase.Running, phase.ConditionTrue, ""), marked(phase.ConditionFalse, now), true},
		{"a pod not ready keeps its Ready condition's transition time",
			record(phase.Pending, phase.ConditionFalse, ""), marked(phase.ConditionFalse, t0), true},
		{"a succeeded pod is left as it ended", record(phase.Succeeded, phase.ConditionFalse, ""), record(phase.Succeeded, phase.ConditionFalse, ""), false},
		{"a failed pod is left as it ended", record(phase.Failed, phase.ConditionFalse, ""), record(phase.Failed, phase.ConditionFalse, ""), false},
		{"a pod the supervisor marked is not marked again",
			marked(phase.ConditionFalse, now), marked(phase.ConditionFalse, now), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			got, ok := lifecycle.NodeLostRecord(in, "node-1", now)
			assert.Equal(t, tc.marked, ok)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, in, "the record given is not changed (its conditions are copied)")
		})
	}
}
