package probe

import (
	"strconv"

	"github.com/podlife/podlife"
)

// Kind is the purpose of a probe. The zero value is Liveness, as in kubelet.
type Kind uint8

// Probe kinds.
const (
	// Liveness kills the container after failureThreshold consecutive failures.
	Liveness Kind = iota
	// Readiness only decides whether the container is ready; it never kills.
	Readiness
	// Startup gates liveness and readiness until it succeeds, and kills on failure.
	Startup
)

// Kinds lists every kind: startup first, since it gates the other two.
func Kinds() [3]Kind { return [3]Kind{Startup, Liveness, Readiness} }

// String gives the name kubelet uses in event messages: "Liveness", "Readiness", "Startup".
func (k Kind) String() string {
	switch k {
	case Liveness:
		return "Liveness"
	case Readiness:
		return "Readiness"
	case Startup:
		return "Startup"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the three kinds.
func (k Kind) Valid() bool { return k <= Startup }

// FieldName is the container field holding a probe of this kind, for validation paths
// ("livenessProbe", "readinessProbe", "startupProbe"); empty for an invalid kind.
func (k Kind) FieldName() string {
	switch k {
	case Liveness:
		return "livenessProbe"
	case Readiness:
		return "readinessProbe"
	case Startup:
		return "startupProbe"
	}
	return ""
}

// Kills reports whether reaching failureThreshold kills the container (liveness and startup).
func (k Kind) Kills() bool { return k == Liveness || k == Startup }

// RequiresSuccessThresholdOne reports whether the API requires successThreshold 1 for this kind
// (liveness and startup), a rule for the validator.
func (k Kind) RequiresSuccessThresholdOne() bool { return k.Kills() }

// AllowsTerminationGracePeriod reports whether a probe of this kind may set its own
// terminationGracePeriodSeconds (not readiness, which never kills).
func (k Kind) AllowsTerminationGracePeriod() bool { return k.Kills() }

// InitialResult is the result a probe has before its first counted run, and again whenever its
// container is replaced: liveness Success, readiness Failure, startup Unknown.
func (k Kind) InitialResult() Result {
	switch k {
	case Liveness:
		return Success
	case Readiness:
		return Failure
	}
	return Unknown
}

// For returns c's probe of kind k, nil when it has none (or c is nil, or k is invalid).
func For(c *podlife.Container, k Kind) *podlife.Probe {
	if c == nil {
		return nil
	}
	switch k {
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	case Startup:
		return c.StartupProbe
	}
	return nil
}

// Result is a probe's current verdict. The zero value is Unknown.
type Result uint8

// Results, as kubelet's results manager holds them.
const (
	// Unknown is a startup probe that has not decided yet; as an Outcome's result it marks a run
	// that errored on the agent's side and is not counted.
	Unknown Result = iota
	Success
	Failure
)

// String gives "Unknown", "Success" or "Failure".
func (r Result) String() string {
	switch r {
	case Unknown:
		return "Unknown"
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}
