package phase_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

var policies = []podlife.RestartPolicy{"", podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever, "Bogus"}

// genContainer draws a container named name, with or without its own restart policy and rules.
func genContainer(t *rapid.T, name string, asSidecar bool) podlife.Container {
	c := podlife.Container{Name: name, Image: "img"}
	if asSidecar {
		c.RestartPolicy = policy(podlife.RestartAlways)
		return c
	}
	if rapid.Bool().Draw(t, name+"/own-policy") {
		c.RestartPolicy = policy(rapid.SampledFrom(policies).Draw(t, name+"/policy"))
		n := rapid.IntRange(0, 2).Draw(t, name+"/rules")
		for i := 0; i < n; i++ {
			r := podlife.RestartRule{Action: rapid.SampledFrom([]podlife.RestartRuleAction{podlife.RuleRestart, podlife.RuleRestartAllContainers, "Odd"}).Draw(t, name+"/action")}
			if rapid.Bool().Draw(t, name+"/has-codes") {
				r.ExitCodes = &podlife.ExitCodesRequirement{
					Operator: rapid.SampledFrom([]podlife.ExitCodeOperator{podlife.ExitCodeIn, podlife.ExitCodeNotIn, "Odd"}).Draw(t, name+"/op"),
					Values:   rapid.SliceOfN(rapid.Int32Range(0, 3), 0, 3).Draw(t, name+"/values"),
				}
			}
			c.RestartPolicyRules = append(c.RestartPolicyRules, r)
		}
	}
	return c
}

// genSpec draws a spec with unique container names and at least one app container.
func genSpec(t *rapid.T) *podlife.PodSpec {
	s := &podlife.PodSpec{RestartPolicy: rapid.SampledFrom(policies).Draw(t, "podPolicy")}
	for i, n := 0, rapid.IntRange(0, 3).Draw(t, "inits"); i < n; i++ {
		s.InitContainers = append(s.InitContainers, genContainer(t, fmt.Sprintf("init%d", i), rapid.Bool().Draw(t, fmt.Sprintf("init%d/sidecar", i))))
	}
	for i, n := 0, rapid.IntRange(1, 3).Draw(t, "apps"); i < n; i++ {
		s.Containers = append(s.Containers, genContainer(t, fmt.Sprintf("app%d", i), false))
	}
	return s
}

var reasons = []string{"", phase.ReasonCompleted, phase.ReasonError, phase.ReasonRestartingAllContainers, phase.ReasonCrashLoopBackOff, phase.ReasonPodInitializing}

func genTerminated(t *rapid.T, label string) *phase.TerminatedState {
	return &phase.TerminatedState{
		ExitCode:   rapid.SampledFrom([]int32{0, 0, 1, 137, -1}).Draw(t, label+"/exit"),
		Signal:     rapid.SampledFrom([]int32{0, 9}).Draw(t, label+"/signal"),
		Reason:     rapid.SampledFrom(reasons).Draw(t, label+"/reason"),
		FinishedAt: t0.Add(-time.Duration(rapid.IntRange(0, 100000).Draw(t, label+"/ago")) * time.Second),
	}
}

// genStatus draws any status for name; stoppedOnly restricts it to Terminated, or Waiting after
// a termination.
func genStatus(t *rapid.T, name string, stoppedOnly bool) phase.ContainerStatus {
	s := phase.ContainerStatus{Name: name, RestartCount: rapid.Int32Range(0, 5).Draw(t, name+"/restarts"), Ready: rapid.Bool().Draw(t, name+"/ready")}
	if rapid.Bool().Draw(t, name+"/has-started") {
		b := rapid.Bool().Draw(t, name+"/started")
		s.Started = &b
	}
	if rapid.Bool().Draw(t, name+"/has-last") {
		s.LastTerminationState.Terminated = genTerminated(t, name+"/last")
	}
	kind := "terminated"
	if !stoppedOnly {
		kind = rapid.SampledFrom([]string{"none", "waiting", "running", "terminated"}).Draw(t, name+"/state")
	} else if rapid.Bool().Draw(t, name+"/wait-after") {
		kind = "waiting"
		s.LastTerminationState.Terminated = genTerminated(t, name+"/last")
	}
	switch kind {
	case "waiting":
		s.State.Waiting = &phase.WaitingState{Reason: rapid.SampledFrom(reasons).Draw(t, name+"/wreason")}
	case "running":
		s.State.Running = &phase.RunningState{StartedAt: t0}
	case "terminated":
		s.State.Terminated = genTerminated(t, name+"/term")
	}
	return s
}

