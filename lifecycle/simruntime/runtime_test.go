package simruntime

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// rtPod brings up web's sandbox through rt and creates and starts app in it.
func rtPod(t *testing.T, ctx context.Context, rt *Runtime, c *podlife.Container) (sb lifecycle.Sandbox, id string) {
	t.Helper()
	sb, err := rt.RunSandbox(ctx, web, nil, 0)
	require.NoError(t, err)
	id, err = rt.CreateContainer(ctx, sb.ID, web, c, 0)
	require.NoError(t, err)
	require.NoError(t, rt.StartContainer(ctx, id))
	return sb, id
}

var appSpec = &podlife.Container{Name: "app", Image: "app:1"}

// TestRuntimeWaits checks, in a synctest bubble where time is virtual, that each call returns
// when the script says, however long that is.
func TestRuntimeWaits(t *testing.T) {
	exec := &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"x"}}}
	cases := []struct {
		name string
		opts WorldOptions
		call func(t *testing.T, ctx context.Context, rt *Runtime)
		took time.Duration
	}{
		{"a slow pull returns after its delay", WorldOptions{ImagePulls: map[string]Pull{"app:1": {Delay: 90 * s}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				require.NoError(t, rt.PullImage(ctx, lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullAlways}))
			}, 90 * s},
		{"a slow pull of the pod's container by its own script, as in the Sim", WorldOptions{Scripts: map[string]Script{"app": {Pull: Pull{Delay: 7 * s}}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				require.NoError(t, rt.PullImage(ctx, lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullAlways, Pod: web, Container: "app"}))
			}, 7 * s},
		{"a sandbox after its delay", WorldOptions{Pod: PodScript{SandboxDelay: 4 * s}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				sb, err := rt.RunSandbox(ctx, web, nil, 0)
				require.NoError(t, err)
				assert.Equal(t, "default/web/sb-0", sb.ID)
				assert.NotEmpty(t, sb.IP)
			}, 4 * s},
		{"a 30 s postStart hook", WorldOptions{Default: Script{PostStart: HookScript{Took: 30 * s}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				start := time.Now()
				_, id := rtPod(t, ctx, rt, appSpec)
				assert.Zero(t, time.Since(start))
				out := rt.RunHook(ctx, lifecycle.Target{Pod: web, Container: appSpec, ContainerID: id}, lifecycle.PostStart, exec)
				assert.False(t, out.Failed())
			}, 30 * s},
		{"a probe that takes its time", WorldOptions{Default: Script{Probes: map[probe.Kind]ProbeScript{probe.Readiness: {Took: 800 * time.Millisecond}}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				_, id := rtPod(t, ctx, rt, appSpec)
				out := rt.RunProbe(ctx, lifecycle.Target{Pod: web, Container: appSpec, ContainerID: id}, probe.Readiness, &podlife.Probe{TimeoutSeconds: 1})
				assert.Equal(t, probe.Success, out.Result)
			}, 800 * time.Millisecond},
		{"a stop returns when the container exited after its TermDelay", WorldOptions{Default: Script{Runs: []Run{{TermDelay: 7 * s}}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				_, id := rtPod(t, ctx, rt, appSpec)
				require.NoError(t, rt.StopContainer(ctx, id, 30*s))
				cs, err := rt.ListContainers(ctx)
				require.NoError(t, err)
				require.Len(t, cs, 1)
				assert.Equal(t, lifecycle.ContainerStateExited, cs[0].State)
				assert.Equal(t, int32(143), cs[0].ExitCode)
			}, 7 * s},
		{"a stop of a container ignoring SIGTERM returns at the SIGKILL", WorldOptions{Default: Script{Runs: []Run{{IgnoreTerm: true}}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				_, id := rtPod(t, ctx, rt, appSpec)
				require.NoError(t, rt.StopContainer(ctx, id, 2*s))
				require.NoError(t, rt.StopContainer(ctx, id, 2*s), "again: it exited already")
			}, 2 * s},
		{"a stop returns at the natural exit when that comes first", WorldOptions{Default: Script{Runs: []Run{{For: 3 * s, IgnoreTerm: true}}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				_, id := rtPod(t, ctx, rt, appSpec)
				require.NoError(t, rt.StopContainer(ctx, id, 30*s))
			}, 3 * s},
		{"a stop under way returns when a second, shorter stop kills the container", WorldOptions{Default: Script{Runs: []Run{{IgnoreTerm: true}}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				_, id := rtPod(t, ctx, rt, appSpec)
				first := make(chan time.Duration)
				start := time.Now()
				go func() {
					assert.NoError(t, rt.StopContainer(ctx, id, 60*s))
					first <- time.Since(start)
				}()
				time.Sleep(10 * s)
				require.NoError(t, rt.StopContainer(ctx, id, 3*s))
				assert.Equal(t, 13*s, <-first, "the first stop ends with the container, not at its own 60 s")
			}, 13 * s},
		{"a pull gives up when its ctx ends", WorldOptions{ImagePulls: map[string]Pull{"app:1": {Delay: time.Hour}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				ctx, cancel := context.WithTimeout(ctx, 5*s)
				defer cancel()
				err := rt.PullImage(ctx, lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullIfNotPresent})
				require.ErrorIs(t, err, context.DeadlineExceeded)
			}, 5 * s},
		{"a hook gives up when its ctx ends", WorldOptions{Default: Script{PreStop: HookScript{Took: time.Minute}}},
			func(t *testing.T, ctx context.Context, rt *Runtime) {
				_, id := rtPod(t, ctx, rt, appSpec)
				ctx, cancel := context.WithTimeout(ctx, 10*s)
				defer cancel()
				out := rt.RunHook(ctx, lifecycle.Target{Pod: web, Container: appSpec, ContainerID: id}, lifecycle.PreStop, exec)
				require.True(t, out.Failed())
				assert.Contains(t, out.Message, "context deadline exceeded")
			}, 10 * s},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				rt := NewRuntime(NewWorld(c.opts), lifecycle.RealClock{})
				start := time.Now()
				c.call(t, ctx, rt)
				assert.Equal(t, c.took, time.Since(start), "virtual time the call took")
			})
		})
	}
}

func TestRuntimeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := NewWorld(WorldOptions{
			Scripts: map[string]Script{
				"bad":  {CreateFails: 1, CreateFailReason: phase.ReasonCreateContainerConfigError},
				"nope": {Runs: []Run{{StartFails: true}}},
			},
			ImagePulls: map[string]Pull{"broken:1": {FailsAlways: true}},
		})
		w.ScriptPod(lifecycle.PodRef{Name: "unlucky"}, PodScript{SetupFails: 1, SandboxFails: 1})
		rt := NewRuntime(w, lifecycle.RealClock{})
		sb, err := rt.RunSandbox(ctx, web, nil, 0)
		require.NoError(t, err)

		err = rt.PullImage(ctx, lifecycle.PullRequest{Image: "broken:1", Policy: podlife.PullAlways})
		assert.ErrorIs(t, err, lifecycle.ErrImagePull)
		assert.Equal(t, phase.ReasonErrImagePull, lifecycle.WaitingReason(lifecycle.PullImage, err))
		var re *lifecycle.RuntimeError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "PullImage", re.Op)

		err = rt.PullImage(ctx, lifecycle.PullRequest{Image: "missing:1", Policy: podlife.PullNever})
		assert.ErrorIs(t, err, lifecycle.ErrImageNeverPull)
		assert.Equal(t, phase.ReasonErrImageNeverPull, lifecycle.WaitingReason(lifecycle.PullImage, err))

		_, err = rt.CreateContainer(ctx, sb.ID, web, &podlife.Container{Name: "bad", Image: "x:1"}, 0)
		assert.ErrorIs(t, err, lifecycle.ErrCreateContainerConfig)
		id, err := rt.CreateContainer(ctx, sb.ID, web, &podlife.Container{Name: "bad", Image: "x:1"}, 0)
		require.NoError(t, err, "only the first create fails")
		again, err := rt.CreateContainer(ctx, sb.ID, web, &podlife.Container{Name: "bad", Image: "x:1"}, 0)
		require.NoError(t, err)
		assert.Equal(t, id, again, "the same name and attempt is the same container")

		_, err = rt.CreateContainer(ctx, "default/web/sb-9", web, appSpec, 0)
		assert.ErrorIs(t, err, lifecycle.ErrNotFound)
		_, err = rt.CreateContainer(ctx, sb.ID, web, nil, 0)
		assert.ErrorIs(t, err, lifecycle.ErrCreateContainer)

		nope, err := rt.CreateContainer(ctx, sb.ID, web, &podlife.Container{Name: "nope", Image: "x:1"}, 0)
		require.NoError(t, err)
		err = rt.StartContainer(ctx, nope)
		assert.ErrorIs(t, err, lifecycle.ErrRunContainer)
		assert.Equal(t, phase.ReasonRunContainerError, lifecycle.WaitingReason(lifecycle.StartContainer, err))

		assert.ErrorIs(t, rt.StartContainer(ctx, "default/web/ghost/0"), lifecycle.ErrNotFound)
		assert.ErrorIs(t, rt.StopContainer(ctx, "default/web/ghost/0", s), lifecycle.ErrNotFound)
		assert.NoError(t, rt.RemoveContainer(ctx, "default/web/ghost/0"), "remove is idempotent")
		assert.NoError(t, rt.StopSandbox(ctx, "ghost"), "stopping an unknown sandbox is not an error")
		assert.True(t, rt.RunHook(ctx, lifecycle.Target{Pod: web, ContainerID: "default/web/ghost/0"}, lifecycle.PreStop, nil).Failed())
		assert.Equal(t, probe.Unknown, rt.RunProbe(ctx, lifecycle.Target{Pod: web, ContainerID: "default/web/ghost/0"}, probe.Liveness, nil).Result,
			"a probe of a container that does not run errors, uncounted")

		unlucky := lifecycle.PodRef{Name: "unlucky"}
		assert.Error(t, rt.Setup(ctx, unlucky, nil))
		assert.NoError(t, rt.Setup(ctx, unlucky, nil))
		_, err = rt.RunSandbox(ctx, unlucky, nil, 0)
		assert.Error(t, err)
		_, err = rt.RunSandbox(ctx, unlucky, nil, 0)
		assert.NoError(t, err)
		assert.NoError(t, rt.Teardown(ctx, unlucky))
		sbs, err := rt.ListSandboxes(ctx)
		require.NoError(t, err)
		require.Len(t, sbs, 1, "the torn down pod is forgotten")
		assert.Equal(t, sb.ID, sbs[0].ID)
	})
}

