package hooks_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
)

var (
	execH  = &podlife.ExecAction{Command: []string{"sh", "-c", "true"}}
	httpH  = &podlife.HTTPGetAction{Path: "/hook", Port: podlife.PortNumber(8080)}
	sleepH = &podlife.SleepAction{Seconds: 5}
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		h    *podlife.LifecycleHandler
		want hooks.Kind
		err  error
		text string
	}{
		{"exec alone is an exec handler", &podlife.LifecycleHandler{Exec: execH}, hooks.Exec, nil, ""},
		{"httpGet alone is an HTTP handler", &podlife.LifecycleHandler{HTTPGet: httpH}, hooks.HTTPGet, nil, ""},
		{"sleep alone is a sleep handler", &podlife.LifecycleHandler{Sleep: sleepH}, hooks.Sleep, nil, ""},
		{"a nil handler has no handler type", nil, hooks.None, hooks.ErrNoHandler, "no handler type set"},
		{"an empty handler has no handler type", &podlife.LifecycleHandler{}, hooks.None, hooks.ErrNoHandler, "no handler type set"},
		{"two handler types are an error naming both", &podlife.LifecycleHandler{Exec: execH, Sleep: sleepH},
			hooks.None, hooks.ErrMultipleHandlers, "more than one handler type set: exec, sleep"},
		{"three handler types are an error naming all", &podlife.LifecycleHandler{Exec: execH, HTTPGet: httpH, Sleep: sleepH},
			hooks.None, hooks.ErrMultipleHandlers, "exec, httpGet, sleep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hooks.KindOf(tt.h)
			assert.Equal(t, tt.want, got)
			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			assert.True(t, errors.Is(err, tt.err), "got %v", err)
			assert.Contains(t, err.Error(), tt.text)
		})
	}
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "exec", hooks.Exec.String())
	assert.Equal(t, "httpGet", hooks.HTTPGet.String())
	assert.Equal(t, "sleep", hooks.Sleep.String())
	assert.Equal(t, "none", hooks.None.String())
	assert.Equal(t, "none", hooks.Kind(9).String())
}

func TestSleepDuration(t *testing.T) {
	tests := []struct {
		name string
		a    *podlife.SleepAction
		want time.Duration
	}{
		{"a sleep lasts its seconds", &podlife.SleepAction{Seconds: 5}, 5 * time.Second},
		{"a zero sleep returns at once (allowed since 1.34)", &podlife.SleepAction{}, 0},
		{"a negative sleep (invalid) returns at once", &podlife.SleepAction{Seconds: -3}, 0},
		{"no sleep action returns at once", nil, 0},
		{"a sleep beyond what a Duration holds is the longest Duration, not an overflow",
			&podlife.SleepAction{Seconds: math.MaxInt64}, time.Duration(math.MaxInt64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, hooks.SleepDuration(tt.a))
		})
	}
}

// Property: KindOf succeeds exactly when one handler type is set, and then names that one.
func TestKindOfExactlyOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := &podlife.LifecycleHandler{}
		n := 0
		var only hooks.Kind
		if rapid.Bool().Draw(t, "exec") {
			h.Exec, n, only = execH, n+1, hooks.Exec
		}
		if rapid.Bool().Draw(t, "httpGet") {
			h.HTTPGet, n, only = httpH, n+1, hooks.HTTPGet
		}
		if rapid.Bool().Draw(t, "sleep") {
			h.Sleep, n, only = sleepH, n+1, hooks.Sleep
		}
		k, err := hooks.KindOf(h)
		if n == 1 {
			require.NoError(t, err)
			require.Equal(t, only, k)
			return
		}
		require.Error(t, err)
		require.Equal(t, hooks.None, k)
		require.NotEmpty(t, hooks.Validate(h, nil, "h"), "Validate must reject what KindOf rejects")
	})
}
