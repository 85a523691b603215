package podlife_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

func TestExitCodesRequirementMatches(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vals := rapid.SliceOfN(rapid.Int32Range(0, 255), 0, 10).Draw(t, "values")
		code := rapid.Int32Range(0, 255).Draw(t, "code")
		in := &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn, Values: vals}
		notIn := &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeNotIn, Values: vals}
		if in.Matches(code) == notIn.Matches(code) {
			t.Fatalf("In and NotIn agree on %d for %v", code, vals)
		}
	})
	require.False(t, (&podlife.ExitCodesRequirement{Operator: "Bogus", Values: []int32{1}}).Matches(1))
	require.Empty(t, cmp.Diff("1", podlife.PortNumber(1).String()))
}
