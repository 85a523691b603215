package scenario_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoTestPackage: a command (podsim) links package scenario, so it imports no test
// package (testing registers its flags in a main package that imports it; so does rapid) and,
// like the kit, no client of a real system.
func TestLinksNoTestPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/podlife/podlife/scenario").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, dep := range deps {
		banned := dep == "testing" || strings.HasPrefix(dep, "testing/")
		for _, b := range []string{"pgregory.net/rapid", "github.com/stretchr/testify", "containerd", "google.golang.org/grpc",
			"go.etcd.io", "k8s.io/", "github.com/podlife/podlife/podlifetest", "github.com/podlife/podlife/lifecycle/kube"} {
			banned = banned || strings.Contains(dep, b)
		}
		if banned {
			t.Errorf("package scenario imports %s", dep)
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list gave %d packages: %v", len(deps), deps)
	}
}
