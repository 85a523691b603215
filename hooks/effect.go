package hooks

import (
	"fmt"
	"strconv"

	"github.com/podlife/podlife/phase"
)

// Hook names a lifecycle hook. The zero Hook is none: it has no effect.
type Hook uint8

// Hooks.
const (
	PostStart Hook = iota + 1
	PreStop
)

// String gives "PostStart" or "PreStop".
func (h Hook) String() string {
	switch h {
	case PostStart:
		return "PostStart"
	case PreStop:
		return "PreStop"
	}
	return "Hook(" + strconv.Itoa(int(h)) + ")"
}

// Event types and the reasons and messages of the events kubelet records about hooks
// (pkg/kubelet/events). Since Kubernetes 1.26 a failed hook's event carries a fixed message, so
// that secrets in the handler's output do not leak into events; the detail is in the waiting
// message and kubelet's log.
const (
	EventTypeNormal  = "Normal"
	EventTypeWarning = "Warning"

	ReasonFailedPostStartHook   = "FailedPostStartHook"
	ReasonFailedPreStopHook     = "FailedPreStopHook"
	ReasonKilling               = "Killing"
	ReasonLifecycleHTTPFallback = "LifecycleHTTPFallback"

	MessagePostStartHookFailed = "PostStartHook failed"
	MessagePreStopHookFailed   = "PreStopHook failed"
	// KillMessageFailedPostStartHook is the message of the Killing event for the stop that
	// follows a failed postStart.
	KillMessageFailedPostStartHook = "FailedPostStartHook"
)

// Event is one event kubelet records. The zero Event is none.
type Event struct {
	Type, Reason, Message string
}

// IsZero reports whether e is no event.
func (e Event) IsZero() bool { return e == Event{} }

// Effect is what the outcome of a hook means for its container.
type Effect struct {
	// Event is the event recorded about the run; none for a success.
	Event Event
	// Running: postStart returned successfully, so the container may now be reported Running
	// (and started, unless a startup probe has yet to succeed).
	Running bool
	// Kill: postStart failed, so kubelet stops the container at once, as any stop it starts: the
	// preStop hook runs when the grace period is above 0, the grace is the pod's
	// terminationGracePeriodSeconds (the deletion's if the pod is being deleted), then the stop
	// signal with a 2 s floor (see package termination). The container then exits and restarts as
	// restart.Decide says for its exit code, with crash-loop back-off.
	Kill bool
	// KillEvent is the Normal event Killing of that stop.
	KillEvent Event
	// WaitingReason and WaitingMessage are what the container's status shows after a failed
	// postStart while it waits to restart (PostStartHookError and the outcome's message); a
	// container that will not restart shows its Terminated state instead, and the next sync's
	// reason (CrashLoopBackOff while in back-off) replaces them.
	WaitingReason, WaitingMessage string
}

// EffectOf is what kubelet does after hook h ended with o:
//   - PostStart success: the container is Running;
//   - PostStart failure: Warning FailedPostStartHook "PostStartHook failed", the container is
//     killed (Killing "FailedPostStartHook", preStop runs, grace applies), waiting reason
//     PostStartHookError with o's message, restart per policy;
//   - PreStop success: nothing; the stop goes on;
//   - PreStop failure: Warning FailedPreStopHook "PreStopHook failed" only; the stop goes on as
//     if it had succeeded.
//
// An unknown h has no effect.
func EffectOf(h Hook, o Outcome) Effect {
	switch {
	case h == PostStart && !o.Failed():
		return Effect{Running: true}
	case h == PostStart:
		return Effect{
			Event:          Event{Type: EventTypeWarning, Reason: ReasonFailedPostStartHook, Message: MessagePostStartHookFailed},
			Kill:           true,
			KillEvent:      Event{Type: EventTypeNormal, Reason: ReasonKilling, Message: KillMessageFailedPostStartHook},
			WaitingReason:  phase.ReasonPostStartHookError,
			WaitingMessage: o.Message,
		}
	case h == PreStop && o.Failed():
		return Effect{Event: Event{Type: EventTypeWarning, Reason: ReasonFailedPreStopHook, Message: MessagePreStopHookFailed}}
	}
	return Effect{}
}

// HTTPFallbackEvent is the Warning event kubelet records on the pod when an httpGet hook with
// scheme HTTPS got a plain HTTP answer and the retry over HTTP succeeded (the run is then a
// success). hostPort is the request's host and port.
func HTTPFallbackEvent(hostPort string) Event {
	return Event{Type: EventTypeWarning, Reason: ReasonLifecycleHTTPFallback,
		Message: fmt.Sprintf("request to HTTPS lifecycle hook %s got HTTP response, retry with HTTP succeeded", hostPort)}
}
