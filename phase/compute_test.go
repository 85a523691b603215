package phase_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

type phaseCase struct {
	name          string
	spec          *podlife.PodSpec
	init, apps    []phase.ContainerStatus
	podIsTerminal bool
	want          phase.Phase
}

func runPhaseCases(t *testing.T, cases []phaseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, phase.Compute(tc.spec, tc.init, tc.apps, tc.podIsTerminal))
		})
	}
}

const (
	always    = podlife.RestartAlways
	onFailure = podlife.RestartOnFailure
	never     = podlife.RestartNever
)

// TestComputePodPhaseRules has one row per rule of SEMANTICS.md "Pod phase"; row names quote it.
func TestComputePodPhaseRules(t *testing.T) {
	runPhaseCases(t, []phaseCase{
		// Counting.
		{name: "running: app container Running counts as running", spec: spec(always, nil, app("a")),
			apps: statuses(running("a")), want: phase.Running},
		{name: "waiting: Waiting with no lastState keeps the pod Pending", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(running("a"), waiting("b", phase.ReasonContainerCreating)), want: phase.Pending},
		{name: "stopped: Waiting with a lastState is stopped, not waiting (crash loop keeps Running)", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(running("a"), waitingAfter("b", 1)), want: phase.Running},
		{name: "unknown: a spec container with no status is unknown, so Pending", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(running("a")), want: phase.Pending},
		{name: "unknown: a status with no state is unknown, so Pending", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(running("a"), noState("b")), want: phase.Pending},
		{name: "sidecars that are running count as running", spec: spec(never, inits(sidecar("s")), app("a")),
			init: statuses(startedRunning("s")), apps: statuses(exited("a", 0)), want: phase.Running},
		{name: "statuses for names not in the spec are ignored", spec: spec(never, nil, app("a")),
			apps: statuses(running("ghost"), exited("a", 0)), want: phase.Succeeded},
		{name: "statuses for names not in the spec are ignored (only unknown ones: Pending)", spec: spec(always, nil, app("a")),
			apps: statuses(running("ghost")), init: statuses(running("ghost-init")), want: phase.Pending},

		// Pending.
		{name: "pending: a regular init container is still to run", spec: spec(always, inits(app("i")), app("a")),
			want: phase.Pending},
		{name: "pending: a regular init container is running", spec: spec(always, inits(app("i")), app("a")),
			init: statuses(running("i")), want: phase.Pending},
		{name: "pending: a sidecar is not yet started while the pod has not initialized", spec: spec(always, inits(sidecar("s")), app("a")),
			init: statuses(running("s")), apps: statuses(waiting("a", phase.ReasonPodInitializing)), want: phase.Pending},
		{name: "pending: any container is waiting", spec: spec(always, nil, app("a")),
			apps: statuses(waiting("a", phase.ReasonImagePullBackOff)), want: phase.Pending},
		{name: "pending: anything unknown is the fall-through default", spec: spec(never, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0)), want: phase.Pending},
		{name: "pending: a nil spec", spec: nil, apps: statuses(running("a")), want: phase.Pending},

		// Running.
		{name: "running: something is running and nothing is unknown", spec: spec(never, nil, app("a"), app("b")),
			apps: statuses(running("a"), exited("b", 1)), want: phase.Running},
		{name: "running: all stopped but will restart, restartPolicy Always with exit 0", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0), exited("b", 0)), want: phase.Running},
		{name: "running: all stopped but will restart, restartPolicy Always with non-zero", spec: spec(always, nil, app("a")),
			apps: statuses(exited("a", 2)), want: phase.Running},
		{name: "running: the empty restartPolicy means Always", spec: spec("", nil, app("a")),
			apps: statuses(exited("a", 0)), want: phase.Running},
		{name: "running: all stopped, OnFailure with at least one non-zero", spec: spec(onFailure, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0), exited("b", 3)), want: phase.Running},
		{name: "running: a still-running sidecar keeps a pod Running after its app containers exited", spec: spec(onFailure, inits(sidecar("s")), app("a")),
			init: statuses(startedRunning("s")), apps: statuses(exited("a", 0)), want: phase.Running},

		// Succeeded.
		{name: "succeeded: all app containers exit 0, none will restart (OnFailure)", spec: spec(onFailure, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0), exited("b", 0)), want: phase.Succeeded},
		{name: "succeeded: all app containers exit 0, none will restart (Never)", spec: spec(never, nil, app("a")),
			apps: statuses(exited("a", 0)), want: phase.Succeeded},
		{name: "succeeded: the pod is terminal, exit codes decide even under Always", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0), exited("b", 0)), podIsTerminal: true, want: phase.Succeeded},

		// Failed.
		{name: "failed: nothing running, all stopped, one non-zero, none will restart", spec: spec(never, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0), exited("b", 1)), want: phase.Failed},
		{name: "failed: the pod is terminal, a non-zero exit fails it even under Always", spec: spec(always, nil, app("a"), app("b")),
			apps: statuses(exited("a", 0), exited("b", 137)), podIsTerminal: true, want: phase.Failed},
		{name: "failed: a regular init container failed and will not restart (pod Never)", spec: spec(never, inits(app("i")), app("a")),
			init: statuses(exited("i", 1)), want: phase.Failed},
		{name: "failed: a regular init container failed and its own container restartPolicy Never says so", spec: spec(always, inits(withPolicy(app("i"), never)), app("a")),
			init: statuses(exited("i", 1)), want: phase.Failed},
		{name: "failed: a regular init container failed and no rule matches its exit code", spec: spec(always, inits(withPolicy(app("i"), never, ruleOn(podlife.RuleRestart, 42))), app("a")),
			init: statuses(exited("i", 1)), want: phase.Failed},
		{name: "pending: a regular init container failed but its rule restarts that exit code", spec: spec(never, inits(withPolicy(app("i"), never, ruleOn(podlife.RuleRestart, 42))), app("a")),
			init: statuses(exited("i", 42)), want: phase.Pending},
		{name: "pending: a failed init container stopped with reason RestartingAllContainers counts as restartable", spec: spec(never, inits(app("i")), app("a")),
			init: statuses(exitedWith("i", 137, phase.ReasonRestartingAllContainers)), want: phase.Pending},
		{name: "running: an app container stopped with reason RestartingAllContainers counts as restartable", spec: spec(never, nil, app("a")),
			apps: statuses(exitedWith("a", 137, phase.ReasonRestartingAllContainers)), want: phase.Running},
		{name: "restart pending: the app container whose exit matched a RestartAllContainers rule counts as restarting (Running), even under Never",
			spec: spec(never, nil, withPolicy(app("a"), never, ruleOn(podlife.RuleRestartAllContainers, 42))),
			apps: statuses(exited("a", 42)), want: phase.Running},
		{name: "restart pending: a matched exit 0 is not Succeeded either", spec: spec(never, nil, withPolicy(app("a"), never, ruleOn(podlife.RuleRestartAllContainers, 0))),
			apps: statuses(exited("a", 0)), want: phase.Running},
		{name: "restart pending: a regular init container whose exit matched keeps the pod Pending, not Failed, under Never",
			spec: spec(never, inits(withPolicy(app("i"), never, ruleOn(podlife.RuleRestartAllContainers, 42))), app("a")),
			init: statuses(exited("i", 42)), want: phase.Pending},
		{name: "restart pending: an exited sidecar whose exit matched, app not yet created: Pending",
			spec: spec(never, inits(withPolicy(sidecar("s"), always, ruleOn(podlife.RuleRestartAllContainers, 42))), app("a")),
			init: statuses(exited("s", 42)), apps: statuses(waiting("a", phase.ReasonPodInitializing)), want: phase.Pending},
		{name: "restart pending: the other app containers killed for it (exit 137, Never) do not make it Failed",
			spec: spec(never, nil, withPolicy(app("a"), never, ruleOn(podlife.RuleRestartAllContainers, 42)), app("b")),
			apps: statuses(exited("a", 42), exited("b", 137)), want: phase.Running},
		{name: "no rule matches: the container policy decides as before (Never, exit 3: Failed)",
			spec: spec(never, nil, withPolicy(app("a"), never, ruleOn(podlife.RuleRestartAllContainers, 42))),
			apps: statuses(exited("a", 3)), want: phase.Failed},
		{name: "running: an app container waiting after a RestartingAllContainers stop counts as restartable", spec: spec(never, nil, app("a")),
			apps: statuses(func() phase.ContainerStatus {
				s := waiting("a", phase.ReasonRestartingAllContainers)
				s.LastTerminationState.Terminated = &phase.TerminatedState{ExitCode: 137, Reason: phase.ReasonRestartingAllContainers}
				return s
			}()), want: phase.Running},

		// Container-level restart policy on app containers (ContainerRestartRules).
		{name: "container policy overrides the pod's: Never container under pod Always fails", spec: spec(always, nil, withPolicy(app("a"), never)),
			apps: statuses(exited("a", 1)), want: phase.Failed},
		{name: "container policy overrides the pod's: Always container under pod Never keeps Running", spec: spec(never, nil, withPolicy(app("a"), always)),
			apps: statuses(exited("a", 0)), want: phase.Running},
		{name: "restart rule: first matching rule with action Restart restarts", spec: spec(never, nil, withPolicy(app("a"), never, ruleOn(podlife.RuleRestart, 42))),
			apps: statuses(exited("a", 42)), want: phase.Running},
		{name: "restart rule: no rule matches, the container policy decides", spec: spec(always, nil, withPolicy(app("a"), onFailure, ruleOn(podlife.RuleRestart, 42))),
			apps: statuses(exited("a", 0)), want: phase.Succeeded},

		// Upstream over SEMANTICS.md (see the report).
		{name: "upstream: a waiting container's last exit 0 is stopped but not succeeded, so Never fails", spec: spec(never, nil, app("a")),
			apps: statuses(waitingAfter("a", 0)), want: phase.Failed},
		{name: "upstream: a regular init container waiting after exit 0 is neither pending nor failed", spec: spec(never, inits(app("i")), app("a")),
			init: statuses(waitingAfter("i", 0)), apps: statuses(exited("a", 0)), want: phase.Succeeded},
	})
}

