package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// restored runs spec with the driver until `until`, then rebuilds the machine from its status,
// checkpoint and obs at `at`, as a restarted agent would, and returns the new machine and its
// first Ready.
func restored(t *testing.T, d *driver, until, at time.Time, obs Observed) (*Machine, Ready) {
	t.Helper()
	d.runUntil(until)
	m, err := Restore(d.m.Ref(), *d.m.Spec(), d.m.Status(), d.m.Checkpoint(), obs, at, Options{})
	require.NoError(t, err)
	rd := m.Ready()
	if rd.Status != nil {
		require.Equal(t, *rd.Status, m.Status(), "Status() is the status the restored machine hands out")
	}
	return m, rd
}

func actionTypes(rd Ready) []string {
	var out []string
	for _, a := range rd.Actions {
		out = append(out, a.String())
	}
	return out
}

func sandboxUp() SandboxInfo { return SandboxInfo{ID: "sb0", IP: "10.1.0.2", Ready: true} }

func TestRestoreAdoptsARunningContainer(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}}}}}
	d := newDriver(t, spec)
	m, rd := restored(t, d, sec(50), sec(60), Observed{
		Sandboxes:  []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: t0}},
	})
	assert.Equal(t, []string{"RunProbe container=app id=app-0 probe=Readiness"}, actionTypes(rd),
		"nothing is set up, pulled, created or started again; the probe due on its grid runs")
	cs := m.Status().ContainerStatuses[0]
	require.NotNil(t, cs.State.Running)
	assert.Equal(t, t0, cs.State.Running.StartedAt)
	assert.True(t, cs.Ready, "ready is kept from the status")
	assert.Equal(t, phase.Running, m.Status().Phase)
}

func TestRestoreStartsACreatedContainer(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	// The pod had just been bound: nothing persisted yet, but the old agent had created app.
	m, err := Restore(d.m.Ref(), *d.m.Spec(), phase.PodStatus{}, Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}},
		Observed{Sandboxes: []SandboxInfo{sandboxUp()}, Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateCreated}}},
		sec(5), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"StartContainer container=app id=app-0"}, actionTypes(m.Ready()))
}

func TestRestoreTakesAnExitThatHappenedMeanwhile(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	m, rd := restored(t, d, sec(50), sec(60), Observed{
		Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateExited, StartedAt: t0,
			FinishedAt: sec(55), ExitCode: 3}},
	})
	assert.Equal(t, phase.Failed, m.Status().Phase)
	term := m.Status().ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(3), term.ExitCode)
	assert.Equal(t, sec(55), term.FinishedAt, "the runtime's finish time, not the agent's")
	assert.Equal(t, []string{"StopSandbox sandbox=sb0"}, actionTypes(rd))
}

func TestRestoreAContainerThatVanished(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	m, rd := restored(t, d, sec(50), sec(60), Observed{Sandboxes: []SandboxInfo{sandboxUp()}})
	cs := m.Status().ContainerStatuses[0]
	require.NotNil(t, cs.State.Terminated, "the first exit shows until the restart: %+v", cs)
	assert.Equal(t, phase.ReasonContainerStatusUnknown, cs.State.Terminated.Reason)
	assert.Equal(t, int32(137), cs.State.Terminated.ExitCode)
	assert.Equal(t, []string{"PullImage container=app image=busybox:1 policy=IfNotPresent"}, actionTypes(rd), "restarted at once: first exit")
}

func TestRestoreKeepsBackOffAndRestartCounts(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	d.runs["app"] = []run{{For: time.Second, Exit: 1}}
	// Exits at 1 s (restart at once), 2 s (+10 s), 13 s (+20 s), 34 s: the next start is due at 74 s.
	m, rd := restored(t, d, sec(40), sec(41), Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-3", SandboxID: "sb0", Name: "app", Attempt: 3, State: ContainerStateExited, StartedAt: sec(33), FinishedAt: sec(34), ExitCode: 1}}})
	cs := m.Status().ContainerStatuses[0]
	assert.Equal(t, int32(3), cs.RestartCount)
	require.NotNil(t, cs.State.Waiting)
	assert.Equal(t, phase.ReasonCrashLoopBackOff, cs.State.Waiting.Reason)
	assert.Empty(t, actionTypes(rd))
	assert.Equal(t, sec(74), rd.Deadline, "the back-off is the one the old agent had")
}

func TestRestoreWithoutTheSandboxStartsOver(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{
		InitContainers: []podlife.Container{{Name: "init", Image: "busybox:1"}},
		Containers:     []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	d.runs["init"] = []run{{For: time.Second}}
	m, rd := restored(t, d, sec(50), sec(60), Observed{})
	assert.Equal(t, []string{"SetupPod"}, actionTypes(rd))
	m.Advance()
	require.NoError(t, m.Step(Event{Type: SetupDone, At: sec(60)}))
	assert.Equal(t, []string{"StopSandbox sandbox=sb0 reason=SandboxChanged", "RunSandbox attempt=1"}, actionTypes(m.Ready()))
}

func TestRestoreATerminalPodStaysTerminal(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	d.runs["app"] = []run{{For: time.Second}}
	m, rd := restored(t, d, sec(50), sec(60), Observed{Sandboxes: []SandboxInfo{{ID: "sb0"}}})
	assert.Equal(t, phase.Succeeded, m.Status().Phase)
	assert.True(t, m.Stopped())
	assert.Equal(t, []string{"StopSandbox sandbox=sb0 reason=PodTerminated"}, actionTypes(rd), "a leftover sandbox is removed")
	assert.ErrorIs(t, m.Step(Event{Type: SetupDone, At: sec(61)}), ErrStale)
}
