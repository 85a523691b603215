package containerd_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/containerd"
	"github.com/podlife/podlife/lifecycle/localsetup"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/restart"
)

// The environment of the integration tests, as ./scripts/test sets it.
const (
	envSocket  = "PODLIFE_CONTAINERD_SOCKET"  // containerd's socket, with the test images imported
	envRequire = "PODLIFE_REQUIRE_CONTAINERD" // "1": a missing daemon fails the tests instead of skipping them
	envDir     = "PODLIFE_CONTAINERD_DIR"     // scripts/containerd's DIR, for the restart test
)

// busybox is the image scripts/containerd builds from Debian's busybox-static and imports.
const busybox = "docker.io/podlife/busybox:test"

// socket is the containerd socket for the test, or a skip (a failure when required) saying how
// to get one.
func socket(tb testing.TB) string {
	tb.Helper()
	sock := os.Getenv(envSocket)
	if sock != "" {
		return sock
	}
	msg := "the containerd integration tests need a containerd: run ./scripts/test (as root: it provisions a private " +
		"containerd with scripts/containerd and sets " + envSocket + "), or set " + envSocket + " to the socket of a " +
		"containerd that has " + busybox + " (scripts/containerd up DIR gives DIR/containerd.sock)"
	if os.Getenv(envRequire) == "1" {
		tb.Fatalf("%s=1 but %s is unset: %s", envRequire, envSocket, msg)
	}
	tb.Skip(msg)
	return ""
}

