package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/podlife/podlife/internal/kubetest"
)

// The cluster tests run the whole path on real components: the API server and its etcd, the
// scheduler, the controller manager (its Deployment, ReplicaSet, Job, node lifecycle and
// taint eviction controllers) and node processes. Each runs on every node implementation of
// kubetest.NodeImplNames, in parallel, on one control plane that the tests share (started by
// the first, stopped by TestMain): each test has node processes of its own, its pods kept on
// them by node affinity (kubetest.NodeGroupLabel), and a namespace of its own.

// simScriptAnnotation is the annotation podlife-node's simulated runtime reads a pod's script
// from (simruntime.ParsePodScript's JSON); KWOK ignores it.
const simScriptAnnotation = "podlife.io/script"

// shared is the control plane the tests share.
var shared struct {
	once sync.Once
	c    *cluster
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		if err := shared.c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the shared cluster:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testNodes are a test's node processes on the shared control plane.
type testNodes struct {
	*cluster
	Groups []*kubetest.NodeGroup
	// Names are the group names, for node affinity.
	Names []string
}

// startTestNodes starts, on the shared control plane, node processes of impl for the test: one
// per count, named <prefix>-<impl>-a, -b, ... (nodes <prefix>-<impl>-a-0, ...); they stop and
// their nodes are deleted at cleanup.
func startTestNodes(t *testing.T, impl, prefix string, counts ...int) *testNodes {
	t.Helper()
	kubetest.BinDir(t) // skip or fail, as the other control-plane tests
	shared.once.Do(func() {
		shared.c, shared.err = startCluster(context.Background(), config{Node: kubetest.NodeImplNames[0], Lifetime: 15 * time.Minute})
		if shared.err == nil {
			t.Logf("shared cluster up: API server in %s, scheduler and controller manager in %s", shared.c.StartDuration, shared.c.ControlPlaneStart)
		}
	})
	require.NoError(t, shared.err, "the shared cluster")
	ni, err := kubetest.NodeImplByName(impl)
	require.NoError(t, err)
	tn := &testNodes{cluster: shared.c}
	for i, n := range counts {
		name := prefix + "-" + impl + "-" + groupName(i)
		g, err := startNodes(context.Background(), shared.c.APIServer, ni, name, n)
		require.NoError(t, err)
		t.Cleanup(func() {
			if err := g.Delete(context.Background()); err != nil {
				t.Errorf("node group %s: %v", name, err)
			}
		})
		t.Logf("%s node process %s serves %v: Ready in %s", impl, name, g.Nodes, g.ReadyAfter)
		tn.Groups, tn.Names = append(tn.Groups, g), append(tn.Names, name)
	}
	return tn
}

// forEachNode runs test on every node implementation, in parallel, each with node processes of
// its own (startTestNodes with prefix and counts) and a namespace.
func forEachNode(t *testing.T, prefix string, counts []int, test func(t *testing.T, node string, c *testNodes, ns string)) {
	t.Parallel()
	for _, node := range kubetest.NodeImplNames {
		t.Run(node, func(t *testing.T) {
			t.Parallel()
			c := startTestNodes(t, node, prefix, counts...)
			test(t, node, c, c.Namespace(t))
		})
	}
}

// onNodes keeps a pod template on the nodes of groups: a required node affinity on
// kubetest.NodeGroupLabel.
func onNodes(spec *v1.PodSpec, groups []string) {
	spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
			MatchExpressions: []v1.NodeSelectorRequirement{{Key: kubetest.NodeGroupLabel, Operator: v1.NodeSelectorOpIn, Values: groups}},
		}}},
	}}
}

// eventually polls cond every 100 ms until it returns nil, and fails the test with its last
// error after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readinessDelay is the initial delay of the web servers' readiness probe: kubelet (and
// podlife) runs it first that long after the container started, so the pod is Ready no sooner.
const readinessDelay = 2

// webScript scripts the web servers on podlife's simulated nodes: each runs until it is
// stopped, and takes termDelay to exit after SIGTERM.
const termDelay = time.Second

var webScript = `{"containers": {"web": {"runs": [{"termDelay": "` + termDelay.String() + `", "gracefulExit": true}]}}}`