// TestComputeInitAndSidecarRules covers the phase side of SEMANTICS.md "Init containers and
// sidecars".
func TestComputeInitAndSidecarRules(t *testing.T) {
	runPhaseCases(t, []phaseCase{
		{name: "regular init containers run one at a time: the first exited 0, the second runs", spec: spec(always, inits(app("i1"), app("i2")), app("a")),
			init: statuses(exited("i1", 0), running("i2")), want: phase.Pending},
		{name: "each must exit 0 before the next: the second has not run yet", spec: spec(always, inits(app("i1"), app("i2")), app("a")),
			init: statuses(exited("i1", 0)), want: phase.Pending},
		{name: "app containers start when every regular init exited 0 and every sidecar started", spec: spec(always, inits(app("i"), sidecar("s")), app("a")),
			init: statuses(exited("i", 0), startedRunning("s")), apps: statuses(running("a")), want: phase.Running},
		{name: "a failed regular init container is retried per restart policy (Always)", spec: spec(always, inits(app("i")), app("a")),
			init: statuses(exited("i", 1)), want: phase.Pending},
		{name: "a failed regular init container is retried per restart policy (OnFailure, in back-off)", spec: spec(onFailure, inits(app("i")), app("a")),
			init: statuses(waitingAfter("i", 1)), want: phase.Pending},
		{name: "a failed regular init container is retried per its own container-level policy", spec: spec(never, inits(withPolicy(app("i"), onFailure)), app("a")),
			init: statuses(waitingAfter("i", 1)), want: phase.Pending},
		{name: "if it will not restart, the pod fails (waiting after a failure under Never)", spec: spec(never, inits(app("i")), app("a")),
			init: statuses(waitingAfter("i", 1)), want: phase.Failed},
		{name: "the next init container starts once the sidecar is started", spec: spec(always, inits(sidecar("s"), app("i")), app("a")),
			init: statuses(startedRunning("s"), running("i")), want: phase.Pending},
		{name: "sidecar running but not started, pod not initialized: Pending", spec: spec(always, inits(sidecar("s")), app("a")),
			init: statuses(running("s")), want: phase.Pending},
		{name: "sidecar waiting to start, pod not initialized: Pending", spec: spec(always, inits(sidecar("s")), app("a")),
			init: statuses(waiting("s", phase.ReasonPodInitializing)), want: phase.Pending},
		{name: "sidecars restart whatever the pod policy while the pod runs: a restarting sidecar keeps Running", spec: spec(never, inits(sidecar("s")), app("a")),
			init: statuses(running("s")), apps: statuses(running("a")), want: phase.Running},
		{name: "a sidecar terminated while the app container runs does not count", spec: spec(never, inits(sidecar("s")), app("a")),
			init: statuses(exited("s", 1)), apps: statuses(running("a")), want: phase.Running},
		{name: "a sidecar in crash back-off does not count", spec: spec(always, inits(sidecar("s")), app("a")),
			init: statuses(waitingAfter("s", 1)), apps: statuses(running("a")), want: phase.Running},
		{name: "once every app container finished and none will restart, stopped sidecars leave Succeeded", spec: spec(never, inits(sidecar("s")), app("a")),
			init: statuses(exited("s", 137)), apps: statuses(exited("a", 0)), want: phase.Succeeded},
		{name: "once every app container finished and none will restart, a failure is Failed", spec: spec(onFailure, inits(sidecar("s")), withPolicy(app("a"), never)),
			init: statuses(exited("s", 0)), apps: statuses(exited("a", 1)), want: phase.Failed},
		{name: "a sidecar with no status is unknown: Pending", spec: spec(always, inits(sidecar("s")), app("a")),
			apps: statuses(running("a")), want: phase.Pending},
		{name: "a sidecar with no state is unknown: Pending", spec: spec(always, inits(sidecar("s")), app("a")),
			init: statuses(noState("s")), apps: statuses(running("a")), want: phase.Pending},
	})
}

