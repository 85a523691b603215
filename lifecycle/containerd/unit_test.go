package containerd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// These tests need no containerd: they run on a scripted CRI server (fakeCRI) or none.

func TestConnectUnreachableSocket(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close()) // a socket file nobody listens on, as a dead containerd leaves
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, nil, 0o600))

	for name, sock := range map[string]string{"missing": filepath.Join(dir, "none.sock"), "stale": stale, "not a socket": plain} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Connect(context.Background(), Config{Socket: sock, Timeout: 5 * time.Second})
			took := time.Since(start)
			require.Error(t, err)
			assert.ErrorIs(t, err, lifecycle.ErrRuntimeUnavailable)
			assert.Contains(t, err.Error(), sock, "the error names the socket")
			var re *lifecycle.RuntimeError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "Connect", re.Op)
			assert.Less(t, took, time.Second, "not quick: %v", took)
		})
	}
	_, err = Connect(context.Background(), Config{})
	assert.ErrorContains(t, err, "Socket")
}

func TestConnectWaitsForRuntimeReady(t *testing.T) {
	f := newFake(false)
	f.setFail("Status", status.Error(codes.Unknown, "server is not initialized yet"))
	sock := f.serve(t)
	go func() { time.Sleep(300 * time.Millisecond); f.setFail("Status", nil) }()
	start := time.Now()
	r, err := Connect(context.Background(), Config{Socket: sock, Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer r.Close()
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)

	f.setFail("Status", status.Error(codes.Unknown, "server is not initialized yet"))
	_, err = Connect(context.Background(), Config{Socket: sock, Timeout: time.Second})
	assert.ErrorIs(t, err, lifecycle.ErrRuntimeUnavailable)
	assert.ErrorContains(t, err, "not initialized")
}

func TestEventSourceChosenAtConnect(t *testing.T) {
	assert.Equal(t, EventsRelist, newFake(false).connect(t, nil).EventSource(), "containerd 1.6: GetContainerEvents unimplemented")
	assert.Equal(t, EventsStream, newFake(true).connect(t, nil).EventSource())
}

var testPod = lifecycle.PodRef{Namespace: "ns", Name: "web", UID: "u1"}

// runOne runs a sandbox and one started container on the fake.
func runOne(t *testing.T, r *Runtime, name string) (sandboxID, containerID string) {
	t.Helper()
	ctx := context.Background()
	p := testPod
	if name != "app" {
		p.Name = name
	}
	sb, err := r.RunSandbox(ctx, p, &podlife.PodSpec{HostNetwork: true}, 0)
	require.NoError(t, err)
	id, err := r.CreateContainer(ctx, sb.ID, p, &podlife.Container{Name: name, Image: "docker.io/x/y:1"}, 0)
	require.NoError(t, err)
	require.NoError(t, r.StartContainer(ctx, id))
	return sb.ID, id
}

func next(t *testing.T, evs <-chan lifecycle.RuntimeEvent, within time.Duration) (lifecycle.RuntimeEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-evs:
		return ev, ok
	case <-time.After(within):
		return lifecycle.RuntimeEvent{}, false
	}
}

func TestStreamEventReportsExit(t *testing.T) {
	f := newFake(true)
	r := f.connect(t, nil)
	sbID, id := runOne(t, r, "app")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := r.Events(ctx)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the stream is open
	f.exit(id, 3, "Error")
	f.mu.Lock()
	st := proto.Clone(f.containers[id]).(*runtimeapi.ContainerStatus)
	f.mu.Unlock()
	f.events <- &runtimeapi.ContainerEventResponse{ContainerId: id, ContainerEventType: runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT,
		PodSandboxStatus: &runtimeapi.PodSandboxStatus{Id: sbID}, ContainersStatuses: []*runtimeapi.ContainerStatus{st}}
	ev, ok := next(t, evs, 2*time.Second)
	require.True(t, ok, "no event (the relist runs hourly here: it must come from the stream)")
	assert.Equal(t, lifecycle.RuntimeContainerExited, ev.Type)
	assert.Equal(t, id, ev.Container.ID)
	assert.Equal(t, int32(3), ev.Container.ExitCode)
	assert.Equal(t, "Error", ev.Container.Reason)
	assert.Equal(t, testPod, ev.Container.Pod)
	assert.Equal(t, sbID, ev.Container.SandboxID)

	// The sandbox's own stop event is its loss.
	f.events <- &runtimeapi.ContainerEventResponse{ContainerId: sbID, ContainerEventType: runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT}
	ev, ok = next(t, evs, 2*time.Second)
	require.True(t, ok)
	assert.Equal(t, lifecycle.RuntimeSandboxLost, ev.Type)
	assert.Equal(t, sbID, ev.Sandbox.ID)
	cancel()
	for range evs { //nolint:revive // drain until closed
	}
}

