package phase_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// TestContainerStateReasons pins the reason strings of SEMANTICS.md "Container states" to the API's.
func TestContainerStateReasons(t *testing.T) {
	cases := []struct{ rule, got, want string }{
		{"waiting reason ContainerCreating", phase.ReasonContainerCreating, "ContainerCreating"},
		{"waiting reason PodInitializing", phase.ReasonPodInitializing, "PodInitializing"},
		{"waiting reason CrashLoopBackOff", phase.ReasonCrashLoopBackOff, "CrashLoopBackOff"},
		{"waiting reason ErrImagePull", phase.ReasonErrImagePull, "ErrImagePull"},
		{"waiting reason ImagePullBackOff", phase.ReasonImagePullBackOff, "ImagePullBackOff"},
		{"waiting reason ErrImageNeverPull", phase.ReasonErrImageNeverPull, "ErrImageNeverPull"},
		{"waiting reason InvalidImageName", phase.ReasonInvalidImageName, "InvalidImageName"},
		{"waiting reason CreateContainerConfigError", phase.ReasonCreateContainerConfigError, "CreateContainerConfigError"},
		{"waiting reason CreateContainerError", phase.ReasonCreateContainerError, "CreateContainerError"},
		{"waiting reason RunContainerError", phase.ReasonRunContainerError, "RunContainerError"},
		{"waiting reason PostStartHookError", phase.ReasonPostStartHookError, "PostStartHookError"},
		{"waiting reason RestartingAllContainers", phase.ReasonRestartingAllContainers, "RestartingAllContainers"},
		{"terminated reason Completed", phase.ReasonCompleted, "Completed"},
		{"terminated reason Error", phase.ReasonError, "Error"},
		{"terminated reason OOMKilled", phase.ReasonOOMKilled, "OOMKilled"},
		{"terminated reason StartError", phase.ReasonStartError, "StartError"},
		{"terminated reason ContainerCannotRun", phase.ReasonContainerCannotRun, "ContainerCannotRun"},
		{"terminated reason ContainerStatusUnknown", phase.ReasonContainerStatusUnknown, "ContainerStatusUnknown"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) { assert.Equal(t, tc.want, tc.got) })
	}
}

func TestInitialStatuses(t *testing.T) {
	t.Run("before anything exists, every container shows PodInitializing if the pod has any init container", func(t *testing.T) {
		init, apps := phase.InitialStatuses(spec(always, inits(app("i"), sidecar("s")), app("a")))
		require.Len(t, init, 2)
		require.Len(t, apps, 1)
		for _, s := range append(init, apps...) {
			require.NotNil(t, s.State.Waiting, s.Name)
			assert.Equal(t, phase.ReasonPodInitializing, s.State.Waiting.Reason, s.Name)
			assert.False(t, s.Ready, s.Name)
			assert.Nil(t, s.Started, "started is nil before the container ever ran")
		}
		assert.Equal(t, []string{"i", "s", "a"}, []string{init[0].Name, init[1].Name, apps[0].Name})
	})
	t.Run("otherwise ContainerCreating", func(t *testing.T) {
		init, apps := phase.InitialStatuses(spec(always, nil, app("a"), app("b")))
		assert.Nil(t, init)
		require.Len(t, apps, 2)
		assert.Equal(t, phase.ReasonContainerCreating, apps[1].State.Waiting.Reason)
		assert.Equal(t, "busybox", apps[1].Image)
	})
	t.Run("a nil spec has no statuses", func(t *testing.T) {
		init, apps := phase.InitialStatuses(nil)
		assert.Nil(t, init)
		assert.Nil(t, apps)
		assert.Equal(t, phase.ReasonContainerCreating, phase.InitialWaitingReason(nil))
	})
	t.Run("the initial statuses give phase Pending", func(t *testing.T) {
		s := spec(always, inits(app("i")), app("a"))
		init, apps := phase.InitialStatuses(s)
		assert.Equal(t, phase.Pending, phase.Compute(s, init, apps, false))
	})
}

func TestStartedAndReady(t *testing.T) {
	probe := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}}
	plain := app("a")
	withStartup := app("a")
	withStartup.StartupProbe = probe
	withReadiness := app("a")
	withReadiness.ReadinessProbe = probe
	withBoth := app("a")
	withBoth.StartupProbe, withBoth.ReadinessProbe = probe, probe
	side := sidecar("s")
	side.ReadinessProbe = probe

	run := running("a").State
	wait := waiting("a", phase.ReasonCrashLoopBackOff).State
	exit0 := exited("a", 0).State
	exit1 := exited("a", 1).State
	ok := phase.ProbeResults{StartupSucceeded: true, ReadinessSucceeded: true}
	none := phase.ProbeResults{}

	cases := []struct {
		name             string
		c                *podlife.Container
		init             bool
		s                phase.State
		r                phase.ProbeResults
		started, wantRdy bool
	}{
		{"started: without a startup probe, as soon as it is Running", &plain, false, run, none, true, true},
		{"started: with a startup probe, false until it succeeded", &withStartup, false, run, none, false, false},
		{"started: with a startup probe, true after it succeeded", &withStartup, false, run, ok, true, true},
		{"started: never when Waiting", &plain, false, wait, ok, false, false},
		{"started: never when Terminated", &plain, false, exit0, ok, false, false},
		{"ready: only computed once started (readiness success before startup success does not count)", &withBoth, false, run,
			phase.ProbeResults{ReadinessSucceeded: true}, false, false},
		{"ready: with a readiness probe, false until its first success", &withReadiness, false, run, none, true, false},
		{"ready: with a readiness probe, true after a success", &withReadiness, false, run, ok, true, true},
		{"ready: without a readiness probe, true once started", &plain, false, run, none, true, true},
		{"ready: always false when not Running", &withReadiness, false, exit0, ok, false, false},
		{"ready: a regular init container is ready when it exited 0", &plain, true, exit0, none, false, true},
		{"ready: a regular init container that exited 1 is not ready", &plain, true, exit1, none, false, false},
		{"ready: a regular init container that runs is not ready", &plain, true, run, ok, true, false},
		{"ready: a sidecar is ready like an app container (readiness success)", &side, true, run, ok, true, true},
		{"ready: a sidecar is ready like an app container (no success yet)", &side, true, run, none, true, false},
		{"ready: a sidecar that exited 0 is not ready", &side, true, exit0, ok, false, false},
		{"a nil container has no probes and is not a sidecar (app)", nil, false, run, none, true, true},
		{"a nil container has no probes and is not a sidecar (init)", nil, true, exit0, none, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.started, phase.Started(tc.c, tc.s, tc.r), "started")
			assert.Equal(t, tc.wantRdy, phase.Ready(tc.c, tc.init, tc.s, tc.r), "ready")
		})
	}
}

