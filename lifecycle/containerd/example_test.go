package containerd_test

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/containerd"
	"github.com/podlife/podlife/lifecycle/localsetup"
	"github.com/podlife/podlife/lifecycle/memstore"
)

// An agent runs the pods bound to its node on containerd. Volumes come from a local setup and
// are bind-mounted into every container at /volumes/<name>. (Not run as a test: it needs a
// containerd; ./scripts/test runs the integration tests on one.)
func ExampleConnect() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := zap.NewExample()
	setup, err := localsetup.New(localsetup.Config{Root: "/var/lib/podlife", Logger: log})
	if err != nil {
		fmt.Println(err)
		return
	}
	rt, err := containerd.Connect(ctx, containerd.Config{
		Socket:     "/run/containerd/containerd.sock",
		Timeout:    10 * time.Second,
		Logger:     log,
		VolumePath: setup.VolumePath,
	})
	if err != nil {
		fmt.Println(err) // wraps lifecycle.ErrRuntimeUnavailable when the socket does not answer
		return
	}
	defer rt.Close()
	fmt.Println("events by", rt.EventSource())
	agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: "node-1", Runtime: rt, Store: memstore.New(), Setup: setup, Logger: log})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = agent.Run(ctx)
}
