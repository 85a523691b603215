package termination_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/termination"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func s(n int) time.Duration { return time.Duration(n) * time.Second }

func ptr(v int64) *int64 { return &v }

// step is one event of a scenario, at t0 + at.
type step struct {
	kind  string // tick, hook, exit, shorten
	name  string
	at    time.Duration
	grace time.Duration
}

func tick(at time.Duration) step                  { return step{kind: "tick", at: at} }
func hookDone(name string, at time.Duration) step { return step{kind: "hook", name: name, at: at} }
func exit(name string, at time.Duration) step     { return step{kind: "exit", name: name, at: at} }
func shorten(grace, at time.Duration) step        { return step{kind: "shorten", grace: grace, at: at} }

// trace renders actions as "5s SendStopSignal web timeout=25s", times relative to t0.
func trace(actions []termination.Action) []string {
	out := make([]string, 0, len(actions))
	for _, a := range actions {
		out = append(out, fmt.Sprintf("%v %v", a.At.Sub(t0), a))
	}
	return out
}

// runPod starts a PodStop at t0 and applies the steps, returning every action in order.
func runPod(t *testing.T, members []termination.Member, grace time.Duration, steps []step) (*termination.PodStop, []string) {
	t.Helper()
	ps, actions, err := termination.NewPodStop(members, grace, t0)
	require.NoError(t, err)
	all := trace(actions)
	for _, st := range steps {
		var err error
		now := t0.Add(st.at)
		switch st.kind {
		case "tick":
			actions, err = ps.Tick(now)
		case "hook":
			actions, err = ps.PreStopDone(st.name, now)
		case "exit":
			actions, err = ps.Exited(st.name, now)
		case "shorten":
			_, actions, err = ps.Shorten(st.grace, now)
		}
		require.NoError(t, err, "step %+v", st)
		all = append(all, trace(actions)...)
	}
	return ps, all
}

// runStop is runPod for a single container named c.
func runStop(t *testing.T, grace time.Duration, hasPreStop bool, steps []step) (*termination.Stop, []string) {
	t.Helper()
	st, actions, err := termination.NewStop("c", grace, hasPreStop, t0)
	require.NoError(t, err)
	all := trace(actions)
	for _, e := range steps {
		var err error
		now := t0.Add(e.at)
		switch e.kind {
		case "tick":
			actions, err = st.Tick(now)
		case "hook":
			actions, err = st.PreStopDone(now)
		case "exit":
			actions, err = st.Exited(now)
		case "shorten":
			_, actions, err = st.Shorten(e.grace, now)
		}
		require.NoError(t, err, "step %+v", e)
		all = append(all, trace(actions)...)
	}
	return st, all
}
