package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/probe"
)

// EventType says what happened. Events are what the caller feeds into Machine.Step: results of
// the actions the machine asked for, things the runtime reports on its own, requests from outside,
// and the passing of time.
type EventType uint8

// Event types. Each names the Event fields it uses.
const (
	// Tick: time passed to At. Deliver one at or after the deadline Ready reported.
	Tick EventType = iota + 1
	// SetupDone: the pod's volumes, secrets and data directory are ready.
	SetupDone
	// SetupFailed: setup could not finish (Message); it is retried on the next sync.
	SetupFailed
	// SandboxReady: the sandbox SandboxID is running with address IP.
	SandboxReady
	// SandboxFailed: creating the sandbox failed (Message, the runtime's words: the machine's
	// event says "Failed to create pod sandbox: " around them); retried with back-off.
	SandboxFailed
	// SandboxLost: the sandbox died; every container is killed and init containers run again.
	SandboxLost
	// ImagePulled: Container's image is present.
	ImagePulled
	// ImagePullFailed: Container's image could not be had; Reason is ErrImagePull,
	// ErrImageNeverPull or InvalidImageName, Message the runtime's words (for ErrImagePull the
	// machine's event says "Failed to pull image %q: " around them, as kubelet's does).
	ImagePullFailed
	// ContainerCreated: Container's instance Attempt was created as ContainerID.
	ContainerCreated
	// ContainerCreateFailed: creating Container failed (Message, the runtime's words); Reason is
	// CreateContainerError or CreateContainerConfigError.
	ContainerCreateFailed
	// ContainerStarted: ContainerID is running since At.
	ContainerStarted
	// ContainerStartFailed: starting ContainerID failed (RunContainerError); it counts as an exit
	// with ExitCode (128 when zero) and reason StartError.
	ContainerStartFailed
	// ContainerExited: ContainerID exited at At with ExitCode, Signal and Reason (Completed,
	// Error, OOMKilled, ...; empty means Completed for 0 and Error otherwise).
	ContainerExited
	// ProbeResult: the Probe of ContainerID ran with Outcome.
	ProbeResult
	// HookResult: the Hook of ContainerID finished with HookOutcome.
	HookResult
	// DeleteRequested: delete the pod with GracePeriodSeconds (nil: the spec's).
	DeleteRequested
	// SpecUpdated: the pod's spec is now Spec (only image changes act, as in kubelet).
	SpecUpdated
	// ContainerUnknown: the runtime reports ContainerID in an unknown state (CRI's
	// CONTAINER_UNKNOWN): it may or may not still run. Kubelet kills such a container before it
	// starts a replacement, a new instance, whatever the restart policy; a regular init container
	// in an unknown state counts as failed.
	ContainerUnknown
)

var eventNames = [...]string{"", "Tick", "SetupDone", "SetupFailed", "SandboxReady", "SandboxFailed",
	"SandboxLost", "ImagePulled", "ImagePullFailed", "ContainerCreated", "ContainerCreateFailed",
	"ContainerStarted", "ContainerStartFailed", "ContainerExited", "ProbeResult", "HookResult",
	"DeleteRequested", "SpecUpdated", "ContainerUnknown"}

func (t EventType) String() string {
	if int(t) < len(eventNames) && t != 0 {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Hook names a lifecycle hook: PostStart or PreStop.
type Hook = hooks.Hook

// The hooks.
const (
	PostStart = hooks.PostStart
	PreStop   = hooks.PreStop
)

// Outcome is the result of running a probe handler.
type Outcome = probe.Outcome

// HookOutcome is the result of running a hook handler; the zero value is a success.
type HookOutcome = hooks.Outcome

// Event is one input to a Machine. At is when it happened; a machine refuses events from before
// the latest time it has seen.
type Event struct {
	Type               EventType
	At                 time.Time
	Container          string
	Attempt            int32
	ContainerID        string
	SandboxID          string
	IP                 string
	ExitCode           int32
	Signal             int32
	Reason             string
	Message            string
	Probe              probe.Kind
	Hook               Hook
	Outcome            Outcome
	HookOutcome        HookOutcome
	GracePeriodSeconds *int64
	Spec               *podlife.PodSpec
}

// String is a one-line, stable rendering used by golden traces.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Type.String())
	add := func(k, v string) { addField(&b, k, v) }
	add("container", e.Container)
	if e.Type == ContainerCreated {
		add("attempt", fmt.Sprint(e.Attempt))
	}
	add("id", e.ContainerID)
	add("sandbox", e.SandboxID)
	add("ip", e.IP)
	if e.Type == ContainerExited || e.Type == ContainerStartFailed {
		add("exit", fmt.Sprint(e.ExitCode))
		if e.Signal != 0 {
			add("signal", fmt.Sprint(e.Signal))
		}
	}
	add("reason", e.Reason)
	if e.Type == ProbeResult {
		add("probe", e.Probe.String())
	}
	if e.Type == HookResult {
		add("hook", e.Hook.String())
	}
	if e.Type == ProbeResult {
		add("result", e.Outcome.Result.String())
	}
	if e.Type == HookResult {
		add("result", e.HookOutcome.Result.String())
	}
	if e.GracePeriodSeconds != nil {
		add("grace", fmt.Sprintf("%ds", *e.GracePeriodSeconds))
	}
	add("message", e.Message)
	return b.String()
}

// addField appends " k=v" to a trace line, leaving out empty values. A value that is not a
// plain token (a message with spaces, an image or a runtime's reason with a control character)
// is quoted, so a trace stays one line of text whatever the spec or the runtime put in it.
func addField(b *strings.Builder, k, v string) {
	if v != "" {
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(quote.Value(v))
	}
}
