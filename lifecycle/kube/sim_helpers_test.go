package kube

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// timeline is a simulated pod's life, one line per action, record, accepted event and status:
// "  12.0s do StartContainer container=api ...", "  12.0s status Running Running 1/1 3 (0s ago)".
type timeline struct {
	lines []string
}

// simRun is one manifest run through simruntime.Sim.
type simRun struct {
	m   *lifecycle.Machine
	s   *simruntime.Sim
	tl  timeline
	ref lifecycle.PodRef
}

// runManifest loads an example manifest (it must validate), scripts its pod with ps, and runs
// the simulation until `until` after t0; deleteAt, when not 0, asks for the pod's deletion then.
func runManifest(t *testing.T, name string, ps simruntime.PodScript, until, deleteAt time.Duration) *simRun {
	t.Helper()
	ms, err := LoadFile(filepath.Join("..", "..", "examples", "manifests", name))
	require.NoError(t, err)
	require.Len(t, ms, 1)
	return runSpec(t, &ms[0], ps, until, deleteAt)
}

func runSpec(t *testing.T, mf *Manifest, ps simruntime.PodScript, until, deleteAt time.Duration) *simRun {
	t.Helper()
	w := simruntime.NewWorld(simruntime.WorldOptions{})
	r := &simRun{ref: mf.Ref()}
	w.ScriptPod(r.ref, ps)
	r.s = simruntime.NewSim(w, t0)
	var deleted *time.Time
	stamp := func(at time.Time) string { return fmt.Sprintf("%7.1fs", at.Sub(t0).Seconds()) }
	r.s.OnReady = func(_ lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
		for _, a := range rd.Actions {
			r.tl.lines = append(r.tl.lines, stamp(now)+" do "+a.String())
		}
		for _, rec := range rd.Records {
			r.tl.lines = append(r.tl.lines, stamp(now)+" record "+rec.String())
		}
		if rd.Status != nil {
			c := phase.KubectlColumns(phase.ColumnsInput{Spec: r.m.Spec(), Status: rd.Status, DeletionTimestamp: deleted, Now: now})
			r.tl.lines = append(r.tl.lines, fmt.Sprintf("%s status %s %s %s %s", stamp(now), rd.Status.Phase, c.Status, c.Ready, c.Restarts))
		}
	}
	r.s.OnEvent = func(_ lifecycle.PodRef, ev lifecycle.Event) {
		if ev.Type == lifecycle.DeleteRequested {
			at := ev.At
			deleted = &at
		}
		if ev.Type != lifecycle.Tick {
			r.tl.lines = append(r.tl.lines, stamp(ev.At)+" got "+ev.String())
		}
	}
	r.s.OnError = func(_ lifecycle.PodRef, ev lifecycle.Event, err error) { t.Errorf("%s: %v", ev, err) }
	m, err := r.s.AddPod(r.ref, mf.Spec, lifecycle.Options{})
	require.NoError(t, err)
	r.m = m
	if deleteAt > 0 {
		require.NoError(t, r.s.At(t0.Add(deleteAt), r.ref, lifecycle.Event{Type: lifecycle.DeleteRequested}))
	}
	r.s.RunUntil(t0.Add(until))
	if testing.Verbose() {
		t.Log("\n" + strings.Join(r.tl.lines, "\n"))
	}
	return r
}

// grep gives the lines holding every word.
func (tl *timeline) grep(words ...string) []string {
	var out []string
	for _, l := range tl.lines {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// times gives the seconds column of the lines holding every word.
func (tl *timeline) times(words ...string) []string {
	var out []string
	for _, l := range tl.grep(words...) {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

// statuses gives "<time> <phase> <STATUS> <READY> <RESTARTS>" for every status change that
// changed one of those columns, the rows a reader compares with `kubectl get pods -w`.
func (tl *timeline) statuses() []string {
	var out []string
	last := ""
	for _, l := range tl.grep(" status ") {
		f := strings.Fields(l)
		row := strings.Join(f[2:], " ")
		if i := strings.Index(row, " ("); i >= 0 {
			row = row[:i] // drop "(Xs ago)"
		}
		if row != last {
			out = append(out, f[0]+" "+row)
			last = row
		}
	}
	return out
}
