package phase

import "time"

// Phase is a pod's phase.
type Phase string

// Pod phases. Succeeded and Failed are terminal. Unknown is never computed from container
// statuses: it is set from outside when a node's agent is lost (see the lifecycle package).
const (
	Pending   Phase = "Pending"
	Running   Phase = "Running"
	Succeeded Phase = "Succeeded"
	Failed    Phase = "Failed"
	Unknown   Phase = "Unknown"
)

// IsTerminal reports whether p is Succeeded or Failed, the phases no event leaves.
func (p Phase) IsTerminal() bool { return p == Succeeded || p == Failed }

// Waiting reasons, as kubelet reports them.
const (
	ReasonContainerCreating          = "ContainerCreating"
	ReasonPodInitializing            = "PodInitializing"
	ReasonCrashLoopBackOff           = "CrashLoopBackOff"
	ReasonErrImagePull               = "ErrImagePull"
	ReasonImagePullBackOff           = "ImagePullBackOff"
	ReasonErrImageNeverPull          = "ErrImageNeverPull"
	ReasonInvalidImageName           = "InvalidImageName"
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	ReasonCreateContainerError       = "CreateContainerError"
	ReasonRunContainerError          = "RunContainerError"
	ReasonPostStartHookError         = "PostStartHookError"
	ReasonRestartingAllContainers    = "RestartingAllContainers"
)

// Terminated reasons, as the runtime or kubelet reports them.
const (
	ReasonCompleted              = "Completed"
	ReasonError                  = "Error"
	ReasonOOMKilled              = "OOMKilled"
	ReasonStartError             = "StartError"
	ReasonContainerCannotRun     = "ContainerCannotRun"
	ReasonContainerStatusUnknown = "ContainerStatusUnknown"
)

// ExitCodeStatusUnknown is the exit code kubelet records for a container that vanished.
const ExitCodeStatusUnknown int32 = 137

// State is a container's state: exactly one field is set, or none when nothing is known.
type State struct {
	Waiting    *WaitingState    `json:"waiting,omitempty"`
	Running    *RunningState    `json:"running,omitempty"`
	Terminated *TerminatedState `json:"terminated,omitempty"`
}

// IsZero reports whether no state is set.
func (s State) IsZero() bool { return s.Waiting == nil && s.Running == nil && s.Terminated == nil }

// WaitingState is a container that is not running yet, or not again. An empty Reason is a container
// that is created but not started.
type WaitingState struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// RunningState is a started container.
type RunningState struct {
	StartedAt time.Time `json:"startedAt"`
}

// TerminatedState is a container that exited.
type TerminatedState struct {
	ExitCode    int32     `json:"exitCode"`
	Signal      int32     `json:"signal,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Message     string    `json:"message,omitempty"`
	StartedAt   time.Time `json:"startedAt"`
	FinishedAt  time.Time `json:"finishedAt"`
	ContainerID string    `json:"containerID,omitempty"`
}

// ContainerStatus is what is known of one container of a pod.
type ContainerStatus struct {
	Name string `json:"name"`
	// State is the current state; LastTerminationState the previous instance's end.
	State                State `json:"state"`
	LastTerminationState State `json:"lastState"`
	// Ready is only ever true while Running and Started.
	Ready bool `json:"ready"`
	// Started is nil before the container ever ran, as in the API.
	Started      *bool  `json:"started,omitempty"`
	RestartCount int32  `json:"restartCount"`
	Image        string `json:"image"`
	ContainerID  string `json:"containerID,omitempty"`
}

// IsStarted reports whether Started is set and true.
func (s *ContainerStatus) IsStarted() bool { return s.Started != nil && *s.Started }

// ConditionType names a pod condition.
type ConditionType string

// Pod condition types.
const (
	PodScheduled              ConditionType = "PodScheduled"
	PodReadyToStartContainers ConditionType = "PodReadyToStartContainers"
	PodInitialized            ConditionType = "Initialized"
	ContainersReady           ConditionType = "ContainersReady"
	PodReady                  ConditionType = "Ready"
	DisruptionTarget          ConditionType = "DisruptionTarget"
	AllContainersRestarting   ConditionType = "AllContainersRestarting"
)

// ConditionStatus is True, False or Unknown.
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is one pod condition.
type Condition struct {
	Type               ConditionType   `json:"type"`
	Status             ConditionStatus `json:"status"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
	LastTransitionTime time.Time       `json:"lastTransitionTime"`
}

// PodStatus is a pod's observed status.
type PodStatus struct {
	Phase                 Phase             `json:"phase"`
	Conditions            []Condition       `json:"conditions,omitempty"`
	Reason                string            `json:"reason,omitempty"`
	Message               string            `json:"message,omitempty"`
	PodIP                 string            `json:"podIP,omitempty"`
	StartTime             time.Time         `json:"startTime"`
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	ContainerStatuses     []ContainerStatus `json:"containerStatuses,omitempty"`
}