// webDeployment is a Deployment of replicas web servers with a readiness probe, on the nodes of
// groups.
func webDeployment(replicas int32, image string, maxSurge, maxUnavailable int, groups []string) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	surge, unavailable := intstr.FromInt(maxSurge), intstr.FromInt(maxUnavailable)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{simScriptAnnotation: webScript}},
				Spec: v1.PodSpec{Containers: []v1.Container{{
					Name: "web", Image: image,
					Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					ReadinessProbe: &v1.Probe{
						ProbeHandler:        v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
						InitialDelaySeconds: readinessDelay,
						PeriodSeconds:       1,
					},
				}}},
			},
		},
	}
	onNodes(&d.Spec.Template.Spec, groups)
	return d
}

// podReady reports whether the pod's Ready condition is True.
func podReady(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// available lists the pods of ns that count as available: Ready (minReadySeconds is 0) and not
// being deleted.
func available(ctx context.Context, c kubernetes.Interface, ns string) ([]v1.Pod, error) {
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []v1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// rolledOut is nil once the Deployment's controller has seen its latest spec and all its
// replicas are updated and available, with no old ones left.
func rolledOut(ctx context.Context, c kubernetes.Interface, ns, name string) error {
	d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	want, st := *d.Spec.Replicas, d.Status
	if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != want || st.AvailableReplicas != want || st.Replicas != want {
		return fmt.Errorf("deployment %s: generation %d observed %d, replicas %d updated %d available %d, want %d",
			name, d.Generation, st.ObservedGeneration, st.Replicas, st.UpdatedReplicas, st.AvailableReplicas, want)
	}
	return nil
}

// availabilityWatch follows the pods of a namespace from a list's version and keeps the fewest
// available pods it saw after any event, and how long each deleted pod was seen Terminating.
type availabilityWatch struct {
	mu       sync.Mutex
	pods     map[types.UID]*v1.Pod
	min      int
	events   int
	deleting map[types.UID]time.Time // when the watch first saw the pod being deleted
	// terminating is, for each pod that went, how long it was Terminating as the watch saw it.
	terminating []time.Duration
	stopped     chan struct{}
	err         error
}

func watchAvailability(ctx context.Context, t *testing.T, c kubernetes.Interface, ns string) *availabilityWatch {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	require.NoError(t, err)
	a := &availabilityWatch{pods: map[types.UID]*v1.Pod{}, deleting: map[types.UID]time.Time{}, stopped: make(chan struct{})}
	for i := range list.Items {
		a.pods[list.Items[i].UID] = &list.Items[i]
	}
	a.min = a.availableLocked()
	go func() {
		defer close(a.stopped)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					a.fail(errors.New("the pods watch ended early"))
					return
				}
				p, isPod := ev.Object.(*v1.Pod)
				if !isPod {
					a.fail(fmt.Errorf("pods watch: %s %T %v", ev.Type, ev.Object, ev.Object))
					return
				}
				now := time.Now()
				a.mu.Lock()
				if _, seen := a.deleting[p.UID]; !seen && p.DeletionTimestamp != nil {
					a.deleting[p.UID] = now
				}
				if ev.Type == watch.Deleted {
					delete(a.pods, p.UID)
					a.terminating = append(a.terminating, now.Sub(a.deleting[p.UID]))
				} else {
					a.pods[p.UID] = p
				}
				a.events++
				a.min = min(a.min, a.availableLocked())
				a.mu.Unlock()
			}
		}
	}()
	return a
}

func (a *availabilityWatch) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *availabilityWatch) availableLocked() int {
	n := 0
	for _, p := range a.pods {
		if p.DeletionTimestamp == nil && podReady(p) {
			n++
		}
	}
	return n
}

// result is the fewest available pods seen, the number of events, and how long each pod that
// went was Terminating, shortest first.
func (a *availabilityWatch) result() (minAvailable, events int, terminating []time.Duration, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.min, a.events, slices.Sorted(slices.Values(a.terminating)), a.err
}

// crashBackOffs are kubelet's crash-loop back-offs (restart.CrashLoopBackOff): the first restart
// at once, then 10 s, 20 s, 40 s, ... from the exited container's finishedAt.
var crashBackOffs = []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second}

