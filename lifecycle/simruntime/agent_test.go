package simruntime

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/phase"
)

// observer is an Agent's Observe that adds its actions (and records, when asked) to tl under mu,
// with their time since start.
func (tl *timeline) observer(mu *sync.Mutex, start time.Time, records bool) func(lifecycle.PodRef, time.Time, lifecycle.Ready) {
	return func(ref lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range rd.Actions {
			tl.lines = append(tl.lines, fmt.Sprintf("%7.1fs %s do %s", now.Sub(start).Seconds(), ref.Name, a))
		}
		for _, r := range rd.Records {
			if records {
				tl.lines = append(tl.lines, fmt.Sprintf("%7.1fs %s record %s", now.Sub(start).Seconds(), ref.Name, r))
			}
		}
	}
}

// TestAgentOnRuntime runs the concurrent lifecycle.Agent on the Runtime, in virtual time, with
// the pod of TestSimPodLifecycle: the key timings come out the same as in the Sim.
func TestAgentOnRuntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rt := NewRuntime(fullWorld(), lifecycle.RealClock{})
		store := memstore.New()
		start := time.Now()
		var mu sync.Mutex
		var tl timeline
		agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: "node-1", Runtime: rt, Store: store, Setup: rt,
			Observe: tl.observer(&mu, start, false)})
		require.NoError(t, err)
		client := lifecycle.Client{Store: store}
		_, err = client.Bind(ctx, "node-1", web, fullPod())
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- agent.Run(ctx) }()

		time.Sleep(180 * time.Second)
		rec, err := client.Status(ctx, "node-1", web)
		require.NoError(t, err)
		assert.Equal(t, phase.Running, rec.Status.Phase)
		require.NoError(t, client.Delete(ctx, "node-1", web, nil, time.Now()))
		time.Sleep(time.Minute)
		rec, err = client.Status(ctx, "node-1", web)
		require.NoError(t, err)
		sbs, err := rt.ListSandboxes(ctx)
		require.NoError(t, err)
		assert.Empty(t, sbs, "the agent stopped the sandbox")
		cancel()
		require.NoError(t, <-done)

		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"4.0s", "5.0s", "16.0s", "37.0s", "78.0s"}, times(tl.grep("do StartContainer container=app")))
		assert.Equal(t, []string{"180.0s"}, times(tl.grep("do RunHook container=app", "hook=PreStop")))
		assert.Equal(t, []string{"185.0s"}, times(tl.grep("do StopContainer container=app", "timeout=25s")))
		assert.Equal(t, []string{"210.0s"}, times(tl.grep("do StopContainer container=proxy", "timeout=2s")))
		assert.Equal(t, phase.Failed, rec.Status.Phase)
		app := rec.Status.ContainerStatuses[0]
		require.NotNil(t, app.State.Terminated)
		assert.True(t, start.Add(210*time.Second).Equal(app.State.Terminated.FinishedAt), "SIGKILL exactly at the grace, not %s", app.State.Terminated.FinishedAt.Sub(start))
		assert.Equal(t, int32(137), app.State.Terminated.ExitCode)
		if t.Failed() {
			t.Log("the agent's timeline:\n" + strings.Join(tl.lines, "\n"))
		}
	})
}

// TestAgentUnknownStateAndSandboxWithoutIP: the Agent learns of a container in an unknown state
// from the Runtime's event stream (RuntimeContainerUnknown) and of a sandbox without an IP from
// RunSandbox's answer, and the machine does what it does on the Sim: the sandbox is replaced
// (attempt 1), the container is killed and replaced by a new instance (attempt 1), even under
// restartPolicy Never.
func TestAgentUnknownStateAndSandboxWithoutIP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := NewWorld(WorldOptions{Pod: PodScript{SandboxNoIP: 1},
			Scripts: map[string]Script{"app": {Runs: []Run{{UnknownAfter: 10 * time.Second, TermDelay: 2 * time.Second}, {}}}}})
		rt := NewRuntime(w, lifecycle.RealClock{})
		store := memstore.New()
		start := time.Now()
		var mu sync.Mutex
		var tl timeline
		agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: "node-1", Runtime: rt, Store: store, Setup: rt,
			Observe: tl.observer(&mu, start, true)})
		require.NoError(t, err)
		client := lifecycle.Client{Store: store}
		spec := podlife.PodSpec{RestartPolicy: podlife.RestartNever,
			Containers: []podlife.Container{{Name: "app", Image: "app:1"}, {Name: "web", Image: "web:1"}}}
		_, err = client.Bind(ctx, "node-1", web, spec)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- agent.Run(ctx) }()
		time.Sleep(30 * time.Second)
		rec, err := client.Status(ctx, "node-1", web)
		require.NoError(t, err)
		cancel()
		require.NoError(t, <-done)

		mu.Lock()
		defer mu.Unlock()
		assert.Len(t, tl.grep("do RunSandbox attempt=1"), 1)
		assert.Len(t, tl.grep("record Normal SandboxChanged"), 1)
		assert.Equal(t, []string{"10.0s"}, times(tl.grep(`record Normal Killing container=app "Container is in \"unknown\" state`)))
		assert.Equal(t, []string{"12.0s"}, times(tl.grep("do CreateContainer container=app attempt=1")))
		assert.Equal(t, phase.Running, rec.Status.Phase)
		app := rec.Status.ContainerStatuses[0]
		require.NotNil(t, app.State.Running)
		assert.Equal(t, int32(1), app.RestartCount)
		assert.NotEmpty(t, rec.Status.PodIP)
		if t.Failed() {
			t.Log("the agent's timeline:\n" + strings.Join(tl.lines, "\n"))
		}
	})
}
