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

func cond(t phase.ConditionType, s phase.ConditionStatus, reason, message string) phase.Condition {
	return phase.Condition{Type: t, Status: s, Reason: reason, Message: message}
}

// generated returns the generated condition of type ct.
func generated(t *testing.T, in phase.ConditionInput, prev []phase.Condition, ct phase.ConditionType) phase.Condition {
	t.Helper()
	c, ok := phase.FindCondition(phase.Generate(in, prev), ct)
	require.True(t, ok, "condition %s generated", ct)
	return c
}

// TestConditionRules has one row per condition rule of SEMANTICS.md "Conditions and kubectl
// columns", with kubelet's reasons and messages.
func TestConditionRules(t *testing.T) {
	withSidecar := spec(always, inits(app("init"), sidecar("side")), app("a"), app("b"))
	twoApps := spec(always, nil, app("a"), app("b"))
	gated := spec(always, nil, app("a"))
	gated.ReadinessGates = []string{"example.com/lb", "example.com/dns"}
	restartAll := spec(always, nil, withPolicy(app("a"), never, ruleOn(podlife.RuleRestartAllContainers, 42)))

	cases := []struct {
		name string
		in   phase.ConditionInput
		prev []phase.Condition
		want phase.Condition
	}{
		// PodScheduled.
		{name: "PodScheduled: True on a node", in: phase.ConditionInput{Spec: twoApps},
			want: cond(phase.PodScheduled, phase.ConditionTrue, "", "")},
		{name: "PodScheduled: False with the scheduler's reason (SchedulingGated)",
			in:   phase.ConditionInput{Spec: twoApps, NotScheduledReason: phase.ReasonSchedulingGated, NotScheduledMessage: "Scheduling is blocked due to non-empty scheduling gates"},
			want: cond(phase.PodScheduled, phase.ConditionFalse, phase.ReasonSchedulingGated, "Scheduling is blocked due to non-empty scheduling gates")},

		// PodReadyToStartContainers.
		{name: "PodReadyToStartContainers: true when no new sandbox is needed", in: phase.ConditionInput{Spec: twoApps, SandboxReady: true},
			want: cond(phase.PodReadyToStartContainers, phase.ConditionTrue, "", "")},
		{name: "PodReadyToStartContainers: false while a sandbox must be made", in: phase.ConditionInput{Spec: twoApps},
			want: cond(phase.PodReadyToStartContainers, phase.ConditionFalse, "", "")},

		// Initialized.
		{name: "Initialized: every regular init container exited 0 and every sidecar started",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(ready(exited("init", 0)), startedRunning("side")), Phase: phase.Pending},
			want: cond(phase.PodInitialized, phase.ConditionTrue, "", "")},
		{name: "Initialized: False while a regular init container runs, ContainersNotInitialized",
			in: phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(running("init"), waiting("side", phase.ReasonPodInitializing)),
				Statuses: statuses(waiting("a", phase.ReasonPodInitializing), waiting("b", phase.ReasonPodInitializing)), Phase: phase.Pending},
			want: cond(phase.PodInitialized, phase.ConditionFalse, phase.ReasonContainersNotInitialized, "containers with incomplete status: [init side]")},
		{name: "Initialized: a sidecar running but not started is incomplete",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(ready(exited("init", 0)), running("side")), Phase: phase.Pending},
			want: cond(phase.PodInitialized, phase.ConditionFalse, phase.ReasonContainersNotInitialized, "containers with incomplete status: [side]")},
		{name: "Initialized: init containers without status are unknown",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(running("init")), Phase: phase.Pending},
			want: cond(phase.PodInitialized, phase.ConditionFalse, phase.ReasonContainersNotInitialized, "containers with unknown status: [side], containers with incomplete status: [init]")},
		{name: "Initialized: no container statuses at all with init containers: UnknownContainerStatuses",
			in:   phase.ConditionInput{Spec: withSidecar, Phase: phase.Pending},
			want: cond(phase.PodInitialized, phase.ConditionFalse, phase.ReasonUnknownContainerStatuses, "")},
		{name: "Initialized: stays true once an app container started (sidecar restarting)",
			in: phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(ready(exited("init", 0)), waitingAfter("side", 1)),
				Statuses: statuses(readyRunning("a"), readyRunning("b")), Phase: phase.Running},
			want: cond(phase.PodInitialized, phase.ConditionTrue, "", "")},
		{name: "Initialized: true from the start without init containers", in: phase.ConditionInput{Spec: twoApps, Phase: phase.Pending},
			want: cond(phase.PodInitialized, phase.ConditionTrue, "", "")},
		{name: "Initialized: a Succeeded pod is initialized with reason PodCompleted",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(ready(exited("init", 0)), exited("side", 0)), Statuses: statuses(exited("a", 0), exited("b", 0)), Phase: phase.Succeeded},
			want: cond(phase.PodInitialized, phase.ConditionTrue, phase.ReasonPodCompleted, "")},
		{name: "Initialized: once True it stays True while init containers run again in place (RestartAllContainers)",
			in: phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(running("init"), waiting("side", phase.ReasonRestartingAllContainers)),
				Statuses: statuses(waiting("a", phase.ReasonRestartingAllContainers), waiting("b", phase.ReasonRestartingAllContainers)), Phase: phase.Running},
			prev: []phase.Condition{cond(phase.PodInitialized, phase.ConditionTrue, "", "")},
			want: cond(phase.PodInitialized, phase.ConditionTrue, "", "")},

		// ContainersReady.
		{name: "ContainersReady: every app container and sidecar ready",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(ready(exited("init", 0)), readyRunning("side")), Statuses: statuses(readyRunning("a"), readyRunning("b")), Phase: phase.Running},
			want: cond(phase.ContainersReady, phase.ConditionTrue, "", "")},
		{name: "ContainersReady: an unready sidecar makes it False, ContainersNotReady",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(ready(exited("init", 0)), startedRunning("side")), Statuses: statuses(readyRunning("a"), readyRunning("b")), Phase: phase.Running},
			want: cond(phase.ContainersReady, phase.ConditionFalse, phase.ReasonContainersNotReady, "containers with unready status: [side]")},
		{name: "ContainersReady: unknown containers are listed before unready ones",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(running("b")), Phase: phase.Pending},
			want: cond(phase.ContainersReady, phase.ConditionFalse, phase.ReasonContainersNotReady, "containers with unknown status: [a], containers with unready status: [b]")},
		{name: "ContainersReady: a regular init container's readiness does not count",
			in:   phase.ConditionInput{Spec: withSidecar, InitStatuses: statuses(exited("init", 0), readyRunning("side")), Statuses: statuses(readyRunning("a"), readyRunning("b")), Phase: phase.Running},
			want: cond(phase.ContainersReady, phase.ConditionTrue, "", "")},
		{name: "ContainersReady: no container statuses at all: UnknownContainerStatuses", in: phase.ConditionInput{Spec: twoApps, Phase: phase.Pending},
			want: cond(phase.ContainersReady, phase.ConditionFalse, phase.ReasonUnknownContainerStatuses, "")},
		{name: "ContainersReady: a Succeeded pod is not ready, reason PodCompleted",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(exited("a", 0), exited("b", 0)), Phase: phase.Succeeded},
			want: cond(phase.ContainersReady, phase.ConditionFalse, phase.ReasonPodCompleted, "")},
		{name: "ContainersReady: a Succeeded pod with an unknown container is ContainersNotReady",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(exited("a", 0)), Phase: phase.Succeeded},
			want: cond(phase.ContainersReady, phase.ConditionFalse, phase.ReasonContainersNotReady, "containers with unknown status: [b], containers with unready status: [a]")},
		{name: "ContainersReady: a Failed pod is not ready, reason PodFailed, even with ready containers",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(readyRunning("a"), readyRunning("b")), Phase: phase.Failed},
			want: cond(phase.ContainersReady, phase.ConditionFalse, phase.ReasonPodFailed, "")},

		// Ready.
		{name: "Ready: ContainersReady and no readiness gates",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(readyRunning("a"), readyRunning("b")), Phase: phase.Running},
			want: cond(phase.PodReady, phase.ConditionTrue, "", "")},
		{name: "Ready: copies a False ContainersReady's reason and message",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(readyRunning("a"), running("b")), Phase: phase.Running},
			want: cond(phase.PodReady, phase.ConditionFalse, phase.ReasonContainersNotReady, "containers with unready status: [b]")},
		{name: "Ready: a Failed pod is not Ready, reason PodFailed",
			in:   phase.ConditionInput{Spec: twoApps, Statuses: statuses(exited("a", 1), exited("b", 0)), Phase: phase.Failed},
			want: cond(phase.PodReady, phase.ConditionFalse, phase.ReasonPodFailed, "")},
		{name: "Ready: every readiness gate True",
			in: phase.ConditionInput{Spec: gated, Statuses: statuses(readyRunning("a")), Phase: phase.Running,
				ReadinessGates: map[string]phase.ConditionStatus{"example.com/lb": phase.ConditionTrue, "example.com/dns": phase.ConditionTrue}},
			want: cond(phase.PodReady, phase.ConditionTrue, "", "")},
		{name: "Ready: a gate that is not True or missing gives ReadinessGatesNotReady",
			in: phase.ConditionInput{Spec: gated, Statuses: statuses(readyRunning("a")), Phase: phase.Running,
				ReadinessGates: map[string]phase.ConditionStatus{"example.com/lb": phase.ConditionFalse}},
			want: cond(phase.PodReady, phase.ConditionFalse, phase.ReasonReadinessGatesNotReady,
				`the status of pod readiness gate "example.com/lb" is not "True", but False, corresponding condition of pod readiness gate "example.com/dns" does not exist.`)},
		{name: "Ready: a gate missing from the input is read from the previous conditions",
			in: phase.ConditionInput{Spec: gated, Statuses: statuses(readyRunning("a")), Phase: phase.Running,
				ReadinessGates: map[string]phase.ConditionStatus{"example.com/lb": phase.ConditionTrue}},
			prev: []phase.Condition{cond("example.com/dns", phase.ConditionTrue, "", "")},
			want: cond(phase.PodReady, phase.ConditionTrue, "", "")},

		// AllContainersRestarting.
		{name: "AllContainersRestarting: True while containers restart in place",
			in:   phase.ConditionInput{Spec: restartAll, Statuses: statuses(waiting("a", phase.ReasonRestartingAllContainers)), Phase: phase.Running, RestartingAllContainers: true},
			want: cond(phase.AllContainersRestarting, phase.ConditionTrue, phase.ReasonRestartAllContainersStarted, phase.MessageRestartAllContainersStarted)},
		{name: "AllContainersRestarting: False otherwise, without reason",
			in:   phase.ConditionInput{Spec: restartAll, Statuses: statuses(readyRunning("a")), Phase: phase.Running},
			want: cond(phase.AllContainersRestarting, phase.ConditionFalse, "", "")},
		{name: "AllContainersRestarting: False PodCompleted once Succeeded",
			in:   phase.ConditionInput{Spec: restartAll, Statuses: statuses(exited("a", 0)), Phase: phase.Succeeded, RestartingAllContainers: true},
			want: cond(phase.AllContainersRestarting, phase.ConditionFalse, phase.ReasonPodCompleted, "")},
		{name: "AllContainersRestarting: False PodFailed once Failed",
			in:   phase.ConditionInput{Spec: restartAll, Statuses: statuses(exited("a", 1)), Phase: phase.Failed},
			want: cond(phase.AllContainersRestarting, phase.ConditionFalse, phase.ReasonPodFailed, "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := generated(t, tc.in, tc.prev, tc.want.Type)
			assert.Empty(t, cmp.Diff(tc.want, got))
			if got.Status == phase.ConditionTrue && got.Type != phase.AllContainersRestarting && got.Type != phase.PodInitialized {
				assert.Empty(t, got.Reason, "True conditions carry no reason")
			}
		})
	}
}