func TestCrashSequence(t *testing.T) {
	first := phase.RunningAgain(waiting("a", phase.ReasonContainerCreating), t0, 0)
	first.Started, first.Ready = yes(), true
	end1 := phase.TerminatedState{ExitCode: 1, Reason: phase.ReasonError, FinishedAt: t0.Add(time.Minute)}

	t.Run("after the first crash the status stays Terminated until the new instance runs", func(t *testing.T) {
		s := phase.Exited(first, end1)
		require.NotNil(t, s.State.Terminated)
		assert.Equal(t, end1, *s.State.Terminated)
		assert.False(t, s.Ready, "ready is always false when not Running")
		assert.False(t, s.IsStarted())
		assert.Equal(t, int32(0), s.RestartCount)
		assert.True(t, first.Ready, "the input is not modified")
	})
	t.Run("then lastState is Terminated and restartCount is the runtime attempt number", func(t *testing.T) {
		s := phase.RunningAgain(phase.Exited(first, end1), t0.Add(time.Minute), 1)
		require.NotNil(t, s.State.Running)
		assert.Equal(t, t0.Add(time.Minute), s.State.Running.StartedAt)
		require.NotNil(t, s.LastTerminationState.Terminated)
		assert.Equal(t, end1, *s.LastTerminationState.Terminated)
		assert.Equal(t, int32(1), s.RestartCount)
		assert.False(t, s.IsStarted(), "started waits for probes and hooks")
	})
	t.Run("from the second crash on, Waiting CrashLoopBackOff with lastState Terminated", func(t *testing.T) {
		second := phase.RunningAgain(phase.Exited(first, end1), t0.Add(time.Minute), 1)
		end2 := phase.TerminatedState{ExitCode: 2, Reason: phase.ReasonError, FinishedAt: t0.Add(2 * time.Minute)}
		s := phase.BackingOff(phase.Exited(second, end2), "back-off 10s restarting failed container")
		require.NotNil(t, s.State.Waiting)
		assert.Equal(t, phase.ReasonCrashLoopBackOff, s.State.Waiting.Reason)
		assert.Equal(t, "back-off 10s restarting failed container", s.State.Waiting.Message)
		require.NotNil(t, s.LastTerminationState.Terminated)
		assert.Equal(t, end2, *s.LastTerminationState.Terminated)
		assert.Equal(t, phase.Running, phase.Compute(spec(always, nil, app("a")), nil, statuses(s), false),
			"a container in back-off keeps the pod Running")
		again := phase.RunningAgain(s, t0.Add(3*time.Minute), 2)
		assert.Equal(t, end2, *again.LastTerminationState.Terminated, "running again keeps the back-off's last state")
		assert.Equal(t, int32(2), again.RestartCount)
	})
	t.Run("BackingOff leaves a status that is not Terminated alone", func(t *testing.T) {
		assert.Empty(t, cmp.Diff(first, phase.BackingOff(first, "x")))
	})
}

func TestVanished(t *testing.T) {
	prev := readyRunning("a")
	prev.RestartCount = 2
	t.Run("a container seen running that vanishes: ContainerStatusUnknown with exit 137, restarted", func(t *testing.T) {
		s := phase.Vanished(prev, phase.ReasonContainerCreating, false)
		require.NotNil(t, s.State.Waiting)
		assert.Equal(t, phase.ReasonContainerCreating, s.State.Waiting.Reason)
		require.NotNil(t, s.LastTerminationState.Terminated)
		assert.Equal(t, phase.ReasonContainerStatusUnknown, s.LastTerminationState.Terminated.Reason)
		assert.Equal(t, phase.ExitCodeStatusUnknown, s.LastTerminationState.Terminated.ExitCode)
		assert.Equal(t, int32(137), s.LastTerminationState.Terminated.ExitCode)
		assert.Equal(t, phase.MessageContainerVanished, s.LastTerminationState.Terminated.Message)
		assert.Equal(t, int32(3), s.RestartCount)
		assert.False(t, s.Ready)
		assert.False(t, s.IsStarted())
	})
	t.Run("when the pod is being deleted the restart count stays", func(t *testing.T) {
		s := phase.Vanished(prev, phase.ReasonPodInitializing, true)
		assert.Equal(t, int32(2), s.RestartCount)
		assert.Equal(t, phase.ReasonPodInitializing, s.State.Waiting.Reason)
	})
	t.Run("a deleted pod whose containers all vanished is Failed once terminal (upstream)", func(t *testing.T) {
		s := spec(always, nil, app("a"))
		assert.Equal(t, phase.Failed, phase.Compute(s, nil, statuses(phase.Vanished(prev, phase.ReasonContainerCreating, true)), true))
	})
}
