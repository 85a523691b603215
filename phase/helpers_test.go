package phase_test

import (
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// t0 is the fixed instant tests measure from.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func policy(p podlife.RestartPolicy) *podlife.RestartPolicy { return &p }

func app(name string) podlife.Container { return podlife.Container{Name: name, Image: "busybox"} }

func sidecar(name string) podlife.Container {
	c := app(name)
	c.RestartPolicy = policy(podlife.RestartAlways)
	return c
}

// withPolicy gives c its own container-level restart policy and rules.
func withPolicy(c podlife.Container, p podlife.RestartPolicy, rules ...podlife.RestartRule) podlife.Container {
	c.RestartPolicy = policy(p)
	c.RestartPolicyRules = rules
	return c
}

func ruleOn(action podlife.RestartRuleAction, codes ...int32) podlife.RestartRule {
	return podlife.RestartRule{Action: action, ExitCodes: &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn, Values: codes}}
}

func spec(p podlife.RestartPolicy, inits []podlife.Container, apps ...podlife.Container) *podlife.PodSpec {
	return &podlife.PodSpec{RestartPolicy: p, InitContainers: inits, Containers: apps}
}

func inits(cs ...podlife.Container) []podlife.Container { return cs }

func statuses(cs ...phase.ContainerStatus) []phase.ContainerStatus { return cs }

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// Container status builders, one per state the rules talk about.

func noState(name string) phase.ContainerStatus { return phase.ContainerStatus{Name: name} }

func running(name string) phase.ContainerStatus {
	return phase.ContainerStatus{Name: name, State: phase.State{Running: &phase.RunningState{StartedAt: t0}}}
}

func startedRunning(name string) phase.ContainerStatus {
	s := running(name)
	s.Started = yes()
	return s
}

func readyRunning(name string) phase.ContainerStatus {
	s := startedRunning(name)
	s.Ready = true
	return s
}

func waiting(name, reason string) phase.ContainerStatus {
	return phase.ContainerStatus{Name: name, State: phase.State{Waiting: &phase.WaitingState{Reason: reason}}}
}

// waitingAfter is a container waiting to run again after an exit with code.
func waitingAfter(name string, code int32) phase.ContainerStatus {
	s := waiting(name, phase.ReasonCrashLoopBackOff)
	s.LastTerminationState = phase.State{Terminated: &phase.TerminatedState{ExitCode: code, FinishedAt: t0}}
	return s
}

func exited(name string, code int32) phase.ContainerStatus {
	reason := phase.ReasonCompleted
	if code != 0 {
		reason = phase.ReasonError
	}
	return exitedWith(name, code, reason)
}

func exitedWith(name string, code int32, reason string) phase.ContainerStatus {
	return phase.ContainerStatus{Name: name, State: phase.State{Terminated: &phase.TerminatedState{ExitCode: code, Reason: reason, FinishedAt: t0}}}
}

func ready(s phase.ContainerStatus) phase.ContainerStatus {
	s.Ready = true
	return s
}

func restarted(s phase.ContainerStatus, count int32, lastFinished time.Time) phase.ContainerStatus {
	s.RestartCount = count
	s.LastTerminationState = phase.State{Terminated: &phase.TerminatedState{ExitCode: 1, Reason: phase.ReasonError, FinishedAt: lastFinished}}
	return s
}
