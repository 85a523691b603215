package lifecycle_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// A second delete through Client.Delete, as SEMANTICS "Graceful termination" says: a shorter
// grace restarts the stop with the new grace in full from when the agent sees it; a longer one
// never lengthens the stop, also across an agent restart, where the restarted agent gives the
// stored grace in full from its start, as kubelet does (pod_workers.go UpdatePod and
// calculateEffectiveGracePeriod: a fresh podSyncStatus takes pod.DeletionGracePeriodSeconds).
func TestAgentSecondDelete(t *testing.T) {
	type del struct {
		at    time.Duration
		grace *int64 // nil: the spec's
	}
	for _, tc := range []struct {
		name     string
		spec     int64 // terminationGracePeriodSeconds
		deletes  []del
		away     [2]time.Duration // the agent is stopped at away[0] and a new one started at away[1]
		stored   int64            // the record's grace at the end
		stopLine string           // the StopContainer action of the app after the last delete or restart
		killedAt time.Duration    // SIGKILL; 0 when the test stops looking earlier
	}{
		{name: "shorter grace counts in full from the second request", spec: 60,
			deletes: []del{{20 * time.Second, nil}, {30 * time.Second, ptr(int64(5))}},
			stored:  5, stopLine: "30s StopContainer container=app id=%s timeout=5s", killedAt: 35 * time.Second},
		{name: "60 s then 30 s at 50 s kills at 80 s", spec: 90,
			deletes: []del{{20 * time.Second, ptr(int64(60))}, {50 * time.Second, ptr(int64(30))}},
			stored:  30, stopLine: "50s StopContainer container=app id=%s timeout=30s", killedAt: 80 * time.Second},
		{name: "a longer second delete changes nothing", spec: 60,
			deletes: []del{{20 * time.Second, nil}, {30 * time.Second, ptr(int64(120))}},
			stored:  60, stopLine: "20s StopContainer container=app id=%s timeout=1m0s", killedAt: 80 * time.Second},
		{name: "a longer delete while the agent is away changes nothing; the restarted agent gives the stored grace in full", spec: 60,
			deletes: []del{{20 * time.Second, nil}, {35 * time.Second, ptr(int64(120))}}, away: [2]time.Duration{30 * time.Second, 40 * time.Second},
			stored: 60, stopLine: "40s StopContainer container=app id=%s timeout=1m0s"},
		{name: "a shorter delete while the agent is away counts in full from the restart", spec: 60,
			deletes: []del{{20 * time.Second, nil}, {35 * time.Second, ptr(int64(10))}}, away: [2]time.Duration{30 * time.Second, 40 * time.Second},
			stored: 10, stopLine: "40s StopContainer container=app id=%s timeout=10s", killedAt: 50 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{"app": {Runs: []simruntime.Run{{IgnoreTerm: true}}}}})
				r.run()
				spec := appSpec()
				spec.TerminationGracePeriodSeconds = &tc.spec
				r.bind(spec)
				id := ""
				for _, d := range tc.deletes {
					if tc.away[0] != 0 && d.at > tc.away[0] && id == "" {
						id = containerID(t, r, "app")
						r.sleepUntil(tc.away[0])
						r.stop()
					}
					r.sleepUntil(d.at)
					require.NoError(t, r.Client.Delete(t.Context(), node, podRef, d.grace, time.Now()))
					synctest.Wait()
				}
				if tc.away[0] != 0 {
					r.sleepUntil(tc.away[1])
					r.run()
				}
				defer r.stop()
				if id == "" {
					id = containerID(t, r, "app")
				}
				rec, _, err := r.Client.Pod(t.Context(), node, podRef)
				require.NoError(t, err)
				require.NotNil(t, rec.Deletion.GracePeriodSeconds, "the stored deletion always has its grace")
				assert.Equal(t, tc.stored, *rec.Deletion.GracePeriodSeconds)
				if tc.killedAt != 0 {
					// The record goes once the pod stopped, not when the first stop's own timeout
					// would have run out (a runtime's StopContainer returns with the container).
					r.sleepUntil(tc.killedAt + time.Second)
					_, _, err := r.Client.Pod(t.Context(), node, podRef)
					assert.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
				}
				r.sleepUntil(tc.away[1] + 200*time.Second)
				stops := r.lines("StopContainer")
				require.NotEmpty(t, stops)
				assert.Equal(t, fmt.Sprintf(tc.stopLine, id), stops[len(stops)-1], "all: %v", stops)
				if tc.killedAt == 0 {
					return
				}
				term := r.status().Status.ContainerStatuses[0].State.Terminated
				require.NotNil(t, term)
				assert.Equal(t, int32(137), term.ExitCode)
				assert.Equal(t, tc.killedAt.String(), r.since(term.FinishedAt), "SIGKILL")
			})
		})
	}
}
