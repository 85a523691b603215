package kubenode_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/kubenode"
	"github.com/podlife/podlife/phase"
)

// The tests run pods on simulated nodes behind the real API server; every version of every pod
// is checked by the env: the server's kubectl columns equal phase.KubectlColumns. Scripts are in
// seconds, so that the suite stays short.

func execProbe(period int32) *v1.Probe {
	return &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"check"}}}, PeriodSeconds: period, FailureThreshold: 1}
}

func TestJobLikePodSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pod := e.create(scripted(e.pod("job", v1.PodSpec{RestartPolicy: v1.RestartPolicyNever,
		Containers: []v1.Container{container("work")}}), `{"containers": {"work": {"runs": [{"for": "1s"}]}}}`))
	done := e.waitFor("job", 20*time.Second, "Succeeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodSucceeded })
	cs := done.Status.ContainerStatuses[0]
	require.NotNil(t, cs.State.Terminated)
	assert.Equal(t, "Completed", cs.State.Terminated.Reason)
	assert.Equal(t, "Completed", e.statuses("job")[len(e.statuses("job"))-1])
	assert.Subset(t, e.events(pod), []string{"Pulled", "Created", "Started"})
	// The node's informer drops managedFields; its status writes keep the server's and add its own.
	managers := map[string]string{}
	for _, f := range done.ManagedFields {
		managers[f.Manager] += f.Subresource + " "
	}
	assert.Contains(t, managers["podlife-node"], "status", "the node's status writes: %v", managers)
	assert.Len(t, managers, 2, "the creator's entry is kept: %v", managers)

	// A finished pod's deletion only removes its object.
	require.NoError(t, e.c.CoreV1().Pods(e.ns).Delete(context.Background(), "job", metav1.DeleteOptions{}))
	assert.Less(t, e.waitGone("job", 10*time.Second), 5*time.Second)
}

func TestInitContainersSidecarAndProbes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	proxy := container("proxy")
	proxy.RestartPolicy = ptr(v1.ContainerRestartPolicyAlways)
	proxy.StartupProbe = execProbe(1)
	proxy.StartupProbe.FailureThreshold = 10
	web := container("web")
	web.ReadinessProbe = execProbe(1)
	web.LivenessProbe = execProbe(1)
	e.create(scripted(e.pod("shop", v1.PodSpec{
		InitContainers: []v1.Container{container("migrate"), proxy},
		Containers:     []v1.Container{web},
	}), `{"containers": {"migrate": {"runs": [{"for": "1s"}]}, "proxy": {"probes": {"startup": {"fail": true, "failUntil": "2s"}}}}}`))
	running := e.waitFor("shop", 20*time.Second, "Running and ready", func(p *v1.Pod) bool {
		return p.Status.Phase == v1.PodRunning && podReady(p)
	})
	assert.Len(t, running.Status.InitContainerStatuses, 2)
	st := e.statuses("shop")
	assert.Contains(t, st, "Init:0/2", "migrate runs first")
	assert.Contains(t, st, "Init:1/2", "then the sidecar starts; its startup probe holds the app back")
	assert.Equal(t, "Running", st[len(st)-1])
	rows := e.rowsOf("shop")
	assert.Equal(t, "2/2", rows[len(rows)-1].Ready, "the sidecar counts in READY")
	assert.Less(t, slices.Index(st, "Init:1/2"), slices.Index(st, "Running"))
}

func TestCrashLoopBackOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pod := e.create(scripted(e.pod("crash", v1.PodSpec{Containers: []v1.Container{container("app")}}),
		`{"containers": {"app": {"runs": [{"for": "1s", "exitCode": 1}]}}}`))
	e.waitFor("crash", 20*time.Second, "in CrashLoopBackOff after two crashes", func(p *v1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount >= 2 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == phase.ReasonCrashLoopBackOff
	})
	st := e.statuses("crash")
	assert.Contains(t, st, "CrashLoopBackOff")
	e.waitEvent(pod, "BackOff", "Back-off restarting failed container app", 5*time.Second)
	var restarts []string
	for _, r := range e.rowsOf("crash") {
		restarts = append(restarts, r.Restarts)
	}
	assert.Contains(t, strings.Join(restarts, ","), "2 (", "RESTARTS says how long ago: %v", restarts)
}

func TestReadinessFlipsAndLivenessRestarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	web := container("web")
	web.ReadinessProbe = execProbe(1)
	worker := container("worker")
	worker.LivenessProbe = execProbe(1)
	pod := e.create(scripted(e.pod("probed", v1.PodSpec{Containers: []v1.Container{web, worker}}),
		`{"containers": {"web": {"probes": {"readiness": {"fail": true, "failFrom": "2s", "failUntil": "4s", "message": "db pool exhausted"}}},
		  "worker": {"probes": {"liveness": {"fail": true, "failFrom": "3s", "failUntil": "4s", "message": "stuck"}}}}}`))
	// The probe scripts' windows count from each instance's start: every worker instance fails
	// its liveness probe 3 s after it started, and is restarted. (At 2 s, with web's readiness,
	// both flips came in one instant, which the pod controller may write as one status: READY
	// went from 2/2 to 0/2 at once, one run in six.)
	e.waitFor("probed", 20*time.Second, "worker restarted, web ready again", func(p *v1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 2 && cs[0].Ready && cs[1].RestartCount >= 1 && p.CreationTimestamp.Add(5*time.Second).Before(time.Now())
	})
	var ready []string
	for _, r := range e.rowsOf("probed") {
		if len(ready) == 0 || ready[len(ready)-1] != r.Ready {
			ready = append(ready, r.Ready)
		}
	}
	assert.Contains(t, strings.Join(ready, " "), "2/2 1/2", "readiness failed: READY drops, %v", ready)
	assert.Contains(t, ready, "2/2")
	e.waitEvent(pod, "Unhealthy", "Readiness probe failed: db pool exhausted", 5*time.Second)
	e.waitEvent(pod, "Unhealthy", "Liveness probe failed: stuck", 5*time.Second)
	e.waitEvent(pod, "Killing", "Container worker failed liveness probe, will be restarted", 5*time.Second)
}

func podReady(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// A graceful delete with a preStop hook: the API object goes when podlife's stop has ended (the
// hook's 2 s, then the container's 1 s to exit), not after the 30 s grace; its last status is
// terminal.
func TestGracefulDeleteWithPreStopEndsWithTheStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	web := container("web")
	web.Lifecycle = &v1.Lifecycle{PreStop: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"drain"}}}}
	pod := e.create(scripted(e.pod("graceful", v1.PodSpec{TerminationGracePeriodSeconds: ptr(int64(30)), Containers: []v1.Container{web}}),
		`{"containers": {"web": {"runs": [{"termDelay": "1s"}], "preStop": {"took": "2s"}}}}`))
	e.waitFor("graceful", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	require.NoError(t, e.c.CoreV1().Pods(e.ns).Delete(context.Background(), "graceful", metav1.DeleteOptions{}))
	took := e.waitGone("graceful", 25*time.Second)
	assert.GreaterOrEqual(t, took, 2500*time.Millisecond, "the preStop hook and the exit take 3 s")
	assert.Less(t, took, 10*time.Second, "gone when the stop ended, not after the 30 s grace")
	assert.Contains(t, e.statuses("graceful"), "Terminating")
	e.seen.mu.Lock()
	versions := e.seen.versions["graceful"]
	last := versions[len(versions)-1]
	e.seen.mu.Unlock()
	assert.Contains(t, []v1.PodPhase{v1.PodSucceeded, v1.PodFailed}, last.Status.Phase, "the final status was written before the object went")
	assert.Subset(t, e.events(pod), []string{"Killing"})
}

