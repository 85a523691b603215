package termination

import (
	"errors"
	"fmt"
	"time"
)

// ActionKind is what the caller has to do for a container.
type ActionKind int

// Action kinds. The zero value is not an action.
const (
	// RunPreStop: start the container's preStop hook, and report PreStopDone when it returns.
	RunPreStop ActionKind = iota + 1
	// SendStopSignal: ask the runtime to stop the container with Action.Timeout (CRI
	// StopContainer): it sends the stop signal (SIGTERM, or the image's STOPSIGNAL) now.
	SendStopSignal
	// Kill: the stop timeout ran out; SIGKILL the container unless it has exited (CRI
	// StopContainer with timeout 0; a runtime that enforces the earlier timeout already did).
	Kill
)

// String is the kind's name.
func (k ActionKind) String() string {
	switch k {
	case RunPreStop:
		return "RunPreStop"
	case SendStopSignal:
		return "SendStopSignal"
	case Kill:
		return "Kill"
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// Action is one thing due for one container.
type Action struct {
	Kind      ActionKind
	Container string
	// At is when the action became due; it is before the event's time when the caller ticked late.
	At time.Time
	// Timeout, for SendStopSignal only, is the stop timeout: whole seconds, at least
	// MinimumStopTimeout. SIGKILL is due at At + Timeout, or earlier after a Shorten; a Kill
	// action comes when it is due.
	Timeout time.Duration
}

// String reads "SendStopSignal web timeout=25s".
func (a Action) String() string {
	if a.Kind == SendStopSignal {
		return fmt.Sprintf("%v %s timeout=%v", a.Kind, a.Container, a.Timeout)
	}
	return fmt.Sprintf("%v %s", a.Kind, a.Container)
}

// Errors from the stop machines; test with errors.Is.
var (
	// ErrInvalidGrace: a grace period that is negative, not whole seconds or above MaxGracePeriod.
	ErrInvalidGrace = errors.New("termination: invalid grace period")
	// ErrUnknownContainer: an event names a container that is not part of the stop.
	ErrUnknownContainer = errors.New("termination: unknown container")
	// ErrTimeWentBackwards: an event is earlier than one already seen.
	ErrTimeWentBackwards = errors.New("termination: time went backwards")
	// ErrNoPreStop: PreStopDone for a container whose preStop hook was never started.
	ErrNoPreStop = errors.New("termination: no preStop hook was started")
	// ErrNotStarted: an event on a zero Stop.
	ErrNotStarted = errors.New("termination: stop not started")
)

func validateGrace(g time.Duration) error {
	switch {
	case g < 0:
		return fmt.Errorf("%w: %v is negative", ErrInvalidGrace, g)
	case g > MaxGracePeriod:
		return fmt.Errorf("%w: %v is above MaxGracePeriod", ErrInvalidGrace, g)
	case g%time.Second != 0:
		return fmt.Errorf("%w: %v is not whole seconds", ErrInvalidGrace, g)
	}
	return nil
}
