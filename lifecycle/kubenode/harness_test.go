package kubenode_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/podlife/podlife/internal/kubetest"
	"github.com/podlife/podlife/lifecycle/kubenode"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// cp is the API server the tests of this package share; TestMain stops it.
var cp = kubetest.NewShared(kubetest.Options{})

func TestMain(m *testing.M) {
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// env is one test's namespace on the shared API server, its podlife nodes, and a watch of its
// pods that checks the server's kubectl columns against phase.KubectlColumns at every change.
type env struct {
	t      *testing.T
	s      *kubetest.APIServer
	c      kubernetes.Interface
	ns     string
	nodes  []kubenode.NodeConfig
	group  *kubenode.Group
	seen   *seen
	cancel context.CancelFunc
}

// seen is every version of every pod of the namespace the watch saw, by pod name.
type seen struct {
	mu       sync.Mutex
	versions map[string][]*v1.Pod
	rows     map[string][]kubetest.PodRow
	problems []string
	checks   int
}

// newEnv starts nodes (simulated with the zero world when none are given) in a namespace of
// its own, and the columns watch. The nodes stop at cleanup.
func newEnv(t *testing.T, nodes ...kubenode.NodeConfig) *env {
	t.Helper()
	s := cp.Get(t)
	e := &env{t: t, s: s, c: s.Client(), ns: s.Namespace(t), seen: &seen{versions: map[string][]*v1.Pod{}, rows: map[string][]kubetest.PodRow{}}}
	if len(nodes) == 0 {
		nodes = []kubenode.NodeConfig{kubenode.SimNode(e.ns+"-node", simruntime.WorldOptions{})}
	}
	e.nodes = nodes
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.watchPods(ctx)
	e.start()
	t.Cleanup(func() {
		if e.group != nil {
			require.NoError(t, e.group.Stop())
		}
		cancel()
		e.seen.mu.Lock()
		defer e.seen.mu.Unlock()
		for _, p := range e.seen.problems {
			t.Error(p)
		}
		t.Logf("%d pod versions checked against the server's kubectl columns", e.seen.checks)
	})
	return e
}

// start starts the env's nodes (again, after stop).
func (e *env) start() {
	e.t.Helper()
	g, err := kubenode.Start(context.Background(), kubenode.Options{Config: e.s.Config(), Nodes: e.nodes, Logger: testLogger(e.t)})
	require.NoError(e.t, err)
	e.group = g
}

// stop stops the env's nodes, as the node's process ending.
func (e *env) stop() {
	e.t.Helper()
	require.NoError(e.t, e.group.Stop())
	e.group = nil
}

func testLogger(t *testing.T) *zap.Logger {
	if os.Getenv("PODLIFE_NODE_TEST_LOG") != "" {
		return zaptest.NewLogger(t)
	}
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// watchPods follows the namespace's pods; every version is checked: the server's Table row at
// exactly that resourceVersion against phase.KubectlColumns of the same object.
func (e *env) watchPods(ctx context.Context) {
	w, err := e.c.CoreV1().Pods(e.ns).Watch(ctx, metav1.ListOptions{})
	require.NoError(e.t, err)
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*v1.Pod)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			e.seen.mu.Lock()
			e.seen.versions[pod.Name] = append(e.seen.versions[pod.Name], pod)
			e.seen.mu.Unlock()
			row, err := kubetest.CheckPodColumns(ctx, e.c, e.ns, pod.Name, pod.ResourceVersion)
			e.seen.mu.Lock()
			switch {
			case err != nil && ctx.Err() == nil && !strings.Contains(err.Error(), "0 rows"):
				e.seen.problems = append(e.seen.problems, err.Error())
			case err == nil:
				e.seen.checks++
				e.seen.rows[pod.Name] = append(e.seen.rows[pod.Name], row)
			}
			e.seen.mu.Unlock()
		}
	}()
}

// pod is a pod for the env's first node.
func (e *env) pod(name string, spec v1.PodSpec) *v1.Pod {
	spec.NodeName = e.nodes[0].Name
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns}, Spec: spec}
}

// scripted sets the pod's script annotation.
func scripted(pod *v1.Pod, script string) *v1.Pod {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[kubenode.ScriptAnnotation] = script
	return pod
}

func (e *env) create(pod *v1.Pod) *v1.Pod {
	e.t.Helper()
	out, err := e.c.CoreV1().Pods(e.ns).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(e.t, err)
	return out
}

func (e *env) get(name string) (*v1.Pod, error) {
	return e.c.CoreV1().Pods(e.ns).Get(context.Background(), name, metav1.GetOptions{})
}

