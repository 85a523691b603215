package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/internal/kubetest"
)

// TestBenchmarkSmall runs the head-to-head small, on every node implementation, as the big runs
// of BENCHMARKS.md do: every pod Running then gone, and every measure taken.
func TestBenchmarkSmall(t *testing.T) {
	kubetest.BinDir(t) // skip or fail, as the other control-plane tests
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-sizes", "50/2", "-json", out}, &stdout, &stderr)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	require.Equal(t, exitOK, code)

	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var results []result
	require.NoError(t, json.Unmarshal(b, &results))
	require.Len(t, results, len(kubetest.NodeImplNames), "one run an implementation")
	for _, r := range results {
		require.Equal(t, 50, r.Pods)
		require.Equal(t, 2, r.Nodes)
		require.Positive(t, r.NodesReady)
		require.Positive(t, r.CreateToRunning)
		require.GreaterOrEqual(t, r.CreateToReady, r.CreateToRunning)
		require.Positive(t, r.DeleteToGone)
		require.Positive(t, r.Create.NodeCPU+r.Delete.NodeCPU, "the node process's CPU (10 ms ticks)")
		require.Positive(t, r.Create.APIServerCPU)
		require.Greater(t, r.PeakRSS, uint64(1<<20))
		// Each pod is made Running by at least one status write of the node process, and
		// finally deleted by it; the harness's and the scheduler's writes come on top.
		require.GreaterOrEqual(t, r.Create.NodeWrites["patch pods/status"]+r.Create.NodeWrites["update pods/status"], 50, "%v", r.Create.NodeWrites)
		require.GreaterOrEqual(t, r.Delete.NodeWrites["delete pods"], 50, "%v", r.Delete.NodeWrites)
		// The server's counters lag its answers, so a write near the end of the creation may
		// count in the deletion: the whole run has the harness's creates and deletes and the
		// scheduler's bindings on top of the node's writes.
		require.GreaterOrEqual(t, r.Create.ServerWrites+r.Delete.ServerWrites, float64(3*50+r.Create.nodeWrites()+r.Delete.nodeWrites()),
			"creates, bindings and deletes on top")
		require.Contains(t, stdout.String(), r.Node)
	}
	require.Contains(t, stdout.String(), "node writes per pod by kind")
}

func TestBenchmarkRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"-node nosuch", `-node: unknown node implementation "nosuch"`},
		{"-sizes 10", `-sizes: "10" is not pods/nodes`},
		{"-sizes 10/0", `-sizes: "10/0" is not pods/nodes`},
		{"-rounds 0", "-rounds 0: want at least 1"},
		{"-workers 0", "-workers 0: want at least 1"},
		{"-qps 0", "-qps 0: want a positive rate"},
		{"-timeout 0s", "-timeout 0s: want a positive duration"},
		{"extra", `unexpected arguments ["extra"]`},
	} {
		t.Run(tc.args, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, exitUsage, run(context.Background(), strings.Fields(tc.args), &stdout, &stderr))
			require.Contains(t, stderr.String(), tc.want)
			require.Empty(t, stdout.String())
		})
	}
}
