package restart_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/restart"
)

const s = time.Second

func TestBackoffConstructors(t *testing.T) {
	tests := []struct {
		name string
		got  restart.Backoff
		want restart.Backoff
	}{
		{"default CrashLoopBackOff: 10 s doubling to 300 s, reset after 600 s", restart.CrashLoopBackoff(),
			restart.Backoff{Initial: 10 * s, Max: 300 * s, ResetAfter: 600 * s}},
		{"ReduceDefaultCrashLoopBackOffDecay: 1 s doubling to 60 s, reset after 600 s", restart.ReducedCrashLoopBackoff(),
			restart.Backoff{Initial: 1 * s, Max: 60 * s, ResetAfter: 600 * s}},
		{"image pull back-off: 10 s doubling to 300 s, reset 600 s after the last failure", restart.ImagePullBackoff(),
			restart.Backoff{Initial: 10 * s, Max: 300 * s, ResetAfter: 600 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Empty(t, cmp.Diff(tt.want, tt.got))
			assert.NoError(t, tt.got.Validate())
		})
	}
}

func TestNodeCrashLoopBackoff(t *testing.T) {
	tests := []struct {
		name    string
		max     time.Duration
		reduced bool
		want    restart.Backoff
	}{
		{"node maximum 300 s is the default curve", 300 * s, false, restart.Backoff{Initial: 10 * s, Max: 300 * s, ResetAfter: 600 * s}},
		{"node maximum lowers the cap", 30 * s, false, restart.Backoff{Initial: 10 * s, Max: 30 * s, ResetAfter: 600 * s}},
		{"node maximum equal to the initial delay", 10 * s, false, restart.Backoff{Initial: 10 * s, Max: 10 * s, ResetAfter: 600 * s}},
		{"node maximum below the initial delay lowers the initial delay to it", 5 * s, false, restart.Backoff{Initial: 5 * s, Max: 5 * s, ResetAfter: 600 * s}},
		{"node maximum at its lower bound 1 s", 1 * s, false, restart.Backoff{Initial: 1 * s, Max: 1 * s, ResetAfter: 600 * s}},
		{"a fractional node maximum is allowed", 2500 * time.Millisecond, false, restart.Backoff{Initial: 2500 * time.Millisecond, Max: 2500 * time.Millisecond, ResetAfter: 600 * s}},
		{"with the reduced curve the node maximum replaces 60 s", 30 * s, true, restart.Backoff{Initial: 1 * s, Max: 30 * s, ResetAfter: 600 * s}},
		{"with the reduced curve the node maximum wins even above 60 s", 120 * s, true, restart.Backoff{Initial: 1 * s, Max: 120 * s, ResetAfter: 600 * s}},
		{"with the reduced curve a 1 s maximum keeps 1 s", 1 * s, true, restart.Backoff{Initial: 1 * s, Max: 1 * s, ResetAfter: 600 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := restart.NodeCrashLoopBackoff(tt.max, tt.reduced)
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

func TestNodeCrashLoopBackoffRejectsOutOfRange(t *testing.T) {
	tests := []struct {
		name string
		max  time.Duration
		msg  string
	}{
		{"below 1 s", 500 * time.Millisecond, "crashLoopBackOff.maxContainerRestartPeriod is 0.5s, must be from 1s to 300s"},
		{"zero", 0, "is 0s"},
		{"negative", -10 * s, "is -10s"},
		{"above 300 s", 301 * s, "is 301s"},
	}
	for _, tt := range tests {
		t.Run("maxContainerRestartPeriod must be from 1s to 300s: "+tt.name, func(t *testing.T) {
			_, err := restart.NodeCrashLoopBackoff(tt.max, false)
			require.Error(t, err)
			assert.True(t, errors.Is(err, restart.ErrInvalidBackoff))
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestBackoffValidate(t *testing.T) {
	tests := []struct {
		name string
		b    restart.Backoff
		ok   bool
	}{
		{"the zero Backoff (never waits) is valid", restart.Backoff{}, true},
		{"a negative initial delay is invalid", restart.Backoff{Initial: -s, Max: s}, false},
		{"a negative reset is invalid", restart.Backoff{Initial: s, Max: s, ResetAfter: -s}, false},
		{"a maximum below the initial delay is invalid", restart.Backoff{Initial: 10 * s, Max: 5 * s}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.b.Validate()
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, restart.ErrInvalidBackoff)
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	def := restart.CrashLoopBackoff()
	reduced := restart.ReducedCrashLoopBackoff()
	node5, err := restart.NodeCrashLoopBackoff(5*s, false)
	require.NoError(t, err)
	tests := []struct {
		name  string
		b     restart.Backoff
		exits int
		want  time.Duration
	}{
		{"no exit yet: no wait", def, 0, 0},
		{"a negative count is no exit", def, -3, 0},
		{"the first exit restarts immediately", def, 1, 0},
		{"the second exit waits the initial 10 s", def, 2, 10 * s},
		{"the third exit waits 20 s", def, 3, 20 * s},
		{"the fourth exit waits 40 s", def, 4, 40 * s},
		{"then 80 s", def, 5, 80 * s},
		{"then 160 s", def, 6, 160 * s},
		{"then capped at 300 s (not 320 s)", def, 7, 300 * s},
		{"stays at the cap", def, 100, 300 * s},
		{"stays at the cap for huge counts without overflow", def, math.MaxInt, 300 * s},
		{"reduced curve: second exit waits 1 s", reduced, 2, 1 * s},
		{"reduced curve: the seventh exit waits 32 s", reduced, 7, 32 * s},
		{"reduced curve: capped at 60 s", reduced, 8, 60 * s},
		{"node maximum 5 s: every wait after the first exit is 5 s", node5, 3, 5 * s},
		{"the zero Backoff never waits", restart.Backoff{}, 10, 0},
		{"an invalid maximum below the initial delay caps like flowcontrol (min of double and max)",
			restart.Backoff{Initial: 10 * s, Max: 5 * s}, 3, 5 * s},
		{"a negative maximum never gives a negative wait", restart.Backoff{Initial: s, Max: -s}, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.b.Delay(tt.exits))
		})
	}
}
