package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
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

func execProbeSpec(period, failures int32) *podlife.Probe {
	return &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"check"}}},
		PeriodSeconds: period, FailureThreshold: failures}
}

// probeActions are the RunProbe actions of rd.
func probeActions(rd Ready) []Action {
	var out []Action
	for _, a := range rd.Actions {
		if a.Type == RunProbe {
			out = append(out, a)
		}
	}
	return out
}

// TestRestoreKeptReadyIsNotExempt: SEMANTICS "Agent restart": a ready flag kept from before the
// restart (KEP-4781) is cleared by failureThreshold failing readiness probes in a row after it.
func TestRestoreKeptReadyIsNotExempt(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1", ReadinessProbe: execProbeSpec(10, 3)}}}
	d := newDriver(t, spec)
	m, rd := restored(t, d, sec(50), sec(95), Observed{
		Sandboxes:  []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: t0}},
	})
	require.True(t, m.Status().ContainerStatuses[0].Ready, "ready is kept")
	var ready []bool
	for i := 0; i < 4; i++ {
		probes := probeActions(rd)
		require.Len(t, probes, 1, "one run per period, at %v", rd.Deadline)
		at := sec(95 + 10*i)
		m.Advance()
		require.NoError(t, m.Step(Event{Type: ProbeResult, At: at, ContainerID: "app-0", Probe: probe.Readiness, Outcome: probe.FailureOutcome("down")}))
		ready = append(ready, m.Status().ContainerStatuses[0].Ready)
		rd = m.Ready()
		if i < 3 {
			assert.Equal(t, sec(105+10*i), rd.Deadline, "the next run a period later")
			m.Advance()
			require.NoError(t, m.Step(Event{Type: Tick, At: rd.Deadline}))
			rd = m.Ready()
		}
	}
	assert.Equal(t, []bool{true, true, false, false}, ready, "the third failure in a row clears ready (failureThreshold 3)")
	assert.NotEqual(t, phase.ConditionTrue, condition(m.Status(), phase.PodReady), "the pod is not Ready any more")
}

func condition(st phase.PodStatus, t phase.ConditionType) phase.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

// TestRestoreStartupProbeRunsOnce: SEMANTICS "Probes": a probe never catches up on missed ticks,
// also after a restart of the agent: an adopted container's startup probe runs once at the
// restart, then a period later.
func TestRestoreStartupProbeRunsOnce(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1", StartupProbe: execProbeSpec(10, 30)}}}
	d := newDriver(t, spec)
	d.probes = func(string, probe.Kind, time.Time) Outcome { return probe.FailureOutcome("not yet") }
	m, rd := restored(t, d, sec(50), sec(95), Observed{
		Sandboxes:  []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: t0}},
	})
	require.False(t, m.Status().ContainerStatuses[0].IsStarted())
	assert.Equal(t, []string{"RunProbe container=app id=app-0 probe=Startup"}, actionTypes(rd), "at once at the restart")
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ProbeResult, At: sec(95), ContainerID: "app-0", Probe: probe.Startup, Outcome: probe.FailureOutcome("not yet")}))
	rd = m.Ready()
	assert.Empty(t, probeActions(rd), "not a second time at the same instant")
	assert.Equal(t, sec(105), rd.Deadline)
}

