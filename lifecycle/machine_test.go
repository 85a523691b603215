package lifecycle

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func int64p(n int64) *int64 { return &n }

func policy(p podlife.RestartPolicy) *podlife.RestartPolicy { return &p }

func TestCrashLoopBackOffDoublesFromFinishedAt(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	d.runs["app"] = []run{{For: time.Second, Exit: 1}}
	d.runUntil(sec(200))
	var starts []string
	for _, l := range d.lines("StartContainer") {
		starts = append(starts, l[:5])
	}
	// first restart immediate; then 10, 20, 40, 80 s after each exit (each instance runs 1 s)
	assert.Equal(t, []string{"   0s", "   1s", "  12s", "  33s", "  74s", " 155s"}, starts)
	st := d.m.Status()
	require.Equal(t, phase.Running, st.Phase)
	cs := st.ContainerStatuses[0]
	require.NotNil(t, cs.State.Waiting, "waits in back-off between crashes")
	assert.Equal(t, phase.ReasonCrashLoopBackOff, cs.State.Waiting.Reason)
	assert.Equal(t, int32(5), cs.RestartCount)
	require.NotNil(t, cs.LastTerminationState.Terminated)
	assert.Equal(t, int32(1), cs.LastTerminationState.Terminated.ExitCode)
}

func TestFirstCrashStaysTerminatedUntilTheRestart(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	d.runs["app"] = []run{{For: time.Second, Exit: 1}, {}}
	d.runUntil(sec(1))
	// after the first exit, the machine restarts at once; the new instance runs
	cs := d.m.Status().ContainerStatuses[0]
	require.NotNil(t, cs.State.Running)
	assert.Equal(t, int32(1), cs.RestartCount)
	require.NotNil(t, cs.LastTerminationState.Terminated)
	assert.Empty(t, d.lines("BackOff"))
}

func TestInitContainersGateAppContainers(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{
		InitContainers: []podlife.Container{
			{Name: "init", Image: "busybox:1"},
			{Name: "side", Image: "busybox:1", RestartPolicy: policy(podlife.RestartAlways),
				StartupProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}, InitialDelaySeconds: 5}},
		},
		Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}},
	})
	d.runs["init"] = []run{{For: 3 * time.Second}}
	d.runUntil(sec(30))
	start := func(name string) string {
		l := d.lines("StartContainer container=" + name)
		require.Len(t, l, 1, name)
		return l[0][:5]
	}
	assert.Equal(t, "   0s", start("init"))
	assert.Equal(t, "   3s", start("side"), "the sidecar starts after the regular init container exited 0")
	assert.Equal(t, "   8s", start("app"), "the app starts once the sidecar's startup probe passed")
	st := d.m.Status()
	assert.Equal(t, phase.Running, st.Phase)
	assert.True(t, phase.IsConditionTrue(st.Conditions, phase.PodInitialized))
	assert.True(t, phase.IsConditionTrue(st.Conditions, phase.PodReady))
}

func TestNeverWithExitCode3EndsFailed(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "job", Image: "busybox:1"}}})
	d.runs["job"] = []run{{For: 2 * time.Second, Exit: 3}}
	d.runUntil(sec(60))
	require.True(t, d.m.Stopped())
	st := d.m.Status()
	assert.Equal(t, phase.Failed, st.Phase)
	assert.Equal(t, int32(3), st.ContainerStatuses[0].State.Terminated.ExitCode)
	assert.Len(t, d.lines("StopSandbox"), 1)
	assert.Len(t, d.lines("StartContainer"), 1, "Never does not restart")
}

func TestDeleteRunsPreStopThenStopsWithTheRest(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "web", Image: "nginx:1",
		Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 5}}}}}})
	d.hookFor["web/PreStop"] = 5 * time.Second
	d.runs["web"] = []run{{IgnoreTerm: true}}
	d.runUntil(sec(100), Event{Type: DeleteRequested, At: sec(10)})
	require.True(t, d.m.Stopped())
	hook := d.lines("RunHook", "PreStop")
	stop := d.lines("StopContainer")
	require.Len(t, hook, 1)
	require.Len(t, stop, 1)
	assert.Equal(t, "  10s RunHook container=web id=web-0 hook=PreStop timeout=30s", hook[0], "preStop starts at the delete, bounded by the grace")
	assert.Equal(t, "  15s StopContainer container=web id=web-0 timeout=25s", stop[0], "stop signal after preStop, with what is left of the grace")
	st := d.m.Status()
	assert.Equal(t, phase.Failed, st.Phase, "killed with 137: a deleted pod with a non-zero exit is Failed")
	assert.Equal(t, sec(40), st.ContainerStatuses[0].State.Terminated.FinishedAt, "SIGKILL at grace")
}

