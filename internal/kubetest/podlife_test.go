package kubetest_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podlife/podlife/internal/kubetest"
)

// TestPodlifeNodeRunsPodsOnItsNodes: podlife-node, built once and started as a NodeImpl, registers
// the group's nodes under the names NodeNames gives (also a group of one), labelled with the
// group, with the lease duration asked for; a pod bound to one runs by kubelet's rules (its
// readiness probe first, then Ready) and, deleted, goes once its stop ended; its writes are
// logged under its own user.
func TestPodlifeNodeRunsPodsOnItsNodes(t *testing.T) {
	s := kubetest.Start(t, kubetest.Options{Users: []string{"podlife"}, AuditUsers: []string{"podlife"}})
	ctx := context.Background()
	begin := time.Now()
	bin, err := kubetest.BuildPodlifeNode()
	require.NoError(t, err)
	t.Logf("podlife-node built (or found) in %s: %s", time.Since(begin), bin)
	again := time.Now()
	bin2, err := kubetest.BuildPodlifeNode()
	require.NoError(t, err)
	require.Equal(t, bin, bin2)
	require.Less(t, time.Since(again), 100*time.Millisecond, "built once per process")

	g := kubetest.StartNodes(t, s, kubetest.PodlifeNode{}, kubetest.NodeOptions{Group: "pl", Count: 2, User: "podlife", LeaseDuration: 4 * time.Second})
	require.Equal(t, []string{"pl-0", "pl-1"}, g.Nodes)
	solo := kubetest.StartNodes(t, s, kubetest.PodlifeNode{}, kubetest.NodeOptions{Group: "solo", Count: 1, User: "podlife"})
	require.Equal(t, []string{"solo-0"}, solo.Nodes, "one node is numbered too, as NodeNames numbers it")
	t.Logf("2 podlife nodes Ready %s after the process started, 1 in %s", g.ReadyAfter, solo.ReadyAfter)
	for _, name := range append(g.Nodes, solo.Nodes...) {
		node, err := s.Client().CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, name[:len(name)-2], node.Labels[kubetest.NodeGroupLabel])
		require.Equal(t, "1k", node.Status.Allocatable.Pods().String())
		lease, err := s.Client().CoordinationV1().Leases(v1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		want := int32(40)
		if name != "solo-0" {
			want = 4
		}
		require.Equal(t, want, *lease.Spec.LeaseDurationSeconds, "node %s", name)
	}

	ns := s.Namespace(t)
	pods := s.Client().CoreV1().Pods(ns)
	_, err = pods.Create(ctx, &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: v1.PodSpec{
		NodeName: "pl-1", Containers: []v1.Container{{Name: "web", Image: "nginx",
			ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"true"}}}, InitialDelaySeconds: 1}}}}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	var seen []string
	require.Eventually(t, func() bool {
		row, err := kubetest.CheckPodColumns(ctx, s.Client(), ns, "web", "")
		if err != nil {
			return false
		}
		if len(seen) == 0 || seen[len(seen)-1] != row.Status+" "+row.Ready {
			seen = append(seen, row.Status+" "+row.Ready)
		}
		return row.Status == "Running" && row.Ready == "1/1"
	}, 30*time.Second, 50*time.Millisecond)
	require.Contains(t, seen, "Running 0/1", "not Ready before its readiness probe's initial delay: %v", seen)

	require.NoError(t, pods.Delete(ctx, "web", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		_, err := pods.Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 50*time.Millisecond, "gone once its stop ended")

	var writes map[string]int
	require.Eventually(t, func() bool {
		all, err := s.AuditWrites()
		require.NoError(t, err)
		writes = map[string]int{}
		for _, w := range all {
			require.Equal(t, "podlife", w.User)
			writes[w.What()+" "+strconv.Itoa(w.Code)]++
		}
		return writes["delete pods 200"] == 1
	}, 10*time.Second, 100*time.Millisecond, "%v", writes)
	t.Logf("podlife-node's writes (with their status): %v", writes)
	require.Equal(t, 3, writes["create leases 201"], "a lease a node")
	require.Equal(t, 3, writes["create nodes 201"], "podlife-node registers its nodes")
	require.GreaterOrEqual(t, writes["update pods/status 200"]+writes["patch pods/status 200"], 2, "Running, Ready, the end")
	require.Positive(t, writes["create events 201"], "kubelet's events: Pulled, Created, Started, Killing")

	usage, err := g.Usage()
	require.NoError(t, err)
	require.Positive(t, usage.CPU)
	require.Greater(t, usage.RSS, uint64(1<<20))
	require.NoError(t, g.Delete(ctx))
	_, err = s.Client().CoreV1().Nodes().Get(ctx, "pl-0", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "Delete deletes the group's nodes: %v", err)
}

// The cache of podlife-node builds is keyed by the module's sources: a change to a Go file or
// go.sum changes the key; a test file, a file in a nested module or in testdata does not.
func TestPodlifeNodeSourceHash(t *testing.T) {
	root := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		p := filepath.Join(root, path)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("go.mod", "module "+kubetest.ModulePath+"\n")
	write("go.sum", "")
	write("a/a.go", "package a\n")
	hash := func() string {
		h, err := kubetest.SourceHash(root, nil)
		require.NoError(t, err)
		return h
	}
	base := hash()
	for _, unrelated := range []string{"a/a_test.go", "tools/kube/go.mod", "tools/kube/main.go", "a/testdata/x.go", ".git/x.go", "README.md", "a/notes.txt"} {
		write(unrelated, "anything")
		require.Equal(t, base, hash(), "%s is not a source of the build", unrelated)
	}
	for i, source := range []string{"a/a.go", "go.sum", "b/b.go"} {
		write(source, "package b // "+strconv.Itoa(i))
		next := hash()
		require.NotEqual(t, base, next, "%s is a source of the build", source)
		base = next
	}
	dir, err := kubetest.ModuleRoot()
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "cmd", "podlife-node", "main.go"))
}