// TestRestoreInitContainersFromTheLastThatRan: SEMANTICS "Init containers and sidecars", for a
// pod rebuilt by Restore: decided from the furthest init container that ran in the sandbox, with
// and without an app container created in it, with and without a checkpoint.
func TestRestoreInitContainersFromTheLastThatRan(t *testing.T) {
	spec := podlife.PodSpec{
		InitContainers: []podlife.Container{{Name: "proxy", Image: "envoy:1", RestartPolicy: policy(podlife.RestartAlways)}, {Name: "migrate", Image: "busybox:1"}},
		Containers:     []podlife.Container{{Name: "app", Image: "nginx:1"}},
	}
	proxyExited := ContainerInfo{ID: "proxy-0", SandboxID: "sb0", Name: "proxy", State: ContainerStateExited, StartedAt: t0, FinishedAt: sec(8), ExitCode: 1}
	migrateDone := ContainerInfo{ID: "migrate-0", SandboxID: "sb0", Name: "migrate", State: ContainerStateExited, StartedAt: t0, FinishedAt: sec(5)}
	appRunning := ContainerInfo{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: sec(5)}
	withCheckpoint := Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}, Containers: []ContainerCheckpoint{
		{Name: "proxy"}, {Name: "migrate", Succeeded: true}, {Name: "app"}}}
	cases := []struct {
		name       string
		cp         Checkpoint
		containers []ContainerInfo
		want       []string
	}{
		{"app container created: the exited sidecar restarts, the app container is adopted", Checkpoint{},
			[]ContainerInfo{proxyExited, migrateDone, appRunning}, []string{"PullImage container=proxy image=envoy:1 policy=IfNotPresent"}},
		{"no app container yet: the last init container is done, so the app starts while the sidecar restarts", Checkpoint{},
			[]ContainerInfo{proxyExited, migrateDone},
			[]string{"PullImage container=proxy image=envoy:1 policy=IfNotPresent", "PullImage container=app image=nginx:1 policy=IfNotPresent"}},
		{"app container created, checkpointed", withCheckpoint,
			[]ContainerInfo{proxyExited, migrateDone, appRunning}, []string{"PullImage container=proxy image=envoy:1 policy=IfNotPresent"}},
		{"no app container yet, checkpointed", withCheckpoint, []ContainerInfo{proxyExited, migrateDone},
			[]string{"PullImage container=proxy image=envoy:1 policy=IfNotPresent", "PullImage container=app image=nginx:1 policy=IfNotPresent"}},
		{"app container created, the completed init container removed: it counts as done", Checkpoint{},
			[]ContainerInfo{proxyExited, appRunning}, []string{"PullImage container=proxy image=envoy:1 policy=IfNotPresent"}},
		{"only the sidecar ran: it restarts; migrate waits until it is started", Checkpoint{},
			[]ContainerInfo{proxyExited}, []string{"PullImage container=proxy image=envoy:1 policy=IfNotPresent"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, phase.PodStatus{StartTime: t0}, tc.cp,
				Observed{Sandboxes: []SandboxInfo{sandboxUp()}, Containers: tc.containers}, sec(20), Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, actionTypes(m.Ready()))
		})
	}
}

