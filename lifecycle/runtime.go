package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
)

// Runtime is the CRI-shaped subset of a container runtime a pod needs. The Agent calls it from
// several goroutines at once; every method must be safe for concurrent use and return when ctx
// ends. Errors should wrap one of the Err* values below so the agent can show the waiting reason
// kubelet would (see WaitingReason).
//
// The reference implementations are lifecycle/simruntime (simulated, virtual time) and the
// containerd adapter (CRI v1).
type Runtime interface {
	// RunSandbox runs the pod's attempt-th sandbox and returns it once it is ready.
	RunSandbox(ctx context.Context, pod PodRef, spec *podlife.PodSpec, attempt int32) (Sandbox, error)
	// StopSandbox stops and removes a sandbox and whatever still runs in it. It is idempotent:
	// an unknown sandbox is not an error.
	StopSandbox(ctx context.Context, sandboxID string) error
	// PullImage makes the request's image present on the node under its policy: IfNotPresent and
	// Never look first; Never with a missing image returns an error wrapping
	// restart.ErrImageNeverPull.
	PullImage(ctx context.Context, req PullRequest) error
	// CreateContainer creates instance attempt of c in the sandbox and returns its ID. A
	// container with the same pod, name and attempt that already exists is returned, not
	// created twice.
	CreateContainer(ctx context.Context, sandboxID string, pod PodRef, c *podlife.Container, attempt int32) (string, error)
	// StartContainer starts a created container.
	StartContainer(ctx context.Context, containerID string) error
	// StopContainer sends the container's stop signal now and SIGKILL when timeout has passed,
	// and returns once the container exited. A container that already exited is not an error.
	StopContainer(ctx context.Context, containerID string, timeout time.Duration) error
	// RemoveContainer removes an exited container; it is idempotent.
	RemoveContainer(ctx context.Context, containerID string) error
	// RunHook runs a postStart or preStop handler for target and reports how it went. ctx ends
	// when the hook's time is up.
	RunHook(ctx context.Context, target Target, hook Hook, h *podlife.LifecycleHandler) HookOutcome
	// RunProbe runs one probe of target and reports its outcome; the probe's timeoutSeconds is
	// already applied to ctx.
	RunProbe(ctx context.Context, target Target, kind probe.Kind, p *podlife.Probe) Outcome
	// ListSandboxes lists every sandbox the runtime has, for recovery.
	ListSandboxes(ctx context.Context) ([]SandboxInfo, error)
	// ListContainers lists every container the runtime has, for recovery.
	ListContainers(ctx context.Context) ([]ContainerInfo, error)
	// Events streams what the runtime notices on its own: container exits (each at least once),
	// containers in an unknown state and lost sandboxes. The channel is closed when ctx ends. A runtime without an event
	// stream relists behind this method.
	Events(ctx context.Context) (<-chan RuntimeEvent, error)
}

// PullRequest is one image pull: the image and its pull policy, and the pod, sandbox and
// container it is for. CRI's PullImageRequest carries the pod's sandbox config, so a runtime can
// use the pod's identity (credentials, a simulated runtime's per-container scripts); most
// runtimes need only Image and Policy.
type PullRequest struct {
	Image     string
	Policy    podlife.PullPolicy
	Pod       PodRef
	SandboxID string
	Container string
}

// Sandbox is a ready pod sandbox.
type Sandbox struct {
	ID string
	IP string
}

// Target is the container a hook or probe runs against.
type Target struct {
	Pod         PodRef
	SandboxID   string
	PodIP       string
	Container   *podlife.Container
	ContainerID string
}

// ContainerState is a container's state as the runtime reports it (CRI's ContainerState).
type ContainerState uint8

// Container states.
const (
	ContainerStateUnknown ContainerState = iota
	ContainerStateCreated
	ContainerStateRunning
	ContainerStateExited
)

func (s ContainerState) String() string {
	switch s {
	case ContainerStateCreated:
		return "Created"
	case ContainerStateRunning:
		return "Running"
	case ContainerStateExited:
		return "Exited"
	}
	return "Unknown"
}

// ContainerInfo is one container as the runtime knows it.
type ContainerInfo struct {
	ID         string
	SandboxID  string
	Pod        PodRef
	Name       string
	Attempt    int32
	State      ContainerState
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	Signal     int32
	// Reason is the runtime's reason for an exit: Completed, Error, OOMKilled, ...
	Reason  string
	Message string
}

