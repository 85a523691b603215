package podlifetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// Differences between two timelines of one scenario that Compare does not count, each for a
// reason of how an Agent runs; DESIGN's "one behaviour on every path" holds up to these.
//
//  1. The order within one instant. An Agent runs every action in a goroutine of its own, so
//     the answers to actions asked for at one instant (the pulls of two containers, a probe and
//     a container's exit) reach the machine in any order, where a Sim answers them in the order
//     they were asked. So the statuses of an instant collapse to the last one (and an instant
//     that ends as the one before it changes nothing), a condition that flipped and flipped back
//     within an instant keeps the transition time it had before it, and the records of an
//     instant compare as a set.
//  2. A probe that errs because its container is not running (simruntime.NotRunning). An Agent's
//     probe timer and the runtime's report of the container's exit may come at one instant in
//     either order: the probe may run against a container that just exited, err (kubelet throws
//     such a result away, counting nothing) and be recorded ("probe errored"). A Sim never runs
//     it. Neither counts it; the record is left out.

// Compare reports how got differs from want, two timelines of one scenario (RunSim's and
// RunAgent's, say), with the differences above left out: "" when they are the same: the same
// statuses at the same times, the same records at the same times.
func Compare(want, got *Timeline) string {
	a, b := instants(want), instants(got)
	for i := 0; i < max(len(a), len(b)); i++ {
		switch {
		case i >= len(a):
			return fmt.Sprintf("at %s: only the second timeline has %s", b[i].At, b[i])
		case i >= len(b):
			return fmt.Sprintf("at %s: only the first timeline has %s", a[i].At, a[i])
		case a[i].At != b[i].At:
			first, other := a[i], b[i]
			if other.At < first.At {
				first, other = other, first
			}
			return fmt.Sprintf("at %s: one timeline has %s; the other has nothing until %s", first.At, first, other.At)
		case !slices.Equal(a[i].Records, b[i].Records):
			return fmt.Sprintf("at %s: the records differ (-first +second):\n%s", a[i].At, cmp.Diff(a[i].Records, b[i].Records))
		case !reflect.DeepEqual(a[i].Status, b[i].Status):
			return fmt.Sprintf("at %s: the statuses differ (-first +second):\n%s", a[i].At, cmp.Diff(a[i].Status, b[i].Status))
		}
	}
	return ""
}

// instant is what a timeline shows at one time: its last status, if it changed, and its records.
type instant struct {
	At      time.Duration
	Status  *phase.PodStatus
	Records []string
}

func (in instant) String() string {
	var parts []string
	if in.Status != nil {
		parts = append(parts, "status "+string(in.Status.Phase))
	}
	if len(in.Records) > 0 {
		parts = append(parts, "records "+strings.Join(in.Records, "; "))
	}
	return strings.Join(parts, ", ")
}

func instants(tl *Timeline) []instant {
	var out []instant
	var last *phase.PodStatus
	since := map[phase.ConditionType]phase.Condition{} // each condition as it last changed
	for i := 0; i < len(tl.Steps); {
		at := tl.Steps[i].At
		cur := instant{At: at}
		var st *phase.PodStatus
		for ; i < len(tl.Steps) && tl.Steps[i].At == at; i++ {
			s := &tl.Steps[i]
			if s.Status != nil {
				st = s.Status
			}
			for _, r := range s.Records {
				if r.Reason == "Unhealthy" && strings.HasSuffix(r.Message, ": "+simruntime.NotRunning) {
					continue // difference 2
				}
				cur.Records = append(cur.Records, r.String())
			}
		}
		if st != nil {
			c := *st
			c.Conditions = slices.Clone(st.Conditions)
			for i, cond := range c.Conditions {
				if prev, ok := since[cond.Type]; ok && prev.Status == cond.Status {
					c.Conditions[i].LastTransitionTime = prev.LastTransitionTime
				} else {
					since[cond.Type] = cond
				}
			}
			st = &c
		}
		if st != nil && (last == nil || !reflect.DeepEqual(*st, *last)) {
			cur.Status, last = st, st
		}
		slices.Sort(cur.Records)
		if cur.Status != nil || len(cur.Records) > 0 {
			out = append(out, cur)
		}
	}
	return out
}