// TestRestoreWithoutCheckpoint: a node agent behind a Kubernetes API server keeps no checkpoint;
// Restore infers from the status and the runtime, starts nothing twice and adopts what runs.
func TestRestoreWithoutCheckpoint(t *testing.T) {
	ref := PodRef{Namespace: "default", Name: "pod", UID: "uid"}
	app := podlife.Container{Name: "app", Image: "busybox:1"}
	running := func(id string, attempt int32, ready bool) phase.ContainerStatus {
		tr := true
		return phase.ContainerStatus{Name: "app", State: phase.State{Running: &phase.RunningState{StartedAt: sec(30)}},
			Started: &tr, Ready: ready, RestartCount: attempt, ContainerID: id, Image: "busybox:1"}
	}
	t.Run("adopts the running instance of the newest sandbox and stops the older one", func(t *testing.T) {
		spec := podlife.PodSpec{Containers: []podlife.Container{app}}
		m, err := Restore(ref, spec, phase.PodStatus{Phase: phase.Running, StartTime: t0, PodIP: "10.1.0.9",
			ContainerStatuses: []phase.ContainerStatus{running("app-2", 2, true)}}, Checkpoint{},
			Observed{
				Sandboxes: []SandboxInfo{{ID: "sb0", Attempt: 0}, {ID: "sb1", Attempt: 1, IP: "10.1.0.9", Ready: true}},
				Containers: []ContainerInfo{
					{ID: "app-1", SandboxID: "sb0", Name: "app", Attempt: 1, State: ContainerStateExited, StartedAt: sec(5), FinishedAt: sec(20), ExitCode: 1},
					{ID: "app-2", SandboxID: "sb1", Name: "app", Attempt: 2, State: ContainerStateRunning, StartedAt: sec(30)},
				}}, sec(60), Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"StopSandbox sandbox=sb0 reason=SandboxChanged"}, actionTypes(m.Ready()), "nothing is created or started")
		cp := m.Checkpoint()
		assert.Equal(t, SandboxCheckpoint{ID: "sb1", IP: "10.1.0.9", Attempt: 1}, cp.Sandbox)
		assert.Equal(t, int32(2), cp.Containers[0].Attempt)
		st := m.Status()
		assert.Equal(t, phase.Running, st.Phase)
		assert.True(t, st.ContainerStatuses[0].Ready)
		assert.Equal(t, "app-2", st.ContainerStatuses[0].ContainerID)
	})
	t.Run("an instance that exited meanwhile restarts at once: back-off starts over, as kubelet's in-memory back-off does", func(t *testing.T) {
		spec := podlife.PodSpec{Containers: []podlife.Container{app}}
		waiting := phase.ContainerStatus{Name: "app", State: phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonCrashLoopBackOff}},
			LastTerminationState: phase.State{Terminated: &phase.TerminatedState{ExitCode: 1, Reason: "Error", FinishedAt: sec(13)}},
			RestartCount:         2, ContainerID: "app-2"}
		m, err := Restore(ref, spec, phase.PodStatus{Phase: phase.Running, StartTime: t0, ContainerStatuses: []phase.ContainerStatus{waiting}}, Checkpoint{},
			Observed{Sandboxes: []SandboxInfo{sandboxUp()}, Containers: []ContainerInfo{
				{ID: "app-3", SandboxID: "sb0", Name: "app", Attempt: 3, State: ContainerStateExited, StartedAt: sec(33), FinishedAt: sec(34), ExitCode: 1}}},
			sec(41), Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"PullImage container=app image=busybox:1 policy=IfNotPresent"}, actionTypes(m.Ready()))
		m.Advance()
		require.NoError(t, m.Step(Event{Type: ImagePulled, At: sec(41), Container: "app"}))
		assert.Equal(t, "CreateContainer container=app attempt=4 sandbox=sb0", m.Ready().Actions[0].String(), "after the newest instance")
	})
	t.Run("a container whose restart policy says no does not run again, though the runtime lost its instance", func(t *testing.T) {
		spec := podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{app, {Name: "web", Image: "nginx:1"}}}
		done := phase.ContainerStatus{Name: "app", State: phase.State{Terminated: &phase.TerminatedState{ExitCode: 0, Reason: "Completed", FinishedAt: sec(10)}}, ContainerID: "app-0"}
		web := running("web-0", 0, true)
		web.Name = "web"
		m, err := Restore(ref, spec, phase.PodStatus{Phase: phase.Running, StartTime: t0, ContainerStatuses: []phase.ContainerStatus{done, web}}, Checkpoint{},
			Observed{Sandboxes: []SandboxInfo{sandboxUp()}, Containers: []ContainerInfo{
				{ID: "web-0", SandboxID: "sb0", Name: "web", State: ContainerStateRunning, StartedAt: sec(30)}}},
			sec(60), Options{})
		require.NoError(t, err)
		assert.Empty(t, actionTypes(m.Ready()))
		assert.Equal(t, phase.Running, m.Status().Phase)
	})
	t.Run("a regular init container the runtime no longer has counts as done once an app container exists", func(t *testing.T) {
		spec := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "migrate", Image: "busybox:1"}}, Containers: []podlife.Container{app}}
		m, err := Restore(ref, spec, phase.PodStatus{StartTime: t0}, Checkpoint{},
			Observed{Sandboxes: []SandboxInfo{sandboxUp()}, Containers: []ContainerInfo{
				{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: sec(30)}}},
			sec(60), Options{})
		require.NoError(t, err)
		assert.Empty(t, actionTypes(m.Ready()))
		assert.Equal(t, phase.Running, m.Status().Phase)
		assert.True(t, m.Checkpoint().Containers[0].Succeeded)
	})
	t.Run("a created instance is started, not created again", func(t *testing.T) {
		spec := podlife.PodSpec{Containers: []podlife.Container{app}}
		m, err := Restore(ref, spec, phase.PodStatus{StartTime: t0}, Checkpoint{},
			Observed{Sandboxes: []SandboxInfo{sandboxUp()}, Containers: []ContainerInfo{
				{ID: "app-1", SandboxID: "sb0", Name: "app", Attempt: 1, State: ContainerStateCreated}}},
			sec(5), Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"StartContainer container=app id=app-1"}, actionTypes(m.Ready()))
		assert.Equal(t, int32(1), m.Status().ContainerStatuses[0].RestartCount)
	})
	t.Run("a dead sandbox: a new one after the newest the runtime had, the next instance after the newest it had", func(t *testing.T) {
		spec := podlife.PodSpec{Containers: []podlife.Container{app}}
		m, err := Restore(ref, spec, phase.PodStatus{StartTime: t0}, Checkpoint{},
			Observed{Sandboxes: []SandboxInfo{{ID: "sb2", Attempt: 2}}, Containers: []ContainerInfo{
				{ID: "app-3", SandboxID: "sb2", Name: "app", Attempt: 3, State: ContainerStateExited, ExitCode: 137}}},
			sec(60), Options{})
		require.NoError(t, err)
		rd := m.Ready()
		assert.Equal(t, []string{"StopSandbox sandbox=sb2 reason=SandboxChanged", "RunSandbox attempt=3"}, actionTypes(rd),
			"as after a SandboxLost: the setup stays done")
		require.Len(t, rd.Records, 1)
		assert.Equal(t, "SandboxChanged", rd.Records[0].Reason)
		m.Advance()
		require.NoError(t, m.Step(Event{Type: SandboxReady, At: sec(60), SandboxID: "sb3", IP: "10.1.0.3"}))
		m.Advance()
		require.NoError(t, m.Step(Event{Type: ImagePulled, At: sec(60), Container: "app"}))
		assert.Equal(t, []string{"CreateContainer container=app attempt=4 sandbox=sb3"}, actionTypes(m.Ready()))
	})
	t.Run("no sandbox: the pod is set up again", func(t *testing.T) {
		spec := podlife.PodSpec{Containers: []podlife.Container{app}}
		m, err := Restore(ref, spec, phase.PodStatus{StartTime: t0}, Checkpoint{}, Observed{}, sec(60), Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"SetupPod"}, actionTypes(m.Ready()))
	})
	t.Run("a terminal phase in the status stays", func(t *testing.T) {
		spec := podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{app}}
		m, err := Restore(ref, spec, phase.PodStatus{Phase: phase.Succeeded, StartTime: t0}, Checkpoint{},
			Observed{Sandboxes: []SandboxInfo{sandboxUp()}}, sec(60), Options{})
		require.NoError(t, err)
		assert.True(t, m.Stopped())
		assert.Equal(t, []string{"StopSandbox sandbox=sb0 reason=PodTerminated"}, actionTypes(m.Ready()))
	})
}

