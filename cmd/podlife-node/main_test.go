package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podlife/podlife/internal/kubetest"
	"github.com/podlife/podlife/lifecycle/kubenode"
)

var cp = kubetest.NewShared(kubetest.Options{})

func TestMain(m *testing.M) {
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nodes", "0"}, "-nodes 0: at least 1"},
		{[]string{"-runtime", "docker"}, `-runtime "docker": want sim or containerd`},
		{[]string{"-runtime", "containerd", "-nodes", "2"}, "-runtime containerd runs one node (-nodes 2)"},
		{[]string{"-address", "localhost"}, `-address "localhost": not an IP address`},
		{[]string{"-memory", "lots"}, `-memory "lots"`},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"extra"}, "unexpected arguments: [extra]"},
		{[]string{"-lease-duration", "1500ms"}, "-lease-duration 1.5s: whole seconds, at least 1s"},
		{[]string{"-lease-duration", "0s"}, "-lease-duration 0s: whole seconds, at least 1s"},
		{[]string{"-labels", "tier"}, `-labels "tier": "tier" is not key=value`},
		{[]string{"-labels", "a=b,bad key=v"}, `key "bad key"`},
		{[]string{"-labels", "k=bad value"}, `value "bad value"`},
		{[]string{"-max-lifetime", "-1s"}, "-max-lifetime -1s: not negative"},
	} {
		var stderr bytes.Buffer
		assert.Equal(t, exitUsage, run(tc.args, &stderr), "%v", tc.args)
		assert.Contains(t, stderr.String(), tc.want, "%v", tc.args)
	}
	assert.Equal(t, exitOK, run([]string{"-h"}, io.Discard))
}

// Two simulated nodes in one process behind the real API server: a pod on the second runs, the
// metrics endpoint serves the counts and the process's CPU and memory, and the command stops on
// its context.
func TestRunsNodesAndServesMetrics(t *testing.T) {
	s := cp.Get(t)
	ns := s.Namespace(t)
	o, err := parse([]string{"-kubeconfig", s.Kubeconfig, "-nodes", "2", "-name", ns, "-metrics", "127.0.0.1:0", "-stats-interval", "200ms",
		"-lease-duration", "4s", "-labels", "podlife.io/node-group=" + ns + ",tier=test"}, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, o, zaptest.NewLogger(t), func(g *kubenode.Group, addr net.Addr) {
			assert.Equal(t, []string{ns + "-0", ns + "-1"}, g.Names())
			ready <- addr
		})
	}()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve returned before it was ready: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("not ready within a minute")
	}
	c := s.Client()
	for _, name := range []string{ns + "-0", ns + "-1"} {
		node, err := c.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, ns, node.Labels["podlife.io/node-group"], "-labels")
		assert.Equal(t, "test", node.Labels["tier"], "-labels")
		assert.Equal(t, "true", node.Labels[kubenode.LabelNode], "and podlife's own")
		first, err := c.CoordinationV1().Leases(v1.NamespaceNodeLease).Get(context.Background(), name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(4), *first.Spec.LeaseDurationSeconds, "-lease-duration")
		// Renewed every quarter of it: within 2.5 s the renew time moves on.
		require.Eventually(t, func() bool {
			l, err := c.CoordinationV1().Leases(v1.NamespaceNodeLease).Get(context.Background(), name, metav1.GetOptions{})
			return err == nil && l.Spec.RenewTime.After(first.Spec.RenewTime.Time)
		}, 2500*time.Millisecond, 100*time.Millisecond, "the lease of %s renewed every second", name)
	}
	health, err := http.Get("http://" + addr.String() + "/healthz")
	require.NoError(t, err)
	require.NoError(t, health.Body.Close())
	assert.Equal(t, http.StatusOK, health.StatusCode)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: v1.PodSpec{NodeName: ns + "-1", Containers: []v1.Container{{Name: "web", Image: "busybox:1.36"}}}}
	_, err = c.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p, err := c.CoreV1().Pods(ns).Get(context.Background(), "web", metav1.GetOptions{})
		return err == nil && p.Status.Phase == v1.PodRunning
	}, 20*time.Second, 100*time.Millisecond)

	resp, err := http.Get("http://" + addr.String() + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	metrics := string(body)
	for _, want := range []string{`podlife_node_pods{phase="Running"} 1`, "podlife_node_events_total", "podlife_node_status_pushes_total",
		`podlife_node_api_requests_total{resource="pods/status",verb="PUT"}`, "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		assert.True(t, strings.Contains(metrics, want), "the metrics have %s:\n%s", want, metrics)
	}

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop with its context")
	}
}

// -max-lifetime bounds the run: the command stops by itself, cleanly.
func TestMaxLifetime(t *testing.T) {
	s := cp.Get(t)
	ns := s.Namespace(t)
	var stderr bytes.Buffer // written by run alone, read once it returned
	begin := time.Now()
	code := run([]string{"-kubeconfig", s.Kubeconfig, "-name", ns, "-max-lifetime", "3s", "-stats-interval", "0"}, &stderr)
	took := time.Since(begin)
	require.Equal(t, exitOK, code, "stderr:\n%s", stderr.String())
	assert.GreaterOrEqual(t, took, 3*time.Second)
	assert.Less(t, took, 30*time.Second)
	assert.Contains(t, stderr.String(), "stopping")
}

// The README's kubectl session: its pod, applied as there (on a node of this test's own name),
// goes through the states the README shows and, deleted, goes when its stop ended.
func TestReadmeSession(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "$ kubectl apply -f - <<'EOF'\n")
	require.True(t, ok, "the README applies a pod with a heredoc")
	manifest, _, ok := strings.Cut(rest, "\nEOF\n")
	require.True(t, ok)
	var pod v1.Pod
	require.NoError(t, yaml.UnmarshalStrict([]byte(manifest), &pod))
	require.Equal(t, "podlife", pod.Spec.NodeName)

	s := cp.Get(t)
	ns := s.Namespace(t)
	o, err := parse([]string{"-kubeconfig", s.Kubeconfig, "-name", ns, "-stats-interval", "0"}, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, zaptest.NewLogger(t), func(*kubenode.Group, net.Addr) { close(ready) }) }()
	<-ready

	c := s.Client()
	pod.Namespace, pod.Spec.NodeName = ns, ns
	_, err = c.CoreV1().Pods(ns).Create(context.Background(), &pod, metav1.CreateOptions{})
	require.NoError(t, err)
	var seen []string
	require.Eventually(t, func() bool {
		row, err := kubetest.CheckPodColumns(context.Background(), c, ns, "shop", "")
		require.NoError(t, err)
		if len(seen) == 0 || seen[len(seen)-1] != row.Status+" "+row.Ready {
			seen = append(seen, row.Status+" "+row.Ready)
		}
		return strings.HasPrefix(row.Restarts, "2 ") && row.Status == "Running" && row.Ready == "1/1"
	}, 40*time.Second, 100*time.Millisecond, "states seen: %v", seen)
	assert.Contains(t, seen, "CrashLoopBackOff 0/1")
	start := time.Now()
	require.NoError(t, c.CoreV1().Pods(ns).Delete(context.Background(), "shop", metav1.DeleteOptions{}))
	require.Eventually(t, func() bool {
		_, err := c.CoreV1().Pods(ns).Get(context.Background(), "shop", metav1.GetOptions{})
		return err != nil
	}, 20*time.Second, 50*time.Millisecond)
	took := time.Since(start)
	assert.True(t, took > 2500*time.Millisecond && took < 8*time.Second, "gone after the 2 s preStop and the 1 s exit: %s", took)
	cancel()
	require.NoError(t, <-done)
}
