package containerd_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// These tests run pods of busybox containers on a real containerd through the lifecycle.Agent,
// with a memory store and the real clock. All but the restart test run in parallel, each with
// its own agent and scope.

func dialCRI(tb testing.TB) runtimeapi.RuntimeServiceClient {
	tb.Helper()
	conn, err := grpc.NewClient("unix://"+socket(tb), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = conn.Close() })
	return runtimeapi.NewRuntimeServiceClient(conn)
}

// An init container writes a file into an emptyDir volume (a bind mount of the pod's volume
// directory that localsetup made, at /volumes/<name>); the app container reads it.
func TestInitContainerHandsFileToApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ref, spec := pod("init-file",
		sh("app", `cat /volumes/shared/msg && test "$(cat /volumes/shared/msg)" = "hello from init"`))
	spec.InitContainers = []podlife.Container{sh("init", `echo "hello from init" > /volumes/shared/msg`)}
	spec.Volumes = []podlife.Volume{{Name: "shared", Source: podlife.VolumeEmptyDir}}
	spec.RestartPolicy = podlife.RestartNever
	h.bind(ref, spec)

	st := h.waitFor(ref, 30*time.Second, "Succeeded", func(st phase.PodStatus) bool { return st.Phase.IsTerminal() })
	require.Equal(t, phase.Succeeded, st.Phase, describe(st))
	initSt, _ := container(st, "init")
	require.NotNil(t, initSt.State.Terminated)
	assert.Equal(t, int32(0), initSt.State.Terminated.ExitCode)
	assert.Equal(t, phase.ReasonCompleted, initSt.State.Terminated.Reason)
	app, _ := container(st, "app")
	require.NotNil(t, app.State.Terminated)
	assert.Equal(t, phase.ReasonCompleted, app.State.Terminated.Reason)
	assert.Equal(t, []string{"hello from init"}, h.logLines(ref, "app", 0), "what the app read")
	assert.False(t, app.State.Terminated.StartedAt.Before(initSt.State.Terminated.FinishedAt),
		"the app started before the init container finished")
}

// An exec liveness probe that starts failing restarts the container, and the second restart
// waits out the crash-loop back-off (the harness's curve: none for the first exit, then 1 s).
func TestLivenessFailureRestartsWithBackOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	app := sh("app", `touch /tmp/healthy; (sleep 1; rm /tmp/healthy) & `+idle)
	app.LivenessProbe = &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"test", "-f", "/tmp/healthy"}}},
		PeriodSeconds: 1, FailureThreshold: 1, TimeoutSeconds: 2}
	ref, spec := pod("liveness", app)
	h.bind(ref, spec)

	st := h.waitFor(ref, 40*time.Second, "restarted twice and running", func(st phase.PodStatus) bool {
		cs, _ := container(st, "app")
		return cs.RestartCount >= 2 && cs.State.Running != nil
	})
	cs, _ := container(st, "app")
	require.NotNil(t, cs.LastTerminationState.Terminated, describe(st))
	last := cs.LastTerminationState.Terminated
	assert.Equal(t, int32(0), last.ExitCode, "the shell exits 0 on the liveness kill's SIGTERM")
	wait := cs.State.Running.StartedAt.Sub(last.FinishedAt)
	t.Logf("second restart came %v after the exit (back-off 1 s)", wait)
	assert.GreaterOrEqual(t, wait, 900*time.Millisecond, "the second restart did not wait for the back-off")
	assert.Less(t, wait, 4*time.Second)

	sawBackOff := false
	for _, o := range h.observedStatuses(ref.Name) {
		if c, ok := container(o.status, "app"); ok && c.State.Waiting != nil && c.State.Waiting.Reason == phase.ReasonCrashLoopBackOff {
			sawBackOff = true
		}
	}
	assert.True(t, sawBackOff, "no CrashLoopBackOff status was reported")
	_, ctrs := criList(t, ref)
	assert.GreaterOrEqual(t, len(ctrs), 1)
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// An HTTP readiness probe against busybox httpd in the host network (127.0.0.1) flips the pod's
// Ready condition as the test adds and removes the file it serves.
func TestReadinessFlipsReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	port := freePort(t)
	app := sh("web", `exec httpd -f -p 127.0.0.1:`+strconv.Itoa(port)+` -h /volumes/www`)
	app.Ports = []podlife.Port{{Name: "http", ContainerPort: int32(port)}}
	app.ReadinessProbe = &podlife.Probe{ProbeHandler: podlife.ProbeHandler{HTTPGet: &podlife.HTTPGetAction{Path: "/ready", Port: podlife.PortName("http")}},
		PeriodSeconds: 1, FailureThreshold: 1}
	ref, spec := pod("readiness", app)
	spec.Volumes = []podlife.Volume{{Name: "www", Source: podlife.VolumeEmptyDir}}
	h.bind(ref, spec)

	st := h.waitFor(ref, 20*time.Second, "running", func(st phase.PodStatus) bool { return running(st, "web") })
	assert.Equal(t, phase.ConditionFalse, condition(st, phase.PodReady), "ready before the file exists: %s", describe(st))
	time.Sleep(1500 * time.Millisecond) // a probe or two that get 404
	assert.Equal(t, phase.ConditionFalse, condition(h.status(ref), phase.PodReady))

	www := h.setup.VolumePath(ref, "www")
	require.NoError(t, os.WriteFile(filepath.Join(www, "ready"), []byte("ok"), 0o644))
	flip := time.Now()
	h.waitFor(ref, 5*time.Second, "Ready", func(st phase.PodStatus) bool { return condition(st, phase.PodReady) == phase.ConditionTrue })
	t.Logf("Ready True %v after the file appeared (period 1 s)", time.Since(flip).Round(time.Millisecond))

	require.NoError(t, os.Remove(filepath.Join(www, "ready")))
	flip = time.Now()
	st = h.waitFor(ref, 5*time.Second, "not Ready", func(st phase.PodStatus) bool { return condition(st, phase.PodReady) == phase.ConditionFalse })
	t.Logf("Ready False %v after the file went", time.Since(flip).Round(time.Millisecond))
	web, _ := container(st, "web")
	assert.Equal(t, int32(0), web.RestartCount, "readiness never restarts")
	assert.True(t, running(st, "web"))
}

