package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// A pod is its UID. These tests bind a pod again under the name of an earlier one, as every
// StatefulSet does, and check that the new UID starts a new life.

var (
	uid1 = lifecycle.PodRef{Namespace: "default", Name: "web", UID: "uid-1"}
	uid2 = lifecycle.PodRef{Namespace: "default", Name: "web", UID: "uid-2"}
)

func jobSpec() podlife.PodSpec {
	return podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "job", Image: "busybox:1.36"}}}
}

func jobWorld() simruntime.WorldOptions {
	return simruntime.WorldOptions{Scripts: map[string]simruntime.Script{"job": {Runs: []simruntime.Run{{For: 5 * time.Second}}}}}
}

func (r *rig) bindRef(ref lifecycle.PodRef, spec podlife.PodSpec) {
	r.t.Helper()
	_, err := r.Client.Bind(r.t.Context(), node, ref, spec)
	require.NoError(r.t, err)
	synctest.Wait()
}

func (r *rig) statusOf(ref lifecycle.PodRef) lifecycle.StatusRecord {
	r.t.Helper()
	st, err := r.Client.Status(r.t.Context(), node, lifecycle.PodRef{Namespace: ref.Namespace, Name: ref.Name})
	require.NoError(r.t, err)
	return st
}

// deleteAndWaitGone deletes ref and waits until the agent removed its record.
func (r *rig) deleteAndWaitGone(ref lifecycle.PodRef, until time.Duration) {
	r.t.Helper()
	require.NoError(r.t, r.Client.Delete(r.t.Context(), node, ref, nil, time.Now()))
	for time.Since(r.start) < until {
		if _, _, err := r.Client.Pod(r.t.Context(), node, ref); errors.Is(err, lifecycle.ErrKeyNotFound) {
			return
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
	}
	r.t.Fatalf("the record of %s is still there at %s", ref, until)
}

func TestAgentRebindUnderTheSameNameStartsANewLife(t *testing.T) {
	for _, restart := range []bool{false, true} {
		name := "agent running"
		if restart {
			name = "agent restarted"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, jobWorld())
				r.run()
				r.bindRef(uid1, jobSpec())
				r.sleepUntil(10 * time.Second)
				require.Equal(t, phase.Succeeded, r.statusOf(uid1).Status.Phase)
				r.deleteAndWaitGone(uid1, 15*time.Second)
				if restart {
					r.stop()
				}
				r.sleepUntil(20 * time.Second)
				r.bindRef(uid2, jobSpec())
				if restart {
					r.sleepUntil(21 * time.Second)
					r.run()
				}
				defer r.stop()
				r.sleepUntil(22 * time.Second) // the job runs 5 s
				st := r.statusOf(uid2)
				assert.Equal(t, "uid-2", st.Pod.UID, "the status at the name is the new pod's")
				assert.Equal(t, phase.Running, st.Status.Phase, "the new pod runs: %+v", st.Status)
				r.sleepUntil(40 * time.Second)
				st = r.statusOf(uid2)
				assert.Equal(t, "uid-2", st.Pod.UID)
				assert.Equal(t, phase.Succeeded, st.Status.Phase)
				assert.Len(t, r.lines("StartContainer"), 2, "each pod's container started once")
			})
		})
	}
}

// A pod record removed straight from the store (a forced deletion) stops the pod; its worker goes
// with it, so a later pod of that name starts and its deletion completes.
func TestAgentForcedDeletionThenRebind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{})
		r.run()
		defer r.stop()
		r.bindRef(uid1, appSpec())
		r.sleepUntil(5 * time.Second)
		require.NoError(t, r.Store.Delete(t.Context(), lifecycle.Keys{}.Pod(node, uid1), lifecycle.AnyRevision))
		r.sleepUntil(10 * time.Second)
		r.Runtime.With(func(w *simruntime.World) {
			assert.Empty(t, w.Containers(), "the forcibly deleted pod is stopped")
		})
		r.bindRef(uid2, appSpec())
		r.sleepUntil(15 * time.Second)
		st := r.statusOf(uid2)
		assert.Equal(t, "uid-2", st.Pod.UID)
		assert.Equal(t, phase.Running, st.Status.Phase)
		r.deleteAndWaitGone(uid2, 60*time.Second)
	})
}

// laggyStore delivers its watch events lag late, as a slow watch does.
type laggyStore struct {
	lifecycle.Store
	lag time.Duration
}