func TestRelistReportsEachExitOnce(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, func(c *Config) { c.RelistPeriod = 20 * time.Millisecond })
	sbID, id := runOne(t, r, "app")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := r.Events(ctx)
	require.NoError(t, err)
	_, ok := next(t, evs, 100*time.Millisecond)
	require.False(t, ok, "an event for a running container")

	f.exit(id, 1, "Error")
	ev, ok := next(t, evs, 3*time.Second)
	require.True(t, ok)
	assert.Equal(t, id, ev.Container.ID)
	assert.Equal(t, int32(1), ev.Container.ExitCode)
	_, ok = next(t, evs, 200*time.Millisecond)
	assert.False(t, ok, "the exit came twice")

	// A sandbox that stops on its own is lost; one the adapter stops is not.
	f.mu.Lock()
	f.sandboxes[sbID].State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	f.mu.Unlock()
	ev, ok = next(t, evs, 3*time.Second)
	require.True(t, ok)
	assert.Equal(t, lifecycle.RuntimeSandboxLost, ev.Type)
	sb2, id2 := runOne(t, r, "other")
	_ = id2
	require.NoError(t, r.StopSandbox(ctx, sb2))
	_, ok = next(t, evs, 200*time.Millisecond)
	assert.False(t, ok, "a sandbox the adapter stopped was reported lost")
}

func TestStopContainerStreamsExitAtOnceAndKillsAtFractionalTimeout(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, nil) // hourly relist: the exit must come from StopContainer
	_, id := runOne(t, r, "app")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := r.Events(ctx)
	require.NoError(t, err)

	start := time.Now()
	require.NoError(t, r.StopContainer(ctx, id, 1500*time.Millisecond))
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 1500*time.Millisecond, "SIGKILL before the timeout")
	assert.Less(t, took, 1900*time.Millisecond, "SIGKILL not at 1.5 s but at CRI's whole second: %v", took)
	calls := f.stopCalls()
	require.Len(t, calls, 2)
	assert.Equal(t, int64(2), calls[0].timeout, "CRI gets the next whole second")
	assert.Equal(t, int64(0), calls[1].timeout, "then a kill at the timeout")
	ev, ok := next(t, evs, 500*time.Millisecond)
	require.True(t, ok, "the exit did not come at once (the relist runs hourly here)")
	assert.Equal(t, int32(137), ev.Container.ExitCode)

	// Stopping it again is no error; an unknown container is ErrNotFound.
	require.NoError(t, r.StopContainer(ctx, id, time.Second))
	err = r.StopContainer(ctx, "nope", time.Second)
	assert.ErrorIs(t, err, lifecycle.ErrNotFound)
	require.NoError(t, r.RemoveContainer(ctx, id))
	require.NoError(t, r.RemoveContainer(ctx, id), "RemoveContainer is idempotent")
}