func TestComputeInitializedFlagDecidesForUnstartedSidecars(t *testing.T) {
	s := spec(always, inits(sidecar("s")), app("a"))
	init := statuses(running("s"))
	apps := statuses(waitingAfter("a", 0))
	assert.Equal(t, phase.Pending, phase.ComputeInitialized(s, init, apps, false, false),
		"a sidecar not yet started keeps the pod Pending while the pod has not initialized")
	assert.Equal(t, phase.Running, phase.ComputeInitialized(s, init, apps, false, true),
		"once an app container exists in the sandbox, the restarting sidecar no longer does")
	assert.Equal(t, phase.Running, phase.Compute(s, init, apps, false),
		"Compute derives podHasInitialized: an app container in crash back-off has run")
}

func TestHasAnyAppContainerStarted(t *testing.T) {
	s := spec(always, inits(sidecar("s")), app("a"))
	cases := []struct {
		name string
		apps []phase.ContainerStatus
		want bool
	}{
		{"no status: not started", nil, false},
		{"waiting PodInitializing: not created yet", statuses(waiting("a", phase.ReasonPodInitializing)), false},
		{"waiting with no reason: created but not started, it exists", statuses(waiting("a", "")), true},
		{"running", statuses(running("a")), true},
		{"terminated", statuses(exited("a", 0)), true},
		{"in crash back-off after an exit", statuses(waitingAfter("a", 1)), true},
		{"waiting for an in-place restart of all containers: removed, the pod initializes again", statuses(func() phase.ContainerStatus {
			w := waitingAfter("a", 137)
			w.State.Waiting.Reason = phase.ReasonRestartingAllContainers
			return w
		}()), false},
		{"a status with no state", statuses(noState("a")), false},
		{"only a status for a name not in the spec", statuses(running("ghost")), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, phase.HasAnyAppContainerStarted(s, tc.apps))
		})
	}
	assert.False(t, phase.HasAnyAppContainerStarted(nil, statuses(running("a"))), "nil spec")
}

