package phase_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// A pod with a sidecar whose app container crashed once and runs again.
func ExampleCompute() {
	always := podlife.RestartAlways
	spec := &podlife.PodSpec{
		InitContainers: []podlife.Container{{Name: "proxy", Image: "envoy", RestartPolicy: &always}},
		Containers:     []podlife.Container{{Name: "web", Image: "nginx"}},
	}
	started := true
	initStatuses := []phase.ContainerStatus{{Name: "proxy", Started: &started, State: phase.State{Running: &phase.RunningState{}}}}
	statuses := []phase.ContainerStatus{{Name: "web", State: phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonCrashLoopBackOff}},
		LastTerminationState: phase.State{Terminated: &phase.TerminatedState{ExitCode: 1}}}}

	fmt.Println(phase.Compute(spec, initStatuses, statuses, false))
	// The pod is deleted and everything stopped: exit codes decide, even under Always.
	initStatuses[0].State = phase.State{Terminated: &phase.TerminatedState{ExitCode: 0}}
	statuses[0].State = phase.State{Terminated: &phase.TerminatedState{ExitCode: 0}}
	fmt.Println(phase.Compute(spec, initStatuses, statuses, true))
	// Output:
	// Running
	// Succeeded
}

func ExampleConditions() {
	spec := &podlife.PodSpec{Containers: []podlife.Container{{Name: "web"}}, ReadinessGates: []string{"example.com/lb"}}
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	web := phase.ContainerStatus{Name: "web", Ready: true, State: phase.State{Running: &phase.RunningState{StartedAt: start}}}
	in := phase.ConditionInput{Spec: spec, Statuses: []phase.ContainerStatus{web}, Phase: phase.Running, SandboxReady: true}

	conds := phase.Conditions(in, nil, start)
	in.ReadinessGates = map[string]phase.ConditionStatus{"example.com/lb": phase.ConditionTrue}
	conds = phase.Conditions(in, conds, start.Add(time.Minute))
	for _, c := range conds {
		fmt.Println(c.Type, c.Status, c.Reason, c.LastTransitionTime.Format("15:04"))
	}
	// Output:
	// PodReadyToStartContainers True  12:00
	// Initialized True  12:00
	// Ready True  12:01
	// ContainersReady True  12:00
	// PodScheduled True  12:00
}

func ExampleKubectlColumns() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	spec := &podlife.PodSpec{InitContainers: []podlife.Container{{Name: "migrate"}}, Containers: []podlife.Container{{Name: "web"}}}
	status := &phase.PodStatus{
		Phase: phase.Pending,
		InitContainerStatuses: []phase.ContainerStatus{{
			Name: "migrate", RestartCount: 3,
			State:                phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonCrashLoopBackOff}},
			LastTerminationState: phase.State{Terminated: &phase.TerminatedState{ExitCode: 1, FinishedAt: now.Add(-90 * time.Second)}},
		}},
		ContainerStatuses: []phase.ContainerStatus{{Name: "web", State: phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonPodInitializing}}}},
	}
	c := phase.KubectlColumns(phase.ColumnsInput{Spec: spec, Status: status, Now: now})
	fmt.Println(c.Ready, c.Status, c.Restarts)
	// Output:
	// 0/1 Init:CrashLoopBackOff 3 (90s ago)
}

func ExampleHumanDuration() {
	for _, d := range []time.Duration{45 * time.Second, 5*time.Minute + 30*time.Second, 26 * time.Hour, 400 * 24 * time.Hour} {
		fmt.Println(phase.HumanDuration(d))
	}
	// Output:
	// 45s
	// 5m30s
	// 26h
	// 400d
}

func ExampleReady() {
	probe := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"check"}}}}
	web := &podlife.Container{Name: "web", ReadinessProbe: probe}
	running := phase.State{Running: &phase.RunningState{}}
	fmt.Println(phase.Started(web, running, phase.ProbeResults{}), phase.Ready(web, false, running, phase.ProbeResults{}))
	fmt.Println(phase.Ready(web, false, running, phase.ProbeResults{ReadinessSucceeded: true}))
	// Output:
	// true false
	// true
}
