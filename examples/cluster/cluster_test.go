package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
// kubetest.NodeImplNames, on a cluster of its own (the node lifecycle test stops a node process;
// the controller manager's garbage collectors act on every namespace).

// simScriptAnnotation is the annotation podlife-node's simulated runtime reads a pod's script
// from (simruntime.ParsePodScript's JSON); KWOK ignores it.
const simScriptAnnotation = "podlife.io/script"

// startTestCluster starts a cluster for the test with node processes of groups nodes each, and
// stops it at cleanup.
func startTestCluster(t *testing.T, node string, groups ...int) *cluster {
	t.Helper()
	kubetest.BinDir(t) // skip or fail, as the other control-plane tests
	c, err := startCluster(context.Background(), config{Node: node, Groups: groups, Lifetime: 10 * time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("%s cluster up: API server in %s, scheduler and controller manager in %s", node, c.StartDuration, c.ControlPlaneStart)
	return c
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

// webDeployment is a Deployment of replicas web servers with a readiness probe.
func webDeployment(replicas int32, image string, maxSurge, maxUnavailable int) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	surge, unavailable := intstr.FromInt(maxSurge), intstr.FromInt(maxUnavailable)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: v1.PodSpec{Containers: []v1.Container{{
					Name: "web", Image: image,
					Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					ReadinessProbe: &v1.Probe{
						ProbeHandler:  v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
						PeriodSeconds: 1,
					},
				}}},
			},
		},
	}
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
// available pods it saw after any event.
type availabilityWatch struct {
	mu      sync.Mutex
	pods    map[types.UID]*v1.Pod
	min     int
	events  int
	stopped chan struct{}
	err     error
}

func watchAvailability(ctx context.Context, t *testing.T, c kubernetes.Interface, ns string) *availabilityWatch {
	t.Helper()
	list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	require.NoError(t, err)
	a := &availabilityWatch{pods: map[types.UID]*v1.Pod{}, stopped: make(chan struct{})}
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
				a.mu.Lock()
				if ev.Type == watch.Deleted {
					delete(a.pods, p.UID)
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

// result is the fewest available pods seen and the number of events.
func (a *availabilityWatch) result() (minAvailable, events int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.min, a.events, a.err
}

// TestDeploymentRollsOutWithinItsBounds: a Deployment of 20 replicas with readiness probes is
// scheduled across the nodes by the real scheduler, and rolled to a new image by the real
// Deployment controller under maxSurge 3 and maxUnavailable 2: at no event of the rollout are
// fewer than 18 pods available.
func TestDeploymentRollsOutWithinItsBounds(t *testing.T) {
	for _, node := range kubetest.NodeImplNames {
		t.Run(node, func(t *testing.T) {
			c := startTestCluster(t, node, 3)
			ctx := context.Background()
			ns := c.Namespace(t)
			const replicas, maxSurge, maxUnavailable = 20, 3, 2
			_, err := c.Client().AppsV1().Deployments(ns).Create(ctx, webDeployment(replicas, "registry.example.com/web:v1", maxSurge, maxUnavailable), metav1.CreateOptions{})
			require.NoError(t, err)
			begin := time.Now()
			eventually(t, time.Minute, "v1 rolled out", func() error { return rolledOut(ctx, c.Client(), ns, "web") })
			t.Logf("20 replicas available %s after the Deployment was created", time.Since(begin))
			pods, err := available(ctx, c.Client(), ns)
			require.NoError(t, err)
			perNode := map[string]int{}
			for _, p := range pods {
				perNode[p.Spec.NodeName]++
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
				pods, err := available(ctx, c.Client(), ns)
				if err != nil {
					return err
				}
				for _, p := range pods {
					if img := p.Spec.Containers[0].Image; img != "registry.example.com/web:v2" {
						return fmt.Errorf("pod %s still runs %s", p.Name, img)
					}
				}
				return nil
			})
			took := time.Since(begin)
			stopWatch()
			<-aw.stopped
			minAvailable, events, err := aw.result()
			require.NoError(t, err)
			t.Logf("rolled to v2 in %s; %d pod events, never fewer than %d available", took, events, minAvailable)
			require.GreaterOrEqual(t, events, 2*replicas, "the watch saw the new pods made and the old ones deleted")
			require.GreaterOrEqual(t, minAvailable, replicas-maxUnavailable, "availability never below replicas - maxUnavailable")
		})
	}
}

// TestJobRunsToCompletion: a Job of 3 completions, 2 at a time, is run by the real Job
// controller to Complete.
func TestJobRunsToCompletion(t *testing.T) {
	for _, node := range kubetest.NodeImplNames {
		t.Run(node, func(t *testing.T) {
			c := startTestCluster(t, node, 2)
			ctx := context.Background()
			ns := c.Namespace(t)
			completions, parallelism := int32(3), int32(2)
			_, err := c.Client().BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: "report"},
				Spec: batchv1.JobSpec{
					Completions: &completions, Parallelism: &parallelism,
					Template: v1.PodTemplateSpec{
						// On a simulated podlife node the container works for 2 s and exits 0.
						ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{simScriptAnnotation: `{"containers":{"report":{"runs":[{"for":"2s"}]}}}`}},
						Spec: v1.PodSpec{RestartPolicy: v1.RestartPolicyNever,
							Containers: []v1.Container{{Name: "report", Image: "registry.example.com/report:1"}}},
					},
				},
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
			}
		})
	}
}

