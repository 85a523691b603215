package lifecycle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// An Agent runs the pods bound to its node in a Store through a Runtime: here the embedded
// defaults, a simulated runtime (the job runs 50 ms and exits 0) and a memory store. A scheduler
// binds the pod with a Client and reads the status the agent reports.
func ExampleAgent() {
	world := simruntime.NewWorld(simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
		"job": {Runs: []simruntime.Run{{For: 50 * time.Millisecond}}},
	}})
	runtime := simruntime.NewRuntime(world, lifecycle.RealClock{})
	store := memstore.New()
	agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: "node-1", Runtime: runtime, Store: store})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- agent.Run(ctx) }()

	client := lifecycle.Client{Store: store}
	pod := lifecycle.PodRef{Namespace: "default", Name: "job", UID: "1"}
	_, err = client.Bind(ctx, "node-1", pod, podlife.PodSpec{
		RestartPolicy: podlife.RestartNever,
		Containers:    []podlife.Container{{Name: "job", Image: "busybox:1.36"}},
	})
	if err != nil {
		panic(err)
	}
	for {
		st, err := client.Status(ctx, "node-1", pod)
		if err == nil && st.Status.Phase.IsTerminal() {
			fmt.Println("phase:", st.Status.Phase)
			fmt.Println("exit code:", st.Status.ContainerStatuses[0].State.Terminated.ExitCode)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	fmt.Println("agent:", <-done)
	// Output:
	// phase: Succeeded
	// exit code: 0
	// agent: <nil>
}