func TestLivenessFailureKillsAndRestarts(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		LivenessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"check"}}}, PeriodSeconds: 5},
		Lifecycle:     &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}}}})
	d.probes = func(c string, k probe.Kind, at time.Time) Outcome {
		if at.Before(sec(20)) {
			return probe.SuccessOutcome("")
		}
		return probe.FailureOutcome("exit 1")
	}
	d.runUntil(sec(40))
	kill := d.lines("Killing")
	require.NotEmpty(t, kill)
	assert.Equal(t, "  30s", kill[0][:5], "failures at 20, 25, 30 s: the third kills")
	hooks := d.lines("RunHook", "PreStop")
	require.NotEmpty(t, hooks)
	assert.Equal(t, "  30s", hooks[0][:5], "preStop precedes the kill")
	assert.GreaterOrEqual(t, len(d.lines("StartContainer")), 2, "restarted under Always")
	assert.GreaterOrEqual(t, d.m.Status().ContainerStatuses[0].RestartCount, int32(1))
}

func TestStepRejectsBadEvents(t *testing.T) {
	m, err := New(PodRef{Name: "p"}, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}, sec(10), Options{})
	require.NoError(t, err)
	before := m.Status()
	cases := []struct {
		name string
		ev   Event
		want error
	}{
		{"tick going backwards", Event{Type: Tick, At: sec(5)}, ErrTimeWentBackwards},
		{"unknown container name", Event{Type: ImagePulled, At: sec(10), Container: "nope"}, ErrUnknownContainer},
		{"unknown container id", Event{Type: ContainerExited, At: sec(10), ContainerID: "x"}, ErrUnknownContainer},
		{"missing container id", Event{Type: ContainerStarted, At: sec(10)}, ErrBadEvent},
		{"unknown event type", Event{Type: 200, At: sec(10)}, ErrBadEvent},
		{"pull result without a pull", Event{Type: ImagePulled, At: sec(10), Container: "app"}, ErrStale},
		{"duplicate setup result", Event{Type: SandboxReady, At: sec(10)}, ErrStale},
		{"negative delete grace", Event{Type: DeleteRequested, At: sec(10), GracePeriodSeconds: int64p(-1)}, ErrBadEvent},
		{"spec update without spec", Event{Type: SpecUpdated, At: sec(10)}, ErrBadEvent},
		{"spec update of the restart policy", Event{Type: SpecUpdated, At: sec(10), Spec: &podlife.PodSpec{RestartPolicy: podlife.RestartNever,
			Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}}, ErrBadEvent},
		{"spec update adding a container", Event{Type: SpecUpdated, At: sec(10), Spec: &podlife.PodSpec{
			Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}, {Name: "two", Image: "busybox:1"}}}}, ErrBadEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := m.Step(c.ev)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.want), "got %v", err)
			assert.Equal(t, before, m.Status(), "a refused event changes nothing")
		})
	}
}

func TestNewRejectsInvalidSpec(t *testing.T) {
	_, err := New(PodRef{Name: "p"}, podlife.PodSpec{}, t0, Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, podlife.ErrInvalid)
}

// Found by the simulated runtime's tests: an image change of an init container whose index is
// not an app container's index panicked.
func TestSpecUpdatedForAnInitContainerBeyondTheAppContainers(t *testing.T) {
	spec := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "a", Image: "busybox:1"}, {Name: "b", Image: "busybox:1"}},
		Containers: []podlife.Container{{Name: "app", Image: "app:1"}}}
	m, err := New(PodRef{Namespace: "default", Name: "p"}, spec, t0, Options{})
	require.NoError(t, err)
	next := spec
	next.InitContainers = []podlife.Container{{Name: "a", Image: "busybox:1"}, {Name: "b", Image: "busybox:2"}}
	require.NoError(t, m.Step(Event{Type: SpecUpdated, At: t0, Spec: &next}))
	assert.Equal(t, "busybox:2", m.Spec().InitContainers[1].Image)
}

// A shorter second delete at the very instant the first one's stop signal went out still
// reaches the runtime with the new timeout.
func TestShorterDeleteAtTheSameInstantRestopsWithTheNewTimeout(t *testing.T) {
	d := newDriver(t, podlife.PodSpec{TerminationGracePeriodSeconds: int64p(5), Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}})
	d.runs["app"] = []run{{IgnoreTerm: true}}
	d.runUntil(sec(20), Event{Type: DeleteRequested, At: sec(10)}, Event{Type: DeleteRequested, At: sec(10), GracePeriodSeconds: int64p(0)})
	assert.Equal(t, []string{"  10s StopContainer container=app id=app-0 timeout=5s", "  10s StopContainer container=app id=app-0 timeout=2s"},
		d.lines("StopContainer"))
}

// TestLatePreStopOfAForgottenInstance: a preStop result may come long after its instance was
// replaced many times (a sleep runs in the agent): one the machine no longer remembers is stale,
// not an unknown container (found by TestMachineInvariants: an instance in an unknown state every
// second, a 21 s preStop).
func TestLatePreStopOfAForgottenInstance(t *testing.T) {
	m, err := New(PodRef{Namespace: "default", Name: "pod"}, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}, t0, Options{})
	require.NoError(t, err)
	err = m.Step(Event{Type: HookResult, At: t0, ContainerID: "app-0", Hook: PreStop})
	assert.ErrorIs(t, err, ErrStale)
	err = m.Step(Event{Type: HookResult, At: t0, ContainerID: "app-0", Hook: PostStart})
	assert.ErrorIs(t, err, ErrUnknownContainer, "a postStart result needs its instance")
}
