package restart_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/restart"
)

// pullLoop fails a pull each time it is allowed, each failure taking took[i] after the previous
// window ended, and returns the windows.
func pullLoop(b restart.Backoff, took []time.Duration) []time.Duration {
	var st restart.PullBackoff
	now := t0
	windows := make([]time.Duration, 0, len(took))
	for _, d := range took {
		now = now.Add(d)
		st = st.Failed(b, now)
		windows = append(windows, st.Backoff)
		now = st.NextAttempt()
	}
	return windows
}

func TestPullBackoffWindows(t *testing.T) {
	b := restart.ImagePullBackoff()
	tests := []struct {
		name string
		took []time.Duration
		want []time.Duration
	}{
		{"10 s doubling to 300 s, measured from each failed pull", repeat(s, 8),
			[]time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 300 * s, 300 * s, 300 * s}},
		{"a failure more than 600 s after the previous one starts again at 10 s",
			[]time.Duration{0, 0, 581 * s}, // 20 s window + 581 s: 601 s after the second failure
			[]time.Duration{10 * s, 20 * s, 10 * s}},
		{"a failure exactly 600 s after the previous one still doubles",
			[]time.Duration{0, 0, 580 * s}, // 20 s window + 580 s: 600 s after the second failure
			[]time.Duration{10 * s, 20 * s, 40 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pullLoop(b, tt.took))
		})
	}
}

func TestPullBackoffReasons(t *testing.T) {
	b := restart.ImagePullBackoff()
	failed := t0.Add(3 * s)
	st := restart.PullBackoff{}.Failed(b, failed)
	require.Equal(t, restart.PullBackoff{Backoff: 10 * s, LastFailure: failed}, st)
	require.Equal(t, failed.Add(10*s), st.NextAttempt())

	tests := []struct {
		name      string
		st        restart.PullBackoff
		now       time.Time
		inBackOff bool
		reason    string
	}{
		{"no failure recorded: pull at once, no reason", restart.PullBackoff{}, failed, false, ""},
		{"ErrImagePull at the failed attempt", st, failed, true, phase.ReasonErrImagePull},
		{"ImagePullBackOff while waiting", st, failed.Add(time.Second), true, phase.ReasonImagePullBackOff},
		{"still in back-off 1 ns before the window ends", st, failed.Add(10*s - 1), true, phase.ReasonImagePullBackOff},
		{"the next try is due at the end of the window; ImagePullBackOff shows until its result",
			st, failed.Add(10 * s), false, phase.ReasonImagePullBackOff},
		{"ErrImagePull again when the next try fails", st.Failed(b, failed.Add(12*s)), failed.Add(12 * s), true, phase.ReasonErrImagePull},
		{"an entry older than 600 s is forgotten, whatever its window",
			restart.PullBackoff{Backoff: time.Hour, LastFailure: t0}, t0.Add(601 * s), false, phase.ReasonImagePullBackOff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.inBackOff, tt.st.InBackOff(b, tt.now), "InBackOff")
			assert.Equal(t, tt.reason, tt.st.WaitingReason(tt.now), "WaitingReason")
		})
	}
	assert.True(t, restart.PullBackoff{}.NextAttempt().IsZero(), "no failure: no next attempt time")
}

// Property: image-pull windows never decrease until a reset and never exceed 300 s.
func TestPullBackoffMonotone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := restart.ImagePullBackoff()
		took := drawRuns(t, 2*b.ResetAfter)
		windows := pullLoop(b, took)
		require.Equal(t, b.Initial, windows[0])
		for i := 1; i < len(windows); i++ {
			require.LessOrEqual(t, windows[i], b.Max)
			if took[i]+windows[i-1] > b.ResetAfter {
				require.Equal(t, b.Initial, windows[i], "failure %d came after the reset", i)
			} else {
				require.Equal(t, min(2*windows[i-1], b.Max), windows[i], "failure %d", i)
			}
		}
	})
}