// TestRestoreContainerInAnUnknownState: the runtime lists the current instance in an unknown
// state: it is handled as a ContainerUnknown event (SEMANTICS "Restart policy and back-off").
func TestRestoreContainerInAnUnknownState(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	d := newDriver(t, spec)
	m, rd := restored(t, d, sec(50), sec(60), Observed{
		Sandboxes:  []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateUnknown, StartedAt: t0}},
	})
	assert.Equal(t, []string{"StopContainer container=app id=app-0 timeout=30s"}, actionTypes(rd))
	require.Len(t, rd.Records, 1)
	assert.Equal(t, `Normal Killing container=app "Container is in \"unknown\" state, try killing it before restart"`, rd.Records[0].String())
	cs := m.Status().ContainerStatuses[0]
	require.NotNil(t, cs.State.Terminated)
	assert.Equal(t, phase.ReasonContainerStatusUnknown, cs.State.Terminated.Reason)
	assert.Equal(t, int32(1), cs.RestartCount)
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ContainerExited, At: sec(61), ContainerID: "app-0", ExitCode: 143, Signal: 15}))
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ImagePulled, At: sec(61), Container: "app"}))
	assert.Equal(t, "CreateContainer container=app attempt=1 sandbox=sb0", m.Ready().Actions[0].String(), "a new instance")
}

