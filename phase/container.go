package phase

import (
	"time"

	"github.com/podlife/podlife"
)

// ProbeResults is what a container's startup and readiness probes last said. A field is read only
// when the container has that probe; the zero value is "no success yet", the initial result of
// both probes.
type ProbeResults struct {
	StartupSucceeded   bool
	ReadinessSucceeded bool
}

// Started reports a container's `started` flag: true only while it is Running and, if it has a
// startup probe, after that probe succeeded. Running is reported only once postStart returned, so
// without a startup probe a Running container is started. A nil c has no probes.
func Started(c *podlife.Container, s State, r ProbeResults) bool {
	if s.Running == nil {
		return false
	}
	if c == nil || c.StartupProbe == nil {
		return true
	}
	return r.StartupSucceeded
}

// Ready reports a container's `ready` flag. A regular init container (init true, not a sidecar)
// is ready when it exited 0. App containers and sidecars are ready only when started and, with a
// readiness probe, after its success; never when not Running.
func Ready(c *podlife.Container, init bool, s State, r ProbeResults) bool {
	if init && (c == nil || !c.IsSidecar()) {
		return s.Terminated != nil && s.Terminated.ExitCode == 0
	}
	if !Started(c, s, r) {
		return false
	}
	if c == nil || c.ReadinessProbe == nil {
		return true
	}
	return r.ReadinessSucceeded
}

// InitialWaitingReason is the waiting reason of every container of spec before anything exists:
// PodInitializing when the pod has init containers, ContainerCreating otherwise.
func InitialWaitingReason(spec *podlife.PodSpec) string {
	if spec != nil && len(spec.InitContainers) > 0 {
		return ReasonPodInitializing
	}
	return ReasonContainerCreating
}

// InitialStatuses are the statuses kubelet reports for a pod before any container exists: every
// init and app container Waiting with InitialWaitingReason, not ready, never started.
func InitialStatuses(spec *podlife.PodSpec) (initStatuses, statuses []ContainerStatus) {
	if spec == nil {
		return nil, nil
	}
	reason := InitialWaitingReason(spec)
	mk := func(cs []podlife.Container) []ContainerStatus {
		if len(cs) == 0 {
			return nil
		}
		out := make([]ContainerStatus, len(cs))
		for i := range cs {
			out[i] = ContainerStatus{
				Name:  cs[i].Name,
				Image: cs[i].Image,
				State: State{Waiting: &WaitingState{Reason: reason}},
			}
		}
		return out
	}
	return mk(spec.InitContainers), mk(spec.Containers)
}

// MessageContainerVanished is the message kubelet gives the last state of a container that was
// running and has vanished from the runtime (with or without a deletion; the double space is
// upstream's).
const MessageContainerVanished = "The container could not be located when the pod was deleted.  The container used to be Running"

// MessageContainerNotLocated is the message kubelet gives the Terminated state of a container
// last seen Running that the runtime now reports in an unknown state.
const MessageContainerNotLocated = "The container could not be located when the pod was terminated"

// Vanished is the status of a container last seen Running that the runtime no longer knows:
// Waiting with waitingReason (InitialWaitingReason of the spec), last state Terminated with
// reason ContainerStatusUnknown and exit code 137. Unless the pod is being deleted the container
// will be run again, so its restart count goes up by one. It is not ready and not started.
func Vanished(prev ContainerStatus, waitingReason string, podDeleted bool) ContainerStatus {
	out := prev
	out.State = State{Waiting: &WaitingState{Reason: waitingReason}}
	out.LastTerminationState = State{Terminated: &TerminatedState{
		ExitCode: ExitCodeStatusUnknown,
		Reason:   ReasonContainerStatusUnknown,
		Message:  MessageContainerVanished,
	}}
	out.Ready = false
	out.Started = boolPtr(false)
	if !podDeleted {
		out.RestartCount++
	}
	return out
}

// Exited is the status right after the container's current instance ended with t: Terminated,
// not ready, not started. The restart that follows a first crash is immediate, so the status
// stays Terminated until the next instance runs; see BackingOff for later crashes.
func Exited(prev ContainerStatus, t TerminatedState) ContainerStatus {
	out := prev
	out.State = State{Terminated: &t}
	out.Ready = false
	out.Started = boolPtr(false)
	return out
}

// BackingOff is the status of an exited container waiting out its crash-loop back-off (every
// crash from the second on): Waiting CrashLoopBackOff, its last instance's end as last state.
// A status that is not Terminated is returned unchanged.
func BackingOff(prev ContainerStatus, message string) ContainerStatus {
	if prev.State.Terminated == nil {
		return prev
	}
	out := prev
	out.LastTerminationState = State{Terminated: prev.State.Terminated}
	out.State = State{Waiting: &WaitingState{Reason: ReasonCrashLoopBackOff, Message: message}}
	return out
}

// RunningAgain is the status once instance number attempt (0 for the first) of the container
// runs: Running since startedAt, the previous instance's end as last state when it was
// Terminated, restartCount = attempt (the runtime's attempt number counts the restarts in this
// pod). started and ready start false: apply Started and Ready once probes and hooks allow.
func RunningAgain(prev ContainerStatus, startedAt time.Time, attempt int32) ContainerStatus {
	out := prev
	if prev.State.Terminated != nil {
		out.LastTerminationState = State{Terminated: prev.State.Terminated}
	}
	out.State = State{Running: &RunningState{StartedAt: startedAt}}
	out.RestartCount = attempt
	out.Ready = false
	out.Started = boolPtr(false)
	return out
}

func boolPtr(b bool) *bool { return &b }
