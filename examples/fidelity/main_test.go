package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
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
	"podlife": {
		// The second restart waits 10 s from the second exit, the third 20 s: at the end of the
		// sampling the container waits in back-off after its third exit.
		"crashloop":       {"pod/crashloop", "CrashLoopBackOff 0/1 2 | phase Running | PodReadyToStartContainers Initialized !Ready !ContainersReady PodScheduled | app: waiting CrashLoopBackOff (last terminated Error 1)"},
		"readiness-fails": {"pod/readiness-fails", "Running 0/1 0 | phase Running | PodReadyToStartContainers Initialized !Ready !ContainersReady PodScheduled | web: running started"},
		"sidecar":         {"pod/sidecar", "Running 2/2 0 | phase Running | PodReadyToStartContainers Initialized Ready ContainersReady PodScheduled | proxy: running started ready, app: running started ready"},
		"job-fails":       {"job/job-fails", "active 0 succeeded 0 failed 2 | FailureTarget (BackoffLimitExceeded) | Failed (BackoffLimitExceeded)"},
	},
}

// kubeletRules check a case's timeline against what kubelet does with its manifest, the
// "kubelet" column of BENCHMARKS.md's fidelity table (the rules of SEMANTICS.md): podlife's
// timelines pass every one, KWOK's none. Times are as sampled, every 250 ms from the apply.
var kubeletRules = map[string]func(tl *timeline) error{
	// restartPolicy Always, exit 1 a second after each start: the first restart at once, the
	// second 10 s after the second exit, CrashLoopBackOff (not Ready) in between, the pod Running
	// throughout (restart.CrashLoopBackOff; kubelet's doBackOff).
	"crashloop": func(tl *timeline) error {
		const pod = "pod/crashloop"
		for _, r := range tl.rowsOf(pod) {
			c := columnsOf(r.State)
			if !strings.Contains(r.State, "| phase Running |") && c.status != "Pending" {
				return fmt.Errorf("+%s %s: a crash-looping pod stays Running", fmtDur(r.At), r.State)
			}
			if c.status == "CrashLoopBackOff" && (c.ready != "0/1" || !strings.Contains(r.State, "!Ready")) {
				return fmt.Errorf("+%s %s: in back-off the pod is not Ready", fmtDur(r.At), r.State)
			}
		}
		started, ok1 := tl.first(pod, func(c columns) bool { return c.status == "Running" })
		restarted, ok2 := tl.first(pod, func(c columns) bool { return c.restarts == "1" })
		backOff, ok3 := tl.first(pod, func(c columns) bool { return c.status == "CrashLoopBackOff" && c.restarts == "1" })
		second, ok4 := tl.first(pod, func(c columns) bool { return c.status == "Running" && c.restarts == "2" })
		switch {
		case !ok1 || !ok2 || !ok3 || !ok4:
			return fmt.Errorf("want Running, a restart, CrashLoopBackOff and a second restart; seen Running %v, restart %v, back-off %v, second restart %v", ok1, ok2, ok3, ok4)
		case restarted-started > 2*time.Second:
			return fmt.Errorf("the first restart came %s after the start: want at once after the 1 s run", restarted-started)
		case second-backOff < 9500*time.Millisecond || second-backOff > 11*time.Second:
			return fmt.Errorf("the second restart came %s after the back-off began: want 10 s", second-backOff)
		}
		return nil
	},
	// A readiness probe that always fails: Running, never Ready (prober results; kubelet's
	// status manager sets Ready and ContainersReady False, ContainersNotReady).
	"readiness-fails": func(tl *timeline) error {
		rows := tl.rowsOf("pod/readiness-fails")
		running := 0
		for _, r := range rows {
			if c := columnsOf(r.State); c.status != "Pending" {
				running++
				if c.status != "Running" || c.ready != "0/1" || !strings.Contains(r.State, "!Ready !ContainersReady") {
					return fmt.Errorf("+%s %s: want Running 0/1, not Ready", fmtDur(r.At), r.State)
				}
			}
		}
		if running == 0 {
			return errors.New("never Running")
		}
		return nil
	},
	// preStop of 30 s, grace 5 s, SIGTERM ignored: the hook until the grace ends, SIGTERM with the
	// 2 s kubelet always grants after a hook, then SIGKILL (killContainer's minimumGracePeriod):
	// Terminating about 7 s.
	"prestop-outlives-grace": func(tl *timeline) error {
		if tl.DeletedAt == 0 || tl.GoneAt == 0 {
			return errors.New("not deleted and gone")
		}
		if took := tl.GoneAt - tl.DeletedAt; took < 6500*time.Millisecond || took > 9*time.Second {
			return fmt.Errorf("gone %s after the delete: want about 7 s (5 s of hook, 2 s after SIGTERM)", took)
		}
		return nil
	},
	// A sidecar whose startup probe fails for 3 s: Init:0/1 until it started, then the app
	// (computeInitContainerActions: an app starts once every sidecar before it started).
	"sidecar": func(tl *timeline) error {
		const pod = "pod/sidecar"
		for _, r := range tl.rowsOf(pod) {
			if strings.Contains(r.State, "app: running") && !strings.Contains(r.State, "proxy: running started") {
				return fmt.Errorf("+%s %s: the app runs before the sidecar started", fmtDur(r.At), r.State)
			}
		}
		init, ok1 := tl.first(pod, func(c columns) bool { return c.status == "Init:0/1" })
		running, ok2 := tl.first(pod, func(c columns) bool { return c.status == "Running" && c.ready == "2/2" })
		switch {
		case !ok1 || !ok2:
			return fmt.Errorf("want Init:0/1, then Running 2/2; seen %v, %v", ok1, ok2)
		case running-init < 2500*time.Millisecond:
			return fmt.Errorf("Running 2/2 %s after Init:0/1: want the sidecar's 3 s of failing startup probe", running-init)
		}
		return nil
	},
	// restartPolicy Never, exit 3, backoffLimit 1: each pod Failed (Error, exit code 3), and the
	// Job, after its second pod, Failed (BackoffLimitExceeded).
	"job-fails": func(tl *timeline) error {
		failed := 0
		for _, obj := range tl.objects() {
			if !strings.HasPrefix(obj, "pod/") {
				continue
			}
			if last := tl.last(obj); !strings.HasPrefix(last, "Error 0/1 0 | phase Failed") || !strings.Contains(last, "work: terminated Error 3") {
				return fmt.Errorf("%s ends %s: want Failed, Error, exit code 3", obj, last)
			}
			failed++
		}
		if last := tl.last("job/job-fails"); failed != 2 || !strings.Contains(last, "Failed (BackoffLimitExceeded)") {
			return fmt.Errorf("%d pods failed, the Job ends %q: want 2 and Failed (BackoffLimitExceeded)", failed, last)
		}
		return nil
	},
}

