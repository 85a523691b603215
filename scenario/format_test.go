package scenario_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/podlifetest"
	"github.com/podlife/podlife/scenario"
)

// TestFormatRoundTrips: a scenario written as a file reads back as the same scenario, so that a
// counterexample printed by rapid (Scenario.GoString) can be saved and played again.
func TestFormatRoundTrips(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{Agent: rapid.Bool().Draw(rt, "agent")}).Draw(rt, "scenario")
		back, err := scenario.ParseScenario([]byte(sc.Format()))
		if err != nil {
			rt.Fatalf("%v\n%s", err, sc.Format())
		}
		if d := cmp.Diff(sc, *back, cmpopts.EquateEmpty()); d != "" {
			rt.Fatalf("the scenario read back differs (-written +read):\n%s\n%s", d, sc.Format())
		}
	})
}

// TestParseErrorsNameTheLine: a bad scenario file is refused with the line of the problem.
func TestParseErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"no version", "spec:\n  containers: [{name: app, image: x}]\n", `no "podlife-scenario" line`},
		{"another version", "podlife-scenario: v9\nspec: {containers: [{name: app, image: x}]}\n", `format "v9"`},
		{"unknown directive", "podlife-scenario: v1\nspec: {containers: [{name: app, image: x}]}\nscript: |\n  run app forever\n  jump at 3s\n", `line 5 "jump at 3s": unknown directive`},
		{"unknown container", "podlife-scenario: v1\nspec: {containers: [{name: app, image: x}]}\nscript: |\n  run web forever\n", `line 4 "run web forever": no container "web"`},
		{"bad duration", "podlife-scenario: v1\nspec: {containers: [{name: app, image: x}]}\nscript: |\n  delete at soon\n", `"soon" is not a duration`},
		{"a deadline of no number", "podlife-scenario: v1\nspec: {containers: [{name: app, image: x}]}\nscript: |\n  deadline soon at 3s\n", `line 4 "deadline soon at 3s"`},
		{"a deadline of 0", "podlife-scenario: v1\nspec: {containers: [{name: app, image: x}]}\nscript: |\n  deadline 0 at 3s\n", "activeDeadlineSeconds 0 is not from 1"},
		{"unknown field", "podlife-scenario: v1\nspecs: {}\n", "line 2"},
		{"invalid spec", "podlife-scenario: v1\nspec: {containers: [{name: app}]}\n", "spec.containers[0].image: Required value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenario.ParseScenario([]byte(c.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
