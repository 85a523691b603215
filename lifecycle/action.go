package lifecycle

import (
	"fmt"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// ActionType says what the caller must do. Each action's result comes back as an Event.
type ActionType uint8

// Action types. Each names the Action fields it uses and the events that answer it.
const (
	// SetupPod: prepare volumes, secrets and the data directory. Answer: SetupDone / SetupFailed.
	SetupPod ActionType = iota + 1
	// RunSandbox: run the pod's sandbox, its Attempt-th. Answer: SandboxReady / SandboxFailed.
	RunSandbox
	// StopSandbox: stop and remove SandboxID. No answer is needed.
	StopSandbox
	// PullImage: make Image present under PullPolicy for Container.
	// Answer: ImagePulled / ImagePullFailed.
	PullImage
	// CreateContainer: create instance Attempt of Container (Spec) in SandboxID.
	// Answer: ContainerCreated / ContainerCreateFailed.
	CreateContainer
	// StartContainer: start ContainerID. Answer: ContainerStarted / ContainerStartFailed.
	StartContainer
	// RunHook: run Hook (Handler) in ContainerID, for at most Timeout (0: no limit).
	// Answer: HookResult.
	RunHook
	// RunProbe: run the Probe (ProbeSpec) of ContainerID, with ProbeSpec's timeout.
	// Answer: ProbeResult.
	RunProbe
	// StopContainer: send the stop signal to ContainerID now and SIGKILL after Timeout, as CRI's
	// StopContainer does. Answer: ContainerExited.
	StopContainer
	// RemoveContainer: remove the exited ContainerID. No answer is needed.
	RemoveContainer
)

var actionNames = [...]string{"", "SetupPod", "RunSandbox", "StopSandbox", "PullImage",
	"CreateContainer", "StartContainer", "RunHook", "RunProbe", "StopContainer", "RemoveContainer"}

func (t ActionType) String() string {
	if int(t) < len(actionNames) && t != 0 {
		return actionNames[t]
	}
	return fmt.Sprintf("ActionType(%d)", uint8(t))
}

// Action is one thing the machine asks the caller to do. Pointers point into the machine's spec:
// read them, don't change them.
type Action struct {
	Type        ActionType
	Container   string
	Attempt     int32
	ContainerID string
	SandboxID   string
	Image       string
	PullPolicy  podlife.PullPolicy
	Spec        *podlife.Container
	Hook        Hook
	Handler     *podlife.LifecycleHandler
	Probe       probe.Kind
	ProbeSpec   *podlife.Probe
	Timeout     time.Duration
	// Reason says why a StopContainer or StopSandbox happens (Killing event text).
	Reason string
}

// String is a one-line, stable rendering used by golden traces.
func (a Action) String() string {
	var b strings.Builder
	b.WriteString(a.Type.String())
	add := func(k, v string) { addField(&b, k, v) }
	add("container", a.Container)
	if a.Type == CreateContainer || a.Type == RunSandbox {
		add("attempt", fmt.Sprint(a.Attempt))
	}
	add("id", a.ContainerID)
	add("sandbox", a.SandboxID)
	add("image", a.Image)
	add("policy", string(a.PullPolicy))
	if a.Type == RunHook {
		add("hook", a.Hook.String())
	}
	if a.Type == RunProbe {
		add("probe", a.Probe.String())
	}
	if a.Timeout != 0 {
		add("timeout", a.Timeout.String())
	}
	add("reason", a.Reason)
	return b.String()
}

// EventKind is Normal or Warning, as Kubernetes events.
type EventKind string

// Event kinds.
const (
	Normal  EventKind = "Normal"
	Warning EventKind = "Warning"
)

// Record is a Kubernetes-style event the machine reports for people to read (Pulled, Created,
// Started, Killing, BackOff, Unhealthy, FailedPostStartHook, ...).
type Record struct {
	At        time.Time
	Kind      EventKind
	Reason    string
	Container string
	Message   string
}

func (r Record) String() string {
	s := string(r.Kind) + " " + quote.Value(r.Reason)
	if r.Container != "" {
		s += " container=" + quote.Value(r.Container)
	}
	if r.Message != "" {
		s += " " + quote.Value(r.Message)
	}
	return s
}

// Ready is what a Machine hands out: actions to perform, records to show, the status to persist
// (nil when unchanged since the last Advance) and the time the machine next wants a Tick (zero
// when it waits only for events).
type Ready struct {
	Actions  []Action
	Records  []Record
	Status   *phase.PodStatus
	Deadline time.Time
}

// IsEmpty reports whether there is nothing to do or persist.
func (r *Ready) IsEmpty() bool {
	return len(r.Actions) == 0 && len(r.Records) == 0 && r.Status == nil
}
