package restart_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/restart"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// crashLoop runs a container that lives runs[i] each time, is restarted exactly when NextStart
// allows, and returns the wait before each restart.
func crashLoop(b restart.Backoff, runs []time.Duration) []time.Duration {
	var st restart.CrashLoop
	started := t0
	waits := make([]time.Duration, 0, len(runs))
	for _, run := range runs {
		finished := started.Add(run)
		waits = append(waits, st.Delay(b, finished))
		started = st.NextStart(b, finished)
		st = st.Restarted(b, finished, started)
	}
	return waits
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestCrashLoopSequences(t *testing.T) {
	node30, err := restart.NodeCrashLoopBackoff(30*s, false)
	require.NoError(t, err)
	tests := []struct {
		name string
		b    restart.Backoff
		runs []time.Duration
		want []time.Duration
	}{
		{"first restart immediate, then 10, 20, 40 ... capped at 300 s", restart.CrashLoopBackoff(), repeat(s, 9),
			[]time.Duration{0, 10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 300 * s, 300 * s, 300 * s}},
		{"reduced curve: immediate, then 1, 2, 4 ... capped at 60 s", restart.ReducedCrashLoopBackoff(), repeat(0, 9),
			[]time.Duration{0, 1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 60 * s, 60 * s}},
		{"node maximum 30 s caps the default curve", node30, repeat(s, 5),
			[]time.Duration{0, 10 * s, 20 * s, 30 * s, 30 * s}},
		{"an exit more than 600 s after the last restart restarts at once and the curve starts again at 10 s",
			restart.CrashLoopBackoff(), []time.Duration{s, s, s, 601 * s, s, s},
			[]time.Duration{0, 10 * s, 20 * s, 0, 10 * s, 20 * s}},
		{"an exit exactly 600 s after the last restart does not reset (more than 600 s is needed)",
			restart.CrashLoopBackoff(), []time.Duration{s, s, 600 * s},
			[]time.Duration{0, 10 * s, 20 * s}},
		{"a restart held back past 600 s after the previous one (kubelet forgot the entry) starts the curve again",
			// restarts at 0 s; runs 400 s; waits 300 s, so the restart at 700 s is 700 s after the
			// last one: the next quick exit waits 10 s, not 300 s.
			restart.CrashLoopBackoff(), []time.Duration{s, s, s, s, s, s, s, 400 * s, s},
			[]time.Duration{0, 10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 300 * s, 300 * s, 10 * s}},
		{"the zero Backoff never holds a restart back", restart.Backoff{}, repeat(s, 4),
			[]time.Duration{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Empty(t, cmp.Diff(tt.want, crashLoop(tt.b, tt.runs)))
		})
	}
}

func TestCrashLoopWaitIsMeasuredFromFinishedAt(t *testing.T) {
	b := restart.CrashLoopBackoff()
	st := restart.CrashLoop{}.Restarted(b, t0, t0) // first exit at t0, restarted at once
	require.Equal(t, restart.CrashLoop{Backoff: 10 * s, LastRestart: t0}, st)

	finished := t0.Add(5 * s)
	next := st.NextStart(b, finished)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"in back-off right at the exit", finished, true},
		{"in back-off 1 ns before finishedAt + 10 s", next.Add(-1), true},
		{"free to start at finishedAt + 10 s", next, false},
		{"free to start later", next.Add(time.Hour), false},
	}
	assert.Equal(t, finished.Add(10*s), next, "the wait is measured from finishedAt")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, st.InBackOff(b, finished, tt.now))
		})
	}
	assert.False(t, restart.CrashLoop{}.InBackOff(b, finished, finished), "the first exit is never in back-off")
}

func TestCrashLoopRestartedKeepsTheRestartTime(t *testing.T) {
	b := restart.CrashLoopBackoff()
	st := restart.CrashLoop{Backoff: 160 * s, LastRestart: t0}
	later := t0.Add(200 * s)
	got := st.Restarted(b, t0.Add(30*s), later)
	assert.Equal(t, restart.CrashLoop{Backoff: 300 * s, LastRestart: later}, got, "160 s doubles to 320 s, capped at 300 s")
}

func TestCrashLoopMessages(t *testing.T) {
	assert.Equal(t, "back-off 20s restarting failed container=app pod=web_default(1234)",
		restart.CrashLoopBackOffMessage(20*s, "app", "web_default(1234)"))
	assert.Equal(t, "back-off 5m0s restarting failed container=app pod=web_default(1234)",
		restart.CrashLoopBackOffMessage(300*s, "app", "web_default(1234)"))
	assert.Equal(t, "Back-off restarting failed container app in pod web_default(1234)",
		restart.CrashLoopBackOffEvent("app", "web_default(1234)"))
}

func drawCurve(t *rapid.T) restart.Backoff {
	switch rapid.IntRange(0, 2).Draw(t, "curve") {
	case 0:
		return restart.CrashLoopBackoff()
	case 1:
		return restart.ReducedCrashLoopBackoff()
	}
	max := time.Duration(rapid.Int64Range(int64(time.Second), int64(300*time.Second)).Draw(t, "nodeMax"))
	b, err := restart.NodeCrashLoopBackoff(max, rapid.Bool().Draw(t, "reduced"))
	if err != nil {
		t.Fatalf("NodeCrashLoopBackoff(%v): %v", max, err)
	}
	return b
}

func drawRuns(t *rapid.T, maxRun time.Duration) []time.Duration {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) time.Duration {
		return time.Duration(rapid.Int64Range(0, int64(maxRun)).Draw(t, "run"))
	}), 1, 40).Draw(t, "runs")
}

// Property: without a reset (every run and wait short) the first restart is immediate, the wait
// never decreases, never exceeds the cap, and follows Backoff.Delay exactly.
func TestCrashLoopMonotoneUntilReset(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawCurve(t)
		runs := drawRuns(t, b.ResetAfter-b.Max) // run + wait never exceeds ResetAfter
		waits := crashLoop(b, runs)
		require.Zero(t, waits[0], "first restart immediate")
		for i, w := range waits {
			require.LessOrEqual(t, w, b.Max, "wait %d above the cap", i)
			require.Equal(t, b.Delay(i+1), w, "wait %d", i)
			if i > 0 {
				require.GreaterOrEqual(t, w, waits[i-1], "wait %d decreased without a reset", i)
			}
		}
	})
}

// Property: with any run lengths the wait never exceeds the cap, and it only decreases at a
// reset: to 0 (a long run) or to the initial delay (the entry was forgotten).
func TestCrashLoopDecreasesOnlyAtReset(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawCurve(t)
		waits := crashLoop(b, drawRuns(t, 2*b.ResetAfter))
		require.Zero(t, waits[0])
		for i := 1; i < len(waits); i++ {
			require.LessOrEqual(t, waits[i], b.Max)
			if waits[i] < waits[i-1] {
				require.Contains(t, []time.Duration{0, b.Initial}, waits[i], "wait %d decreased without a reset", i)
			}
		}
	})
}

// Property: the same exits give the same waits.
func TestCrashLoopDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := drawCurve(t)
		runs := drawRuns(t, 2*b.ResetAfter)
		require.Equal(t, crashLoop(b, runs), crashLoop(b, runs))
	})
}
