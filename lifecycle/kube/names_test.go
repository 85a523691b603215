package kube

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

// podlife ports apimachinery's name checks (lifecycle's Bind refuses the names the API server
// refuses without importing k8s.io): on any string, and on strings made of the characters that
// matter, both give the same verdict and the same length message.
func TestNameChecksMatchApimachinery(t *testing.T) {
	alphabet := []rune("ab09-._A/ \x00é\uFFFD")
	gen := rapid.OneOf(
		rapid.String(),
		rapid.StringOfN(rapid.SampledFrom(alphabet), 0, 300, -1),
		rapid.StringOfN(rapid.SampledFrom([]rune("az09-.")), 1, 300, -1),
		rapid.StringOfN(rapid.SampledFrom([]rune("az09")), 60, 66, -1),   // around a label's limit
		rapid.StringOfN(rapid.SampledFrom([]rune("az09")), 250, 256, -1), // around a subdomain's
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 0, 70), func(b []byte) string { return string(b) }),
	)
	rapid.Check(t, func(t *rapid.T) {
		s := gen.Draw(t, "s")
		for _, c := range []struct {
			name        string
			ours, their []string
		}{
			{"label", podlife.IsDNS1123Label(s), validation.IsDNS1123Label(s)},
			{"subdomain", podlife.IsDNS1123Subdomain(s), validation.IsDNS1123Subdomain(s)},
		} {
			if (len(c.ours) == 0) != (len(c.their) == 0) {
				t.Fatalf("%s %q: podlife %q, apimachinery %q", c.name, s, c.ours, c.their)
			}
			if tooLong(c.ours) != tooLong(c.their) {
				t.Fatalf("%s %q: length messages differ: podlife %q, apimachinery %q", c.name, s, c.ours, c.their)
			}
		}
	})
}

func tooLong(msgs []string) bool {
	return slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, "must be no more than ") })
}