func (s laggyStore) Watch(ctx context.Context, prefix string, from int64) <-chan lifecycle.WatchResponse {
	in := s.Store.Watch(ctx, prefix, from)
	type item struct {
		at   time.Time
		resp lifecycle.WatchResponse
	}
	var mu sync.Mutex
	var queue []item
	more := make(chan struct{}, 1)
	out := make(chan lifecycle.WatchResponse)
	go func() {
		for resp := range in {
			mu.Lock()
			queue = append(queue, item{time.Now().Add(s.lag), resp})
			mu.Unlock()
			select {
			case more <- struct{}{}:
			default:
			}
		}
		close(more)
	}()
	go func() {
		defer close(out)
		for {
			mu.Lock()
			if len(queue) == 0 {
				mu.Unlock()
				if _, ok := <-more; !ok {
					mu.Lock()
					done := len(queue) == 0
					mu.Unlock()
					if done {
						return
					}
				}
				continue
			}
			it := queue[0]
			queue = queue[1:]
			mu.Unlock()
			time.Sleep(time.Until(it.at))
			select {
			case out <- it.resp:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// The agent removes only the record it was asked to remove: with a watch 2 s late, a change made
// to a deleted pod's record just before the agent removes it must not make the agent remove the
// record of a new pod bound under the name meanwhile.
func TestAgentRemovesOnlyTheRecordItActedOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{})
		agentStore := laggyStore{Store: r.Store, lag: 2 * time.Second}
		ag, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: node, Runtime: r.Runtime, Store: agentStore, Setup: r.Runtime})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); assert.NoError(t, ag.Run(ctx)) }()
		defer func() { cancel(); <-done }()

		r.bindRef(uid1, appSpec())
		r.sleepUntil(10 * time.Second)
		require.NoError(t, r.Client.Delete(t.Context(), node, uid1, nil, time.Now())) // seen at 12 s: the app exits at once
		r.sleepUntil(11 * time.Second)
		spec := appSpec()
		spec.Containers[0].Image = "busybox:1.37"
		require.NoError(t, r.Client.UpdateSpec(t.Context(), node, uid1, spec)) // seen at 13 s
		r.deleteAndWaitGone(uid1, 20*time.Second)
		r.bindRef(uid2, appSpec())
		r.sleepUntil(30 * time.Second)
		rec, _, err := r.Client.Pod(t.Context(), node, uid2)
		require.NoError(t, err, "nobody deleted the new pod")
		assert.Equal(t, "uid-2", rec.Pod.UID)
		st := r.statusOf(uid2)
		assert.Equal(t, "uid-2", st.Pod.UID)
		assert.Equal(t, phase.Running, st.Status.Phase)
	})
}

// The same UID bound again while its pod still stops after a forced deletion is that pod again:
// it starts afresh once the stop is over, as kubelet restarts a pod whose UID comes back while it
// terminates (pod_workers.go, restartRequested), and never runs twice at once.
func TestAgentSameUIDBoundAgainWhileStopping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{"app": {Runs: []simruntime.Run{{IgnoreTerm: true}}}}})
		r.run()
		defer r.stop()
		r.bindRef(uid1, appSpec())
		r.sleepUntil(5 * time.Second)
		require.NoError(t, r.Client.Delete(t.Context(), node, uid1, ptr(int64(0)), time.Now()))
		r.bindRef(uid1, appSpec()) // at once: the old instance is killed at 7 s (1 s grace, the 2 s floor)
		r.sleepUntil(6 * time.Second)
		assert.Len(t, r.lines("StartContainer"), 1, "nothing new starts while the pod stops")
		r.sleepUntil(12 * time.Second)
		starts := r.lines("StartContainer")
		require.Len(t, starts, 2)
		assert.True(t, strings.HasPrefix(starts[1], "7s "), "started afresh once stopped: %v", starts)
		st := r.statusOf(uid1)
		assert.Equal(t, phase.Running, st.Status.Phase)
		assert.Equal(t, int32(0), st.Status.ContainerStatuses[0].RestartCount, "a new life, not a restart")
		r.Runtime.With(func(w *simruntime.World) {
			running := 0
			for _, c := range w.Containers() {
				if c.State == lifecycle.ContainerStateRunning {
					running++
				}
			}
			assert.Equal(t, 1, running)
		})
		r.deleteAndWaitGone(uid1, 60*time.Second)
	})
}
