package podlifetest_test

import (
	"testing"

	"pgregory.net/rapid"

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
