package lifecycle_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/podlifetest"
)

// The agent tests run in a testing/synctest bubble: time.Now, timers and sleeps there are
// virtual and jump ahead whenever every goroutine of the bubble waits, so a pod's 10-minute life
// takes milliseconds and its timings are exact. The agent uses lifecycle.RealClock, which is the
// bubble's clock.

const node = "node-1"

var podRef = lifecycle.PodRef{Namespace: "default", Name: "web", UID: "uid-1"}

// rig is podlifetest's rig (the simulated runtime, the memory store, a Client) with an agent
// of the test's own, whose logs it keeps, and a log of what its machines handed out.
type rig struct {
	*podlifetest.Rig
	t       *testing.T
	start   time.Time
	logs    *observer.ObservedLogs
	mu      sync.Mutex
	actions []string // "12s StartContainer container=app id=..."
	cancel  context.CancelFunc
	done    chan struct{}
}

func newRig(t *testing.T, opts simruntime.WorldOptions) *rig {
	pr, err := podlifetest.NewRig(t.Context(), podlifetest.RigOptions{Node: node, World: opts, NoAgent: true})
	require.NoError(t, err)
	return &rig{Rig: pr, t: t, start: time.Now()}
}

// run starts an agent; stop ends it and waits for it.
func (r *rig) run() {
	r.t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	r.logs = logs
	ag, err := lifecycle.NewAgent(lifecycle.AgentConfig{
		Node: node, Runtime: r.Runtime, Store: r.Store, Setup: r.Runtime, Logger: zap.New(core),
		Observe: func(ref lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, a := range rd.Actions {
				r.actions = append(r.actions, fmt.Sprintf("%s %s", r.since(now), a))
			}
		},
	})
	require.NoError(r.t, err)
	ctx, cancel := context.WithCancel(r.t.Context())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() {
		defer close(r.done)
		assert.NoError(r.t, ag.Run(ctx))
	}()
	synctest.Wait()
}

func (r *rig) stop() {
	r.cancel()
	<-r.done
}

func (r *rig) since(t time.Time) string { return t.Sub(r.start).String() }

// sleepUntil lets virtual time pass to start+d with everything settled.
func (r *rig) sleepUntil(d time.Duration) {
	time.Sleep(time.Until(r.start.Add(d)))
	synctest.Wait()
}

func (r *rig) lines(words ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
next:
	for _, l := range r.actions {
		for _, w := range words {
			if !strings.Contains(l, w) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

func (r *rig) status() lifecycle.StatusRecord {
	r.t.Helper()
	st, err := r.Client.Status(r.t.Context(), node, podRef)
	require.NoError(r.t, err)
	return st
}

func (r *rig) bind(spec podlife.PodSpec) {
	r.t.Helper()
	_, err := r.Client.Bind(r.t.Context(), node, podRef, spec)
	require.NoError(r.t, err)
	synctest.Wait()
}

func appSpec() podlife.PodSpec {
	return podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}}
}

func TestAgentCrashLoopBackOffTimings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: time.Second, ExitCode: 1}}}}})
		r.run()
		defer r.stop()
		r.bind(appSpec())
		r.sleepUntil(100 * time.Second)
		var starts []string
		for _, l := range r.lines("StartContainer") {
			starts = append(starts, strings.Fields(l)[0])
		}
		// The first restart is immediate; then 10 s, 20 s, 40 s after each exit.
		assert.Equal(t, []string{"0s", "1s", "12s", "33s", "1m14s"}, starts)
		st := r.status()
		cs := st.Status.ContainerStatuses[0]
		assert.Equal(t, int32(4), cs.RestartCount)
		require.NotNil(t, cs.State.Waiting)
		assert.Equal(t, phase.ReasonCrashLoopBackOff, cs.State.Waiting.Reason)
		assert.Equal(t, phase.Running, st.Status.Phase)
	})
}