// TestLostNodeIsEvictedAndComesBack: the node process of b-0 stops; the real node lifecycle
// controller marks b-0's Ready Unknown once its lease is older than the grace period, taints it,
// and the taint eviction controller deletes its pods after their 5 s toleration; the ReplicaSet
// replaces them on a-0 and a-1. The node process comes back: b-0 is Ready again and the pods
// evicted from it are gone.
func TestLostNodeIsEvictedAndComesBack(t *testing.T) {
	for _, node := range kubetest.NodeImplNames {
		t.Run(node, func(t *testing.T) {
			c := startTestCluster(t, node, 2, 1)
			ctx := context.Background()
			ns := c.Namespace(t)
			const replicas = 6
			_, err := c.Client().AppsV1().Deployments(ns).Create(ctx, webDeployment(replicas, "registry.example.com/web:v1", 1, 0), metav1.CreateOptions{})
			require.NoError(t, err)
			eventually(t, time.Minute, "rolled out", func() error { return rolledOut(ctx, c.Client(), ns, "web") })
			pods, err := available(ctx, c.Client(), ns)
			require.NoError(t, err)
			var onB []string
			for _, p := range pods {
				if p.Spec.NodeName == "b-0" {
					onB = append(onB, p.Name)
				}
			}
			require.NotEmpty(t, onB, "the scheduler put some of the 6 replicas on b-0")

			b := c.Groups[1]
			require.NoError(t, b.Stop())
			stopped := time.Now()
			eventually(t, time.Minute, "b-0 not Ready", func() error {
				n, err := c.Client().CoreV1().Nodes().Get(ctx, "b-0", metav1.GetOptions{})
				if err != nil {
					return err
				}
				if r := kubetest.NodeReady(n); r != v1.ConditionUnknown {
					return fmt.Errorf("b-0 Ready is %q", r)
				}
				return nil
			})
			t.Logf("b-0 Ready Unknown %s after its node process stopped (grace %s)", time.Since(stopped), nodeMonitorGracePeriod)
			eventually(t, time.Minute, "b-0's pods evicted and replaced on a-0 and a-1", func() error {
				list, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return err
				}
				ready := 0
				for _, p := range list.Items {
					switch {
					case slices.Contains(onB, p.Name) && p.DeletionTimestamp == nil:
						return fmt.Errorf("pod %s on b-0 is not evicted yet", p.Name)
					case p.DeletionTimestamp == nil && p.Spec.NodeName == "b-0":
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
			t.Logf("b-0's %d pods evicted and replaced %s after its node process stopped", len(onB), time.Since(stopped))

			require.NoError(t, b.Restart(ctx))
			back := time.Now()
			eventually(t, time.Minute, "the evicted pods gone from b-0", func() error {
				list, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=b-0"})
				if err != nil {
					return err
				}
				if len(list.Items) > 0 {
					return fmt.Errorf("%d pods still on b-0, the first %s", len(list.Items), list.Items[0].Name)
				}
				return nil
			})
			t.Logf("b-0 Ready again in %s, its evicted pods gone %s after", b.ReadyAfter, time.Since(back))
			require.NoError(t, rolledOut(ctx, c.Client(), ns, "web"))
		})
	}
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