// TestCrashLoopBackOff (first of the parallel tests, so that its minute and a quarter of waiting
// overlaps the others; go test runs GOMAXPROCS of them at once): a pod whose container exits 1 a second after each start, scheduled to a
// node by the scheduler. On podlife, the API server shows kubelet's crash loop: the container
// restarted at once, then after 10 s, 20 s and 40 s, each measured from the last instance's
// finishedAt to the new one's startedAt as the node wrote them (whole seconds); restartCount
// counting the restarts; between them the container Waiting in CrashLoopBackOff, which the
// server's own STATUS column shows, the pod Running and not Ready; and BackOff events. KWOK has no
// crash loop: its pod-ready stage makes the pod Running and Ready once, and its container never
// exits; that is recorded.
func TestCrashLoopBackOff(t *testing.T) {
	forEachNode(t, "crash", []int{1}, func(t *testing.T, node string, c *testNodes, ns string) {
		ctx := context.Background()
		pod := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "crash", Annotations: map[string]string{
				simScriptAnnotation: `{"containers": {"app": {"runs": [{"for": "1s", "exitCode": 1}]}}}`}},
			Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app", Image: "registry.example.com/api:3"}}},
		}
		onNodes(&pod.Spec, c.Names)
		list, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		w, err := c.Client().CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		require.NoError(t, err)
		defer w.Stop()
		_, err = c.Client().CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		require.NoError(t, err)

		// follow collects the pod's versions until done says enough or timeout passes.
		var versions []*v1.Pod
		follow := func(timeout time.Duration, done func(*v1.Pod) bool) {
			t.Helper()
			deadline := time.After(timeout)
			for {
				select {
				case ev, ok := <-w.ResultChan():
					require.True(t, ok, "the pod's watch ended")
					p, isPod := ev.Object.(*v1.Pod)
					require.True(t, isPod, "watch: %s %v", ev.Type, ev.Object)
					versions = append(versions, p)
					if done(p) {
						return
					}
				case <-deadline:
					return
				}
			}
		}

		if node == "kwok" {
			follow(8*time.Second, func(*v1.Pod) bool { return false })
			last := versions[len(versions)-1]
			row, err := kubetest.PodColumnsOf(ctx, c.Client(), ns, "crash")
			require.NoError(t, err)
			t.Logf("KWOK, 8 s after the create: %s %s %s, %d versions", row.Status, row.Ready, row.Restarts, len(versions))
			require.Equal(t, "Running 1/1 0", row.Status+" "+row.Ready+" "+row.Restarts, "KWOK's pod-ready stage: Running and Ready, for ever")
			require.Equal(t, int32(0), last.Status.ContainerStatuses[0].RestartCount, "KWOK's container never exits")
			return
		}

		restarts := int32(len(crashBackOffs))
		// The last back-off, 40 s, comes 70 s or so after the create.
		follow(3*time.Minute, func(p *v1.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].RestartCount >= restarts
		})
		// Each instance's start and finish, by its number (0 the first, n after n restarts).
		starts, finishes := map[int32]time.Time{}, map[int32]time.Time{}
		var backOffVersion *v1.Pod
		for _, p := range versions {
			require.NotEqual(t, v1.PodFailed, p.Status.Phase)
			if len(p.Status.ContainerStatuses) != 1 {
				continue
			}
			cs := p.Status.ContainerStatuses[0]
			n := cs.RestartCount
			// lastState is the instance before the current one, n-1, while instance n runs or
			// has just exited, and instance n itself while it waits to be replaced.
			lastN := n - 1
			switch st := cs.State; {
			case st.Running != nil:
				starts[n] = st.Running.StartedAt.Time
			case st.Terminated != nil:
				starts[n], finishes[n] = st.Terminated.StartedAt.Time, st.Terminated.FinishedAt.Time
				require.Equal(t, int32(1), st.Terminated.ExitCode)
			case st.Waiting != nil && st.Waiting.Reason == "CrashLoopBackOff":
				require.Equal(t, v1.PodRunning, p.Status.Phase, "a crash-looping pod stays Running")
				require.False(t, podReady(p), "and is not Ready")
				backOffVersion, lastN = p, n
			}
			if last := cs.LastTerminationState.Terminated; last != nil && lastN >= 0 {
				finishes[lastN] = last.FinishedAt.Time
				require.Equal(t, int32(1), last.ExitCode)
				require.Equal(t, "Error", last.Reason)
			}
		}
		require.NotNil(t, backOffVersion, "the container was seen Waiting in CrashLoopBackOff")
		row, err := kubetest.PodColumnsOf(ctx, c.Client(), ns, "crash")
		require.NoError(t, err)
		t.Logf("after %d restarts, the server's columns: %s %s %s", restarts, row.Status, row.Ready, row.Restarts)
		for n := int32(1); n <= restarts; n++ {
			start, ok := starts[n]
			require.True(t, ok, "instance %d's start was seen", n)
			finish, ok := finishes[n-1]
			require.True(t, ok, "instance %d's finish was seen", n-1)
			backOff, want := start.Sub(finish), crashBackOffs[n-1]
			t.Logf("restart %d: %s after the last exit (kubelet: %s)", n, backOff, want)
			// startedAt and finishedAt are whole seconds in the API.
			require.True(t, backOff >= want && backOff <= want+time.Second, "restart %d came %s after the exit, want %s", n, backOff, want)
		}
		// The server's STATUS column at a version in back-off.
		backOffRow, err := kubetest.CheckPodColumns(ctx, c.Client(), ns, "crash", backOffVersion.ResourceVersion)
		require.NoError(t, err)
		require.Equal(t, "CrashLoopBackOff", backOffRow.Status)
		require.Equal(t, "0/1", backOffRow.Ready)
		events, err := c.Client().CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=crash,reason=BackOff"})
		require.NoError(t, err)
		require.NotEmpty(t, events.Items, "kubelet's BackOff event")
		require.Contains(t, events.Items[0].Message, "Back-off restarting failed container app in pod crash_"+ns)
	})
}