// connect connects a Runtime of its own scope, so that the test's agent never takes another
// test's pods for orphans. A socket that is set but does not answer fails the test.
func connect(tb testing.TB, log *zap.Logger, mod func(*containerd.Config)) *containerd.Runtime {
	tb.Helper()
	cfg := containerd.Config{Socket: socket(tb), Logger: log, RelistPeriod: 100 * time.Millisecond,
		Scope: scopeName(tb), Timeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rt, err := containerd.Connect(ctx, cfg)
	require.NoError(tb, err, "connecting to containerd at %s", cfg.Socket)
	tb.Cleanup(func() { _ = rt.Close() })
	return rt
}

func scopeName(tb testing.TB) string {
	s := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(tb.Name(), "-")
	return strings.ToLower(strings.Trim(s, "-")) + "-" + fmt.Sprint(time.Now().UnixNano()%1e6)
}

// harness is one agent on the real containerd, with a memory store, a local pod setup under a
// temporary directory, container logs kept, and a fast crash-loop curve (1 s doubling).
type harness struct {
	t      testing.TB
	rt     *containerd.Runtime
	tap    *tap // the agent's Runtime: rt, watched
	store  *memstore.Store
	client lifecycle.Client
	setup  *localsetup.Setup
	logs   string
	node   string
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	timeline map[string][]observed // by pod name: every status the machine handed out
	changed  chan struct{}         // signalled after each status
}

// observed is a status as the machine handed it out, with the wall time.
type observed struct {
	at     time.Time
	status phase.PodStatus
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessLog(t, zaptest.NewLogger(t, zaptest.Level(zapcore.InfoLevel)), true)
}

// newHarnessLog is a harness that logs to log and, with keepLogs, keeps container output.
func newHarnessLog(t testing.TB, log *zap.Logger, keepLogs bool) *harness {
	t.Helper()
	h := &harness{t: t, store: memstore.New(), node: "node-1", logs: t.TempDir(), timeline: map[string][]observed{}, done: make(chan error, 1),
		changed: make(chan struct{}, 1)}
	setup, err := localsetup.New(localsetup.Config{Root: t.TempDir(), Logger: log})
	require.NoError(t, err)
	h.setup = setup
	h.rt = connect(t, log, func(c *containerd.Config) {
		c.VolumePath = setup.VolumePath
		if keepLogs {
			c.LogDir = h.logs
		}
	})
	h.tap = &tap{Runtime: h.rt}
	h.client = lifecycle.Client{Store: h.store}
	crash := restart.Backoff{Initial: time.Second, Max: 4 * time.Second, ResetAfter: 10 * time.Minute}
	agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{
		Node: h.node, Runtime: h.tap, Store: h.store, Setup: setup, Logger: log,
		Machine:     lifecycle.Options{CrashLoop: &crash},
		RetryPeriod: 100 * time.Millisecond,
		Observe: func(ref lifecycle.PodRef, _ time.Time, rd lifecycle.Ready) {
			if rd.Status == nil {
				return
			}
			h.mu.Lock()
			h.timeline[ref.Name] = append(h.timeline[ref.Name], observed{at: time.Now(), status: *rd.Status})
			h.mu.Unlock()
			select {
			case h.changed <- struct{}{}:
			default:
			}
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- agent.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// tap is the adapter with a record of the stops the agent asked for and the exits it was told of.
type tap struct {
	*containerd.Runtime
	mu    sync.Mutex
	stops []stopCall
	exits []lifecycle.ContainerInfo
	busy  time.Duration // the time spent in the calls that start a pod, for the benchmark
}

// timed adds the time since start to busy.
func (t *tap) timed(start time.Time) {
	t.mu.Lock()
	t.busy += time.Since(start)
	t.mu.Unlock()
}

// takeBusy returns busy and sets it to zero.
func (t *tap) takeBusy() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.busy
	t.busy = 0
	return b
}

func (t *tap) RunSandbox(ctx context.Context, pod lifecycle.PodRef, spec *podlife.PodSpec, attempt int32) (lifecycle.Sandbox, error) {
	defer t.timed(time.Now())
	return t.Runtime.RunSandbox(ctx, pod, spec, attempt)
}

func (t *tap) PullImage(ctx context.Context, req lifecycle.PullRequest) error {
	defer t.timed(time.Now())
	return t.Runtime.PullImage(ctx, req)
}

func (t *tap) CreateContainer(ctx context.Context, sandboxID string, pod lifecycle.PodRef, c *podlife.Container, attempt int32) (string, error) {
	defer t.timed(time.Now())
	return t.Runtime.CreateContainer(ctx, sandboxID, pod, c, attempt)
}

func (t *tap) StartContainer(ctx context.Context, id string) error {
	defer t.timed(time.Now())
	return t.Runtime.StartContainer(ctx, id)
}

type stopCall struct {
	id      string
	timeout time.Duration
	at      time.Time
}

func (t *tap) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	t.mu.Lock()
	t.stops = append(t.stops, stopCall{id: id, timeout: timeout, at: time.Now()})
	t.mu.Unlock()
	return t.Runtime.StopContainer(ctx, id, timeout)
}

func (t *tap) Events(ctx context.Context) (<-chan lifecycle.RuntimeEvent, error) {
	in, err := t.Runtime.Events(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan lifecycle.RuntimeEvent)
	go func() {
		defer close(out)
		for ev := range in {
			if ev.Type == lifecycle.RuntimeContainerExited {
				t.mu.Lock()
				t.exits = append(t.exits, ev.Container)
				t.mu.Unlock()
			}
			select {
			case out <- ev:
			case <-ctx.Done():
			}
		}
	}()
	return out, nil
}

// exit is the first exit of container id streamed to the agent.
func (t *tap) exit(id string) (lifecycle.ContainerInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.exits {
		if c.ID == id {
			return c, true
		}
	}
	return lifecycle.ContainerInfo{}, false
}

// stopsOf are the StopContainer calls for container id.
func (t *tap) stopsOf(id string) []stopCall {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []stopCall
	for _, s := range t.stops {
		if s.id == id {
			out = append(out, s)
		}
	}
	return out
}

// stop ends the agent and removes whatever the test left in its scope.
func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		assertNoErr(h.t, err)
	case <-time.After(10 * time.Second):
		h.t.Error("the agent did not stop within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, _ := h.rt.ListContainers(ctx)
	for _, c := range cs {
		_ = h.rt.RemoveContainer(ctx, c.ID)
	}
	sbs, _ := h.rt.ListSandboxes(ctx)
	for _, s := range sbs {
		_ = h.rt.StopSandbox(ctx, s.ID)
	}
}

func assertNoErr(t testing.TB, err error) {
	if err != nil {
		t.Errorf("agent: %v", err)
	}
}

// pod is a host-network pod of busybox containers with a short grace period.
func pod(name string, containers ...podlife.Container) (lifecycle.PodRef, podlife.PodSpec) {
	grace := int64(2)
	for i := range containers {
		if containers[i].Image == "" {
			containers[i].Image = busybox
		}
	}
	ref := lifecycle.PodRef{Namespace: "test", Name: name, UID: fmt.Sprint(time.Now().UnixNano())}
	return ref, podlife.PodSpec{Containers: containers, HostNetwork: true, TerminationGracePeriodSeconds: &grace}
}

// sh is a busybox shell container.
func sh(name, script string) podlife.Container {
	return podlife.Container{Name: name, Image: busybox, Command: []string{"sh", "-c", script}}
}

// idle is a script that runs until SIGTERM, and exits 0 on it at once (the shell, PID 1 of its
// PID namespace, waits on a background sleep, which a trapped signal interrupts).
const idle = `trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done`

func (h *harness) bind(ref lifecycle.PodRef, spec podlife.PodSpec) {
	h.t.Helper()
	_, err := h.client.Bind(context.Background(), h.node, ref, spec)
	require.NoError(h.t, err)
}

func (h *harness) delete(ref lifecycle.PodRef, grace *int64) time.Time {
	h.t.Helper()
	now := time.Now()
	require.NoError(h.t, h.client.Delete(context.Background(), h.node, ref, grace, now))
	return now
}

// status is the pod's last persisted status (zero before the first).
func (h *harness) status(ref lifecycle.PodRef) phase.PodStatus {
	st, err := h.client.Status(context.Background(), h.node, ref)
	if err != nil {
		return phase.PodStatus{}
	}
	return st.Status
}

// waitFor polls the pod's persisted status until cond holds, and fails with the last status
// after timeout.
func (h *harness) waitFor(ref lifecycle.PodRef, timeout time.Duration, what string, cond func(phase.PodStatus) bool) phase.PodStatus {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := h.status(ref)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("pod %s: not %s within %v; last status: %s", ref.Name, what, timeout, describe(st))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// observedStatuses is the pod's timeline so far.
func (h *harness) observedStatuses(name string) []observed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]observed(nil), h.timeline[name]...)
}

