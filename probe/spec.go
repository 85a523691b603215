package probe

import (
	"math"
	"time"

	"github.com/podlife/podlife"
)

// Spec is a probe's timing and thresholds with every default applied. The zero Spec is not
// usable by itself; build one with EffectiveSpec.
type Spec struct {
	// InitialDelay is how long after the container's StartedAt the first run may happen.
	InitialDelay time.Duration
	// Period is the time between runs.
	Period time.Duration
	// Timeout bounds one run; a run that times out is a failure.
	Timeout time.Duration
	// SuccessThreshold consecutive successes flip the result to Success.
	SuccessThreshold int32
	// FailureThreshold consecutive failures flip the result to Failure (and kill, for liveness
	// and startup).
	FailureThreshold int32
	// TerminationGracePeriod replaces the pod's grace period for a kill this probe causes, when
	// HasTerminationGracePeriod is set.
	TerminationGracePeriod    time.Duration
	HasTerminationGracePeriod bool
}

// EffectiveSpec applies the API defaults to p: a zero field means its default (initial delay 0,
// period 10 s, timeout 1 s, success threshold 1, failure threshold 3). It does not validate:
// negative values, which validation rejects, are read as the default too, so that a Tracker built
// from an unvalidated spec still moves forward in time. A nil p gives the defaults.
func EffectiveSpec(p *podlife.Probe) Spec {
	if p == nil {
		p = &podlife.Probe{}
	}
	s := Spec{
		InitialDelay:     seconds(int64(max(p.InitialDelaySeconds, 0))),
		Period:           seconds(int64(orDefault(p.PeriodSeconds, podlife.DefaultProbePeriodSeconds))),
		Timeout:          seconds(int64(orDefault(p.TimeoutSeconds, podlife.DefaultProbeTimeoutSeconds))),
		SuccessThreshold: orDefault(p.SuccessThreshold, podlife.DefaultProbeSuccessThreshold),
		FailureThreshold: orDefault(p.FailureThreshold, podlife.DefaultProbeFailureThreshold),
	}
	if g := p.TerminationGracePeriodSeconds; g != nil {
		s.TerminationGracePeriod = seconds(*g)
		s.HasTerminationGracePeriod = true
	}
	return s
}

// HandlerCount is how many handlers h sets; the API requires exactly one.
func HandlerCount(h *podlife.ProbeHandler) int {
	if h == nil {
		return 0
	}
	n := 0
	if h.Exec != nil {
		n++
	}
	if h.HTTPGet != nil {
		n++
	}
	if h.TCPSocket != nil {
		n++
	}
	if h.GRPC != nil {
		n++
	}
	return n
}

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// seconds converts whole seconds to a Duration, saturating instead of overflowing.
func seconds(s int64) time.Duration {
	const limit = math.MaxInt64 / int64(time.Second)
	switch {
	case s > limit:
		return time.Duration(math.MaxInt64)
	case s < -limit:
		return time.Duration(math.MinInt64)
	}
	return time.Duration(s) * time.Second
}