// readyAfterStart is how long after its container started the API shows the pod Ready: the
// Ready condition's lastTransitionTime less the container's startedAt (both in whole seconds).
func readyAfterStart(p *v1.Pod) (time.Duration, error) {
	if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Running == nil {
		return 0, fmt.Errorf("pod %s: no running container", p.Name)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady && c.Status == v1.ConditionTrue {
			return c.LastTransitionTime.Sub(p.Status.ContainerStatuses[0].State.Running.StartedAt.Time), nil
		}
	}
	return 0, fmt.Errorf("pod %s: not Ready", p.Name)
}

// TestDeploymentRollsOutWithinItsBounds: a Deployment of 20 replicas with readiness probes is
// scheduled across the nodes by the real scheduler, and rolled to a new image by the real
// Deployment controller under maxSurge 3 and maxUnavailable 2: at no event of the rollout are
// fewer than 18 pods available. Where the implementations differ, each says so: podlife runs
// the readiness probe (a pod is Ready no sooner than its initial delay after its container
// started) and the stop (a deleted pod is Terminating until its container exited, a second
// after SIGTERM, well within the 30 s grace); KWOK makes a pod Ready at once and deletes it at
// once.
func TestDeploymentRollsOutWithinItsBounds(t *testing.T) {
	forEachNode(t, "deploy", []int{3}, func(t *testing.T, node string, c *testNodes, ns string) {
		ctx := context.Background()
		const replicas, maxSurge, maxUnavailable = 20, 3, 2
		_, err := c.Client().AppsV1().Deployments(ns).Create(ctx, webDeployment(replicas, "registry.example.com/web:v1", maxSurge, maxUnavailable, c.Names), metav1.CreateOptions{})
		require.NoError(t, err)
		begin := time.Now()
		eventually(t, time.Minute, "v1 rolled out", func() error { return rolledOut(ctx, c.Client(), ns, "web") })
		t.Logf("20 replicas available %s after the Deployment was created", time.Since(begin))
		pods, err := available(ctx, c.Client(), ns)
		require.NoError(t, err)
		perNode := map[string]int{}
		for _, p := range pods {
			perNode[p.Spec.NodeName]++
			after, err := readyAfterStart(&p)
			require.NoError(t, err)
			switch node {
			case "podlife":
				require.GreaterOrEqual(t, after, readinessDelay*time.Second, "pod %s Ready no sooner than its probe's initial delay", p.Name)
			case "kwok":
				require.LessOrEqual(t, after, time.Second, "pod %s: KWOK runs no probe, Ready at once", p.Name)
			}
		}
		t.Logf("pods per node: %v", perNode)
		require.Len(t, perNode, 3, "the scheduler spreads the replicas across the 3 nodes")

		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		aw := watchAvailability(watchCtx, t, c.Client(), ns)
		_, err = c.Client().AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType,
			[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.example.com/web:v2"}]}}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
		begin = time.Now()
		eventually(t, 2*time.Minute, "v2 rolled out", func() error {
			if err := rolledOut(ctx, c.Client(), ns, "web"); err != nil {
				return err
			}
			list, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			for _, p := range list.Items {
				if img := p.Spec.Containers[0].Image; img != "registry.example.com/web:v2" {
					return fmt.Errorf("pod %s still runs %s", p.Name, img)
				}
			}
			return nil
		})
		took := time.Since(begin)
		stopWatch()
		<-aw.stopped
		minAvailable, events, terminating, err := aw.result()
		require.NoError(t, err)
		t.Logf("rolled to v2 in %s; %d pod events, never fewer than %d available; the old pods Terminating for %s to %s",
			took, events, minAvailable, terminating[0], terminating[len(terminating)-1])
		require.GreaterOrEqual(t, events, 2*replicas, "the watch saw the new pods made and the old ones deleted")
		require.GreaterOrEqual(t, minAvailable, replicas-maxUnavailable, "availability never below replicas - maxUnavailable")
		require.Len(t, terminating, replicas, "every old pod went")
		switch node {
		case "podlife":
			require.GreaterOrEqual(t, terminating[0], termDelay-100*time.Millisecond, "an old pod goes once its container exited, a second after SIGTERM")
			require.Less(t, terminating[len(terminating)-1], 15*time.Second, "and not after the whole grace of 30 s")
		case "kwok":
			require.Less(t, terminating[len(terminating)/2], termDelay, "KWOK deletes a pod at once, whatever its container does")
		}
	})
}

// TestJobRunsToCompletion: a Job of 3 completions, 2 at a time, is run by the real Job
// controller to Complete. On podlife each pod's container works for the 2 s its script says;
// KWOK completes a Job's pod at once.
func TestJobRunsToCompletion(t *testing.T) {
	forEachNode(t, "job", []int{2}, func(t *testing.T, node string, c *testNodes, ns string) {
		ctx := context.Background()
		completions, parallelism := int32(3), int32(2)
		template := v1.PodTemplateSpec{
			// On a simulated podlife node the container works for 2 s and exits 0.
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{simScriptAnnotation: `{"containers":{"report":{"runs":[{"for":"2s"}]}}}`}},
			Spec: v1.PodSpec{RestartPolicy: v1.RestartPolicyNever,
				Containers: []v1.Container{{Name: "report", Image: "registry.example.com/report:1"}}},
		}
		onNodes(&template.Spec, c.Names)
		_, err := c.Client().BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "report"},
			Spec:       batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism, Template: template},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		begin := time.Now()
		eventually(t, 2*time.Minute, "the Job Complete", func() error {
			j, err := c.Client().BatchV1().Jobs(ns).Get(ctx, "report", metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobComplete && cond.Status == v1.ConditionTrue {
					if j.Status.Succeeded != completions || j.Status.Failed != 0 {
						return fmt.Errorf("complete with %d succeeded and %d failed", j.Status.Succeeded, j.Status.Failed)
					}
					return nil
				}
			}
			return fmt.Errorf("job status %+v", j.Status)
		})
		t.Logf("Job Complete %s after it was created", time.Since(begin))
		pods, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		require.Len(t, pods.Items, int(completions), "no pod failed, none was retried")
		for _, p := range pods.Items {
			require.Equal(t, v1.PodSucceeded, p.Status.Phase, "pod %s", p.Name)
			if node != "podlife" {
				continue
			}
			term := p.Status.ContainerStatuses[0].State.Terminated
			require.NotNil(t, term, "pod %s", p.Name)
			require.Equal(t, "Completed", term.Reason)
			require.Equal(t, int32(0), term.ExitCode)
			ran := term.FinishedAt.Sub(term.StartedAt.Time)
			require.True(t, ran >= 2*time.Second && ran <= 3*time.Second, "pod %s: the container worked %s, its script's 2 s", p.Name, ran)
		}
	})
}

