package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// A RestartAllContainers rule (KEP-5532) kills every container at once (no preStop, no grace),
// keeps the sandbox, and runs the pod again from its first init container; the containers show
// Waiting RestartingAllContainers meanwhile and the condition AllContainersRestarting is True.
func TestRestartAllContainersRestartsThePodInPlace(t *testing.T) {
	never := podlife.RestartNever
	d := newDriver(t, podlife.PodSpec{
		RestartPolicy: podlife.RestartNever,
		InitContainers: []podlife.Container{
			{Name: "init", Image: "busybox:1"},
			{Name: "side", Image: "busybox:1", RestartPolicy: policy(podlife.RestartAlways),
				Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 5}}}},
		},
		Containers: []podlife.Container{
			{Name: "worker", Image: "busybox:1", RestartPolicy: &never, RestartPolicyRules: []podlife.RestartRule{{
				Action: podlife.RuleRestartAllContainers, ExitCodes: &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn, Values: []int32{42}}}}},
			{Name: "done", Image: "busybox:1"},
		},
	})
	d.runs["init"] = []run{{For: time.Second}}
	d.runs["worker"] = []run{{For: 30 * time.Second, Exit: 42}, {}}
	d.runs["done"] = []run{{For: 5 * time.Second}, {}}
	var restarting []bool
	var sawWaiting bool
	d.observe = func(rd Ready) {
		if rd.Status == nil {
			return
		}
		for _, c := range rd.Status.Conditions {
			if c.Type == phase.AllContainersRestarting {
				restarting = append(restarting, c.Status == phase.ConditionTrue)
			}
		}
		for _, cs := range rd.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && w.Reason == phase.ReasonRestartingAllContainers {
				sawWaiting = true
			}
		}
	}
	d.runUntil(sec(120))

	assert.Equal(t, []string{"  31s StopContainer container=side id=side-0 reason=RestartAllContainers"}, d.lines("StopContainer"),
		"the running sidecar is killed at once, without preStop")
	assert.Empty(t, d.lines("RunHook"), "no preStop on an in-place restart")
	assert.Empty(t, d.lines("StopSandbox"), "the sandbox is kept")
	assert.Equal(t, []string{"   0s StartContainer container=init id=init-0", "  31s StartContainer container=init id=init-1"},
		d.lines("StartContainer container=init"), "init containers run again from the first")
	assert.Len(t, d.lines("StartContainer container=done"), 2, "a container that had completed under Never runs again")
	assert.Contains(t, restarting, true)
	assert.False(t, restarting[len(restarting)-1], "the condition is False once the pod started over")
	assert.True(t, sawWaiting, "containers wait with reason RestartingAllContainers")

	st := d.m.Status()
	assert.Equal(t, phase.Running, st.Phase)
	for _, cs := range append(st.InitContainerStatuses, st.ContainerStatuses...) {
		assert.Equal(t, int32(1), cs.RestartCount, cs.Name)
	}
	side := st.InitContainerStatuses[1]
	require.NotNil(t, side.LastTerminationState.Terminated)
	assert.Equal(t, phase.ReasonRestartingAllContainers, side.LastTerminationState.Terminated.Reason)
	assert.Equal(t, int32(137), side.LastTerminationState.Terminated.ExitCode)
}