// TestRuntimeEvents checks that exits and sandbox losses stream at their time, stops' exits
// included, and that the stream ends with its ctx.
func TestRuntimeEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w := NewWorld(WorldOptions{
			Scripts: map[string]Script{
				"job":  {Runs: []Run{{For: 10 * s, ExitCode: 3}}},
				"web":  {Runs: []Run{{TermDelay: 4 * s}}},
				"oom":  {Runs: []Run{{For: 25 * s, OOM: true}}},
				"slow": {Runs: []Run{{For: time.Hour}}},
			},
			Pod: PodScript{SandboxLostAt: 40 * s},
		})
		rt := NewRuntime(w, lifecycle.RealClock{})
		evs, err := rt.Events(ctx)
		require.NoError(t, err)
		start := time.Now()
		sb, err := rt.RunSandbox(ctx, web, nil, 0)
		require.NoError(t, err)
		ids := map[string]string{}
		for _, name := range []string{"job", "web", "oom", "slow"} {
			id, err := rt.CreateContainer(ctx, sb.ID, web, &podlife.Container{Name: name, Image: "x:1"}, 0)
			require.NoError(t, err)
			require.NoError(t, rt.StartContainer(ctx, id))
			ids[name] = id
		}
		go func() {
			time.Sleep(20 * s)
			assert.NoError(t, rt.StopContainer(ctx, ids["web"], 30*s))
		}()
		type got struct {
			after time.Duration
			what  string
		}
		var seen []got
		for len(seen) < 4 {
			ev := <-evs
			what := ""
			switch ev.Type {
			case lifecycle.RuntimeContainerExited:
				c := ev.Container
				what = fmt.Sprintf("%s exited %d signal %d %s at %s", c.Name, c.ExitCode, c.Signal, c.Reason, c.FinishedAt.Sub(start))
				assert.Equal(t, web, c.Pod)
				assert.Equal(t, sb.ID, c.SandboxID)
			case lifecycle.RuntimeSandboxLost:
				what = fmt.Sprintf("sandbox %s lost, ready %v", ev.Sandbox.ID, ev.Sandbox.Ready)
			}
			seen = append(seen, got{time.Since(start), what})
		}
		assert.Equal(t, []got{
			{10 * s, "job exited 3 signal 0 Error at 10s"},
			{24 * s, "web exited 143 signal 15 Error at 24s"},
			{25 * s, "oom exited 137 signal 9 OOMKilled at 25s"},
			{40 * s, "sandbox default/web/sb-0 lost, ready false"},
		}, seen)
		cancel()
		_, open := <-evs
		assert.False(t, open, "the stream closes with its ctx")
		// "slow" still has its exit an hour away: nothing waits for it now, and the bubble
		// ends with no goroutine left (synctest.Test would fail otherwise).
	})
}