func TestAgentDeleteRunsPreStopThenSIGKILLAtTheGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{IgnoreTerm: true}}, PreStop: simruntime.HookScript{Took: 4 * time.Second}}}})
		r.run()
		defer r.stop()
		spec := appSpec()
		spec.TerminationGracePeriodSeconds = ptr(int64(10))
		spec.Containers[0].Lifecycle = &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}
		r.bind(spec)
		r.sleepUntil(20 * time.Second)
		require.NoError(t, r.Client.Delete(t.Context(), node, podRef, nil, time.Now()))
		r.sleepUntil(60 * time.Second)

		assert.Equal(t, []string{"20s RunHook container=app id=" + containerID(t, r, "app") + " hook=PreStop timeout=10s"}, r.lines("RunHook"))
		// preStop took 4 s of the 10 s: the stop signal then, SIGKILL at 10 s (the runtime's kill
		// at the timeout), exactly at the grace.
		assert.Equal(t, []string{"24s StopContainer container=app id=" + containerID(t, r, "app") + " timeout=6s"}, r.lines("StopContainer"))
		st := r.status()
		term := st.Status.ContainerStatuses[0].State.Terminated
		require.NotNil(t, term)
		assert.Equal(t, int32(137), term.ExitCode)
		assert.Equal(t, "30s", r.since(term.FinishedAt), "SIGKILL exactly at the grace period")
		assert.Equal(t, phase.Failed, st.Status.Phase, "a deleted pod whose container was killed ends Failed")
		_, _, err := r.Client.Pod(t.Context(), node, podRef)
		assert.ErrorIs(t, err, lifecycle.ErrKeyNotFound, "the agent removes a deleted pod's record once it stopped")
		r.Runtime.With(func(w *simruntime.World) {
			assert.Empty(t, w.Containers(), "nothing is left in the runtime")
			assert.Empty(t, w.Sandboxes())
		})
	})
}

func TestAgentRestartMidLifecycleAdoptsAndKeepsCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: time.Second, ExitCode: 1}, {For: time.Second, ExitCode: 1}, {For: time.Second, ExitCode: 1}, {}}}}})
		r.run()
		r.bind(appSpec())
		r.sleepUntil(20 * time.Second) // exits at 1 s, 2 s, 13 s; the fourth instance starts at 33 s
		before := r.status()
		r.stop()
		r.sleepUntil(25 * time.Second) // the agent is away for 5 s
		r.run()
		defer r.stop()
		r.sleepUntil(120 * time.Second)
		after := r.status()

		starts := r.lines("StartContainer")
		seen := map[string]int{}
		for _, l := range starts {
			seen[strings.Fields(l)[3]]++
		}
		for id, n := range seen {
			assert.Equal(t, 1, n, "%s started %d times", id, n)
		}
		assert.Equal(t, "33s", strings.Fields(starts[len(starts)-1])[0], "the back-off the old agent began is kept: %v", starts)
		assert.Greater(t, after.Seq, before.Seq, "the new agent goes on from the stored sequence")
		assert.Equal(t, int32(3), after.Status.ContainerStatuses[0].RestartCount)
		assert.GreaterOrEqual(t, after.Status.ContainerStatuses[0].RestartCount, before.Status.ContainerStatuses[0].RestartCount)
		require.NotNil(t, after.Status.ContainerStatuses[0].State.Running)
	})
}

func TestAgentRestartAdoptsARunningContainer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{})
		r.run()
		r.bind(appSpec())
		r.sleepUntil(10 * time.Second)
		before := r.status()
		r.stop()
		r.run()
		defer r.stop()
		r.sleepUntil(60 * time.Second)
		assert.Len(t, r.lines("StartContainer"), 1, "a running container is adopted, never started twice")
		assert.Len(t, r.lines("RunSandbox"), 1)
		after := r.status()
		assert.Equal(t, before.Status.ContainerStatuses[0].State, after.Status.ContainerStatuses[0].State)
		assert.Equal(t, phase.Running, after.Status.Phase)
	})
}

func TestAgentKeepsRunningThroughAStoreOutageAndFlushesTheLatestStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 30 * time.Second, ExitCode: 2}, {}}}}})
		r.run()
		defer r.stop()
		r.bind(appSpec())
		r.sleepUntil(10 * time.Second)
		r.Store.SetUnavailable(true)
		r.sleepUntil(60 * time.Second) // the container exits at 30 s and restarts meanwhile
		assert.Len(t, r.lines("StartContainer"), 2, "the machine went on without the store")
		r.Store.SetUnavailable(false)
		r.sleepUntil(70 * time.Second)
		st := r.status()
		cs := st.Status.ContainerStatuses[0]
		assert.Equal(t, int32(1), cs.RestartCount, "the latest status reached the store")
		require.NotNil(t, cs.LastTerminationState.Terminated)
		assert.Equal(t, int32(2), cs.LastTerminationState.Terminated.ExitCode)
		assert.NotEmpty(t, r.logs.FilterMessage("writing the status failed; will retry").All())
	})
}

func TestAgentSkipsForeignRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{})
		key := lifecycle.Keys{}.Pod(node, lifecycle.PodRef{Namespace: "default", Name: "junk"})
		_, err := r.Store.Put(t.Context(), key, []byte(`{"apiVersion":"other/v9"}`), 0)
		require.NoError(t, err)
		r.run()
		defer r.stop()
		_, err = r.Store.Put(t.Context(), key+"2", []byte(`not json`), 0)
		require.NoError(t, err)
		r.bind(appSpec())
		r.sleepUntil(5 * time.Second)
		assert.Equal(t, phase.Running, r.status().Status.Phase, "the good pod runs")
		bad := r.logs.FilterMessage("skipping a pod record that does not decode").All()
		require.Len(t, bad, 2)
		assert.Equal(t, key, bad[0].ContextMap()["key"])
		assert.Equal(t, key+"2", bad[1].ContextMap()["key"])
	})
}

func TestAgentPullFailureShowsErrImagePullThenBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{ImagePulls: map[string]simruntime.Pull{"busybox:1.36": {Failures: 2}}})
		r.run()
		defer r.stop()
		spec := appSpec()
		spec.Containers[0].ImagePullPolicy = podlife.PullAlways
		r.bind(spec)
		r.sleepUntil(5 * time.Second)
		w := r.status().Status.ContainerStatuses[0].State.Waiting
		require.NotNil(t, w)
		assert.Contains(t, []string{phase.ReasonErrImagePull, phase.ReasonImagePullBackOff}, w.Reason)
		r.sleepUntil(60 * time.Second)
		var pulls []string
		for _, l := range r.lines("PullImage") {
			pulls = append(pulls, strings.Fields(l)[0])
		}
		assert.Equal(t, []string{"0s", "10s", "30s"}, pulls, "image pull back-off: 10 s, then 20 s")
		assert.NotNil(t, r.status().Status.ContainerStatuses[0].State.Running)
	})
}

func TestNewAgentRejectsBadConfig(t *testing.T) {
	rt := simruntime.NewRuntime(simruntime.NewWorld(simruntime.WorldOptions{}), lifecycle.RealClock{})
	st := memstore.New()
	for name, tc := range map[string]struct {
		cfg  lifecycle.AgentConfig
		want string
	}{
		"no node":      {lifecycle.AgentConfig{Runtime: rt, Store: st}, "Node: Required value"},
		"slash":        {lifecycle.AgentConfig{Node: "a/b", Runtime: rt, Store: st}, `Node: Invalid value: "a/b": a lowercase RFC 1123 subdomain`},
		"not UTF-8":    {lifecycle.AgentConfig{Node: "node-\xff", Runtime: rt, Store: st}, `Node: Invalid value: "node-\xff"`},
		"upper case":   {lifecycle.AgentConfig{Node: "Node-1", Runtime: rt, Store: st}, `Node: Invalid value: "Node-1"`},
		"no runtime":   {lifecycle.AgentConfig{Node: node, Store: st}, "Runtime: Required value"},
		"no store":     {lifecycle.AgentConfig{Node: node, Runtime: rt}, "Store: Required value"},
		"all is there": {lifecycle.AgentConfig{Node: node, Runtime: rt, Store: st}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := lifecycle.NewAgent(tc.cfg)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func containerID(t *testing.T, r *rig, name string) string {
	t.Helper()
	for _, l := range r.lines("StartContainer container=" + name) {
		return strings.TrimPrefix(strings.Fields(l)[3], "id=")
	}
	t.Fatalf("%s never started", name)
	return ""
}

func ptr[T any](v T) *T { return &v }

func TestAgentSupersedesAnotherWritersStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 30 * time.Second, ExitCode: 1}, {}}}}})
		r.run()
		defer r.stop()
		r.bind(appSpec())
		r.sleepUntil(10 * time.Second)
		// A supervisor marks the pod Unknown while the agent runs (its lease expired).
		lost := r.status()
		lost.Seq += 5
		lost.Writer = "supervisor"
		lost.Status.Phase = phase.Unknown
		lost.Status.Reason = phase.ReasonNodeLost
		b, err := lifecycle.EncodeStatus(lost)
		require.NoError(t, err)
		_, err = r.Store.Put(t.Context(), lifecycle.Keys{}.Status(node, podRef), b, lifecycle.AnyRevision)
		require.NoError(t, err)
		synctest.Wait()
		st := r.status()
		assert.Empty(t, st.Writer, "the agent reports the true status at once, not at the next change")
		assert.Greater(t, st.Seq, lost.Seq)
		assert.Equal(t, phase.Running, st.Status.Phase)
		r.sleepUntil(40 * time.Second) // the container exits at 30 s: a new status
		st = r.status()
		assert.Empty(t, st.Writer)
		assert.Equal(t, int32(1), st.Status.ContainerStatuses[0].RestartCount)
	})
}