// A preStop exec hook runs before the stop signal and leaves a trace in a hostPath volume that
// outlives the pod; the app's TERM trap writes after it.
func TestPreStopHookLeavesTrace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	trace := t.TempDir()
	app := sh("app", `trap 'echo term >> /volumes/trace/log; exit 0' TERM; while true; do sleep 1 & wait $!; done`)
	app.Lifecycle = &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{
		Command: []string{"sh", "-c", "echo prestop >> /volumes/trace/log"}}}}
	ref, spec := pod("prestop", app)
	spec.Volumes = []podlife.Volume{{Name: "trace", Source: podlife.VolumeHostPath, Ref: trace}}
	h.bind(ref, spec)
	h.waitFor(ref, 20*time.Second, "running", func(st phase.PodStatus) bool { return running(st, "app") })

	h.delete(ref, nil)
	h.waitGone(ref, 20*time.Second)
	b, err := os.ReadFile(filepath.Join(trace, "log"))
	require.NoError(t, err, "the preStop hook left no trace")
	assert.Equal(t, "prestop\nterm\n", string(b), "preStop first, then SIGTERM")
}

// waitGone waits until the agent removed the deleted pod's record: it stopped everything.
func (h *harness) waitGone(ref lifecycle.PodRef, timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, _, err := h.client.Pod(context.Background(), h.node, ref); err != nil {
			require.ErrorIs(h.t, err, lifecycle.ErrKeyNotFound)
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("pod %s still there %v after its deletion: %s", ref.Name, timeout, describe(h.status(ref)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A container that ignores SIGTERM is killed when the grace period runs out, not before, and
// within 1 s after. The shell is PID 1 of its own PID namespace (kubelet's default): with TERM
// trapped to nothing, the kernel never ends it on TERM.
func TestIgnoredSIGTERMKilledAtGrace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ref, spec := pod("ignore-term", sh("app", `trap "" TERM; while true; do sleep 1; done`))
	grace := int64(2)
	spec.TerminationGracePeriodSeconds = &grace
	h.bind(ref, spec)
	st := h.waitFor(ref, 20*time.Second, "running", func(st phase.PodStatus) bool { return running(st, "app") })
	cs, _ := container(st, "app")
	id := cs.ContainerID

	asked := h.delete(ref, nil)
	var exit lifecycle.ContainerInfo
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var ok bool
		if exit, ok = h.tap.exit(id); ok {
			break
		}
		require.True(t, time.Now().Before(deadline), "the container did not end: %s", describe(h.status(ref)))
	}
	seen := time.Now()
	stops := h.tap.stopsOf(id)
	require.NotEmpty(t, stops, "no StopContainer")
	killed := exit.FinishedAt.Sub(asked)
	t.Logf("grace 2 s: StopContainer(timeout %v) %v after the deletion; containerd's exit %d (%s) at %v after it; the agent was told %v after it",
		stops[0].timeout, stops[0].at.Sub(asked).Round(time.Millisecond), exit.ExitCode, exit.Reason,
		killed.Round(time.Millisecond), seen.Sub(asked).Round(time.Millisecond))
	assert.Equal(t, int32(137), exit.ExitCode, "SIGKILL")
	assert.Equal(t, phase.ReasonError, exit.Reason)
	assert.GreaterOrEqual(t, killed, 2*time.Second, "killed before the grace period ran out")
	assert.Less(t, killed, 3*time.Second, "not killed within 1 s of the grace period")
	st = h.waitFor(ref, 10*time.Second, "the exit in the status", func(st phase.PodStatus) bool {
		cs, _ := container(st, "app")
		return cs.State.Terminated != nil
	})
	cs, _ = container(st, "app")
	assert.Equal(t, int32(137), cs.State.Terminated.ExitCode)
	h.waitGone(ref, 10*time.Second)
}

// Exit code 3 under restartPolicy Never ends the pod Failed with exit code 3, reason Error.
func TestExit3NeverFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ref, spec := pod("exit3", sh("app", "exit 3"))
	spec.RestartPolicy = podlife.RestartNever
	h.bind(ref, spec)
	st := h.waitFor(ref, 20*time.Second, "terminal", func(st phase.PodStatus) bool { return st.Phase.IsTerminal() })
	require.Equal(t, phase.Failed, st.Phase, describe(st))
	cs, _ := container(st, "app")
	require.NotNil(t, cs.State.Terminated)
	assert.Equal(t, int32(3), cs.State.Terminated.ExitCode)
	assert.Equal(t, phase.ReasonError, cs.State.Terminated.Reason)
	assert.Equal(t, int32(0), cs.RestartCount)
}

// A missing image under pull policy Never shows ErrImageNeverPull, and nothing is created.
func TestNeverPullMissingImage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ref, spec := pod("never-pull", podlife.Container{Name: "app", Image: "docker.io/podlife/absent:test", ImagePullPolicy: podlife.PullNever})
	h.bind(ref, spec)
	st := h.waitFor(ref, 20*time.Second, "ErrImageNeverPull", func(st phase.PodStatus) bool {
		cs, _ := container(st, "app")
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == phase.ReasonErrImageNeverPull
	})
	cs, _ := container(st, "app")
	assert.Contains(t, cs.State.Waiting.Message, "docker.io/podlife/absent:test")
	_, ctrs := criList(t, ref)
	assert.Empty(t, ctrs)
}

