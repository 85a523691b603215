package hooks

import (
	"fmt"
	"strconv"
	"strings"
)

// Result is how one run of a hook handler ended. The zero Result is Success: a handler that
// returned no error.
type Result uint8

// Results.
const (
	Success Result = iota
	Failure
)

// String gives "Success" or "Failure".
func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Outcome is one run of a hook handler, interpreted. The zero Outcome is a success.
type Outcome struct {
	Result Result
	// Message is kubelet's text for a failure (empty on success): it becomes the container's
	// waiting message after a failed postStart. Events do not carry it (see Effect).
	Message string
}

// Failed reports whether the run failed.
func (o Outcome) Failed() bool { return o.Result != Success }

// PodRef names a pod the way kubelet's format.Pod prints it.
type PodRef struct {
	Name, Namespace, UID string
}

// String gives name_namespace(uid).
func (p PodRef) String() string { return fmt.Sprintf("%s_%s(%s)", p.Name, p.Namespace, p.UID) }

// Target is the container a hook ran in, for kubelet's messages.
type Target struct {
	Pod       PodRef
	Container string
}

// SuccessOutcome is a run that returned without error.
func SuccessOutcome() Outcome { return Outcome{} }

// ExecOutcome interprets an exec handler that ran to its end: exit code 0 is success, any other a
// failure with kubelet's message, for example
//
//	Exec lifecycle hook ([sh -c badcommand]) for Container "app" in Pod "web_default(uid)" failed -
//	error: command 'sh -c badcommand' exited with 127: sh: badcommand: not found
//	, message: "sh: badcommand: not found\n"
//
// (one line). The error quotes stderr; the message is stdout followed by stderr, as kubelet's
// RunInContainer joins them. Kubelet gives hook commands no timeout.
func ExecOutcome(t Target, command []string, exitCode int, stdout, stderr string) Outcome {
	if exitCode == 0 {
		return SuccessOutcome()
	}
	err := fmt.Errorf("command '%s' exited with %d: %s", strings.Join(command, " "), exitCode, stderr)
	return ExecRunOutcome(t, command, stdout+stderr, err)
}

// ExecRunOutcome interprets what running an exec handler returned, as kubelet's RunInContainer
// does: output and an error, nil on success. It also covers a command that could not run to its
// end (the runtime refused the exec, the container went away): a failure whose message carries
// err and whatever output came.
func ExecRunOutcome(t Target, command []string, output string, err error) Outcome {
	if err == nil {
		return SuccessOutcome()
	}
	return Outcome{Result: Failure, Message: fmt.Sprintf(
		"Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q",
		command, t.Container, t.Pod, err, output)}
}

// HTTPOutcome interprets an httpGet handler. Only a request that failed (err is not nil: no
// connection, a timeout, a broken response, a port that does not resolve) is a failure. Any
// answer is a success whatever its statusCode, 404 and 500 included: kubelet never looks at the
// status of a lifecycle hook's response (kubernetes/kubernetes#56963), unlike an HTTP probe's.
// path is the handler's path, which the message quotes.
func HTTPOutcome(t Target, path string, statusCode int, err error) Outcome {
	if err == nil {
		return SuccessOutcome()
	}
	return Outcome{Result: Failure, Message: fmt.Sprintf(
		"HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v", path, t.Container, t.Pod, err)}
}

// SleepOutcome interprets a sleep handler of seconds: a success when it slept to the end, a
// failure when the container stopped first (interrupted).
func SleepOutcome(t Target, seconds int64, interrupted bool) Outcome {
	if !interrupted {
		return SuccessOutcome()
	}
	return Outcome{Result: Failure, Message: fmt.Sprintf(
		"Sleep lifecycle hook (%d) for Container %q in Pod %q failed - error: container terminated before sleep hook finished",
		seconds, t.Container, t.Pod)}
}
