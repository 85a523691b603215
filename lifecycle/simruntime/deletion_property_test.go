package simruntime_test

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife/podlifetest"
)

// TestSimDeletionProperty draws scenarios (podlifetest.Scenarios, without agent restarts, lost
// nodes and store outages) and deletes each pod once or twice, and checks on the Sim, besides
// podlifetest's invariants, that a deleted pod is stopped and terminal within its grace + 3 s
// (the 2 s stop floor, 1 s more for sidecars), a second, shorter grace counting from the second
// request.
func TestSimDeletionProperty(t *testing.T) {
	var total, checked int
	defer func() { t.Logf("cases %d, deleted while running %d", total, checked) }()
	rapid.Check(t, func(rt *rapid.T) {
		total++
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{MaxOps: 3}).Draw(rt, "scenario")
		sc.Ops = slices.DeleteFunc(sc.Ops, func(op podlifetest.Op) bool {
			switch op.Kind {
			case podlifetest.OpStopAgent, podlifetest.OpStartAgent, podlifetest.OpLoseNode, podlifetest.OpNodeBack, podlifetest.OpStoreDown, podlifetest.OpStoreUp, podlifetest.OpDelete:
				return true
			}
			return false
		})
		deleteAt := time.Duration(rapid.IntRange(0, 200).Draw(rt, "deleteAt"))*time.Second + 7*time.Second/64
		first := podlifetest.Delete(deleteAt)
		if rapid.Bool().Draw(rt, "firstGrace") {
			first = podlifetest.DeleteGrace(deleteAt, rapid.Int64Range(1, 40).Draw(rt, "grace"))
		}
		sc.Ops = append(sc.Ops, first)
		g := sc.Spec.EffectiveGracePeriodSeconds()
		if first.Grace != nil {
			g = *first.Grace
		}
		end := deleteAt + time.Duration(max(g, 1))*time.Second
		if rapid.Bool().Draw(rt, "second") {
			at := deleteAt + time.Duration(rapid.IntRange(0, 20).Draw(rt, "secondAfter"))*time.Second + 9*time.Second/64
			sg := rapid.Int64Range(0, 40).Draw(rt, "secondGrace")
			sc.Ops = append(sc.Ops, podlifetest.DeleteGrace(at, sg))
			if sg < g {
				end = min(end, at+time.Duration(max(sg, 1))*time.Second)
			}
		}
		sc.Until = max(sc.Until, end+10*time.Second)
		tl, err := podlifetest.RunSim(sc, podlifetest.SimOptions{})
		if err != nil {
			rt.Fatalf("%v\n%s", err, tl.Trace())
		}
		podlifetest.CheckT(rt, tl)
		var stopped time.Duration = -1 // the first terminal status
		for _, s := range tl.Steps {
			if s.Status != nil && s.Status.Phase.IsTerminal() && stopped < 0 {
				stopped = s.At
			}
		}
		if stopped >= 0 && stopped < deleteAt {
			return // it ended before it was deleted
		}
		checked++
		if bound := end + 3*time.Second; stopped < 0 || stopped > bound {
			rt.Fatalf("deleted at %s with grace %d s, not stopped by %s (stopped at %s):\n%s", deleteAt, g, bound, stopped, tl.Trace())
		}
	})
}