func TestEventsBacklogWhenNobodyListens(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, nil)
	_, id := runOne(t, r, "app")
	require.NoError(t, r.StopContainer(context.Background(), id, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := r.Events(ctx)
	require.NoError(t, err)
	ev, ok := next(t, evs, time.Second)
	require.True(t, ok, "an exit seen before the stream opened was lost")
	assert.Equal(t, id, ev.Container.ID)
}

func TestCreateContainerIsIdempotent(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, nil)
	ctx := context.Background()
	sb, err := r.RunSandbox(ctx, testPod, &podlife.PodSpec{HostNetwork: true}, 0)
	require.NoError(t, err)
	again, err := r.RunSandbox(ctx, testPod, &podlife.PodSpec{HostNetwork: true}, 0)
	require.NoError(t, err)
	assert.Equal(t, sb.ID, again.ID, "the ready sandbox of the same attempt")
	assert.Equal(t, "127.0.0.1", sb.IP, "a host-network testPod's address")

	c := &podlife.Container{Name: "app", Image: "docker.io/x/y:1"}
	id1, err := r.CreateContainer(ctx, sb.ID, testPod, c, 0)
	require.NoError(t, err)
	id2, err := r.CreateContainer(ctx, sb.ID, testPod, c, 0)
	require.NoError(t, err)
	assert.Equal(t, id1, id2, "is reserved for: the existing container")
	id3, err := r.CreateContainer(ctx, sb.ID, testPod, c, 1)
	require.NoError(t, err)
	assert.NotEqual(t, id1, id3)

	// A new adapter (an agent restart) knows nothing of the sandbox: it asks containerd.
	r2, err := Connect(ctx, Config{Socket: r.cfg.Socket})
	require.NoError(t, err)
	defer r2.Close()
	id4, err := r2.CreateContainer(ctx, sb.ID, testPod, c, 1)
	require.NoError(t, err)
	assert.Equal(t, id3, id4)
	cs, err := r2.ListContainers(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, testPod, cs[0].Pod)
	assert.Equal(t, "app", cs[0].Name)
	sbs, err := r2.ListSandboxes(ctx)
	require.NoError(t, err)
	require.Len(t, sbs, 1)
	assert.Equal(t, lifecycle.SandboxInfo{ID: sb.ID, Pod: testPod, IP: "127.0.0.1", Ready: true}, sbs[0])

	// Another scope sees none of it.
	r3, err := Connect(ctx, Config{Socket: r.cfg.Socket, Scope: "other"})
	require.NoError(t, err)
	defer r3.Close()
	cs, err = r3.ListContainers(ctx)
	require.NoError(t, err)
	assert.Empty(t, cs)
}

