package lifecycle_test

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/podlifetest"
)

// bigScenarios are podlifetest's scenarios with app containers added until the pod has more than
// lifecycle.ScanMax, each with runs of its own: the pod whose containers byName and byID find
// through an index.
func bigScenarios() *rapid.Generator[podlifetest.Scenario] {
	return rapid.Custom(func(t *rapid.T) podlifetest.Scenario {
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{}).Draw(t, "scenario")
		// The pod runs: no operations, its setup and sandbox go through, its images are there.
		sc.Ops, sc.Images, sc.Until = nil, podlifetest.Images(), 15*time.Minute
		sc.Script.SetupFails, sc.Script.SandboxFails, sc.Script.SandboxNoIP, sc.Script.SandboxLostAt = 0, 0, 0, 0
		sc.Spec.ReadinessGates = nil
		if sc.Script.Containers == nil {
			sc.Script.Containers = map[string]simruntime.Script{}
		}
		for i := 0; len(sc.Spec.InitContainers)+len(sc.Spec.Containers) <= lifecycle.ScanMax+2; i++ {
			name := fmt.Sprintf("pad%d", i)
			sc.Spec.Containers = append(sc.Spec.Containers, podlife.Container{Name: name, Image: "busybox:1"})
			var s simruntime.Script
			for j, n := 0, rapid.IntRange(1, 3).Draw(t, name+"/runs"); j < n; j++ {
				s.Runs = append(s.Runs, simruntime.Run{
					For:      time.Duration(rapid.IntRange(0, 90).Draw(t, name+"/for")) * time.Second,
					ExitCode: rapid.SampledFrom([]int32{0, 1}).Draw(t, name+"/exit"),
				})
			}
			sc.Script.Containers[name] = s
		}
		return sc
	})
}

// TestLargePodIndexes: in pods of more containers than ScanMax, through restarts, crash loops,
// kills and deletion, the indexes of byName and byID give what a scan of the containers gives,
// at every Ready, and the ID index stays within twice the containers. Twelve scenarios of fixed
// seeds: a pod of 35 containers takes a while, and the property run at 1,000 cases would take
// minutes.
func TestLargePodIndexes(t *testing.T) {
	for seed := range 12 {
		sc := bigScenarios().Example(seed)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			var machines []*lifecycle.Machine
			tl, err := podlifetest.RunSim(sc, podlifetest.SimOptions{OnReady: func(m *lifecycle.Machine, now time.Time, _ lifecycle.Ready) {
				if err := lifecycle.CheckIndexes(m); err != nil {
					t.Fatalf("%s: %v", now.Sub(podlifetest.Epoch()), err)
				}
				if len(machines) == 0 || machines[len(machines)-1] != m {
					machines = append(machines, m)
				}
			}})
			if err != nil {
				t.Fatalf("%v", err)
			}
			indexed := false
			for _, m := range machines {
				indexed = indexed || lifecycle.Indexed(m)
			}
			if !indexed {
				t.Fatalf("a pod of %d containers ran without its indexes", len(sc.Spec.Containers)+len(sc.Spec.InitContainers))
			}
			t.Logf("%d containers, %d steps", len(sc.Spec.Containers)+len(sc.Spec.InitContainers), len(tl.Steps))
		})
	}
}
