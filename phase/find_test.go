package phase

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

// genNamed draws a status list whose names come from a pool of size pool, so that names repeat
// within and across lists.
func genNamed(t *rapid.T, label string, pool int) []ContainerStatus {
	n := rapid.IntRange(0, 3*linearMax).Draw(t, label+"/n")
	out := make([]ContainerStatus, n)
	for i := range out {
		out[i].Name = fmt.Sprintf("c%d", rapid.IntRange(0, pool-1).Draw(t, label+"/name"))
	}
	return out
}

// TestIndexAgreesWithScan: whatever the lists (names repeated, in one list or both), the name
// index gives the very status a scan in the same order gives.
func TestIndexAgreesWithScan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pool := rapid.IntRange(1, 4*linearMax).Draw(t, "pool")
		init, apps := genNamed(t, "init", pool), genNamed(t, "apps", pool)
		ix := indexNames(init, apps) // short lists too, which indexFor leaves to a scan
		for k := range pool + 1 {
			name := fmt.Sprintf("c%d", k)
			for o, want := range map[order]*ContainerStatus{
				appsThenInit: lookup(name, apps, init),
				initThenApps: lookup(name, init, apps),
				appsOnly:     lookup(name, apps, nil),
			} {
				if got := ix.find(name, 0, false, o, init, apps); got != want {
					t.Fatalf("%s in order %d: got %p, a scan %p", name, o, got, want)
				}
			}
		}
	})
}

// TestIndexInSpecOrder: for a spec with unique names and its statuses in spec order (some left
// out or misplaced, which the position check catches), the position lookup gives what a scan
// gives.
func TestIndexInSpecOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := &podlife.PodSpec{}
		nInit, nApps := rapid.IntRange(0, 2*linearMax).Draw(t, "inits"), rapid.IntRange(1, 2*linearMax).Draw(t, "apps")
		for i := range nInit {
			spec.InitContainers = append(spec.InitContainers, podlife.Container{Name: fmt.Sprintf("init%d", i)})
		}
		for i := range nApps {
			spec.Containers = append(spec.Containers, podlife.Container{Name: fmt.Sprintf("app%d", i)})
		}
		list := func(cs []podlife.Container, label string) []ContainerStatus {
			out := make([]ContainerStatus, 0, len(cs))
			for i := range cs {
				out = append(out, ContainerStatus{Name: cs[i].Name})
			}
			// A truncated list, or one entry renamed to another container's: in spec order up to
			// a point.
			if len(out) > 0 && rapid.Bool().Draw(t, label+"/truncate") {
				out = out[:rapid.IntRange(0, len(out)-1).Draw(t, label+"/len")]
			}
			if len(out) > 1 && rapid.Bool().Draw(t, label+"/swap") {
				i, j := rapid.IntRange(0, len(out)-1).Draw(t, label+"/i"), rapid.IntRange(0, len(out)-1).Draw(t, label+"/j")
				out[i], out[j] = out[j], out[i]
			}
			return out
		}
		init, apps := list(spec.InitContainers, "init"), list(spec.Containers, "apps")
		ix := &index{inSpecOrder: true}
		for i := range spec.InitContainers {
			name := spec.InitContainers[i].Name
			if got, want := ix.find(name, i, true, appsThenInit, init, apps), lookup(name, apps, init); got != want {
				t.Fatalf("%s: got %p, a scan %p", name, got, want)
			}
			if got, want := ix.find(name, i, true, initThenApps, init, apps), lookup(name, init, apps); got != want {
				t.Fatalf("%s: got %p, a scan %p", name, got, want)
			}
		}
		for i := range spec.Containers {
			name := spec.Containers[i].Name
			for o, want := range map[order]*ContainerStatus{
				appsThenInit: lookup(name, apps, init),
				initThenApps: lookup(name, init, apps),
				appsOnly:     lookup(name, apps, nil),
			} {
				if got := ix.find(name, i, false, o, init, apps); got != want {
					t.Fatalf("%s in order %d: got %p, a scan %p", name, o, got, want)
				}
			}
		}
	})
}