// columns are a state's kubectl columns.
type columns struct{ status, ready, restarts string }

func columnsOf(state string) columns {
	head, _, _ := strings.Cut(state, " | ")
	f := strings.Fields(head)
	for len(f) < 3 {
		f = append(f, "")
	}
	return columns{f[0], f[1], f[2]}
}

// rowsOf are the rows of one object.
func (tl *timeline) rowsOf(object string) []row {
	var out []row
	for _, r := range tl.Rows {
		if r.Object == object {
			out = append(out, r)
		}
	}
	return out
}

// first is when a row of object first had columns that match.
func (tl *timeline) first(object string, match func(columns) bool) (time.Duration, bool) {
	for _, r := range tl.rowsOf(object) {
		if match(columnsOf(r.State)) {
			return r.At, true
		}
	}
	return 0, false
}

// objects are the objects of the timeline, in the order first seen.
func (tl *timeline) objects() []string {
	var out []string
	for _, r := range tl.Rows {
		if !slices.Contains(out, r.Object) {
			out = append(out, r.Object)
		}
	}
	return out
}

// TestFidelityCases runs every case on every node implementation, briefly (long enough for a
// second crash-loop restart and a Job's second pod), and checks that the harness saw each object
// and followed the deleted pod until gone, that each implementation ends each case as recorded,
// and that podlife's timelines follow kubelet's rules where KWOK's do not.
func TestFidelityCases(t *testing.T) {
	kubetest.BinDir(t) // skip or fail, as the other control-plane tests
	for _, node := range kubetest.NodeImplNames {
		t.Run(node, func(t *testing.T) {
			t.Parallel()
			cfg := config{node: node, cases: caseNames, sample: 20 * time.Second, every: 250 * time.Millisecond}
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
				err := kubeletRules[tl.Case](tl)
				switch node {
				case "podlife":
					require.NoError(t, err, "case %s: podlife follows kubelet's rules", tl.Case)
				case "kwok":
					require.Error(t, err, "case %s: KWOK's fast stages differ from kubelet", tl.Case)
					t.Logf("case %s: KWOK is not kubelet: %v", tl.Case, err)
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
