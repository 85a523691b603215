package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/internal/kubetest"
)

// observed is what each implementation is recorded to show at the end of each case in
// BENCHMARKS.md's fidelity table: the last state of the case's object (a substring of it). A
// change in behaviour fails here before the table goes stale.
var observed = map[string]map[string]struct{ object, last string }{
	"kwok": {
		// pod-ready sets every container running and ready and the pod Running once, whatever
		// the container does, and nothing moves it after.
		"crashloop":       {"pod/crashloop", "Running 1/1 0 | phase Running | Initialized Ready ContainersReady PodScheduled | app: running ready"},
		"readiness-fails": {"pod/readiness-fails", "Running 1/1 0 | phase Running | Initialized Ready ContainersReady PodScheduled | web: running ready"},
		"sidecar":         {"pod/sidecar", "Running 2/2 0 | phase Running | Initialized Ready ContainersReady PodScheduled | proxy: running started ready, app: running ready"},
		// pod-complete makes a Job's running pod Succeeded at once: the Job completes.
		"job-fails": {"job/job-fails", "active 0 succeeded 1 failed 0 | SuccessCriteriaMet (CompletionsReached) | Complete (CompletionsReached)"},
	},
}

// TestFidelityCases runs every case on every node implementation, briefly, and checks that the
// harness saw each object and followed the deleted pod until gone, and that each implementation
// ends each case as recorded.
func TestFidelityCases(t *testing.T) {
	kubetest.BinDir(t) // skip or fail, as the other control-plane tests
	for _, node := range kubetest.NodeImplNames {
		t.Run(node, func(t *testing.T) {
			cfg := config{node: node, cases: caseNames, sample: 15 * time.Second, every: 250 * time.Millisecond}
			timelines, err := observe(context.Background(), cfg)
			var out bytes.Buffer
			for _, tl := range timelines {
				tl.print(&out)
			}
			t.Logf("timelines:\n%s", out.String())
			require.NoError(t, err)
			require.Len(t, timelines, len(caseNames))
			for _, tl := range timelines {
				require.NotEmpty(t, tl.Rows, "case %s: nothing seen", tl.Case)
				if want, ok := observed[node][tl.Case]; ok {
					require.Contains(t, tl.last(want.object), want.last, "case %s: the last state of %s", tl.Case, want.object)
				}
				if tl.Case == "prestop-outlives-grace" {
					require.Positive(t, tl.DeletedAt, "the pod was deleted once Running")
					require.Greater(t, tl.GoneAt, tl.DeletedAt, "and followed until gone")
					if node == "kwok" {
						require.Less(t, tl.GoneAt-tl.DeletedAt, 2*time.Second, "pod-delete deletes at once, hook and grace ignored")
					}
				}
			}
			require.Contains(t, out.String(), "== job-fails on "+node)
		})
	}
}

func TestFidelityRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"-node nosuch", `-node: unknown node implementation "nosuch"`},
		{"-case nosuch", `-case: unknown case "nosuch"`},
		{"-for 0s", "want positive durations"},
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