func container(st phase.PodStatus, name string) (phase.ContainerStatus, bool) {
	for _, cs := range append(append([]phase.ContainerStatus(nil), st.InitContainerStatuses...), st.ContainerStatuses...) {
		if cs.Name == name {
			return cs, true
		}
	}
	return phase.ContainerStatus{}, false
}

func running(st phase.PodStatus, name string) bool {
	cs, ok := container(st, name)
	return ok && cs.State.Running != nil
}

func condition(st phase.PodStatus, t phase.ConditionType) phase.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func describe(st phase.PodStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s", st.Phase)
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, " %s=%s", c.Type, c.Status)
	}
	for _, cs := range append(append([]phase.ContainerStatus(nil), st.InitContainerStatuses...), st.ContainerStatuses...) {
		fmt.Fprintf(&b, " [%s restarts=%d ready=%v", cs.Name, cs.RestartCount, cs.Ready)
		switch s := cs.State; {
		case s.Waiting != nil:
			fmt.Fprintf(&b, " waiting %s %q", s.Waiting.Reason, s.Waiting.Message)
		case s.Running != nil:
			b.WriteString(" running")
		case s.Terminated != nil:
			fmt.Fprintf(&b, " terminated %d %s", s.Terminated.ExitCode, s.Terminated.Reason)
		}
		b.WriteString("]")
	}
	return b.String()
}

// logLines is what a container instance wrote, from its CRI log file (lines of
// "<time> <stream> <tag> <text>").
func (h *harness) logLines(ref lifecycle.PodRef, name string, attempt int) []string {
	f, err := os.Open(filepath.Join(h.logs, ref.Namespace+"_"+ref.Name+"_"+ref.UID, name, fmt.Sprintf("%d.log", attempt)))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if parts := strings.SplitN(sc.Text(), " ", 4); len(parts) == 4 {
			out = append(out, parts[3])
		}
	}
	return out
}

// criList is everything containerd has for the pod, asked over CRI directly (not through the
// adapter), by the pod's labels.
func criList(tb testing.TB, ref lifecycle.PodRef) (sandboxes []*runtimeapi.PodSandbox, containers []*runtimeapi.Container) {
	tb.Helper()
	conn := dialCRI(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sel := map[string]string{"io.kubernetes.pod.uid": ref.UID, "io.kubernetes.pod.name": ref.Name}
	sbs, err := conn.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	require.NoError(tb, err)
	cs, err := conn.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: sel}})
	require.NoError(tb, err)
	return sbs.Items, cs.Containers
}