func TestGenerateOrderAndAllContainersRestartingOnlyWithRule(t *testing.T) {
	types := func(cs []phase.Condition) []phase.ConditionType {
		var out []phase.ConditionType
		for _, c := range cs {
			out = append(out, c.Type)
		}
		return out
	}
	kubeletOrder := []phase.ConditionType{phase.PodReadyToStartContainers, phase.PodInitialized, phase.PodReady, phase.ContainersReady, phase.PodScheduled}
	assert.Equal(t, kubeletOrder, types(phase.Generate(phase.ConditionInput{Spec: spec(always, nil, app("a"))}, nil)))
	withRule := spec(always, inits(withPolicy(app("i"), never, ruleOn(podlife.RuleRestartAllContainers, 3))), app("a"))
	assert.Equal(t, append(kubeletOrder, phase.AllContainersRestarting), types(phase.Generate(phase.ConditionInput{Spec: withRule}, nil)),
		"AllContainersRestarting only for a spec with a RestartAllContainers rule (an init container's counts)")
	assert.Len(t, phase.Generate(phase.ConditionInput{}, nil), 5, "a nil spec still gets kubelet's conditions")
}

func TestConditionsLastTransitionTime(t *testing.T) {
	s := spec(always, nil, app("a"))
	t1, t2, t3 := t0, t0.Add(time.Minute), t0.Add(2*time.Minute)
	notReady := phase.ConditionInput{Spec: s, Statuses: statuses(running("a")), Phase: phase.Running, SandboxReady: true}
	readyIn := notReady
	readyIn.Statuses = statuses(readyRunning("a"))

	first := phase.Conditions(notReady, nil, t1)
	for _, c := range first {
		assert.Equal(t, t1, c.LastTransitionTime, "%s: a new condition transitions now", c.Type)
	}

	second := phase.Conditions(readyIn, first, t2)
	byType := func(cs []phase.Condition, ct phase.ConditionType) phase.Condition {
		c, ok := phase.FindCondition(cs, ct)
		require.True(t, ok)
		return c
	}
	t.Run("lastTransitionTime changes when the status changes", func(t *testing.T) {
		assert.Equal(t, t2, byType(second, phase.PodReady).LastTransitionTime)
		assert.Equal(t, t2, byType(second, phase.ContainersReady).LastTransitionTime)
	})
	t.Run("lastTransitionTime stays when the status does not change", func(t *testing.T) {
		assert.Equal(t, t1, byType(second, phase.PodScheduled).LastTransitionTime)
		assert.Equal(t, t1, byType(second, phase.PodInitialized).LastTransitionTime)
		assert.Equal(t, t1, byType(second, phase.PodReadyToStartContainers).LastTransitionTime)
	})
	t.Run("reason and message follow the state even when the status holds", func(t *testing.T) {
		twoUnready := phase.ConditionInput{Spec: spec(always, nil, app("a"), app("b")), Statuses: statuses(running("a"), running("b")), Phase: phase.Running}
		before := phase.Conditions(twoUnready, nil, t1)
		oneUnready := twoUnready
		oneUnready.Statuses = statuses(readyRunning("a"), running("b"))
		after := phase.Conditions(oneUnready, before, t3)
		c := byType(after, phase.ContainersReady)
		assert.Equal(t, "containers with unready status: [b]", c.Message)
		assert.Equal(t, t1, c.LastTransitionTime)
	})
	t.Run("the previous conditions are not modified", func(t *testing.T) {
		assert.Equal(t, phase.ConditionFalse, byType(first, phase.PodReady).Status)
		assert.Equal(t, t1, byType(first, phase.PodReady).LastTransitionTime)
	})
}

