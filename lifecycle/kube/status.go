package kube

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife/phase"
)

// ToPodStatus gives podlife's status the shape kubelet writes to the API: phase, conditions,
// reason and message, pod IP (also as podIPs), start time and every container status with its
// state, last state, ready, started, restart count, image and container ID. Zero times are left
// unset (nil startTime, null in JSON), as the API does. Fields podlife does not track (hostIP,
// qosClass, imageID, resources, ...) are left empty.
func ToPodStatus(s phase.PodStatus) v1.PodStatus {
	out := v1.PodStatus{
		Phase:                 v1.PodPhase(s.Phase),
		Conditions:            mapSlice(s.Conditions, toCondition),
		Reason:                s.Reason,
		Message:               s.Message,
		PodIP:                 s.PodIP,
		StartTime:             timePtr(s.StartTime),
		InitContainerStatuses: mapSlice(s.InitContainerStatuses, toContainerStatus),
		ContainerStatuses:     mapSlice(s.ContainerStatuses, toContainerStatus),
	}
	if s.PodIP != "" {
		out.PodIPs = []v1.PodIP{{IP: s.PodIP}}
	}
	return out
}

func toCondition(c phase.Condition) v1.PodCondition {
	return v1.PodCondition{
		Type:               v1.PodConditionType(c.Type),
		Status:             v1.ConditionStatus(c.Status),
		Reason:             c.Reason,
		Message:            c.Message,
		LastTransitionTime: metav1.NewTime(c.LastTransitionTime),
	}
}

func toContainerStatus(s phase.ContainerStatus) v1.ContainerStatus {
	return v1.ContainerStatus{
		Name:                 s.Name,
		State:                toState(s.State),
		LastTerminationState: toState(s.LastTerminationState),
		Ready:                s.Ready,
		RestartCount:         s.RestartCount,
		Image:                s.Image,
		ContainerID:          s.ContainerID,
		Started:              clonePtr(s.Started),
	}
}

func toState(s phase.State) v1.ContainerState {
	var out v1.ContainerState
	if w := s.Waiting; w != nil {
		out.Waiting = &v1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
	}
	if r := s.Running; r != nil {
		out.Running = &v1.ContainerStateRunning{StartedAt: metav1.NewTime(r.StartedAt)}
	}
	if t := s.Terminated; t != nil {
		out.Terminated = &v1.ContainerStateTerminated{
			ExitCode:    t.ExitCode,
			Signal:      t.Signal,
			Reason:      t.Reason,
			Message:     t.Message,
			StartedAt:   metav1.NewTime(t.StartedAt),
			FinishedAt:  metav1.NewTime(t.FinishedAt),
			ContainerID: t.ContainerID,
		}
	}
	return out
}

func timePtr(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t)
	return &mt
}

// FromPodStatus reads a v1.PodStatus (from the API, or one ToPodStatus made) into podlife's
// status, the inverse of ToPodStatus: FromPodStatus(ToPodStatus(s)) equals s. It reads the fields
// podlife models and ignores the rest, which are kubelet's and the scheduler's bookkeeping, not
// lifecycle. When podIP is empty the first of podIPs is used. Values podlife cannot hold are
// errors with their paths under "status", all at once: an unknown phase or condition status, a
// condition without a type, a container state with more than one of waiting, running and
// terminated.
func FromPodStatus(s v1.PodStatus) (phase.PodStatus, error) {
	p := field.NewPath("status")
	var errs field.ErrorList
	out := phase.PodStatus{
		Phase:   phase.Phase(s.Phase),
		Reason:  s.Reason,
		Message: s.Message,
		PodIP:   s.PodIP,
	}
	switch out.Phase {
	case "", phase.Pending, phase.Running, phase.Succeeded, phase.Failed, phase.Unknown:
	default:
		errs = append(errs, field.NotSupported(p.Child("phase"), s.Phase,
			[]v1.PodPhase{v1.PodPending, v1.PodRunning, v1.PodSucceeded, v1.PodFailed, v1.PodUnknown}))
	}
	if out.PodIP == "" && len(s.PodIPs) > 0 {
		out.PodIP = s.PodIPs[0].IP
	}
	if s.StartTime != nil {
		out.StartTime = s.StartTime.Time
	}
	if s.Conditions != nil {
		out.Conditions = make([]phase.Condition, len(s.Conditions))
		for i, c := range s.Conditions {
			cp := p.Child("conditions").Index(i)
			if c.Type == "" {
				errs = append(errs, field.Required(cp.Child("type"), ""))
			}
			switch c.Status {
			case v1.ConditionTrue, v1.ConditionFalse, v1.ConditionUnknown:
			default:
				errs = append(errs, field.NotSupported(cp.Child("status"), c.Status,
					[]v1.ConditionStatus{v1.ConditionTrue, v1.ConditionFalse, v1.ConditionUnknown}))
			}
			out.Conditions[i] = phase.Condition{
				Type:               phase.ConditionType(c.Type),
				Status:             phase.ConditionStatus(c.Status),
				Reason:             c.Reason,
				Message:            c.Message,
				LastTransitionTime: c.LastTransitionTime.Time,
			}
		}
	}
	out.InitContainerStatuses = fromContainerStatuses(s.InitContainerStatuses, p.Child("initContainerStatuses"), &errs)
	out.ContainerStatuses = fromContainerStatuses(s.ContainerStatuses, p.Child("containerStatuses"), &errs)
	if len(errs) > 0 {
		return out, fmt.Errorf("kube: reading the pod status: %w", errs.ToAggregate())
	}
	return out, nil
}

func fromContainerStatuses(in []v1.ContainerStatus, p *field.Path, errs *field.ErrorList) []phase.ContainerStatus {
	if in == nil {
		return nil
	}
	out := make([]phase.ContainerStatus, len(in))
	for i, s := range in {
		cp := p.Index(i)
		if s.Name == "" {
			*errs = append(*errs, field.Required(cp.Child("name"), ""))
		}
		out[i] = phase.ContainerStatus{
			Name:                 s.Name,
			State:                fromState(s.State, cp.Child("state"), errs),
			LastTerminationState: fromState(s.LastTerminationState, cp.Child("lastState"), errs),
			Ready:                s.Ready,
			Started:              clonePtr(s.Started),
			RestartCount:         s.RestartCount,
			Image:                s.Image,
			ContainerID:          s.ContainerID,
		}
	}
	return out
}

func fromState(s v1.ContainerState, p *field.Path, errs *field.ErrorList) phase.State {
	var out phase.State
	n := 0
	if w := s.Waiting; w != nil {
		n++
		out.Waiting = &phase.WaitingState{Reason: w.Reason, Message: w.Message}
	}
	if r := s.Running; r != nil {
		n++
		out.Running = &phase.RunningState{StartedAt: r.StartedAt.Time}
	}
	if t := s.Terminated; t != nil {
		n++
		out.Terminated = &phase.TerminatedState{
			ExitCode:    t.ExitCode,
			Signal:      t.Signal,
			Reason:      t.Reason,
			Message:     t.Message,
			StartedAt:   t.StartedAt.Time,
			FinishedAt:  t.FinishedAt.Time,
			ContainerID: t.ContainerID,
		}
	}
	if n > 1 {
		*errs = append(*errs, field.Invalid(p, n, "may have only one of waiting, running and terminated"))
	}
	return out
}