// TestRestoreSandboxWithoutIP: a ready sandbox without an IP is broken (kubelet's
// podSandboxChanged): what runs in it is killed, then a new sandbox with attempt + 1.
func TestRestoreSandboxWithoutIP(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	for _, cp := range []struct {
		name string
		cp   func(d *driver) Checkpoint
	}{{"checkpointed", func(d *driver) Checkpoint { return d.m.Checkpoint() }}, {"without a checkpoint", func(*driver) Checkpoint { return Checkpoint{} }}} {
		t.Run(cp.name, func(t *testing.T) {
			d := newDriver(t, spec)
			d.runUntil(sec(50))
			m, err := Restore(d.m.Ref(), *d.m.Spec(), d.m.Status(), cp.cp(d), Observed{
				Sandboxes:  []SandboxInfo{{ID: "sb0", Ready: true}},
				Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: t0}},
			}, sec(60), Options{})
			require.NoError(t, err)
			rd := m.Ready()
			assert.Equal(t, []string{"StopContainer container=app id=app-0 timeout=30s"}, actionTypes(rd), "the pod is killed first")
			var records []string
			for _, r := range rd.Records {
				records = append(records, r.String())
			}
			assert.Equal(t, []string{`Normal SandboxChanged "Pod sandbox changed, it will be killed and re-created."`,
				`Normal Killing container=app "Stopping container app"`}, records)
			assert.NotEqual(t, phase.ConditionTrue, condition(m.Status(), phase.PodReadyToStartContainers))
			m.Advance()
			require.NoError(t, m.Step(Event{Type: ContainerExited, At: sec(61), ContainerID: "app-0", ExitCode: 143, Signal: 15}))
			assert.Equal(t, []string{"StopSandbox sandbox=sb0 reason=SandboxChanged", "RunSandbox attempt=1"}, actionTypes(m.Ready()))
		})
	}
}

// A pod restored after its active deadline passed while the agent was away is stopped at once,
// its deadline counted from the status's start time (kubelet's pastActiveDeadline reads
// status.startTime); once stopped it is Failed with reason DeadlineExceeded, and a machine
// restored from that terminal status keeps the reason and message.
func TestRestorePastActiveDeadline(t *testing.T) {
	spec := podlife.PodSpec{ActiveDeadlineSeconds: int64p(30), TerminationGracePeriodSeconds: int64p(5),
		Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	d := newDriver(t, spec)
	// The old agent ran the pod for 20 s; the new one starts at 40 s, without a checkpoint.
	d.runUntil(sec(20))
	m, err := Restore(d.m.Ref(), *d.m.Spec(), d.m.Status(), Checkpoint{}, Observed{
		Sandboxes:  []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateRunning, StartedAt: t0}},
	}, sec(40), Options{})
	require.NoError(t, err)
	rd := m.Ready()
	assert.Equal(t, []string{"StopContainer container=app id=app-0 timeout=5s"}, actionTypes(rd))
	require.NotEmpty(t, rd.Records)
	assert.Equal(t, phase.ReasonDeadlineExceeded, rd.Records[0].Reason)
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ContainerExited, At: sec(41), ContainerID: "app-0", ExitCode: 143, Signal: 15}))
	st := m.Status()
	assert.Equal(t, phase.Failed, st.Phase)
	assert.Equal(t, phase.ReasonDeadlineExceeded, st.Reason)
	assert.Equal(t, phase.MessageDeadlineExceeded, st.Message)

	again, err := Restore(m.Ref(), *m.Spec(), st, Checkpoint{}, Observed{}, sec(60), Options{})
	require.NoError(t, err)
	assert.Equal(t, st.Phase, again.Status().Phase)
	assert.Equal(t, st.Reason, again.Status().Reason)
	assert.Equal(t, st.Message, again.Status().Message)
	assert.Empty(t, again.Ready().Records, "the deadline is not recorded again")
}