// TestRuntimeConcurrent drives many pods at once from many goroutines (run with -race).
func TestRuntimeConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := NewWorld(WorldOptions{
			Default:    Script{Runs: []Run{{For: 30 * s, ExitCode: 1}, {TermDelay: 3 * s}}, PostStart: HookScript{Took: 2 * s}},
			ImagePulls: map[string]Pull{"app:1": {Delay: 5 * s}},
			Pod:        PodScript{SandboxDelay: s},
		})
		rt := NewRuntime(w, lifecycle.RealClock{})
		evs, err := rt.Events(ctx)
		require.NoError(t, err)
		var exits sync.WaitGroup
		const pods = 50
		exits.Add(pods * 2)
		go func() {
			for ev := range evs {
				if ev.Type == lifecycle.RuntimeContainerExited {
					exits.Done()
				}
			}
		}()
		var wg sync.WaitGroup
		for i := range pods {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ref := lifecycle.PodRef{Namespace: "ns", Name: fmt.Sprint("p", i)}
				sb, err := rt.RunSandbox(ctx, ref, nil, 0)
				if !assert.NoError(t, err) {
					return
				}
				assert.NoError(t, rt.PullImage(ctx, lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullIfNotPresent}))
				for attempt := range int32(2) {
					id, err := rt.CreateContainer(ctx, sb.ID, ref, appSpec, attempt)
					if !assert.NoError(t, err) {
						return
					}
					assert.NoError(t, rt.StartContainer(ctx, id))
					out := rt.RunHook(ctx, lifecycle.Target{Pod: ref, Container: appSpec, ContainerID: id}, lifecycle.PostStart,
						&podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"x"}}})
					assert.Equal(t, hooks.Success, out.Result)
					if attempt == 0 {
						time.Sleep(time.Minute) // the first instance exits on its own at 30 s
						continue
					}
					assert.NoError(t, rt.StopContainer(ctx, id, 10*s))
				}
				assert.NoError(t, rt.StopSandbox(ctx, sb.ID))
			}()
		}
		wg.Wait()
		exits.Wait()
		sbs, err := rt.ListSandboxes(ctx)
		require.NoError(t, err)
		assert.Empty(t, sbs)
	})
}