// waitFor waits until the pod satisfies cond (checked on every version seen and on the latest),
// failing the test after timeout with the pod's last status.
func (e *env) waitFor(name string, timeout time.Duration, what string, cond func(*v1.Pod) bool) *v1.Pod {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var last *v1.Pod
	for time.Now().Before(deadline) {
		if p, err := e.get(name); err == nil {
			last = p
			if cond(p) {
				e.checked(p, time.Until(deadline))
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("pod %s: %s: not within %s; last status: %s", name, what, timeout, describe(last))
	return nil
}

// checked waits until the columns watch has checked the pod's version p (so that what the test
// reads from the rows afterwards includes it).
func (e *env) checked(p *v1.Pod, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(max(timeout, 5*time.Second))
	for time.Now().Before(deadline) {
		e.seen.mu.Lock()
		done := slices.ContainsFunc(e.seen.rows[p.Name], func(r kubetest.PodRow) bool { return r.Pod.ResourceVersion == p.ResourceVersion })
		e.seen.mu.Unlock()
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("pod %s: the columns watch did not check version %s", p.Name, p.ResourceVersion)
}

// waitGone waits until the pod's API object is gone and returns how long that took.
func (e *env) waitGone(name string, timeout time.Duration) time.Duration {
	e.t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if _, err := e.get(name); err != nil {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, _ := e.get(name)
	e.t.Fatalf("pod %s still there after %s: %s", name, timeout, describe(p))
	return 0
}

// statuses are the kubectl STATUS cells the server printed for the pod, in order, without repeats.
func (e *env) statuses(name string) []string {
	e.seen.mu.Lock()
	defer e.seen.mu.Unlock()
	var out []string
	for _, r := range e.seen.rows[name] {
		if len(out) == 0 || out[len(out)-1] != r.Status {
			out = append(out, r.Status)
		}
	}
	return out
}

// rowsOf are the server's rows for the pod, in order.
func (e *env) rowsOf(name string) []kubetest.PodRow {
	e.seen.mu.Lock()
	defer e.seen.mu.Unlock()
	return append([]kubetest.PodRow(nil), e.seen.rows[name]...)
}

// events are the reasons of the pod's events (by UID), "Warning " before a warning's.
func (e *env) events(pod *v1.Pod) []string {
	e.t.Helper()
	list, err := e.c.CoreV1().Events(e.ns).List(context.Background(), metav1.ListOptions{FieldSelector: fields.Set{
		"involvedObject.name": pod.Name, "involvedObject.uid": string(pod.UID)}.String()})
	require.NoError(e.t, err)
	var out []string
	for _, ev := range list.Items {
		r := ev.Reason
		if ev.Type == v1.EventTypeWarning {
			r = "Warning " + r
		}
		out = append(out, r)
	}
	return out
}

// waitEvent waits until the pod has an event with the reason (and a message containing msg).
func (e *env) waitEvent(pod *v1.Pod, reason, msg string, timeout time.Duration) v1.Event {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		list, err := e.c.CoreV1().Events(e.ns).List(context.Background(), metav1.ListOptions{FieldSelector: fields.Set{
			"involvedObject.name": pod.Name, "involvedObject.uid": string(pod.UID), "reason": reason}.String()})
		require.NoError(e.t, err)
		for _, ev := range list.Items {
			if strings.Contains(ev.Message, msg) {
				return ev
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("pod %s: no event %s %q within %s; events: %v", pod.Name, reason, msg, timeout, e.events(pod))
	return v1.Event{}
}

func describe(p *v1.Pod) string {
	if p == nil {
		return "(none)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s reason %q", p.Status.Phase, p.Status.Reason)
	for _, list := range [][]v1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			fmt.Fprintf(&b, "; %s ready=%t restarts=%d %s", cs.Name, cs.Ready, cs.RestartCount, stateString(cs.State))
		}
	}
	return b.String()
}

func stateString(s v1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return "Waiting(" + s.Waiting.Reason + ")"
	case s.Running != nil:
		return "Running"
	case s.Terminated != nil:
		return fmt.Sprintf("Terminated(%s %d)", s.Terminated.Reason, s.Terminated.ExitCode)
	}
	return "?"
}

// container is a busybox container that does nothing (the simulated node runs no image).
func container(name string) v1.Container {
	return v1.Container{Name: name, Image: "busybox:1.36", ImagePullPolicy: v1.PullIfNotPresent}
}

func ptr[T any](v T) *T { return &v }

func phaseOf(p *v1.Pod) phase.Phase { return phase.Phase(p.Status.Phase) }