// TestRestoreSandboxDiedWhileAway: the sandbox died while no agent ran and the app still runs in
// it (the runtime lists it Running in the dead sandbox). The restored machine does what the live
// path does after a SandboxLost: SandboxChanged, the app is killed with the pod's grace, a new
// sandbox, and the app starts again at once: no ContainerStatusUnknown, no CrashLoopBackOff
// (found by the Sim-vs-Agent differential property: the restored path waited 10 s more).
func TestRestoreSandboxDiedWhileAway(t *testing.T) {
	spec := podlife.PodSpec{TerminationGracePeriodSeconds: int64p(10), Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	d := newDriver(t, spec)
	d.runs["app"] = []run{{For: time.Second, Exit: 1}, {}}
	m, rd := restored(t, d, sec(50), sec(60), Observed{
		Sandboxes:  []SandboxInfo{{ID: "sb0", IP: "10.1.0.2", Ready: false}},
		Containers: []ContainerInfo{{ID: "app-1", SandboxID: "sb0", Name: "app", Attempt: 1, State: ContainerStateRunning, StartedAt: sec(1)}},
	})
	require.Len(t, rd.Records, 2)
	assert.Equal(t, []string{"SandboxChanged", "Killing"}, []string{rd.Records[0].Reason, rd.Records[1].Reason})
	assert.Equal(t, []string{"StopContainer container=app id=app-1 timeout=10s"}, actionTypes(rd))
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ContainerExited, At: sec(61), ContainerID: "app-1", ExitCode: 143, Signal: 15}))
	assert.Equal(t, []string{"StopSandbox sandbox=sb0 reason=SandboxChanged", "RunSandbox attempt=1"}, actionTypes(m.Ready()))
	m.Advance()
	require.NoError(t, m.Step(Event{Type: SandboxReady, At: sec(61), SandboxID: "sb1", IP: "10.1.0.3"}))
	assert.Equal(t, []string{"PullImage container=app image=busybox:1 policy=IfNotPresent"}, actionTypes(m.Ready()), "no back-off")
	cs := m.Status().ContainerStatuses[0]
	require.NotNil(t, cs.State.Terminated)
	assert.Equal(t, int32(143), cs.State.Terminated.ExitCode, "the kill's exit, not ContainerStatusUnknown")
}

// TestRestoreInstanceKilledInAnUnknownState: the agent stopped while it killed an instance whose
// state was unknown (the status shows it Terminated ContainerStatusUnknown, restartCount one up);
// the runtime has it exited now. The restored machine ends that kill as the live path does: a new
// instance at once, no crash-loop step, and the restartCount shown does not go back (found by the
// Sim-vs-Agent property's RestartCountsNeverFall).
func TestRestoreInstanceKilledInAnUnknownState(t *testing.T) {
	spec := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "init", Image: "busybox:1"}},
		Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, InitContainerStatuses: []phase.ContainerStatus{{Name: "init", ContainerID: "init-12", RestartCount: 13,
		State: phase.State{Terminated: &phase.TerminatedState{ExitCode: 137, Reason: phase.ReasonContainerStatusUnknown}}}}}
	cp := Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}, Containers: []ContainerCheckpoint{{Name: "init", Attempt: 12}, {Name: "app"}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, cp, Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "init-12", SandboxID: "sb0", Name: "init", Attempt: 12, State: ContainerStateExited,
			ExitCode: 143, Signal: 15, StartedAt: sec(58), FinishedAt: sec(60)}}}, sec(61), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"PullImage container=init image=busybox:1 policy=IfNotPresent"}, actionTypes(m.Ready()), "no back-off")
	assert.Equal(t, int32(13), m.Status().InitContainerStatuses[0].RestartCount)
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ImagePulled, At: sec(61), Container: "init"}))
	assert.Equal(t, []string{"CreateContainer container=init attempt=13 sandbox=sb0"}, actionTypes(m.Ready()))
}