// TestRuntimeFakeClock runs the runtime on a FakeClock that the test steps.
func TestRuntimeFakeClock(t *testing.T) {
	clock := lifecycle.NewFakeClock(t0)
	w := NewWorld(WorldOptions{ImagePulls: map[string]Pull{"app:1": {Delay: 5 * s}}, Default: Script{Runs: []Run{{For: 10 * s}}}})
	rt := NewRuntime(w, clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pulled := make(chan error, 1)
	go func() { pulled <- rt.PullImage(ctx, lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullAlways}) }()
	require.Eventually(t, func() bool { return clock.Waiters() == 1 }, 5*time.Second, time.Millisecond, "the pull waits on the clock")
	clock.Step(4 * s)
	select {
	case err := <-pulled:
		t.Fatalf("the pull returned early: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	clock.Step(s)
	require.NoError(t, <-pulled)

	evs, err := rt.Events(ctx)
	require.NoError(t, err)
	_, id := rtPod(t, ctx, rt, appSpec)
	require.Eventually(t, func() bool { return clock.Waiters() == 1 }, 5*time.Second, time.Millisecond, "the stream waits for the exit")
	clock.Step(10 * s)
	ev := <-evs
	assert.Equal(t, id, ev.Container.ID)
	assert.Equal(t, t0.Add(15*s), ev.Container.FinishedAt)
	cancel()
	for range evs {
	}
	assert.Equal(t, 0, clock.Waiters(), "the stream stopped its timer")
}

// TestRuntimePullsByContainerScript: a pull that names its pod and container follows that
// container's script (Script.Pull, counted per pod and container), as the Sim's pulls do; one
// that names none follows the image-level script. The error says what the runtime said, which
// lifecycle.FailureMessage gives back without the Go error chain.
func TestRuntimePullsByContainerScript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Pull: Pull{Failures: 2}}}})
		rt := NewRuntime(w, lifecycle.RealClock{})
		req := lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullAlways, Pod: web, Container: "app"}
		for i := range 2 {
			err := rt.PullImage(ctx, req)
			require.ErrorIs(t, err, lifecycle.ErrImagePull, "pull %d", i)
			assert.Equal(t, `failed to pull and unpack image "app:1": scripted pull failure`, lifecycle.FailureMessage(err))
		}
		require.NoError(t, rt.PullImage(ctx, req), "the third pull of the container succeeds")
		other := req
		other.Pod = lifecycle.PodRef{Namespace: "default", Name: "other"}
		require.Error(t, rt.PullImage(ctx, other), "counted per pod")
		require.NoError(t, rt.PullImage(ctx, lifecycle.PullRequest{Image: "app:1", Policy: podlife.PullAlways}),
			"a pull for no pod has no container script")
	})
}
