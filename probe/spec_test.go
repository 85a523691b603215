package probe_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

func int64p(v int64) *int64 { return &v }

func TestEffectiveSpecRules(t *testing.T) {
	defaults := probe.Spec{Period: 10 * time.Second, Timeout: time.Second, SuccessThreshold: 1, FailureThreshold: 3}
	tests := []struct {
		name string
		in   *podlife.Probe
		want probe.Spec
	}{
		{name: "defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3",
			in: &podlife.Probe{}, want: defaults},
		{name: "a nil probe gives the defaults", in: nil, want: defaults},
		{name: "set fields are taken as whole seconds",
			in:   &podlife.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 2, FailureThreshold: 7},
			want: probe.Spec{InitialDelay: 5 * time.Second, Period: 2 * time.Second, Timeout: 3 * time.Second, SuccessThreshold: 2, FailureThreshold: 7}},
		{name: "negatives are invalid (validation rejects them); here they read as the default instead of panicking",
			in:   &podlife.Probe{InitialDelaySeconds: -1, PeriodSeconds: -1, TimeoutSeconds: -1, SuccessThreshold: -1, FailureThreshold: -1},
			want: defaults},
		{name: "probe terminationGracePeriodSeconds is carried for the kill it causes",
			in:   &podlife.Probe{TerminationGracePeriodSeconds: int64p(45)},
			want: probe.Spec{Period: 10 * time.Second, Timeout: time.Second, SuccessThreshold: 1, FailureThreshold: 3, TerminationGracePeriod: 45 * time.Second, HasTerminationGracePeriod: true}},
		{name: "a huge grace saturates instead of overflowing",
			in:   &podlife.Probe{TerminationGracePeriodSeconds: int64p(math.MaxInt64)},
			want: probe.Spec{Period: 10 * time.Second, Timeout: time.Second, SuccessThreshold: 1, FailureThreshold: 3, TerminationGracePeriod: math.MaxInt64, HasTerminationGracePeriod: true}},
		{name: "a hugely negative grace saturates too",
			in:   &podlife.Probe{TerminationGracePeriodSeconds: int64p(math.MinInt64)},
			want: probe.Spec{Period: 10 * time.Second, Timeout: time.Second, SuccessThreshold: 1, FailureThreshold: 3, TerminationGracePeriod: math.MinInt64, HasTerminationGracePeriod: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Empty(t, cmp.Diff(tc.want, probe.EffectiveSpec(tc.in)))
		})
	}
}

func TestHandlerCount(t *testing.T) {
	require.Equal(t, 0, probe.HandlerCount(nil))
	require.Equal(t, 0, probe.HandlerCount(&podlife.ProbeHandler{}))
	require.Equal(t, 1, probe.HandlerCount(&podlife.ProbeHandler{Exec: &podlife.ExecAction{}}))
	require.Equal(t, 4, probe.HandlerCount(&podlife.ProbeHandler{
		Exec: &podlife.ExecAction{}, HTTPGet: &podlife.HTTPGetAction{},
		TCPSocket: &podlife.TCPSocketAction{}, GRPC: &podlife.GRPCAction{},
	}), "the API requires exactly one handler; the count lets a validator say how many were set")
}
