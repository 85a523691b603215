package podlife_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
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

// The core never pulls in the adapters' dependencies: the pure packages import only the
// standard library and this module, the lifecycle core adds zap, the Kubernetes conversions
// k8s.io's API types but no client, and only the node (lifecycle/kubenode and its command)
// imports virtual-kubelet and client-go.
func TestDependencyRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/podlife/podlife"
	rules := []struct {
		pkg       string
		allowed   []string // with allowed set: the only import path prefixes besides the standard library and the module
		forbidden []string // otherwise: prefixes it must not pull in
	}{
		{pkg: "."}, {pkg: "./phase"}, {pkg: "./restart"}, {pkg: "./probe"}, {pkg: "./hooks"}, {pkg: "./termination"},
		{pkg: "./lifecycle", allowed: []string{"go.uber.org/"}},
		{pkg: "./lifecycle/simruntime", allowed: []string{"go.uber.org/"}},
		{pkg: "./lifecycle/memstore", allowed: []string{"go.uber.org/"}},
		{pkg: "./lifecycle/localsetup", allowed: []string{"go.uber.org/"}},
		{pkg: "./lifecycle/kube", forbidden: []string{"k8s.io/client-go/", "github.com/virtual-kubelet/", "google.golang.org/grpc", "go.etcd.io/"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", r.pkg).Output()
		require.NoError(t, err, "go list %s", r.pkg)
		for _, dep := range strings.Fields(string(out)) {
			if dep == mod || strings.HasPrefix(dep, mod+"/") {
				continue
			}
			has := func(prefixes []string) bool {
				return slices.ContainsFunc(prefixes, func(prefix string) bool { return strings.HasPrefix(dep, prefix) })
			}
			if r.forbidden != nil {
				assert.False(t, has(r.forbidden), "%s imports %s", r.pkg, dep)
			} else {
				assert.True(t, has(r.allowed), "%s imports %s", r.pkg, dep)
			}
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if pkg == mod+"/lifecycle/kubenode" || pkg == mod+"/cmd/podlife-node" {
			continue
		}
		assert.NotContains(t, imports, "github.com/virtual-kubelet/", "%s imports virtual-kubelet", pkg)
	}
}