func TestErrorsMapToWaitingReasons(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, nil)
	ctx := context.Background()
	f.images["docker.io/x/present:1"] = true

	require.NoError(t, r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/present:1", Policy: podlife.PullNever}))
	require.NoError(t, r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/present:1", Policy: podlife.PullIfNotPresent}))
	f.setFail("PullImage", status.Error(codes.Unknown, "failed to resolve reference: dial tcp: no route"))
	err := r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/present:1", Policy: podlife.PullAlways})
	assert.ErrorIs(t, err, lifecycle.ErrImagePull, "Always pulls, and the pull fails")

	cases := []struct {
		name   string
		op     lifecycle.ActionType
		err    func() error
		reason string
		is     error
	}{
		{"never pull", lifecycle.PullImage, func() error {
			return r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/absent:1", Policy: podlife.PullNever})
		},
			phase.ReasonErrImageNeverPull, lifecycle.ErrImageNeverPull},
		{"pull fails", lifecycle.PullImage, func() error {
			return r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/absent:1", Policy: podlife.PullIfNotPresent})
		},
			phase.ReasonErrImagePull, lifecycle.ErrImagePull},
		{"bad name", lifecycle.PullImage, func() error {
			return r.PullImage(ctx, lifecycle.PullRequest{Image: "Docker.io/X Y", Policy: podlife.PullIfNotPresent})
		},
			phase.ReasonInvalidImageName, lifecycle.ErrInvalidImageName},
		{"create fails", lifecycle.CreateContainer, func() error {
			f.setFail("CreateContainer", status.Error(codes.Unknown, "failed to create containerd container: no such file"))
			defer f.setFail("CreateContainer", nil)
			sb, _ := r.RunSandbox(ctx, testPod, &podlife.PodSpec{HostNetwork: true}, 5)
			_, err := r.CreateContainer(ctx, sb.ID, testPod, &podlife.Container{Name: "a", Image: "docker.io/x/y:1"}, 0)
			return err
		}, phase.ReasonCreateContainerError, lifecycle.ErrCreateContainer},
		{"secret env", lifecycle.CreateContainer, func() error {
			sb, _ := r.RunSandbox(ctx, testPod, &podlife.PodSpec{HostNetwork: true}, 6)
			_, err := r.CreateContainer(ctx, sb.ID, testPod, &podlife.Container{Name: "a", Image: "docker.io/x/y:1",
				Env: []podlife.EnvVar{{Name: "PW", SecretKeyRef: &podlife.KeyRef{Name: "db", Key: "pw"}}}}, 0)
			return err
		}, phase.ReasonCreateContainerConfigError, lifecycle.ErrCreateContainerConfig},
		{"start fails", lifecycle.StartContainer, func() error {
			f.setFail("StartContainer", status.Error(codes.Unknown, "failed to create containerd task: exec: not found"))
			defer f.setFail("StartContainer", nil)
			return r.StartContainer(ctx, "c1")
		}, phase.ReasonRunContainerError, lifecycle.ErrRunContainer},
		{"start times out", lifecycle.StartContainer, func() error {
			f.setFail("StartContainer", status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
			defer f.setFail("StartContainer", nil)
			return r.StartContainer(ctx, "c1")
		}, phase.ReasonRunContainerError, context.DeadlineExceeded},
		{"runtime restarting", lifecycle.CreateContainer, func() error {
			f.setFail("CreateContainer", status.Error(codes.Unknown, "server is not initialized yet"))
			defer f.setFail("CreateContainer", nil)
			sb, _ := r.RunSandbox(ctx, testPod, &podlife.PodSpec{HostNetwork: true}, 7)
			_, err := r.CreateContainer(ctx, sb.ID, testPod, &podlife.Container{Name: "a", Image: "docker.io/x/y:1"}, 0)
			return err
		}, phase.ReasonCreateContainerError, lifecycle.ErrRuntimeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			require.Error(t, err)
			assert.ErrorIs(t, err, c.is)
			assert.Equal(t, c.reason, lifecycle.WaitingReason(c.op, err))
			var re *lifecycle.RuntimeError
			assert.ErrorAs(t, err, &re)
			assert.NotContains(t, err.Error(), "rpc error", "the gRPC frame is dropped")
		})
	}
}

func TestImageNames(t *testing.T) {
	re := imageName()
	for _, ok := range []string{"busybox", "busybox:1.36", "docker.io/podlife/busybox:test", "localhost:5000/a/b-c_d.e:v1",
		"registry.k8s.io/pause:3.10", "x@sha256:" + strings.Repeat("ab", 32), "[::1]:5000/img:tag"} {
		assert.True(t, re.MatchString(ok), ok)
	}
	for _, bad := range []string{"", "Busybox", "a b", "docker.io/UPPER/x", "x:", "x:-tag", ":tag", "a//b"} {
		assert.False(t, re.MatchString(bad), bad)
	}
}

func TestReservedID(t *testing.T) {
	id, ok := reservedID(status.Error(codes.Unknown, `failed to reserve container name "app_web_ns_u1_0": name "app_web_ns_u1_0" is reserved for "4e58e7a9"`))
	assert.True(t, ok)
	assert.Equal(t, "4e58e7a9", id)
	_, ok = reservedID(errors.New("something else"))
	assert.False(t, ok)
}

func TestExecProbesAndHooks(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, nil)
	target := lifecycle.Target{Pod: testPod, ContainerID: "c1", Container: &podlife.Container{Name: "app"}}
	execProbe := func(cmd ...string) *podlife.Probe {
		return &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: cmd}}}
	}
	// Each call gets its own time, as the agent gives each probe its timeout.
	ctx := context.Background()
	assert.Equal(t, probe.SuccessOutcome("ok"), r.RunProbe(ctx, target, probe.Liveness, execProbe("true")))
	assert.Equal(t, probe.FailureOutcome("bad"), r.RunProbe(ctx, target, probe.Liveness, execProbe("fail")))

	start := time.Now()
	tctx, tcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer tcancel()
	out := r.RunProbe(tctx, target, probe.Liveness, execProbe("hang"))
	assert.Equal(t, probe.FailureOutcome("command timed out"), out)
	assert.Less(t, time.Since(start), 1500*time.Millisecond)

	hook := &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"fail"}}}
	ho := r.RunHook(ctx, target, lifecycle.PreStop, hook)
	assert.Equal(t, hooks.Failure, ho.Result)
	assert.Contains(t, ho.Message, "exited with 7: bad")
	ho = r.RunHook(ctx, target, lifecycle.PostStart, &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"ok"}}})
	assert.False(t, ho.Failed())

	sctx, scancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer scancel()
	ho = r.RunHook(sctx, target, lifecycle.PreStop, &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 5}})
	assert.True(t, ho.Failed(), "a sleep cut short")
	ho = r.RunHook(ctx, target, lifecycle.PreStop, &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 0}})
	assert.False(t, ho.Failed())
	ho = r.RunHook(ctx, target, lifecycle.PreStop, &podlife.LifecycleHandler{})
	assert.True(t, ho.Failed(), "no handler")
}