// TestRestoreFromAStaleCheckpoint: the store was away and the last status and checkpoint the
// agent wrote are older than the runtime: the pod got a new sandbox since, and new instances in
// it. The newest sandbox and the newest instances are the current ones, whatever the checkpoint
// says, and restart counts do not go back (found by the Sim-vs-Agent property with store
// outages: the restored machine started an instance number the runtime already had).
func TestRestoreFromAStaleCheckpoint(t *testing.T) {
	spec := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "init", Image: "busybox:1"}},
		Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, Phase: phase.Pending,
		InitContainerStatuses: []phase.ContainerStatus{{Name: "init", ContainerID: "init-0", State: phase.State{Running: &phase.RunningState{StartedAt: t0}}}},
		ContainerStatuses:     []phase.ContainerStatus{{Name: "app", State: phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonPodInitializing}}}}}
	cp := Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}, Containers: []ContainerCheckpoint{{Name: "init"}, {Name: "app"}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, cp, Observed{
		Sandboxes: []SandboxInfo{{ID: "sb1", IP: "10.1.0.3", Attempt: 1, Ready: true}},
		Containers: []ContainerInfo{
			{ID: "init-3", SandboxID: "sb1", Name: "init", Attempt: 3, State: ContainerStateExited, StartedAt: sec(30), FinishedAt: sec(31)},
			{ID: "app-2", SandboxID: "sb1", Name: "app", Attempt: 2, State: ContainerStateRunning, StartedAt: sec(31)},
		}}, sec(60), Options{})
	require.NoError(t, err)
	rd := m.Ready()
	assert.Empty(t, actionTypes(rd), "nothing starts again: the app runs in the newest sandbox")
	got := m.Status()
	assert.Equal(t, phase.Running, got.Phase)
	assert.Equal(t, int32(3), got.InitContainerStatuses[0].RestartCount)
	assert.Equal(t, int32(2), got.ContainerStatuses[0].RestartCount)
	assert.Equal(t, "10.1.0.3", got.PodIP)
}

// TestRestoreAdoptsAnUnknownInstanceWithItsNumber: the runtime has an instance in an unknown
// state that the status (older) does not know: its number is the restartCount shown.
func TestRestoreAdoptsAnUnknownInstanceWithItsNumber(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, ContainerStatuses: []phase.ContainerStatus{{Name: "app", ContainerID: "app-1", RestartCount: 1,
		State: phase.State{Running: &phase.RunningState{StartedAt: sec(2)}}}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, Checkpoint{}, Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-7", SandboxID: "sb0", Name: "app", Attempt: 7, State: ContainerStateUnknown, StartedAt: sec(40)}}},
		sec(60), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{`StopContainer container=app id=app-7 timeout=30s`}, actionTypes(m.Ready()))
	assert.GreaterOrEqual(t, m.Status().ContainerStatuses[0].RestartCount, int32(7))
}

// TestRestoreReplacementAlreadyCounted: the agent stopped after an instance killed in an unknown
// state had exited and its replacement was being pulled: the status counts the replacement
// (restartCount one up at the kill) and the checkpoint gives it that number. The restored
// machine creates the replacement with that number, with no step on the crash-loop curve, not
// the number of the instance that exited again (found by the Sim-vs-Agent property: a create
// that got the exited instance back and a start that failed).
func TestRestoreReplacementAlreadyCounted(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, ContainerStatuses: []phase.ContainerStatus{{Name: "app", ContainerID: "app-4", RestartCount: 5,
		State: phase.State{Terminated: &phase.TerminatedState{ExitCode: 0, Reason: phase.ReasonCompleted, StartedAt: sec(40), FinishedAt: sec(42)}}}}}
	cp := Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}, Containers: []ContainerCheckpoint{{Name: "app", Attempt: 5}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, cp, Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-4", SandboxID: "sb0", Name: "app", Attempt: 4, State: ContainerStateExited, StartedAt: sec(40), FinishedAt: sec(42)}}},
		sec(60), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"PullImage container=app image=busybox:1 policy=IfNotPresent"}, actionTypes(m.Ready()))
	m.Advance()
	require.NoError(t, m.Step(Event{Type: ImagePulled, At: sec(60), Container: "app"}))
	assert.Equal(t, []string{"CreateContainer container=app attempt=5 sandbox=sb0"}, actionTypes(m.Ready()))
}

// TestRestoreUnknownInstanceTheStatusDidNotSee: under restartPolicy Never, app went into an
// unknown state and the pod failed while the store was away; the status in the store still shows
// app being created. The runtime has the instance, started and now unknown: it ran, so the
// restored machine ends the pod Failed as the live path did (found by the Sim-vs-Agent
// property's TerminalPhaseAbsorbs).
func TestRestoreUnknownInstanceTheStatusDidNotSee(t *testing.T) {
	spec := podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, Phase: phase.Pending, ContainerStatuses: []phase.ContainerStatus{{Name: "app",
		State: phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonContainerCreating}}}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, Checkpoint{}, Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "app-0", SandboxID: "sb0", Name: "app", State: ContainerStateUnknown, StartedAt: sec(1)}}},
		sec(60), Options{})
	require.NoError(t, err)
	assert.Equal(t, phase.Failed, m.Status().Phase)
	cs := m.Status().ContainerStatuses[0]
	require.NotNil(t, cs.State.Terminated)
	assert.Equal(t, phase.ReasonContainerStatusUnknown, cs.State.Terminated.Reason)
}

