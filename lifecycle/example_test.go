package lifecycle_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
)

// A caller drives a Machine: perform each action, feed its result back as an event, Advance.
// Here every action succeeds at once and the job exits 0 two seconds after it started.
func ExampleMachine() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	spec := podlife.PodSpec{
		RestartPolicy: podlife.RestartNever,
		Containers:    []podlife.Container{{Name: "job", Image: "busybox:1.36"}},
	}
	m, err := lifecycle.New(lifecycle.PodRef{Namespace: "default", Name: "job"}, spec, t0, lifecycle.Options{})
	if err != nil {
		panic(err)
	}
	var pending []lifecycle.Event
	for {
		rd := m.Ready()
		for _, a := range rd.Actions {
			fmt.Println("action:", a)
			now := m.Now()
			switch a.Type {
			case lifecycle.SetupPod:
				pending = append(pending, lifecycle.Event{Type: lifecycle.SetupDone, At: now})
			case lifecycle.RunSandbox:
				pending = append(pending, lifecycle.Event{Type: lifecycle.SandboxReady, At: now, SandboxID: "sb1", IP: "10.0.0.7"})
			case lifecycle.PullImage:
				pending = append(pending, lifecycle.Event{Type: lifecycle.ImagePulled, At: now, Container: a.Container})
			case lifecycle.CreateContainer:
				pending = append(pending, lifecycle.Event{Type: lifecycle.ContainerCreated, At: now, Container: a.Container, Attempt: a.Attempt, ContainerID: "c1"})
			case lifecycle.StartContainer:
				pending = append(pending,
					lifecycle.Event{Type: lifecycle.ContainerStarted, At: now, ContainerID: a.ContainerID},
					lifecycle.Event{Type: lifecycle.ContainerExited, At: now.Add(2 * time.Second), ContainerID: a.ContainerID})
			}
		}
		if rd.Status != nil {
			fmt.Println("status:", rd.Status.Phase)
		}
		m.Advance()
		if m.Stopped() || len(pending) == 0 {
			break // hand out the last Ready before leaving: it releases the sandbox
		}
		ev := pending[0]
		pending = pending[1:]
		if err := m.Step(ev); err != nil {
			panic(err)
		}
	}
	fmt.Println("exit code:", m.Status().ContainerStatuses[0].State.Terminated.ExitCode)
	// Output:
	// action: SetupPod
	// status: Pending
	// action: RunSandbox attempt=0
	// action: PullImage container=job image=busybox:1.36 policy=IfNotPresent
	// status: Pending
	// action: CreateContainer container=job attempt=0 sandbox=sb1
	// action: StartContainer container=job id=c1
	// status: Pending
	// status: Running
	// action: StopSandbox sandbox=sb1
	// status: Succeeded
	// exit code: 0
}