// TestLostNodeIsEvictedAndComesBack: the node process of b-0 stops; the real node lifecycle
// controller marks b-0's Ready Unknown once its lease is older than the grace period, taints it,
// and the taint eviction controller deletes its pods after their 5 s toleration; the ReplicaSet
// replaces them on a-0 and a-1. The node process comes back: b-0 is Ready again and the pods
// evicted from it are gone (podlife-node recovers them from the API server, finds them being
// deleted, stops them and deletes their objects; KWOK deletes them at once).
func TestLostNodeIsEvictedAndComesBack(t *testing.T) {
	forEachNode(t, "lost", []int{2, 1}, func(t *testing.T, node string, c *testNodes, ns string) {
		ctx := context.Background()
		b := c.Groups[1]
		lost := b.Nodes[0]
		const replicas = 6
		_, err := c.Client().AppsV1().Deployments(ns).Create(ctx, webDeployment(replicas, "registry.example.com/web:v1", 1, 0, c.Names), metav1.CreateOptions{})
		require.NoError(t, err)
		eventually(t, time.Minute, "rolled out", func() error { return rolledOut(ctx, c.Client(), ns, "web") })
		pods, err := available(ctx, c.Client(), ns)
		require.NoError(t, err)
		var onB []string
		for _, p := range pods {
			if p.Spec.NodeName == lost {
				onB = append(onB, p.Name)
			}
		}
		require.NotEmpty(t, onB, "the scheduler put some of the 6 replicas on %s", lost)

		require.NoError(t, b.Stop())
		stopped := time.Now()
		eventually(t, time.Minute, lost+" not Ready", func() error {
			n, err := c.Client().CoreV1().Nodes().Get(ctx, lost, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if r := kubetest.NodeReady(n); r != v1.ConditionUnknown {
				return fmt.Errorf("%s Ready is %q", lost, r)
			}
			return nil
		})
		t.Logf("%s Ready Unknown %s after its node process stopped (grace %s)", lost, time.Since(stopped), nodeMonitorGracePeriod)
		eventually(t, time.Minute, lost+"'s pods evicted and replaced on the other nodes", func() error {
			list, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			ready := 0
			for _, p := range list.Items {
				switch {
				case slices.Contains(onB, p.Name) && p.DeletionTimestamp == nil:
					return fmt.Errorf("pod %s on %s is not evicted yet", p.Name, lost)
				case p.DeletionTimestamp == nil && p.Spec.NodeName == lost:
					return fmt.Errorf("pod %s was scheduled to the lost node", p.Name)
				case p.DeletionTimestamp == nil && podReady(&p):
					ready++
				}
			}
			if ready != replicas {
				return fmt.Errorf("%d of %d replicas Ready", ready, replicas)
			}
			return nil
		})
		t.Logf("%s's %d pods evicted and replaced %s after its node process stopped", lost, len(onB), time.Since(stopped))

		require.NoError(t, b.Restart(ctx))
		back := time.Now()
		eventually(t, time.Minute, "the evicted pods gone from "+lost, func() error {
			list, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + lost})
			if err != nil {
				return err
			}
			if len(list.Items) > 0 {
				return fmt.Errorf("%d pods still on %s, the first %s", len(list.Items), lost, list.Items[0].Name)
			}
			return nil
		})
		t.Logf("%s Ready again in %s, its evicted pods gone %s after", lost, b.ReadyAfter, time.Since(back))
		require.NoError(t, rolledOut(ctx, c.Client(), ns, "web"))
	})
}

