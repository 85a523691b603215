package simruntime_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// A job whose image takes 3 s to pull and whose first run crashes: under OnFailure it is
// restarted at once, and the second run succeeds. The timeline is the same on every run.
func ExampleSim() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := simruntime.NewWorld(simruntime.WorldOptions{
		Scripts: map[string]simruntime.Script{"job": {
			Runs: []simruntime.Run{{For: 4 * time.Second, ExitCode: 1}, {For: 6 * time.Second}},
			Pull: simruntime.Pull{Delay: 3 * time.Second},
		}},
	})
	s := simruntime.NewSim(w, t0)
	s.OnReady = func(pod lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
		for _, a := range rd.Actions {
			fmt.Printf("%3.0fs do  %s\n", now.Sub(t0).Seconds(), a)
		}
	}
	s.OnEvent = func(pod lifecycle.PodRef, ev lifecycle.Event) {
		if ev.Type == lifecycle.ContainerExited {
			fmt.Printf("%3.0fs got %s\n", ev.At.Sub(t0).Seconds(), ev)
		}
	}
	m, err := s.AddPod(lifecycle.PodRef{Namespace: "batch", Name: "report"}, podlife.PodSpec{
		RestartPolicy: podlife.RestartOnFailure,
		Containers:    []podlife.Container{{Name: "job", Image: "report:2"}},
	}, lifecycle.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Run()
	fmt.Println(m.Status().Phase, "after", s.Now().Sub(t0))
	// Output:
	//   0s do  SetupPod
	//   0s do  RunSandbox attempt=0
	//   0s do  PullImage container=job image=report:2 policy=IfNotPresent
	//   3s do  CreateContainer container=job attempt=0 sandbox=batch/report/sb-0
	//   3s do  StartContainer container=job id=batch/report/job/0
	//   7s got ContainerExited id=batch/report/job/0 exit=1 reason=Error
	//   7s do  PullImage container=job image=report:2 policy=IfNotPresent
	//   7s do  CreateContainer container=job attempt=1 sandbox=batch/report/sb-0
	//   7s do  StartContainer container=job id=batch/report/job/1
	//  13s got ContainerExited id=batch/report/job/1 exit=0 reason=Completed
	//  13s do  StopSandbox sandbox=batch/report/sb-0
	// Succeeded after 13s
}
