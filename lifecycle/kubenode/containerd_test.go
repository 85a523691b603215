package kubenode_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/containerd"
	"github.com/podlife/podlife/lifecycle/kubenode"
	"github.com/podlife/podlife/phase"
)

// The environment of the containerd tests, as ./scripts/test sets it (lifecycle/containerd's
// harness has the same policy: skipped without a socket, failed when one is required).
const (
	envContainerdSocket  = "PODLIFE_CONTAINERD_SOCKET"
	envRequireContainerd = "PODLIFE_REQUIRE_CONTAINERD"
	busybox              = "docker.io/podlife/busybox:test" // scripts/containerd imports it
)

// containerdNode is a node on scripts/test's private containerd, its runtime scoped to the test
// so that no other test's containers are its orphans. At cleanup, before the node stops, the
// test's pods are deleted by force and the node stops their containers.
func containerdNode(t *testing.T, name string) kubenode.NodeConfig {
	t.Helper()
	sock := os.Getenv(envContainerdSocket)
	if sock == "" {
		msg := "the containerd node tests need a containerd: run ./scripts/test (as root: it provisions a private containerd " +
			"and sets " + envContainerdSocket + "), or set " + envContainerdSocket + " to the socket of one that has " + busybox
		if os.Getenv(envRequireContainerd) == "1" {
			t.Fatalf("%s=1 but %s is unset: %s", envRequireContainerd, envContainerdSocket, msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	scope := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-")
	rt, err := containerd.Connect(ctx, containerd.Config{Socket: sock, Scope: scope, RelistPeriod: 100 * time.Millisecond,
		Logger: testLogger(t).Named("containerd")})
	require.NoError(t, err, "connecting to containerd at %s", sock)
	t.Cleanup(func() { _ = rt.Close() })
	return kubenode.NodeConfig{Name: name, Runtime: rt, RuntimeName: "containerd"}
}

// cleanUpPods deletes the env's pods by force at cleanup, while its node still runs, and waits
// until the runtime runs none of their containers.
func (e *env) cleanUpPods() {
	e.t.Cleanup(func() {
		ctx := context.Background()
		_ = e.c.CoreV1().Pods(e.ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}, metav1.ListOptions{})
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			cs, err := e.nodes[0].Runtime.ListContainers(ctx)
			if err != nil || !slices.ContainsFunc(cs, func(c lifecycle.ContainerInfo) bool { return c.State == lifecycle.ContainerStateRunning }) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		e.t.Error("the node's containers still run 30 s after their pods were deleted")
	})
}

// sh is a busybox container running script under sh, which exits 0 on SIGTERM.
func sh(name, script string) v1.Container {
	return v1.Container{Name: name, Image: busybox, ImagePullPolicy: v1.PullIfNotPresent,
		Command: []string{"sh", "-c", "trap 'exit 0' TERM; " + script}}
}

// The same lifecycle on a real node, with processes: a Job-like pod, a crash loop with back-off,
// readiness flips, and a graceful delete whose preStop hook runs in the container; every version
// of every pod is checked against the server's kubectl columns.
func TestContainerdNode(t *testing.T) {
	ns := cp.Get(t).Namespace(t)
	e := newEnv(t, containerdNode(t, ns+"-ctr"))
	e.cleanUpPods()
	hostPod := func(name string, spec v1.PodSpec) *v1.Pod {
		spec.HostNetwork = true // no CNI on the test containerd
		return e.pod(name, spec)
	}

	e.create(hostPod("job", v1.PodSpec{RestartPolicy: v1.RestartPolicyNever, Containers: []v1.Container{sh("work", "sleep 1")}}))
	crash := e.create(hostPod("crash", v1.PodSpec{Containers: []v1.Container{sh("app", "sleep 1; exit 3")}}))
	web := sh("web", "touch /tmp/ready; sleep 4; rm /tmp/ready; sleep 3; touch /tmp/ready; while true; do sleep 1; done")
	web.ReadinessProbe = &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"test", "-f", "/tmp/ready"}}},
		PeriodSeconds: 1, FailureThreshold: 1}
	e.create(hostPod("ready", v1.PodSpec{Containers: []v1.Container{web}}))
	drain := sh("app", "while true; do sleep 1; done")
	drain.Lifecycle = &v1.Lifecycle{PreStop: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"sleep", "2"}}}}
	graceful := e.create(hostPod("graceful", v1.PodSpec{TerminationGracePeriodSeconds: ptr(int64(30)), Containers: []v1.Container{drain}}))

	job := e.waitFor("job", 60*time.Second, "Succeeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodSucceeded })
	assert.Equal(t, "Completed", job.Status.ContainerStatuses[0].State.Terminated.Reason)
	assert.Contains(t, job.Status.ContainerStatuses[0].ContainerID, "containerd://")

	e.waitFor("crash", 60*time.Second, "CrashLoopBackOff", func(p *v1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount >= 2 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == phase.ReasonCrashLoopBackOff
	})
	last := e.waitFor("crash", 10*time.Second, "its last exit recorded", func(p *v1.Pod) bool {
		return p.Status.ContainerStatuses[0].LastTerminationState.Terminated != nil
	}).Status.ContainerStatuses[0].LastTerminationState.Terminated
	assert.Equal(t, int32(3), last.ExitCode)
	e.waitEvent(crash, "BackOff", "Back-off restarting failed container app", 10*time.Second)

	e.waitFor("ready", 60*time.Second, "ready, not ready, ready again", func(p *v1.Pod) bool {
		var ready []string
		for _, r := range e.rowsOf("ready") {
			if len(ready) == 0 || ready[len(ready)-1] != r.Ready {
				ready = append(ready, r.Ready)
			}
		}
		return strings.Contains(strings.Join(ready, " "), "1/1 0/1 1/1")
	})

	e.waitFor("graceful", 60*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	require.NoError(t, e.c.CoreV1().Pods(e.ns).Delete(context.Background(), "graceful", metav1.DeleteOptions{}))
	took := e.waitGone("graceful", 40*time.Second)
	assert.GreaterOrEqual(t, took, 2*time.Second, "the preStop hook's sleep 2 runs first")
	assert.Less(t, took, 15*time.Second, "gone when the stop ended, not after the 30 s grace")
	assert.Contains(t, e.events(graceful), "Killing")
}
