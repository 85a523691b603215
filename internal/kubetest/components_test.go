package kubetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	coordv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/podlife/podlife/internal/kubetest"
)

// TestSchedulerAndControllerManager runs the whole control plane on a server of its own (the
// controller manager's pod garbage collector would delete the other tests' pods, bound to nodes
// that do not exist): a Deployment's pods are made by the controller manager and bound by the
// scheduler to a node that a lease keeps alive; once the lease stops, the node lifecycle
// controller marks the node's Ready Unknown after the short grace period the test sets.
func TestSchedulerAndControllerManager(t *testing.T) {
	s := kubetest.Start(t, kubetest.Options{})
	t.Logf("kube-apiserver ready in %s", s.StartDuration)
	grace := 5 * time.Second
	begin := time.Now()
	kubetest.StartControllerManager(t, s, kubetest.ControllerManagerOptions{NodeMonitorPeriod: time.Second, NodeMonitorGracePeriod: grace})
	kubetest.StartScheduler(t, s, kubetest.ComponentOptions{})
	t.Logf("kube-controller-manager and kube-scheduler healthy in %s", time.Since(begin))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := s.Client()
	createNode(t, c, "node-1")
	heartbeat := make(chan struct{})
	go func() { // the node's agent: renew the lease every second until told to stop
		defer close(heartbeat)
		for ctx.Err() == nil {
			renewLease(ctx, c, "node-1")
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()

	ns := s.Namespace(t)
	labels := map[string]string{"app": "web"}
	_, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "web", Image: "busybox"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) != 2 {
			return false
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName != "node-1" {
				return false
			}
		}
		return true
	}, time.Minute, 100*time.Millisecond, "the Deployment's 2 pods are created and bound to node-1")

	cancel()
	<-heartbeat
	silent := time.Now()
	require.Eventually(t, func() bool {
		n, err := c.CoreV1().Nodes().Get(context.Background(), "node-1", metav1.GetOptions{})
		return err == nil && readyStatus(n) == v1.ConditionUnknown
	}, time.Minute, 100*time.Millisecond, "node-1 turns Ready Unknown once its lease stops")
	t.Logf("node-1 Ready Unknown %s after its last heartbeat (grace %s)", time.Since(silent), grace)
}

func createNode(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CoreV1().Nodes().Create(ctx, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	res := v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("8Gi"),
		v1.ResourcePods: resource.MustParse("110")}
	// The controller manager changes a new node at once (taints, annotations): write the status
	// on the latest version, as kubelet does.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		n.Status = v1.NodeStatus{Capacity: res, Allocatable: res, Conditions: []v1.NodeCondition{{
			Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}}
		_, err = c.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	require.NoError(t, err)
}

// renewLease creates or renews the node's lease, as kubelet does.
func renewLease(ctx context.Context, c kubernetes.Interface, node string) {
	leases := c.CoordinationV1().Leases(v1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		_, _ = leases.Create(ctx, &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: node},
			Spec: coordv1.LeaseSpec{HolderIdentity: new(node), LeaseDurationSeconds: new(int32(40)), RenewTime: &now}}, metav1.CreateOptions{})
		return
	}
	l.Spec.RenewTime = &now
	_, _ = leases.Update(ctx, l, metav1.UpdateOptions{})
}

func readyStatus(n *v1.Node) v1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.Status
		}
	}
	return ""
}

// TestComponentStopsAtMaxLifetime: a component started with a short --max-lifetime stops by
// itself, cleanly, as it would when a test forgets it.
func TestComponentStopsAtMaxLifetime(t *testing.T) {
	s := cp.Get(t)
	lifetime := 8 * time.Second
	begin := time.Now()
	p := kubetest.StartScheduler(t, s, kubetest.ComponentOptions{Args: []string{"--max-lifetime=" + lifetime.String()}})
	select {
	case <-p.Done():
	case <-time.After(lifetime + 30*time.Second):
		t.Fatalf("kube-scheduler still runs %s after it started with --max-lifetime=%s", time.Since(begin), lifetime)
	}
	require.NoError(t, p.Wait(), "a clean exit; log:\n%s", p.LogTail(20))
	require.GreaterOrEqual(t, time.Since(begin), lifetime)
	require.Contains(t, p.LogTail(200), "--max-lifetime "+lifetime.String()+" reached")
}