// TestClusterCommand runs the command briefly: it prints a kubeconfig that kubectl of the same
// build reads the nodes with, and stops cleanly.
func TestClusterCommand(t *testing.T) {
	bin := kubetest.BinDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"-nodes", "1,1", "-for", "2m"}, &stdout, &stderr) }()
	var kubeconfig string
	eventually(t, 2*time.Minute, "the kubeconfig printed", func() error {
		for _, line := range strings.Split(stdout.String(), "\n") {
			if k, ok := strings.CutPrefix(line, "export KUBECONFIG="); ok {
				kubeconfig = k
				return nil
			}
		}
		return fmt.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	})
	out, err := exec.Command(filepath.Join(bin, kubetest.KubectlBin), "--kubeconfig", kubeconfig, "get", "nodes").CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("kubectl get nodes:\n%s", out)
	require.Regexp(t, `(?m)^a-0\s+Ready\s`, string(out))
	require.Regexp(t, `(?m)^b-0\s+Ready\s`, string(out))
	require.Contains(t, stdout.String(), "kube-apiserver v1.37.2 at https://127.0.0.1:")
	cancel()
	require.Equal(t, exitOK, <-done, "stderr: %s", stderr.String())
	require.Contains(t, stdout.String(), "stopped")
}

func TestClusterCommandRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"-node nosuch", `-node: unknown node implementation "nosuch"`},
		{"-nodes 2,x", `-nodes "2,x": want counts from 1 to 1000`},
		{"-nodes 0", `-nodes "0": want counts from 1 to 1000`},
		{"-for 0s", "-for 0s: want a positive duration"},
		{"extra", `unexpected arguments ["extra"]`},
	} {
		t.Run(tc.args, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), strings.Fields(tc.args), &stdout, &stderr)
			require.Equal(t, exitUsage, code)
			require.Contains(t, stderr.String(), tc.want)
			require.Empty(t, stdout.String())
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