func TestAgentRemovesTheRecordOfAFinishedPodWhenItIsDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 5 * time.Second}}}}})
		r.run()
		defer r.stop()
		spec := appSpec()
		spec.RestartPolicy = podlife.RestartNever
		r.bind(spec)
		r.sleepUntil(10 * time.Second)
		assert.Equal(t, phase.Succeeded, r.status().Status.Phase)
		_, _, err := r.Client.Pod(t.Context(), node, podRef)
		require.NoError(t, err, "a finished pod stays until it is deleted")
		require.NoError(t, r.Client.Delete(t.Context(), node, podRef, nil, time.Now()))
		synctest.Wait()
		_, _, err = r.Client.Pod(t.Context(), node, podRef)
		assert.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
		assert.Equal(t, phase.Succeeded, r.status().Status.Phase, "its last status stays")
	})
}

// lossyEvents is a runtime whose first event stream loses every event and breaks at 15 s, as a
// runtime restart would.
type lossyEvents struct {
	*simruntime.Runtime
	mu    sync.Mutex
	calls int
}

func (l *lossyEvents) Events(ctx context.Context) (<-chan lifecycle.RuntimeEvent, error) {
	l.mu.Lock()
	l.calls++
	first := l.calls == 1
	l.mu.Unlock()
	if !first {
		return l.Runtime.Events(ctx)
	}
	in, err := l.Runtime.Events(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan lifecycle.RuntimeEvent)
	go func() {
		defer close(out)
		end := time.After(15 * time.Second)
		for {
			select {
			case <-in: // lost
			case <-end:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func TestAgentRelistsAfterTheRuntimeEventStreamBroke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 10 * time.Second, ExitCode: 1}, {}}}}})
		lossy := &lossyEvents{Runtime: r.Runtime}
		ag, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: node, Runtime: lossy, Store: r.Store, Setup: r.Runtime})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); _ = ag.Run(ctx) }()
		defer func() { cancel(); <-done }()
		r.bind(appSpec())
		r.sleepUntil(14 * time.Second)
		assert.NotNil(t, r.status().Status.ContainerStatuses[0].State.Running, "the exit at 10 s was lost with the stream")
		r.sleepUntil(20 * time.Second)
		cs := r.status().Status.ContainerStatuses[0]
		assert.Equal(t, int32(1), cs.RestartCount, "the relist after the stream came back found the exit")
		require.NotNil(t, cs.LastTerminationState.Terminated)
		assert.Equal(t, int32(1), cs.LastTerminationState.Terminated.ExitCode)
	})
}

// TestAgentKeepsAnEndItCouldNotReport: a pod fails while the store is away and the agent stops
// before it is back: its sandbox stays (the agent writes the status before it removes the last
// trace of the pod's end), so the next agent finds the end in the runtime and reports it; the pod
// does not run again (found by the Sim-vs-Agent property's TerminalPhaseAbsorbs).
func TestAgentKeepsAnEndItCouldNotReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{"app": {Runs: []simruntime.Run{{For: 20 * time.Second, ExitCode: 3}}}}})
		r.run()
		spec := appSpec()
		spec.RestartPolicy = podlife.RestartNever
		r.bind(spec)
		r.sleepUntil(10 * time.Second)
		r.Store.SetUnavailable(true)
		r.sleepUntil(30 * time.Second) // the app exits 3 at 20 s: the pod is Failed, unreported
		r.stop()
		sbs, err := r.Runtime.ListSandboxes(t.Context())
		require.NoError(t, err)
		assert.Len(t, sbs, 1, "the sandbox is kept while the end is unreported")
		r.Store.SetUnavailable(false)
		r.run()
		defer r.stop()
		r.sleepUntil(40 * time.Second)
		assert.Equal(t, phase.Failed, r.status().Status.Phase)
		assert.Len(t, r.lines("StartContainer"), 1, "the pod never runs again")
	})
}

// TestAgentGivesUpTheCallsOfAStoppedPod: a pod deleted while its sandbox is still being made (a
// 60 s sandbox) stops at once; the agent gives up waiting for the sandbox and removes the record
// then, not a minute later.
func TestAgentGivesUpTheCallsOfAStoppedPod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{Pod: simruntime.PodScript{SandboxDelay: time.Minute}})
		r.run()
		defer r.stop()
		r.bind(appSpec())
		r.sleepUntil(5 * time.Second)
		require.NoError(t, r.Client.Delete(t.Context(), node, podRef, nil, time.Now()))
		r.sleepUntil(6 * time.Second)
		_, _, err := r.Client.Pod(t.Context(), node, podRef)
		assert.ErrorIs(t, err, lifecycle.ErrKeyNotFound, "the record went with the pod")
	})
}