// A deleted pod (init container, app, sidecar) leaves no container and no sandbox behind, as
// containerd itself lists them by the pod's labels.
func TestDeletedPodLeavesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	always := podlife.RestartAlways
	side := sh("side", idle)
	side.RestartPolicy = &always
	ref, spec := pod("deleted", sh("app", idle))
	spec.InitContainers = []podlife.Container{sh("init", "true"), side}
	h.bind(ref, spec)
	h.waitFor(ref, 20*time.Second, "running", func(st phase.PodStatus) bool { return running(st, "app") && running(st, "side") })
	sbs, ctrs := criList(t, ref)
	require.Len(t, sbs, 1)
	require.Len(t, ctrs, 3)

	asked := h.delete(ref, nil)
	h.waitGone(ref, 20*time.Second)
	// The record goes when the agent hands out the sandbox's stop; the stop itself follows.
	deadline := time.Now().Add(5 * time.Second)
	for {
		sbs, ctrs = criList(t, ref)
		if len(sbs)+len(ctrs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Empty(t, sbs, "sandboxes left")
	assert.Empty(t, ctrs, "containers left")
	t.Logf("containerd had nothing left of the pod %v after the deletion", time.Since(asked).Round(time.Millisecond))
}

// containerd is stopped and started again under a running pod. A container that exits while
// containerd is down is reported once it is back, and restarted once; the one that kept running
// is kept, not started twice; there are no duplicate containers and the status loses nothing.
// Not parallel: the other tests would see containerd go away.
func TestContainerdRestartUnderRunningPod(t *testing.T) {
	dir := os.Getenv(envDir)
	if dir == "" {
		socket(t)
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s=1 but %s is unset: this test restarts the daemon with scripts/containerd stop/start %s", envRequire, envDir, "DIR")
		}
		t.Skip("restarting containerd needs " + envDir + " (scripts/containerd's DIR), which ./scripts/test sets")
	}
	h := newHarness(t)
	ctl := t.TempDir()
	keeper := sh("keeper", idle)
	keeper.ReadinessProbe = &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 1}
	quitter := sh("quitter", `while [ ! -f /volumes/ctl/exit ]; do sleep 0.2; done; rm /volumes/ctl/exit; exit 1`)
	ref, spec := pod("restart", keeper, quitter)
	spec.Volumes = []podlife.Volume{{Name: "ctl", Source: podlife.VolumeHostPath, Ref: ctl}}
	h.bind(ref, spec)
	before := h.waitFor(ref, 20*time.Second, "running and ready", func(st phase.PodStatus) bool {
		return running(st, "keeper") && running(st, "quitter") && condition(st, phase.PodReady) == phase.ConditionTrue
	})
	keep0, _ := container(before, "keeper")

	script := filepath.Join("..", "..", "scripts", "containerd")
	run := func(args ...string) {
		out, err := exec.Command(script, args...).CombinedOutput()
		require.NoError(t, err, "%s %v: %s", script, args, out)
		t.Logf("%s %v: %s", script, args, out)
	}
	run("stop", dir)
	require.NoError(t, os.WriteFile(filepath.Join(ctl, "exit"), nil, 0o644))
	time.Sleep(1500 * time.Millisecond) // quitter exits while containerd is down
	_, err := os.Stat(filepath.Join(ctl, "exit"))
	require.ErrorIs(t, err, os.ErrNotExist, "the quitter did not see its file")
	run("start", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, h.rt.WaitReady(ctx))

	after := h.waitFor(ref, 30*time.Second, "quitter restarted once", func(st phase.PodStatus) bool {
		cs, _ := container(st, "quitter")
		return cs.RestartCount == 1 && cs.State.Running != nil
	})
	q, _ := container(after, "quitter")
	require.NotNil(t, q.LastTerminationState.Terminated)
	assert.Equal(t, int32(1), q.LastTerminationState.Terminated.ExitCode, "the exit during the outage")
	k, _ := container(after, "keeper")
	assert.Equal(t, keep0.ContainerID, k.ContainerID, "the running container was replaced")
	assert.Equal(t, int32(0), k.RestartCount)
	assert.True(t, k.Ready)
	assert.Equal(t, phase.Running, after.Phase)
	assert.Equal(t, phase.ConditionTrue, condition(h.waitFor(ref, 10*time.Second, "ready", func(st phase.PodStatus) bool {
		return condition(st, phase.PodReady) == phase.ConditionTrue
	}), phase.PodReady))

	time.Sleep(time.Second) // give a duplicate start time to show
	sbs, ctrs := criList(t, ref)
	assert.Len(t, sbs, 1, "sandboxes")
	type key struct {
		name    string
		attempt uint32
	}
	seen := map[key]string{}
	runningPer := map[string]int{}
	for _, c := range ctrs {
		k := key{c.Metadata.Name, c.Metadata.Attempt}
		if prev, dup := seen[k]; dup {
			t.Errorf("two containers %s attempt %d: %s and %s", k.name, k.attempt, prev, c.Id)
		}
		seen[k] = c.Id
		if c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			runningPer[c.Metadata.Name]++
		}
	}
	assert.Equal(t, map[string]int{"keeper": 1, "quitter": 1}, runningPer, "running containers per name")
}