// A second delete with a shorter grace restarts the stop with it, counted from when the node
// sees it: a container that ignores SIGTERM is killed 3 s after the second delete, not 60 s
// after the first.
func TestSecondDeleteWithShorterGrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(scripted(e.pod("stubborn", v1.PodSpec{TerminationGracePeriodSeconds: ptr(int64(60)), Containers: []v1.Container{container("app")}}),
		`{"containers": {"app": {"runs": [{"ignoreTerm": true}]}}}`))
	e.waitFor("stubborn", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	pods := e.c.CoreV1().Pods(e.ns)
	require.NoError(t, pods.Delete(context.Background(), "stubborn", metav1.DeleteOptions{}))
	e.waitFor("stubborn", 5*time.Second, "Terminating", func(p *v1.Pod) bool { return p.DeletionTimestamp != nil })
	time.Sleep(time.Second)
	start := time.Now()
	require.NoError(t, pods.Delete(context.Background(), "stubborn", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(3))}))
	e.waitGone("stubborn", 20*time.Second)
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 2500*time.Millisecond, "SIGKILL 3 s after the second delete")
	assert.Less(t, took, 10*time.Second)
}

// A forced delete removes the API object at once; the node still stops the containers (with
// 1 s of grace), and a new pod of the name runs as a new pod.
func TestForcedDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.create(e.pod("forced", v1.PodSpec{Containers: []v1.Container{container("app")}}))
	e.waitFor("forced", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	require.NoError(t, e.c.CoreV1().Pods(e.ns).Delete(context.Background(), "forced", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))
	assert.Less(t, e.waitGone("forced", 5*time.Second), time.Second)
	e.waitRuntime(old.UID, 10*time.Second, "its container stopped", func(cs []lifecycle.ContainerInfo) bool {
		return len(cs) == 0 || !slices.ContainsFunc(cs, func(c lifecycle.ContainerInfo) bool { return c.State == lifecycle.ContainerStateRunning })
	})
	again := e.create(e.pod("forced", v1.PodSpec{Containers: []v1.Container{container("app")}}))
	p := e.waitFor("forced", 20*time.Second, "the new pod Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	assert.Equal(t, again.UID, p.UID)
	assert.Equal(t, int32(0), p.Status.ContainerStatuses[0].RestartCount, "a new pod, not the old one restarted")
}

// waitRuntime waits until the node's runtime's containers of the pod uid satisfy cond.
func (e *env) waitRuntime(uid types.UID, timeout time.Duration, what string, cond func([]lifecycle.ContainerInfo) bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var mine []lifecycle.ContainerInfo
	for time.Now().Before(deadline) {
		all, err := e.nodes[0].Runtime.ListContainers(context.Background())
		require.NoError(e.t, err)
		mine = mine[:0]
		for _, c := range all {
			if c.Pod.UID == string(uid) {
				mine = append(mine, c)
			}
		}
		if cond(mine) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("pod %s: %s: not within %s; runtime has %+v", uid, what, timeout, mine)
}

// activeDeadlineSeconds: the pod is stopped with its spec's grace (the preStop hook runs) and
// fails with reason DeadlineExceeded; an update may set a deadline, or lower it to one that has
// passed already.
func TestActiveDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	web := container("web")
	web.Lifecycle = &v1.Lifecycle{PreStop: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"drain"}}}}
	pod := e.create(scripted(e.pod("deadline", v1.PodSpec{ActiveDeadlineSeconds: ptr(int64(2)), Containers: []v1.Container{web}}),
		`{"containers": {"web": {"preStop": {"took": "1s"}}}}`))
	failed := e.waitFor("deadline", 20*time.Second, "Failed, DeadlineExceeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	assert.Equal(t, phase.ReasonDeadlineExceeded, failed.Status.Reason)
	assert.Equal(t, phase.MessageDeadlineExceeded, failed.Status.Message)
	e.waitEvent(pod, phase.ReasonDeadlineExceeded, phase.MessageDeadlineExceeded, 5*time.Second)
	e.waitEvent(pod, "Killing", "Stopping container web", 5*time.Second)

	later := e.create(e.pod("later", v1.PodSpec{Containers: []v1.Container{container("app")}}))
	e.waitFor("later", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	patch := []byte(`{"spec": {"activeDeadlineSeconds": 3600}}`)
	_, err := e.c.CoreV1().Pods(e.ns).Patch(context.Background(), "later", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	time.Sleep(time.Second)
	p, err := e.get("later")
	require.NoError(t, err)
	assert.Equal(t, v1.PodRunning, p.Status.Phase, "an hour has not passed")
	patch = []byte(`{"spec": {"activeDeadlineSeconds": 0}}`)
	_, err = e.c.CoreV1().Pods(e.ns).Patch(context.Background(), "later", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	require.ErrorContains(t, err, "must be between 1 and 2147483647", "the API server's update rule, which podlife.PodSpec.ValidateUpdate follows")
	patch = []byte(`{"spec": {"activeDeadlineSeconds": 1}}`)
	_, err = e.c.CoreV1().Pods(e.ns).Patch(context.Background(), "later", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	failed = e.waitFor("later", 20*time.Second, "Failed, DeadlineExceeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	assert.Equal(t, phase.ReasonDeadlineExceeded, failed.Status.Reason)
	e.waitEvent(later, phase.ReasonDeadlineExceeded, phase.MessageDeadlineExceeded, 5*time.Second)
}

// An image update kills and recreates the container; a label change is logged and ignored.
func TestImageUpdateRestartsTheContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pod := e.create(e.pod("web", v1.PodSpec{Containers: []v1.Container{container("web")}}))
	e.waitFor("web", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	patch := []byte(`{"metadata": {"labels": {"tier": "front"}}, "spec": {"containers": [{"name": "web", "image": "busybox:1.37"}]}}`)
	_, err := e.c.CoreV1().Pods(e.ns).Patch(context.Background(), "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	p := e.waitFor("web", 20*time.Second, "restarted with the new image", func(p *v1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].Image == "busybox:1.37" && cs[0].State.Running != nil
	})
	assert.Equal(t, int32(1), p.Status.ContainerStatuses[0].RestartCount)
	e.waitEvent(pod, "Killing", "Container web definition changed, will be restarted", 5*time.Second)
	assert.Equal(t, "front", p.Labels["tier"])
}

// Fields podlife does not model are listed in a Warning event; the pod runs without them.
func TestFieldsNotModelledAreAnEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := container("app")
	app.Resources.Limits = v1.ResourceList{v1.ResourceMemory: resource.MustParse("64Mi")}
	app.EnvFrom = []v1.EnvFromSource{{ConfigMapRef: &v1.ConfigMapEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}}}}
	pod := e.create(e.pod("limits", v1.PodSpec{Containers: []v1.Container{app}}))
	e.waitFor("limits", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	ev := e.waitEvent(pod, kubenode.ReasonNotModelled, "spec.containers[0].resources", 5*time.Second)
	assert.Equal(t, v1.EventTypeWarning, ev.Type)
	assert.Contains(t, ev.Message, "spec.containers[0].envFrom")
	assert.NotContains(t, ev.Message, "dnsPolicy", "fields every pod has from the API server's defaults are not listed")
	assert.NotContains(t, ev.Message, "nodeName")
}

// A pod podlife cannot run (here its script does not fit it) is Failed with a reason and a
// message; the node goes on.
func TestPodPodlifeCannotRunIsRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pod := e.create(scripted(e.pod("bad", v1.PodSpec{Containers: []v1.Container{container("app")}}),
		`{"containers": {"ap": {"runs": [{"for": "1s"}]}}}`))
	failed := e.waitFor("bad", 20*time.Second, "Failed", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodFailed })
	assert.Equal(t, kubenode.ReasonInvalidScript, failed.Status.Reason)
	assert.Contains(t, failed.Status.Message, `containers.ap: the pod has no container "ap" (it has app)`)
	assert.Equal(t, []string{kubenode.ReasonInvalidScript}, e.statuses("bad")[len(e.statuses("bad"))-1:])
	e.waitEvent(pod, kubenode.ReasonInvalidScript, "Pod was rejected", 5*time.Second)

	e.create(e.pod("good", v1.PodSpec{Containers: []v1.Container{container("app")}}))
	e.waitFor("good", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	require.NoError(t, e.c.CoreV1().Pods(e.ns).Delete(context.Background(), "bad", metav1.DeleteOptions{}))
	e.waitGone("bad", 10*time.Second)
}
