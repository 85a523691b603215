package probe

import "strconv"

// MaxOutputBytes is how much of an exec probe's output or an HTTP probe's body kubelet keeps for
// the message (10 KiB); the rest is dropped without failing the run.
const MaxOutputBytes = 10 << 10

// Event reasons kubelet records for probe runs (always of type Warning).
const (
	ReasonUnhealthy    = "Unhealthy"
	ReasonProbeWarning = "ProbeWarning"
)

// Outcome is one run of a probe handler, interpreted. The zero Outcome is a run that errored on
// the agent's side: it is not counted.
type Outcome struct {
	// Result is Success or Failure for a run that counts, and Unknown for a run that errored on
	// the agent's side (for example an unknown named port), which kubelet throws away.
	Result Result
	// Warning marks a success that still gets a ProbeWarning event (an HTTP redirect that was not
	// followed).
	Warning bool
	// Message is the text for the event: the output or body on success, the reason on failure,
	// the error when not counted.
	Message string
}

// Counted reports whether the run moves the tracker (Success or Failure).
func (o Outcome) Counted() bool { return o.Result == Success || o.Result == Failure }

// Event is the event kubelet records for this run of a probe of kind k, as reason and message;
// both are empty for a plain success, which records nothing.
func (o Outcome) Event(k Kind) (reason, message string) {
	switch {
	case o.Result == Failure:
		return ReasonUnhealthy, k.String() + " probe failed: " + o.Message
	case o.Result == Success && o.Warning:
		return ReasonProbeWarning, k.String() + " probe warning: " + o.Message
	case o.Result == Success:
		return "", ""
	}
	return ReasonUnhealthy, k.String() + " probe errored and resulted in unknown state: " + o.Message
}

// SuccessOutcome is a counted success with message.
func SuccessOutcome(message string) Outcome { return Outcome{Result: Success, Message: message} }

// FailureOutcome is a counted failure with message, for example a dial or transport error of an
// HTTP or gRPC probe (kubelet turns those into failures so that timeouts count).
func FailureOutcome(message string) Outcome { return Outcome{Result: Failure, Message: message} }

// ErrorOutcome is a run that errored on the agent's side (a named port that does not resolve,
// an exec that could not be started, an HTTP body that could not be read): it is not counted.
// A nil err gives the message "probe error".
func ErrorOutcome(err error) Outcome {
	msg := "probe error"
	if err != nil {
		msg = err.Error()
	}
	return Outcome{Result: Unknown, Message: msg}
}

// ExecOutcome interprets an exec probe: exit code 0 is success, any other code a failure, and a
// command that ran past timeoutSeconds a failure (kubelet's ExecProbeTimeout behaviour). output is
// the combined stdout and stderr, cut to MaxOutputBytes.
func ExecOutcome(exitCode int, timedOut bool, output string) Outcome {
	switch {
	case timedOut:
		return FailureOutcome("command timed out")
	case exitCode == 0:
		return SuccessOutcome(truncate(output))
	}
	return FailureOutcome(truncate(output))
}

// TCPOutcome interprets a TCP probe: a nil dial error is success, any error a failure with its
// text (timeouts included).
func TCPOutcome(dialErr error) Outcome {
	if dialErr == nil {
		return SuccessOutcome("")
	}
	return FailureOutcome(dialErr.Error())
}

// GRPCServing is the only health status a gRPC probe accepts.
const GRPCServing = "SERVING"

// GRPCOutcome interprets the status a grpc.health.v1 Check returned: SERVING is success, anything
// else (NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN, ...) a failure. A failed dial or RPC is also a
// failure: build it with FailureOutcome.
func GRPCOutcome(status string) Outcome {
	if status == GRPCServing {
		return SuccessOutcome("service healthy")
	}
	return FailureOutcome("service unhealthy (responded with " + strconv.Quote(status) + ")")
}

func truncate(s string) string {
	if len(s) > MaxOutputBytes {
		return s[:MaxOutputBytes]
	}
	return s
}
