package kubetest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podlife/podlife/internal/kubetest"
)

// TestKwokRunsPodsOnItsNodes: KWOK's fast stages, as StartKwok passes them, make the group's
// nodes Ready, a pod bound to one of them Running and Ready at once with the server's columns
// "Running 1/1", and a deleted pod gone; its writes are logged under its own user, and the
// server's request counters count them too.
func TestKwokRunsPodsOnItsNodes(t *testing.T) {
	s := kubetest.Start(t, kubetest.Options{Users: []string{"kwok"}, AuditUsers: []string{"kwok"}})
	ctx := context.Background()
	before, err := s.RequestCounts(ctx)
	require.NoError(t, err)
	g := kubetest.StartNodes(t, s, kubetest.Kwok{}, kubetest.NodeOptions{Group: "fake", Count: 2, User: "kwok"})
	require.Equal(t, []string{"fake-0", "fake-1"}, g.Nodes)
	t.Logf("2 kwok nodes Ready %s after kwok started", g.ReadyAfter)
	node, err := s.Client().CoreV1().Nodes().Get(ctx, "fake-1", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "1M", node.Status.Allocatable.Pods().String(), "node-initialize's default capacity")

	ns := s.Namespace(t)
	pods := s.Client().CoreV1().Pods(ns)
	_, err = pods.Create(ctx, &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: v1.PodSpec{
		NodeName: "fake-1", Containers: []v1.Container{{Name: "web", Image: "nginx"}}}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		row, err := kubetest.PodColumnsOf(ctx, s.Client(), ns, "web")
		return err == nil && row.Status == "Running" && row.Ready == "1/1"
	}, 30*time.Second, 50*time.Millisecond, "kwok's pod-ready stage")
	rows, err := kubetest.PodTable(ctx, s.Client(), ns, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.NotNil(t, rows[0].Pod, "PodTable has the pod each row was printed from")
	require.Equal(t, v1.PodRunning, rows[0].Pod.Status.Phase)
	require.Equal(t, "Running", rows[0].Status)
	rows, err = kubetest.PodColumns(ctx, s.Client(), ns, metav1.ListOptions{})
	require.NoError(t, err)
	require.Nil(t, rows[0].Pod, "PodColumns has only the metadata")
	require.Equal(t, ns, rows[0].Namespace)

	require.NoError(t, pods.Delete(ctx, "web", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		_, err := pods.Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 50*time.Millisecond, "kwok's pod-delete stage deletes the pod at once, whatever its grace")

	// The server logs a request once it has answered it: wait for the last one.
	var writes map[string]int
	require.Eventually(t, func() bool {
		all, err := s.AuditWrites()
		require.NoError(t, err)
		writes = map[string]int{}
		for _, w := range all {
			require.Equal(t, "kwok", w.User, "only the audited user's writes are logged")
			writes[w.What()+" "+strconv.Itoa(w.Code)]++
		}
		return writes["delete pods 200"] == 1
	}, 10*time.Second, 100*time.Millisecond)
	// kwok's pod-delete stage may send a second delete, answered 404, for the same pod.
	t.Logf("kwok's writes (with their status): %v", writes)
	require.Equal(t, 1, writes["patch pods/status 200"], "pod-ready: one patch")
	// node-initialize patches each node once; a heartbeat that falls in the test may add one.
	require.GreaterOrEqual(t, writes["patch nodes/status 200"], 2, "node-initialize: one patch a node")
	require.Equal(t, 2, writes["create leases 201"], "a lease a node")

	after, err := s.RequestCounts(ctx)
	require.NoError(t, err)
	status := kubetest.Request{Verb: "PATCH", Resource: "pods", Subresource: "status"}
	require.Equal(t, 1.0, after[status]-before[status], "the server's counter of pod status patches")
	require.True(t, status.IsWrite())

	usage, err := g.Usage()
	require.NoError(t, err)
	require.Positive(t, usage.CPU)
	require.GreaterOrEqual(t, usage.PeakRSS, usage.RSS)
	require.Greater(t, usage.RSS, uint64(1<<20))
	require.NoError(t, g.Delete(ctx))
	_, err = g.Usage()
	require.Error(t, err, "no usage of a process that exited")
}
