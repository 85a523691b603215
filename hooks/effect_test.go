package hooks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/phase"
)

func TestEffectOf(t *testing.T) {
	failed := hooks.Outcome{Result: hooks.Failure, Message: "detail"}
	tests := []struct {
		name string
		hook hooks.Hook
		o    hooks.Outcome
		want hooks.Effect
	}{
		{"postStart success: the container is reported Running", hooks.PostStart, hooks.Outcome{}, hooks.Effect{Running: true}},
		{"postStart failure: event FailedPostStartHook, kill the container, waiting reason PostStartHookError",
			hooks.PostStart, failed, hooks.Effect{
				Event:          hooks.Event{Type: "Warning", Reason: "FailedPostStartHook", Message: "PostStartHook failed"},
				Kill:           true,
				KillEvent:      hooks.Event{Type: "Normal", Reason: "Killing", Message: "FailedPostStartHook"},
				WaitingReason:  phase.ReasonPostStartHookError,
				WaitingMessage: "detail",
			}},
		{"preStop success: nothing, the stop goes on", hooks.PreStop, hooks.Outcome{}, hooks.Effect{}},
		{"preStop failure: event FailedPreStopHook only, the stop goes on",
			hooks.PreStop, failed, hooks.Effect{Event: hooks.Event{Type: "Warning", Reason: "FailedPreStopHook", Message: "PreStopHook failed"}}},
		{"an unknown hook has no effect", hooks.Hook(0), failed, hooks.Effect{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, hooks.EffectOf(tt.hook, tt.o))
		})
	}
}

func TestEventsDoNotLeakTheHandlersOutput(t *testing.T) {
	secret := hooks.ExecOutcome(target, []string{"cat", "/secret"}, 1, "s3cr3t", "")
	for _, h := range []hooks.Hook{hooks.PostStart, hooks.PreStop} {
		e := hooks.EffectOf(h, secret)
		assert.NotContains(t, e.Event.Message, "s3cr3t", "%v event", h)
		assert.NotContains(t, e.KillEvent.Message, "s3cr3t", "%v kill event", h)
	}
	assert.Contains(t, hooks.EffectOf(hooks.PostStart, secret).WaitingMessage, "s3cr3t", "the waiting message keeps the detail")
}

func TestHookStringsAndEvents(t *testing.T) {
	assert.Equal(t, "PostStart", hooks.PostStart.String())
	assert.Equal(t, "PreStop", hooks.PreStop.String())
	assert.Equal(t, "Hook(0)", hooks.Hook(0).String())
	assert.True(t, hooks.Event{}.IsZero())
	assert.Equal(t, hooks.Event{Type: "Warning", Reason: "LifecycleHTTPFallback",
		Message: "request to HTTPS lifecycle hook 10.0.0.1:8443 got HTTP response, retry with HTTP succeeded"},
		hooks.HTTPFallbackEvent("10.0.0.1:8443"))
}

// Property: only a failed postStart kills; an event is recorded exactly when a hook failed; a
// failed preStop never stops anything by itself.
func TestEffectInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := rapid.SampledFrom([]hooks.Hook{hooks.PostStart, hooks.PreStop}).Draw(t, "hook")
		o := hooks.Outcome{
			Result:  rapid.SampledFrom([]hooks.Result{hooks.Success, hooks.Failure}).Draw(t, "result"),
			Message: rapid.String().Draw(t, "message"),
		}
		e := hooks.EffectOf(h, o)
		require.Equal(t, h == hooks.PostStart && o.Failed(), e.Kill, "kill")
		require.Equal(t, e.Kill, !e.KillEvent.IsZero(), "a kill has its Killing event")
		require.Equal(t, o.Failed(), !e.Event.IsZero(), "event iff failed")
		require.Equal(t, h == hooks.PostStart && !o.Failed(), e.Running, "running")
		if !e.Event.IsZero() {
			require.Equal(t, hooks.EventTypeWarning, e.Event.Type)
			require.Contains(t, []string{hooks.MessagePostStartHookFailed, hooks.MessagePreStopHookFailed}, e.Event.Message,
				"events carry a fixed message, never the handler's output")
		}
	})
}