// httpTarget is a target whose testPod address is the test server's host, on its port "http".
func httpTarget(t *testing.T, srv *httptest.Server) lifecycle.Target {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return lifecycle.Target{Pod: testPod, PodIP: u.Hostname(),
		Container: &podlife.Container{Name: "web", Ports: []podlife.Port{{Name: "http", ContainerPort: int32(port)}}}}
}

func TestHTTPProbe(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "other host") }))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another host name
	var gotUA, gotHost, gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/ok":
			gotUA, gotHost, gotHeader = req.UserAgent(), req.Host, req.Header.Get("X-Probe")
			fmt.Fprint(w, "fine")
		case "/hop":
			http.Redirect(w, req, "/ok", http.StatusFound)
		case "/loop":
			http.Redirect(w, req, "/loop", http.StatusMovedPermanently)
		case "/away":
			http.Redirect(w, req, otherURL+"/x", http.StatusFound)
		case "/big":
			fmt.Fprint(w, strings.Repeat("x", probe.MaxOutputBytes+100))
		case "/query":
			fmt.Fprint(w, req.URL.RawQuery)
		default:
			http.Error(w, "nope", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	r := &Runtime{cfg: Config{NodeIP: "127.0.0.1"}, sandboxes: map[string]*sandboxState{}}
	target := httpTarget(t, srv)
	get := func(path string, headers ...podlife.HTTPHeader) probe.Outcome {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return r.RunProbe(ctx, target, probe.Readiness, &podlife.Probe{ProbeHandler: podlife.ProbeHandler{
			HTTPGet: &podlife.HTTPGetAction{Path: path, Port: podlife.PortName("http"), HTTPHeaders: headers}}})
	}
	assert.Equal(t, probe.SuccessOutcome("fine"), get("/ok", podlife.HTTPHeader{Name: "X-Probe", Value: "1"}, podlife.HTTPHeader{Name: "Host", Value: "web.local"}))
	assert.Equal(t, userAgent, gotUA)
	assert.Equal(t, "web.local", gotHost)
	assert.Equal(t, "1", gotHeader)
	assert.Equal(t, probe.SuccessOutcome("fine"), get("/hop"), "a same-host redirect is followed")
	assert.Equal(t, probe.FailureOutcome(`Get "/loop": stopped after 10 redirects`), get("/loop"))
	away := get("/away")
	assert.Equal(t, probe.Success, away.Result, "a redirect to another host is not followed: a success with a warning")
	assert.True(t, away.Warning)
	assert.Equal(t, probe.FailureOutcome("HTTP probe failed with statuscode: 500"), get("/missing"))
	assert.Len(t, get("/big").Message, probe.MaxOutputBytes)
	assert.Equal(t, probe.SuccessOutcome("a=1"), get("/query?a=1"))

	unknown := r.RunProbe(context.Background(), target, probe.Readiness, &podlife.Probe{ProbeHandler: podlife.ProbeHandler{
		HTTPGet: &podlife.HTTPGetAction{Path: "/", Port: podlife.PortName("metrics")}}})
	assert.Equal(t, probe.Unknown, unknown.Result, "a named port that does not resolve is not counted")

	// Hooks take any answer.
	ctx := context.Background()
	ho := r.RunHook(ctx, target, lifecycle.PreStop, &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Path: "/missing", Port: podlife.PortName("http")}})
	assert.False(t, ho.Failed(), "a 500 to a hook is a success")
	srv.Close()
	ho = r.RunHook(ctx, target, lifecycle.PreStop, &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Path: "/ok", Port: podlife.PortName("http")}})
	assert.True(t, ho.Failed(), "no server")
	assert.Contains(t, ho.Message, "HTTP lifecycle hook (/ok)")
	refused := get("/ok")
	assert.Equal(t, probe.Failure, refused.Result)
	assert.Contains(t, refused.Message, "connection refused")
}

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	r := &Runtime{cfg: Config{NodeIP: "127.0.0.1"}, sandboxes: map[string]*sandboxState{}}
	target := lifecycle.Target{Pod: testPod, Container: &podlife.Container{Name: "db"}} // no PodIP: the node's
	tcp := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{TCPSocket: &podlife.TCPSocketAction{Port: podlife.PortNumber(int32(port))}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	assert.Equal(t, probe.SuccessOutcome(""), r.RunProbe(ctx, target, probe.Liveness, tcp))
	require.NoError(t, l.Close())
	out := r.RunProbe(ctx, target, probe.Liveness, tcp)
	assert.Equal(t, probe.Failure, out.Result)
	assert.Contains(t, out.Message, "connection refused")
}

func TestGRPCProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)

	r := &Runtime{cfg: Config{NodeIP: "127.0.0.1"}, sandboxes: map[string]*sandboxState{}}
	target := lifecycle.Target{Pod: testPod, PodIP: "127.0.0.1", Container: &podlife.Container{Name: "app"}}
	run := func(port int, service *string) probe.Outcome {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return r.RunProbe(ctx, target, probe.Liveness, &podlife.Probe{ProbeHandler: podlife.ProbeHandler{
			GRPC: &podlife.GRPCAction{Port: int32(port), Service: service}}})
	}
	port := l.Addr().(*net.TCPAddr).Port
	assert.Equal(t, probe.SuccessOutcome("service healthy"), run(port, nil), "the server's overall health is SERVING")
	db := "db"
	assert.Equal(t, probe.FailureOutcome(`service unhealthy (responded with "NOT_SERVING")`), run(port, &db))
	srv.Stop()
	assert.Equal(t, probe.Failure, run(port, nil).Result, "no server")
	assert.Equal(t, probe.Unknown, run(0, nil).Result, "port 0 is not counted")
}

// TestPullCarriesTheSandboxConfig: a pull for a pod's container carries the config of the pod's
// sandbox, as kubelet's PullImageRequest does; a pull that names no sandbox carries none.
func TestPullCarriesTheSandboxConfig(t *testing.T) {
	f := newFake(false)
	r := f.connect(t, nil)
	ctx := context.Background()
	sb, err := r.RunSandbox(ctx, testPod, &podlife.PodSpec{HostNetwork: true}, 0)
	require.NoError(t, err)
	require.NoError(t, r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/y:1", Policy: podlife.PullAlways,
		Pod: testPod, SandboxID: sb.ID, Container: "app"}))
	require.NoError(t, r.PullImage(ctx, lifecycle.PullRequest{Image: "docker.io/x/y:1", Policy: podlife.PullAlways}))
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.pulls, 2)
	md := f.pulls[0].GetSandboxConfig().GetMetadata()
	assert.Equal(t, testPod.Name, md.GetName())
	assert.Equal(t, testPod.Namespace, md.GetNamespace())
	assert.Nil(t, f.pulls[1].GetSandboxConfig())
}
