package lifecycle

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

// genBigScenario is genScenario with app containers added until the pod has more than scanMax,
// each with runs of its own: the pod whose containers byName and byID find through an index.
func genBigScenario(t *rapid.T) scenario {
	s := genScenario(t)
	for i := 0; len(s.spec.InitContainers)+len(s.spec.Containers) <= scanMax+2; i++ {
		name := fmt.Sprintf("pad%d", i)
		s.spec.Containers = append(s.spec.Containers, podlife.Container{Name: name, Image: "busybox:1"})
		for j, n := 0, rapid.IntRange(1, 3).Draw(t, name+"/runs"); j < n; j++ {
			s.runs[name] = append(s.runs[name], run{
				For:  time.Duration(rapid.IntRange(0, 90).Draw(t, name+"/for")) * time.Second,
				Exit: rapid.SampledFrom([]int32{0, 1}).Draw(t, name+"/exit"),
			})
		}
	}
	return s
}

// TestLargePodIndexes: in pods of more containers than scanMax, through restarts, crash loops,
// kills and deletion, the indexes of byName and byID give what a scan of the containers gives,
// before every event, and the ID index stays within twice the containers. Twelve scenarios of
// fixed seeds: a pod of 35 containers takes a while, and the property run at 1,000 cases
// would take minutes.
func TestLargePodIndexes(t *testing.T) {
	for seed := range 12 {
		s := rapid.Custom(genBigScenario).Example(seed)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			d := newDriver(t, s.spec)
			for k, v := range s.runs {
				d.runs[k] = v
			}
			d.hookFor = s.hookFor
			m := d.m
			d.onEvent = func(Event) {
				for ci := range m.ctrs {
					c := &m.ctrs[ci]
					if got := m.byName(c.spec.Name); got != c {
						t.Fatalf("%s: byName(%s) is not the container", d.at(), c.spec.Name)
					}
					if c.id != "" && m.byID(c.id) != c {
						t.Fatalf("%s: byID(%s) is not %s", d.at(), c.id, c.spec.Name)
					}
					if c.id == "" || m.more == nil {
						continue
					}
					if ci, ok := m.more.ids[c.id]; ok && &m.ctrs[ci] != c {
						t.Fatalf("%s: the ID index has %s at %d, not at %s's place", d.at(), c.id, ci, c.spec.Name)
					}
				}
				for _, r := range m.retired {
					if c := m.byID(r.id); c != nil && c.id != r.id {
						t.Fatalf("%s: byID(%s) gives %s, whose instance is %s", d.at(), r.id, c.spec.Name, c.id)
					}
				}
				if m.byName("nope") != nil || m.byID("nope") != nil {
					t.Fatalf("%s: a name or ID the pod has not is found", d.at())
				}
				if m.more != nil && len(m.more.ids) > 2*len(m.ctrs) {
					t.Fatalf("%s: the ID index holds %d entries for %d containers", d.at(), len(m.more.ids), len(m.ctrs))
				}
			}
			var extra []Event
			if s.deleteAt > 0 {
				extra = append(extra, Event{Type: DeleteRequested, At: sec(s.deleteAt)})
			}
			d.runUntil(sec(900), extra...)
			for _, l := range d.log {
				if strings.Contains(l, " error ") && !strings.Contains(l, "stale") {
					t.Fatalf("machine refused an event: %s", l)
				}
			}
			if m.more == nil || m.more.names == nil || m.more.ids == nil {
				t.Fatalf("a pod of %d containers ran without its indexes", len(m.ctrs))
			}
			t.Logf("%d containers, %d log lines, %d instances", len(m.ctrs), len(d.log), d.n)
		})
	}
}
