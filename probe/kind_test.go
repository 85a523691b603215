package probe_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

func TestKindRules(t *testing.T) {
	tests := []struct {
		name                string
		kind                probe.Kind
		str, field          string
		kills, successOne   bool
		graceAllowed, valid bool
		initial             probe.Result
	}{
		{name: "liveness: initial Success; failing kills; successThreshold must be 1; may set its own grace",
			kind: probe.Liveness, str: "Liveness", field: "livenessProbe", kills: true, successOne: true, graceAllowed: true, valid: true, initial: probe.Success},
		{name: "readiness: initial Failure; failing only clears ready; terminationGracePeriodSeconds not allowed",
			kind: probe.Readiness, str: "Readiness", field: "readinessProbe", valid: true, initial: probe.Failure},
		{name: "startup: initial Unknown; failing kills; successThreshold must be 1; may set its own grace",
			kind: probe.Startup, str: "Startup", field: "startupProbe", kills: true, successOne: true, graceAllowed: true, valid: true, initial: probe.Unknown},
		{name: "a kind outside the three is invalid and names no field",
			kind: probe.Kind(7), str: "Kind(7)", field: "", initial: probe.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.str, tc.kind.String())
			require.Equal(t, tc.field, tc.kind.FieldName())
			require.Equal(t, tc.kills, tc.kind.Kills())
			require.Equal(t, tc.successOne, tc.kind.RequiresSuccessThresholdOne())
			require.Equal(t, tc.graceAllowed, tc.kind.AllowsTerminationGracePeriod())
			require.Equal(t, tc.valid, tc.kind.Valid())
			require.Equal(t, tc.initial, tc.kind.InitialResult())
		})
	}
	require.Equal(t, [3]probe.Kind{probe.Startup, probe.Liveness, probe.Readiness}, probe.Kinds())
}

func TestResultString(t *testing.T) {
	require.Equal(t, "Unknown", probe.Unknown.String())
	require.Equal(t, "Success", probe.Success.String())
	require.Equal(t, "Failure", probe.Failure.String())
	require.Equal(t, "Result(9)", probe.Result(9).String())
}

func TestForPicksTheContainersProbe(t *testing.T) {
	l, r, st := &podlife.Probe{PeriodSeconds: 1}, &podlife.Probe{PeriodSeconds: 2}, &podlife.Probe{PeriodSeconds: 3}
	c := &podlife.Container{LivenessProbe: l, ReadinessProbe: r, StartupProbe: st}
	require.Same(t, l, probe.For(c, probe.Liveness))
	require.Same(t, r, probe.For(c, probe.Readiness))
	require.Same(t, st, probe.For(c, probe.Startup))
	require.Nil(t, probe.For(c, probe.Kind(5)))
	require.Nil(t, probe.For(nil, probe.Liveness))
}
