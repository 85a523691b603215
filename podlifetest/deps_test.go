package podlifetest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoClientOfARealSystem: a user's test that imports the kit builds no containerd,
// gRPC, etcd or Kubernetes client: the kit runs podlife on its embedded defaults alone.
func TestImportsNoClientOfARealSystem(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/podlife/podlife/podlifetest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, dep := range deps {
		for _, banned := range []string{"containerd", "google.golang.org/grpc", "go.etcd.io", "k8s.io/",
			"github.com/podlife/podlife/lifecycle/kube", "github.com/podlife/podlife/lifecycle/etcdstore"} {
			if strings.Contains(dep, banned) {
				t.Errorf("podlifetest imports %s", dep)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list gave %d packages: %v", len(deps), deps)
	}
}
