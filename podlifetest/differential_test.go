package podlifetest_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/podlifetest"
)

// TestSimAndAgentAgree is DESIGN's "one behaviour on every path" as a property: a generated
// scenario (a pod with init containers, sidecars, probes, hooks, policies and rules; a script of
// exits, probe outcomes, pull failures, containers that ignore SIGTERM, unknown states; deletes,
// a second shorter or longer one, a forced one, an image update, sandbox losses, the agent
// stopped and a new one started, a store outage) gives the same timeline on the Sim and on the
// Agent: the same statuses at the same times and the same records at the same times, up to the
// differences podlifetest.Compare names (the order within an instant; probes that erred on a
// container that had just exited). Both timelines also keep every invariant.
func TestSimAndAgentAgree(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{Agent: true}).Draw(rt, "scenario")
		sim, err := podlifetest.RunSim(sc, podlifetest.SimOptions{})
		if err != nil {
			rt.Fatalf("RunSim: %v", err)
		}
		podlifetest.CheckT(rt, sim)
		agent := podlifetest.RunAgent(t, sc)
		podlifetest.CheckT(rt, agent)
		if d := podlifetest.Compare(sim, agent); d != "" {
			rt.Fatalf("the Sim (first) and the Agent (second) differ %s\nSim:\n%s\nAgent:\n%s", d, sim.Trace(), agent.Trace())
		}
	})
}

// TestNodeLostOnTheAgent: a node lost and back is the same on the Agent, with a Supervisor on
// the rig's store, as on the Sim: the supervisor's Unknown while the agent is away, then the
// true status of the pod a new agent recovered, with the exit it missed.
func TestNodeLostOnTheAgent(t *testing.T) {
	sc := podlifetest.Scenario{
		Spec: podlife.PodSpec{Containers: []podlife.Container{{Name: "web", Image: "busybox:1",
			ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"cat", "/ready"}}}, PeriodSeconds: 10}}}},
		Script: simruntime.PodScript{Containers: map[string]simruntime.Script{
			"web": {Runs: []simruntime.Run{{For: 75 * time.Second, ExitCode: 1}, {}}},
		}},
		Ops:   []podlifetest.Op{podlifetest.LoseNode(60 * time.Second), podlifetest.NodeBack(90 * time.Second)},
		Until: 2 * time.Minute,
	}
	sim, err := podlifetest.RunSim(sc, podlifetest.SimOptions{})
	require.NoError(t, err)
	agent := podlifetest.RunAgent(t, sc)
	podlifetest.CheckT(t, sim)
	podlifetest.CheckT(t, agent)
	for name, tl := range map[string]*podlifetest.Timeline{"Sim": sim, "Agent": agent} {
		var lost *podlifetest.StatusAt
		for _, s := range tl.Settled() {
			if s.Status.Phase == phase.Unknown {
				lost = &s
				break
			}
		}
		if assert.NotNil(t, lost, "%s: no Unknown", name) {
			assert.Equal(t, 60*time.Second, lost.At, name)
			assert.Equal(t, phase.ReasonNodeLost, lost.Status.Reason, name)
		}
		last := tl.Last()
		assert.Equal(t, phase.Running, last.Phase, name)
		assert.Equal(t, int32(1), last.ContainerStatuses[0].RestartCount, "%s: the exit the agent missed counts", name)
	}
	assert.Empty(t, podlifetest.Compare(sim, agent), "Sim:\n%s\nAgent:\n%s", sim.Trace(), agent.Trace())
}

// TestHeldRuntimeOnTheAgent: a pod that ends while the store is away leaves the runtime as it
// is (its last status comes first), and the runtime goes on without the agent: the Sim's play of
// an agent restart then restores the pod from what the Agent's runtime has by then. Each case
// was a counterexample of TestSimAndAgentAgree.
func TestHeldRuntimeOnTheAgent(t *testing.T) {
	s := time.Second
	deadline := int64(3)
	spec := podlife.PodSpec{ActiveDeadlineSeconds: &deadline, Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	restart := []podlifetest.Op{podlifetest.StoreDown(s), podlifetest.StopAgent(5 * s), podlifetest.StoreUp(6 * s), podlifetest.StartAgent(9 * s)}
	for _, tc := range []struct {
		name    string
		script  simruntime.PodScript
		ops     []podlifetest.Op
		want    string // in the trace of both
		changed bool   // the restore finds the sandbox dead
	}{
		{"a sandbox still being made when the pod ended is made meanwhile",
			simruntime.PodScript{SetupDelay: 2 * s, SandboxDelay: 2 * s}, restart, "9s StopSandbox sandbox=sb-0\n", false},
		{"the script's sandbox loss comes meanwhile",
			simruntime.PodScript{SandboxLostAt: 8 * s}, restart, "9s event Normal SandboxChanged", true},
		{"a sandbox lost meanwhile", simruntime.PodScript{},
			append(slices.Clone(restart), podlifetest.LoseSandbox(7*s)), "9s event Normal SandboxChanged", true},
		{"the last status written as the agent stops: the runtime still holds the sandbox", simruntime.PodScript{},
			[]podlifetest.Op{podlifetest.StoreDown(s), podlifetest.StoreUp(10500 * time.Millisecond), podlifetest.StopAgent(10750 * time.Millisecond), podlifetest.StartAgent(12 * s)},
			"12s StopSandbox sandbox=sb-0 reason=PodTerminated\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := podlifetest.Scenario{Spec: spec, Script: tc.script, Ops: tc.ops, Until: 20 * s}
			sim, err := podlifetest.RunSim(sc, podlifetest.SimOptions{})
			require.NoError(t, err)
			agent := podlifetest.RunAgent(t, sc)
			podlifetest.CheckT(t, sim)
			podlifetest.CheckT(t, agent)
			assert.Empty(t, podlifetest.Compare(sim, agent), "Sim:\n%s\nAgent:\n%s", sim.Trace(), agent.Trace())
			for name, tl := range map[string]*podlifetest.Timeline{"Sim": sim, "Agent": agent} {
				tr := tl.Trace()
				assert.Contains(t, tr, tc.want, "%s:\n%s", name, tr)
				assert.Equal(t, tc.changed, strings.Contains(tr[strings.Index(tr, "recover"):], "SandboxChanged"), "%s:\n%s", name, tr)
				assert.Equal(t, phase.Failed, tl.Last().Phase, name)
			}
		})
	}
}
