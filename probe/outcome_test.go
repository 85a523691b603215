package probe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/probe"
)

func TestHandlerOutcomeRules(t *testing.T) {
	long := strings.Repeat("x", probe.MaxOutputBytes+5)
	tests := []struct {
		name string
		got  probe.Outcome
		want probe.Outcome
	}{
		{name: "exec: exit code 0 is success, with the output as message",
			got: probe.ExecOutcome(0, false, "healthy\n"), want: probe.Outcome{Result: probe.Success, Message: "healthy\n"}},
		{name: "exec: any other exit code is a failure",
			got: probe.ExecOutcome(1, false, "cat: /tmp/healthy: No such file"), want: probe.Outcome{Result: probe.Failure, Message: "cat: /tmp/healthy: No such file"}},
		{name: "exec: a negative exit code is a failure too",
			got: probe.ExecOutcome(-1, false, ""), want: probe.Outcome{Result: probe.Failure}},
		{name: "exec: a timed-out probe is a failure (exec too), even with exit code 0",
			got: probe.ExecOutcome(0, true, "partial"), want: probe.Outcome{Result: probe.Failure, Message: "command timed out"}},
		{name: "exec: output is read up to 10 KiB",
			got: probe.ExecOutcome(0, false, long), want: probe.Outcome{Result: probe.Success, Message: long[:10240]}},
		{name: "TCP: connect succeeds is success",
			got: probe.TCPOutcome(nil), want: probe.Outcome{Result: probe.Success}},
		{name: "TCP: a dial error (refused, timeout) is a failure with its text",
			got:  probe.TCPOutcome(errors.New("dial tcp 10.0.0.1:80: connect: connection refused")),
			want: probe.Outcome{Result: probe.Failure, Message: "dial tcp 10.0.0.1:80: connect: connection refused"}},
		{name: "gRPC: health status SERVING is success",
			got: probe.GRPCOutcome("SERVING"), want: probe.Outcome{Result: probe.Success, Message: "service healthy"}},
		{name: "gRPC: NOT_SERVING is a failure",
			got: probe.GRPCOutcome("NOT_SERVING"), want: probe.Outcome{Result: probe.Failure, Message: `service unhealthy (responded with "NOT_SERVING")`}},
		{name: "gRPC: SERVICE_UNKNOWN is a failure",
			got: probe.GRPCOutcome("SERVICE_UNKNOWN"), want: probe.Outcome{Result: probe.Failure, Message: `service unhealthy (responded with "SERVICE_UNKNOWN")`}},
		{name: "gRPC: the status is matched exactly (serving is not SERVING)",
			got: probe.GRPCOutcome("serving"), want: probe.Outcome{Result: probe.Failure, Message: `service unhealthy (responded with "serving")`}},
		{name: "an error on the agent's side (unknown named port) is not counted",
			got: probe.ErrorOutcome(errors.New(`port "web" not found`)), want: probe.Outcome{Result: probe.Unknown, Message: `port "web" not found`}},
		{name: "a nil agent-side error still gives an uncounted outcome with a message",
			got: probe.ErrorOutcome(nil), want: probe.Outcome{Result: probe.Unknown, Message: "probe error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Empty(t, cmp.Diff(tc.want, tc.got))
			require.Equal(t, tc.want.Result != probe.Unknown, tc.got.Counted())
		})
	}
	require.False(t, probe.Outcome{}.Counted(), "the zero Outcome is an uncounted run")
}

func TestOutcomeEventRules(t *testing.T) {
	tests := []struct {
		name          string
		kind          probe.Kind
		outcome       probe.Outcome
		reason, wantM string
	}{
		{name: "a plain success records no event", kind: probe.Liveness, outcome: probe.SuccessOutcome("ok")},
		{name: "a failure records Unhealthy: '<Kind> probe failed: <output>'", kind: probe.Liveness,
			outcome: probe.FailureOutcome("HTTP probe failed with statuscode: 500"), reason: probe.ReasonUnhealthy,
			wantM: "Liveness probe failed: HTTP probe failed with statuscode: 500"},
		{name: "a success with a warning records ProbeWarning: '<Kind> probe warning: <output>'", kind: probe.Readiness,
			outcome: probe.HTTPOutcome("10.0.0.1", probe.HTTPReply{Status: 302, Location: "http://other/", Body: "Found"}),
			reason:  probe.ReasonProbeWarning, wantM: "Readiness probe warning: Probe terminated redirects, Response body: Found"},
		{name: "an agent-side error records Unhealthy: '<Kind> probe errored and resulted in unknown state: <err>'", kind: probe.Startup,
			outcome: probe.ErrorOutcome(errors.New("boom")), reason: probe.ReasonUnhealthy,
			wantM: "Startup probe errored and resulted in unknown state: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, msg := tc.outcome.Event(tc.kind)
			require.Equal(t, tc.reason, reason)
			require.Equal(t, tc.wantM, msg)
		})
	}
}
