package podlifetest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/podlifetest"
)

// TestFormatRoundTrips: a scenario written as a file reads back as the same scenario, so that a
// counterexample printed by rapid (Scenario.GoString) can be saved and played again.
func TestFormatRoundTrips(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{Agent: rapid.Bool().Draw(rt, "agent")}).Draw(rt, "scenario")
		back, err := podlifetest.ParseScenario([]byte(sc.Format()))
		if err != nil {
			rt.Fatalf("%v\n%s", err, sc.Format())
		}
		if d := cmp.Diff(sc, *back, cmpopts.EquateEmpty()); d != "" {
			rt.Fatalf("the scenario read back differs (-written +read):\n%s\n%s", d, sc.Format())
		}
	})
}