// genStatuses draws statuses for some (or, with all, every) container of spec, in a random
// order, plus statuses for names the spec does not have.
func genStatuses(t *rapid.T, s *podlife.PodSpec, all, stoppedOnly bool) (init, apps []phase.ContainerStatus) {
	pick := func(cs []podlife.Container, label string) []phase.ContainerStatus {
		var out []phase.ContainerStatus
		for _, c := range cs {
			if all || rapid.Bool().Draw(t, c.Name+"/present") {
				out = append(out, genStatus(t, c.Name, stoppedOnly))
			}
		}
		for i, n := 0, rapid.IntRange(0, 1).Draw(t, label+"/ghosts"); i < n; i++ {
			out = append(out, genStatus(t, fmt.Sprintf("ghost-%s%d", label, i), false))
		}
		return rapid.Permutation(out).Draw(t, label+"/order")
	}
	return pick(s.InitContainers, "init"), pick(s.Containers, "app")
}

func TestPropertyTerminalPodIsNeverRunningOrPending(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		init, apps := genStatuses(t, s, true, true)
		got := phase.Compute(s, init, apps, true)
		if !got.IsTerminal() {
			t.Fatalf("terminal pod with every container stopped got %s", got)
		}
	})
}

func TestPropertyComputeIsTotalDeterministicAndPure(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		init, apps := genStatuses(t, s, false, false)
		terminal := rapid.Bool().Draw(t, "terminal")
		initialized := rapid.Bool().Draw(t, "initialized")
		specBefore, initBefore, appsBefore := clone(s), clone(init), clone(apps)

		got := phase.ComputeInitialized(s, init, apps, terminal, initialized)
		switch got {
		case phase.Pending, phase.Running, phase.Succeeded, phase.Failed:
		default:
			t.Fatalf("phase %q is not computed from container statuses", got)
		}
		if again := phase.ComputeInitialized(s, init, apps, terminal, initialized); again != got {
			t.Fatalf("not deterministic: %s then %s", got, again)
		}
		if d := cmp.Diff(specBefore, s, cmpopts.EquateEmpty()) + cmp.Diff(initBefore, init, cmpopts.EquateEmpty()) + cmp.Diff(appsBefore, apps, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("inputs modified:\n%s", d)
		}
		// Statuses are found by name: their order does not matter.
		if shuffled := phase.ComputeInitialized(s, rapid.Permutation(init).Draw(t, "p1"), rapid.Permutation(apps).Draw(t, "p2"), terminal, initialized); shuffled != got {
			t.Fatalf("status order changed the phase: %s vs %s", got, shuffled)
		}
		// Statuses for names not in the spec are ignored.
		if without := phase.ComputeInitialized(s, dropGhosts(init), dropGhosts(apps), terminal, initialized); without != got {
			t.Fatalf("statuses for unknown names changed the phase: %s vs %s", got, without)
		}
	})
}

func TestPropertyConditionsAndColumnsAreTotal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		s.ReadinessGates = rapid.SliceOfN(rapid.SampledFrom([]string{"g1", "g2"}), 0, 2).Draw(t, "gates")
		init, apps := genStatuses(t, s, false, false)
		p := phase.Compute(s, init, apps, rapid.Bool().Draw(t, "terminal"))
		in := phase.ConditionInput{Spec: s, InitStatuses: init, Statuses: apps, Phase: p, SandboxReady: rapid.Bool().Draw(t, "sandbox"),
			RestartingAllContainers: rapid.Bool().Draw(t, "restartingAll")}
		first := phase.Conditions(in, nil, t0)
		second := phase.Conditions(in, first, t0.Add(time.Hour))
		if d := cmp.Diff(first, second); d != "" {
			t.Fatalf("same input, later sync: no status changed, so nothing may transition:\n%s", d)
		}
		if p == phase.Succeeded || p == phase.Failed {
			if phase.IsConditionTrue(first, phase.PodReady) || phase.IsConditionTrue(first, phase.ContainersReady) {
				t.Fatalf("a %s pod is Ready", p)
			}
		}
		var del *time.Time
		if rapid.Bool().Draw(t, "deleted") {
			del = &t0
		}
		c := phase.KubectlColumns(phase.ColumnsInput{Spec: s, Status: &phase.PodStatus{Phase: p, Conditions: first, InitContainerStatuses: init, ContainerStatuses: apps}, DeletionTimestamp: del, Now: t0})
		if c.Status == "" || !strings.Contains(c.Ready, "/") || c.Restarts == "" {
			t.Fatalf("empty columns: %+v", c)
		}
	})
}

func dropGhosts(in []phase.ContainerStatus) []phase.ContainerStatus {
	var out []phase.ContainerStatus
	for _, s := range in {
		if !strings.HasPrefix(s.Name, "ghost-") {
			out = append(out, s)
		}
	}
	return out
}

// clone deep-copies v through JSON: the copy shares no pointer with v.
func clone[T any](v T) T {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
