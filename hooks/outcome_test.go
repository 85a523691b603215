package hooks_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife/hooks"
)

var target = hooks.Target{Pod: hooks.PodRef{Name: "web", Namespace: "default", UID: "1234"}, Container: "app"}

func TestOutcomes(t *testing.T) {
	cmd := []string{"sh", "-c", "badcommand"}
	tests := []struct {
		name string
		got  hooks.Outcome
		want hooks.Outcome
	}{
		{"exec exit code 0 is success", hooks.ExecOutcome(target, cmd, 0, "out", "err"), hooks.Outcome{}},
		{"exec non-zero exit is failure with kubelet's message (command, container, pod, stderr, output)",
			hooks.ExecOutcome(target, cmd, 127, "", "sh: badcommand: not found\n"),
			hooks.Outcome{Result: hooks.Failure, Message: `Exec lifecycle hook ([sh -c badcommand]) for Container "app" in Pod "web_default(1234)" failed - ` +
				"error: command 'sh -c badcommand' exited with 127: sh: badcommand: not found\n, " +
				`message: "sh: badcommand: not found\n"`}},
		{"exec message joins stdout then stderr",
			hooks.ExecOutcome(target, []string{"false"}, 1, "a", "b"),
			hooks.Outcome{Result: hooks.Failure, Message: `Exec lifecycle hook ([false]) for Container "app" in Pod "web_default(1234)" failed - ` +
				`error: command 'false' exited with 1: b, message: "ab"`}},
		{"exec that returned no error is success", hooks.ExecRunOutcome(target, cmd, "ignored", nil), hooks.Outcome{}},
		{"exec that could not run is failure carrying the runtime's error",
			hooks.ExecRunOutcome(target, cmd, "", errors.New("container not running")),
			hooks.Outcome{Result: hooks.Failure, Message: `Exec lifecycle hook ([sh -c badcommand]) for Container "app" in Pod "web_default(1234)" failed - ` +
				`error: container not running, message: ""`}},
		{"http 200 answer is success", hooks.HTTPOutcome(target, "/start", 200, nil), hooks.Outcome{}},
		{"http 404 answer is success: kubelet ignores a hook's status code", hooks.HTTPOutcome(target, "/start", 404, nil), hooks.Outcome{}},
		{"http 500 answer is success: kubelet ignores a hook's status code", hooks.HTTPOutcome(target, "/start", 500, nil), hooks.Outcome{}},
		{"http request error is failure with kubelet's message",
			hooks.HTTPOutcome(target, "/start", 0, errors.New("dial tcp 10.0.0.1:80: connect: connection refused")),
			hooks.Outcome{Result: hooks.Failure, Message: `HTTP lifecycle hook (/start) for Container "app" in Pod "web_default(1234)" failed - ` +
				`error: dial tcp 10.0.0.1:80: connect: connection refused`}},
		{"sleep that ran to its end is success", hooks.SleepOutcome(target, 5, false), hooks.Outcome{}},
		{"sleep cut short by the container stopping is failure",
			hooks.SleepOutcome(target, 5, true),
			hooks.Outcome{Result: hooks.Failure, Message: `Sleep lifecycle hook (5) for Container "app" in Pod "web_default(1234)" failed - ` +
				`error: container terminated before sleep hook finished`}},
		{"the zero outcome is a success", hooks.SuccessOutcome(), hooks.Outcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
			assert.Equal(t, tt.want.Result == hooks.Failure, tt.got.Failed())
		})
	}
}

func TestResultAndPodStrings(t *testing.T) {
	assert.Equal(t, "Success", hooks.Success.String())
	assert.Equal(t, "Failure", hooks.Failure.String())
	assert.Equal(t, "Result(7)", hooks.Result(7).String())
	assert.True(t, hooks.Outcome{Result: hooks.Result(7)}.Failed(), "an unknown result is not a success")
	assert.Equal(t, "web_default(1234)", target.Pod.String())
}