func TestContainerShouldRestart(t *testing.T) {
	cases := []struct {
		name      string
		podPolicy podlife.RestartPolicy
		c         *podlife.Container
		code      int32
		want      bool
	}{
		{"nil container follows the pod policy (Never)", never, nil, 1, false},
		{"nil container follows the pod policy (empty is Always)", "", nil, 0, true},
		{"pod OnFailure, exit 0 stays", onFailure, &podlife.Container{}, 0, false},
		{"pod OnFailure, exit 1 restarts", onFailure, &podlife.Container{}, 1, true},
		{"container Always overrides pod Never", never, ptrTo(withPolicy(app("a"), always)), 0, true},
		{"container OnFailure overrides pod Always on exit 0", always, ptrTo(withPolicy(app("a"), onFailure)), 0, false},
		{"rule Restart In [42] matches 42", never, ptrTo(withPolicy(app("a"), never, ruleOn(podlife.RuleRestart, 42))), 42, true},
		{"rule NotIn [0] matches 3", never, ptrTo(withPolicy(app("a"), never, podlife.RestartRule{Action: podlife.RuleRestart,
			ExitCodes: &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeNotIn, Values: []int32{0}}})), 3, true},
		{"first matching rule wins: RestartAllContainers restarts (with the whole pod)", always,
			ptrTo(withPolicy(app("a"), never, ruleOn(podlife.RuleRestartAllContainers, 1), ruleOn(podlife.RuleRestart, 1))), 1, true},
		{"first matching rule wins: a rule with an unknown action falls back to the container policy", always,
			ptrTo(withPolicy(app("a"), never, ruleOn("Odd", 1), ruleOn(podlife.RuleRestart, 1))), 1, false},
		{"a rule without exit codes never matches", never, ptrTo(withPolicy(app("a"), never, podlife.RestartRule{Action: podlife.RuleRestart})), 1, false},
		{"rules without a container policy are ignored", never, &podlife.Container{RestartPolicyRules: []podlife.RestartRule{ruleOn(podlife.RuleRestart, 1)}}, 1, false},
		{"an unknown container policy falls back to the pod's", never, ptrTo(withPolicy(app("a"), "Sometimes")), 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, phase.ContainerShouldRestart(tc.podPolicy, tc.c, tc.code))
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