// TestRestoreGoesOnDeleting: the pod was being deleted (the checkpoint says so, or the agent
// tells Restore from the pod's record): the restored machine goes on stopping it and starts
// nothing, even a container whose exit would have it restart (found by the machine property's
// TerminalPhaseAbsorbs: a deleted pod whose end was never reported showed Pending again).
func TestRestoreGoesOnDeleting(t *testing.T) {
	spec := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "init", Image: "busybox:1"}}, Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, Phase: phase.Pending, InitContainerStatuses: []phase.ContainerStatus{{Name: "init", ContainerID: "init-0",
		State: phase.State{Running: &phase.RunningState{StartedAt: sec(2)}}}}}
	grace := int64(20)
	cp := Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}, Deleting: &DeletingCheckpoint{GracePeriodSeconds: &grace},
		Containers: []ContainerCheckpoint{{Name: "init"}, {Name: "app"}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, cp, Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{{ID: "init-0", SandboxID: "sb0", Name: "init", State: ContainerStateExited, ExitCode: 137, StartedAt: sec(2), FinishedAt: sec(4)}}},
		sec(5), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"StopSandbox sandbox=sb0"}, actionTypes(m.Ready()), "nothing starts again")
	assert.Equal(t, phase.Failed, m.Status().Phase)
	assert.Equal(t, &DeletingCheckpoint{GracePeriodSeconds: &grace}, m.Checkpoint().Deleting)
}

// TestRestoreInstanceCreatedAfterTheLastStatus: the agent stopped at the instant app's first
// instance exited and its replacement was created and started: the status in the store shows the
// first exit, the checkpoint counts the replacement (attempt 1), and the runtime has it, exited
// meanwhile. It is adopted with its exit; no instance 1 is created again, which a runtime would
// answer with the same container and its second start (found by TestAgentPodIdentity: "crash/1
// started twice").
func TestRestoreInstanceCreatedAfterTheLastStatus(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	st := phase.PodStatus{StartTime: t0, Phase: phase.Running, ContainerStatuses: []phase.ContainerStatus{{Name: "app", ContainerID: "app-0",
		State: phase.State{Terminated: &phase.TerminatedState{ExitCode: 1, Reason: phase.ReasonError, StartedAt: sec(27), FinishedAt: sec(29)}}}}}
	cp := Checkpoint{Sandbox: SandboxCheckpoint{ID: "sb0", IP: "10.1.0.2"}, Containers: []ContainerCheckpoint{{Name: "app", Attempt: 1}}}
	m, err := Restore(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, st, cp, Observed{Sandboxes: []SandboxInfo{sandboxUp()},
		Containers: []ContainerInfo{
			{ID: "app-0", SandboxID: "sb0", Name: "app", Attempt: 0, State: ContainerStateExited, StartedAt: sec(27), FinishedAt: sec(29), ExitCode: 1},
			{ID: "app-1", SandboxID: "sb0", Name: "app", Attempt: 1, State: ContainerStateExited, StartedAt: sec(29), FinishedAt: sec(31), ExitCode: 1},
		}},
		sec(32), Options{})
	require.NoError(t, err)
	cs := m.Status().ContainerStatuses[0]
	assert.Equal(t, "app-1", cs.ContainerID)
	assert.Equal(t, int32(1), cs.RestartCount)
	require.NotNil(t, cs.State.Terminated, "%+v", cs.State)
	assert.Equal(t, sec(31), cs.State.Terminated.FinishedAt)
	for _, a := range m.Ready().Actions {
		assert.False(t, a.Type == CreateContainer && a.Attempt <= 1, "%s: instance 1 again", a)
		assert.NotEqual(t, StartContainer, a.Type, "%s", a)
	}
}