// SandboxInfo is one sandbox as the runtime knows it.
type SandboxInfo struct {
	ID      string
	Pod     PodRef
	Attempt int32
	IP      string
	Ready   bool
}

// RuntimeEventType says what a RuntimeEvent reports.
type RuntimeEventType uint8

// Runtime event types.
const (
	// RuntimeContainerExited: Container exited; its exit fields are set.
	RuntimeContainerExited RuntimeEventType = iota + 1
	// RuntimeSandboxLost: Sandbox is no longer ready.
	RuntimeSandboxLost
	// RuntimeContainerUnknown: Container is in an unknown state (CRI's CONTAINER_UNKNOWN); the
	// machine kills it before it starts a replacement (see ContainerUnknown).
	RuntimeContainerUnknown
)

// RuntimeEvent is something the runtime noticed on its own.
type RuntimeEvent struct {
	Type      RuntimeEventType
	Container ContainerInfo
	Sandbox   SandboxInfo
}

// Errors a Runtime wraps so that the agent shows the waiting reason kubelet shows. Test with
// errors.Is; WaitingReason maps them.
var (
	// ErrImagePull: the image could not be pulled (waiting reason ErrImagePull, then
	// ImagePullBackOff).
	ErrImagePull = errors.New("ErrImagePull")
	// ErrImageNeverPull is restart.ErrImageNeverPull: pull policy Never and the image is missing.
	ErrImageNeverPull = restart.ErrImageNeverPull
	// ErrInvalidImageName: the image reference does not parse.
	ErrInvalidImageName = errors.New("InvalidImageName")
	// ErrCreateContainerConfig: the container's configuration cannot be had yet (a missing
	// secret or config map in its environment).
	ErrCreateContainerConfig = errors.New("CreateContainerConfigError")
	// ErrCreateContainer: the runtime failed to create the container.
	ErrCreateContainer = errors.New("CreateContainerError")
	// ErrRunContainer: the runtime failed to start the container.
	ErrRunContainer = errors.New("RunContainerError")
	// ErrRuntimeUnavailable: the runtime cannot be reached.
	ErrRuntimeUnavailable = errors.New("container runtime unavailable")
	// ErrNotFound: the runtime has no such container or sandbox.
	ErrNotFound = errors.New("not found")
)

// WaitingReason is the container waiting reason kubelet shows for an error from op: the reason
// of the Err* value err wraps, or op's generic reason (ErrImagePull for a pull,
// CreateContainerError for a create, RunContainerError for a start).
func WaitingReason(op ActionType, err error) string {
	for _, e := range []error{ErrImagePull, ErrImageNeverPull, ErrInvalidImageName, ErrCreateContainerConfig, ErrCreateContainer, ErrRunContainer} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	switch op {
	case PullImage:
		return phase.ReasonErrImagePull
	case CreateContainer:
		return phase.ReasonCreateContainerError
	}
	return phase.ReasonRunContainerError
}

// FailureMessage is a runtime's own words for a failure: err's text without the RuntimeError
// frame (the method and object) and without the leading kind that WaitingReason reads
// ("ErrImagePull: "). It is what kubelet shows of a runtime error in a waiting message and
// inside its event texts ("Failed to pull image %q: <it>"), so the Agent puts it in the events it
// makes of failed calls.
func FailureMessage(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var re *RuntimeError
	if errors.As(err, &re) && re.Err != nil {
		msg = re.Err.Error()
	}
	for _, e := range []error{ErrImagePull, ErrImageNeverPull, ErrInvalidImageName, ErrCreateContainerConfig, ErrCreateContainer, ErrRunContainer} {
		if errors.Is(err, e) {
			msg = strings.TrimPrefix(msg, e.Error()+": ")
		}
	}
	return msg
}

// RuntimeError is a Runtime failure with the operation and object it concerns.
type RuntimeError struct {
	Op  string // the Runtime method, e.g. "PullImage"
	ID  string // the image, container or sandbox
	Err error
}

func (e *RuntimeError) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.ID, e.Err) }
func (e *RuntimeError) Unwrap() error { return e.Err }

// PodSetup prepares what a pod needs before its sandbox: the data directory, volumes, secrets
// and config maps. The machine only sees SetupDone or SetupFailed; a nil PodSetup in the agent's
// config means there is nothing to prepare.
type PodSetup interface {
	Setup(ctx context.Context, pod PodRef, spec *podlife.PodSpec) error
	// Teardown releases what Setup made once the pod is stopped; it is idempotent.
	Teardown(ctx context.Context, pod PodRef) error
}