func TestConditionsKeepConditionsKubeletDoesNotOwn(t *testing.T) {
	s := spec(always, nil, app("a"))
	s.ReadinessGates = []string{"example.com/lb"}
	prev := []phase.Condition{
		{Type: phase.DisruptionTarget, Status: phase.ConditionTrue, Reason: "EvictionByEvictionAPI", LastTransitionTime: t0},
		{Type: "example.com/lb", Status: phase.ConditionTrue, LastTransitionTime: t0},
		{Type: phase.PodReady, Status: phase.ConditionFalse, LastTransitionTime: t0},
	}
	out := phase.Conditions(phase.ConditionInput{Spec: s, Statuses: statuses(readyRunning("a")), Phase: phase.Running}, prev, t0.Add(time.Hour))
	assert.Equal(t, prev[0], out[0], "DisruptionTarget is kept as it was")
	assert.Equal(t, prev[1], out[1], "a readiness gate condition is kept as it was")
	assert.True(t, phase.IsConditionTrue(out, phase.PodReady), "the readiness gate read from prev is True")
	n := 0
	for _, c := range out {
		if c.Type == phase.PodReady {
			n++
		}
	}
	assert.Equal(t, 1, n, "a kubelet condition appears once")
	assert.True(t, phase.IsKubeletCondition(phase.AllContainersRestarting))
	assert.False(t, phase.IsKubeletCondition(phase.DisruptionTarget))
}

func TestConditionHelpers(t *testing.T) {
	conds := []phase.Condition{cond(phase.PodReady, phase.ConditionTrue, "", ""), cond(phase.PodInitialized, phase.ConditionFalse, "x", "")}
	_, ok := phase.FindCondition(conds, phase.PodScheduled)
	assert.False(t, ok, "missing condition")
	assert.True(t, phase.IsConditionTrue(conds, phase.PodReady))
	assert.False(t, phase.IsConditionTrue(conds, phase.PodInitialized), "False is not True")
	assert.False(t, phase.IsConditionTrue(nil, phase.PodReady), "nil conditions")

	t.Run("SetCondition appends a new condition, transitioning now", func(t *testing.T) {
		out := phase.SetCondition(conds, cond(phase.DisruptionTarget, phase.ConditionTrue, "DeletionByTaintManager", ""), t0)
		require.Len(t, out, 3)
		assert.Equal(t, t0, out[2].LastTransitionTime)
		assert.Len(t, conds, 2, "input not modified")
	})
	t.Run("SetCondition keeps lastTransitionTime when the status holds", func(t *testing.T) {
		in := []phase.Condition{{Type: "gate", Status: phase.ConditionTrue, LastTransitionTime: t0}}
		out := phase.SetCondition(in, phase.Condition{Type: "gate", Status: phase.ConditionTrue, Message: "new"}, t0.Add(time.Hour))
		assert.Equal(t, []phase.Condition{{Type: "gate", Status: phase.ConditionTrue, Message: "new", LastTransitionTime: t0}}, out)
	})
	t.Run("SetCondition moves lastTransitionTime when the status changes, once for duplicates", func(t *testing.T) {
		in := []phase.Condition{{Type: "gate", Status: phase.ConditionTrue, LastTransitionTime: t0}, {Type: "gate", Status: phase.ConditionTrue}}
		out := phase.SetCondition(in, phase.Condition{Type: "gate", Status: phase.ConditionFalse}, t0.Add(time.Hour))
		require.Len(t, out, 2)
		assert.Equal(t, phase.Condition{Type: "gate", Status: phase.ConditionFalse, LastTransitionTime: t0.Add(time.Hour)}, out[0])
		assert.Equal(t, in[1], out[1])
	})
}
