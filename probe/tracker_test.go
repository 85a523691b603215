package probe_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

const s = time.Second

// never is a NextRun expectation: the probe must not run.
const never time.Duration = -1

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type op int

const (
	succeed op = iota
	fail
	agentError
	markStarted
	exited
	deleting
	trigger
	newContainer // Reset with a fresh container ID, started at the step's time
	sameContainer
)

func (o op) String() string {
	return [...]string{"succeed", "fail", "agentError", "markStarted", "exited", "deleting", "trigger", "newContainer", "sameContainer"}[o]
}

// step runs one call at t0+at and checks the result after it, whether it killed, and NextRun.
type step struct {
	at     time.Duration
	do     op
	result probe.Result
	kill   bool
	next   time.Duration // NextRun as an offset from t0, or never
}

func spec(delay, period, success, failure int32) *podlife.Probe {
	return &podlife.Probe{InitialDelaySeconds: delay, PeriodSeconds: period, SuccessThreshold: success, FailureThreshold: failure}
}

// apply performs o on tr and returns its effect (for calls that have none, the unchanged result).
func apply(tr *probe.Tracker, o op, now time.Time, id *int) probe.Effect {
	before := tr.Result()
	switch o {
	case succeed:
		return tr.Observe(probe.SuccessOutcome("ok"), now)
	case fail:
		return tr.Observe(probe.FailureOutcome("bad"), now)
	case agentError:
		return tr.Observe(probe.ErrorOutcome(errors.New("port \"web\" not found")), now)
	case markStarted:
		tr.MarkStarted(now)
	case exited:
		return tr.ContainerExited(now)
	case deleting:
		return tr.StopForDeletion(now)
	case trigger:
		tr.Trigger(now)
	case newContainer:
		*id++
		return tr.Reset(fmt.Sprintf("c%d", *id), now)
	case sameContainer:
		return tr.Reset(fmt.Sprintf("c%d", *id), now)
	}
	return probe.Effect{Result: tr.Result(), Changed: tr.Result() != before}
}

func TestTrackerRules(t *testing.T) {
	tests := []struct {
		name  string
		kind  probe.Kind
		probe *podlife.Probe
		// initial is the result before any step; initialNext NextRun right after NewTracker.
		initial     probe.Result
		initialNext time.Duration
		steps       []step
	}{
		{
			name: "initial results: liveness Success; liveness does not probe while the container is not started",
			kind: probe.Liveness, probe: spec(0, 10, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{{at: 0, do: markStarted, result: probe.Success, next: 0}},
		},
		{
			name: "initial results: readiness Failure, kept during the initial delay",
			kind: probe.Readiness, probe: spec(5, 10, 1, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 5 * s},
				{at: 5 * s, do: succeed, result: probe.Success, next: 15 * s},
			},
		},
		{
			name: "initial results: startup Unknown; the first run is initialDelaySeconds after the container's StartedAt",
			kind: probe.Startup, probe: spec(7, 10, 1, 3), initial: probe.Unknown, initialNext: 7 * s,
			steps: []step{{at: 7 * s, do: fail, result: probe.Unknown, next: 17 * s}},
		},
		{
			name: "runs repeat every periodSeconds",
			kind: probe.Liveness, probe: spec(0, 4, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 0, do: succeed, result: probe.Success, next: 4 * s},
				{at: 4 * s, do: succeed, result: probe.Success, next: 8 * s},
				{at: 8*s + 300*time.Millisecond, do: succeed, result: probe.Success, next: 12 * s},
			},
		},
		{
			name: "successThreshold consecutive successes are needed to flip to Success",
			kind: probe.Readiness, probe: spec(0, 10, 3, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 0},
				{at: 0, do: succeed, result: probe.Failure, next: 10 * s},
				{at: 10 * s, do: succeed, result: probe.Failure, next: 20 * s},
				{at: 20 * s, do: fail, result: probe.Failure, next: 30 * s},
				{at: 30 * s, do: succeed, result: probe.Failure, next: 40 * s},
				{at: 40 * s, do: succeed, result: probe.Failure, next: 50 * s},
				{at: 50 * s, do: succeed, result: probe.Success, next: 60 * s},
			},
		},
		{
			name: "failureThreshold consecutive failures flip to Failure; readiness failure only clears ready (no kill, keeps probing)",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 0},
				{at: 0, do: succeed, result: probe.Success, next: 10 * s},
				{at: 10 * s, do: fail, result: probe.Success, next: 20 * s},
				{at: 20 * s, do: fail, result: probe.Success, next: 30 * s},
				{at: 30 * s, do: fail, result: probe.Failure, next: 40 * s},
				{at: 40 * s, do: fail, result: probe.Failure, next: 50 * s},
				{at: 50 * s, do: succeed, result: probe.Success, next: 60 * s},
			},
		},
		{
			name: "a success resets the failure count: liveness kills only after failureThreshold failures in a row",
			kind: probe.Liveness, probe: spec(0, 10, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 0, do: fail, result: probe.Success, next: 10 * s},
				{at: 10 * s, do: fail, result: probe.Success, next: 20 * s},
				{at: 20 * s, do: succeed, result: probe.Success, next: 30 * s},
				{at: 30 * s, do: fail, result: probe.Success, next: 40 * s},
				{at: 40 * s, do: fail, result: probe.Success, next: 50 * s},
				{at: 50 * s, do: fail, result: probe.Failure, kill: true, next: never},
			},
		},
		{
			name: "a probe error on the agent's side is not counted: it neither adds a failure nor breaks the run of failures",
			kind: probe.Liveness, probe: spec(0, 10, 1, 2), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 0, do: fail, result: probe.Success, next: 10 * s},
				{at: 10 * s, do: agentError, result: probe.Success, next: 20 * s},
				{at: 20 * s, do: agentError, result: probe.Success, next: 30 * s},
				{at: 30 * s, do: fail, result: probe.Failure, kill: true, next: never},
			},
		},
		{
			name: "liveness reaching failureThreshold kills; the result stays Failure and the worker holds until the new container, whose result starts at Success again",
			kind: probe.Liveness, probe: spec(0, 10, 1, 1), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 0, do: fail, result: probe.Failure, kill: true, next: never},
				{at: 10 * s, do: fail, result: probe.Failure, next: never},
				{at: 12 * s, do: sameContainer, result: probe.Failure, next: never},
				{at: 15 * s, do: newContainer, result: probe.Success, next: never},
				{at: 15 * s, do: markStarted, result: probe.Success, next: 15 * s},
				{at: 15 * s, do: fail, result: probe.Failure, kill: true, next: never},
			},
		},
		{
			name: "startup stops once it succeeded",
			kind: probe.Startup, probe: spec(0, 10, 1, 3), initial: probe.Unknown, initialNext: 0,
			steps: []step{
				{at: 0, do: fail, result: probe.Unknown, next: 10 * s},
				{at: 10 * s, do: succeed, result: probe.Success, next: never},
				{at: 20 * s, do: fail, result: probe.Success, next: never},
			},
		},
		{
			name: "startup reaching failureThreshold kills and holds; the next container starts from Unknown",
			kind: probe.Startup, probe: spec(0, 10, 1, 2), initial: probe.Unknown, initialNext: 0,
			steps: []step{
				{at: 0, do: fail, result: probe.Unknown, next: 10 * s},
				{at: 10 * s, do: fail, result: probe.Failure, kill: true, next: never},
				{at: 30 * s, do: newContainer, result: probe.Unknown, next: 30 * s},
				{at: 30 * s, do: fail, result: probe.Unknown, next: 40 * s},
			},
		},
		{
			name: "startup does not run once the container is started",
			kind: probe.Startup, probe: spec(0, 10, 1, 3), initial: probe.Unknown, initialNext: 0,
			steps: []step{{at: 0, do: markStarted, result: probe.Unknown, next: never}},
		},
		{
			name: "upstream: readiness runs as soon as the container is started (kubelet triggers a run for a started container that is not ready), then every period from there",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 23 * s, do: markStarted, result: probe.Failure, next: 23 * s},
				{at: 23 * s, do: succeed, result: probe.Success, next: 33 * s},
			},
		},
		{
			name: "liveness started after a startup probe waits for its next tick; ticks missed while not started are skipped",
			kind: probe.Liveness, probe: spec(0, 10, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 25 * s, do: markStarted, result: probe.Success, next: 30 * s},
				{at: 25 * s, do: fail, result: probe.Success, next: 30 * s},
			},
		},
		{
			name: "a run the tracker would not have started is ignored",
			kind: probe.Readiness, probe: spec(0, 10, 1, 1), initial: probe.Failure, initialNext: never,
			steps: []step{{at: 5 * s, do: succeed, result: probe.Failure, next: never}},
		},
		{
			name: "upstream: the count of equal outcomes in a row survives a new container (kubelet clears it only when putting the worker on hold)",
			kind: probe.Readiness, probe: spec(0, 10, 2, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 0},
				{at: 0, do: succeed, result: probe.Failure, next: 10 * s},
				{at: 5 * s, do: newContainer, result: probe.Failure, next: never},
				{at: 5 * s, do: markStarted, result: probe.Failure, next: 5 * s},
				{at: 5 * s, do: succeed, result: probe.Success, next: 15 * s},
			},
		},
		{
			name: "a container that is not running gets Failure (kubelet's worker sets it), never a kill, and no run until a new container",
			kind: probe.Liveness, probe: spec(0, 10, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 3 * s, do: exited, result: probe.Failure, next: never},
				{at: 4 * s, do: newContainer, result: probe.Success, next: never},
			},
		},
		{
			name: "on hold, a container exit leaves the result alone (startup keeps Success)",
			kind: probe.Startup, probe: spec(0, 10, 1, 3), initial: probe.Unknown, initialNext: 0,
			steps: []step{
				{at: 0, do: succeed, result: probe.Success, next: never},
				{at: 9 * s, do: exited, result: probe.Success, next: never},
			},
		},
		{
			name: "on pod deletion liveness stops at once, with Success so that nothing kills the stopping container",
			kind: probe.Liveness, probe: spec(0, 10, 1, 2), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 0, do: fail, result: probe.Success, next: 10 * s},
				{at: 5 * s, do: deleting, result: probe.Success, next: never},
				{at: 10 * s, do: fail, result: probe.Success, next: never},
				{at: 11 * s, do: newContainer, result: probe.Success, next: never},
			},
		},
		{
			name: "on pod deletion startup stops at once with Success",
			kind: probe.Startup, probe: spec(0, 10, 1, 3), initial: probe.Unknown, initialNext: 0,
			steps: []step{{at: 2 * s, do: deleting, result: probe.Success, next: never}},
		},
		{
			name: "on pod deletion readiness keeps running until the container stopped",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 0},
				{at: 0, do: succeed, result: probe.Success, next: 10 * s},
				{at: 5 * s, do: deleting, result: probe.Success, next: 10 * s},
				{at: 10 * s, do: succeed, result: probe.Success, next: 20 * s},
				{at: 12 * s, do: exited, result: probe.Failure, next: never},
			},
		},
		{
			name: "a run that lasted past the next tick is followed by one at once (the Go ticker's buffered tick), then the grid resumes",
			kind: probe.Liveness, probe: spec(0, 10, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 25 * s, do: succeed, result: probe.Success, next: 25 * s},
				{at: 25 * s, do: succeed, result: probe.Success, next: 30 * s},
			},
		},
		{
			name: "a run reported before its tick counts and the next tick follows it",
			kind: probe.Liveness, probe: spec(0, 10, 1, 3), initial: probe.Success, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Success, next: 0},
				{at: 0, do: succeed, result: probe.Success, next: 10 * s},
				{at: 3 * s, do: fail, result: probe.Success, next: 10 * s},
			},
		},
		{
			name: "Trigger runs at once and restarts the period; it does nothing during the initial delay",
			kind: probe.Readiness, probe: spec(5, 10, 1, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 5 * s},
				{at: 2 * s, do: trigger, result: probe.Failure, next: 5 * s},
				{at: 5 * s, do: fail, result: probe.Failure, next: 15 * s},
				{at: 8 * s, do: trigger, result: probe.Failure, next: 8 * s},
				{at: 8 * s, do: succeed, result: probe.Success, next: 18 * s},
			},
		},
		{
			name: "NextRun is never before the latest time the tracker was given",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), initial: probe.Failure, initialNext: never,
			steps: []step{
				{at: 0, do: markStarted, result: probe.Failure, next: 0},
				{at: 31 * s, do: deleting, result: probe.Failure, next: 40 * s},
				{at: 20 * s, do: succeed, result: probe.Success, next: 40 * s},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := 1
			tr := probe.NewTracker(tc.kind, tc.probe, "c1", t0)
			require.Equal(t, tc.initial, tr.Result(), "initial result")
			requireNext(t, &tr, tc.initialNext, "after NewTracker")
			runSteps(t, &tr, tc.steps, &id)
		})
	}
}

// runSteps applies each step to tr and checks its result, whether it changed or killed, and
// NextRun.
func runSteps(t *testing.T, tr *probe.Tracker, steps []step, id *int) {
	t.Helper()
	for i, st := range steps {
		before := tr.Result()
		eff := apply(tr, st.do, t0.Add(st.at), id)
		where := fmt.Sprintf("step %d (%v at %v)", i, st.do, st.at)
		require.Equal(t, st.result, eff.Result, where)
		require.Equal(t, st.result, tr.Result(), where)
		require.Equal(t, before != st.result, eff.Changed, where)
		require.Equal(t, st.kill, eff.Kill, where)
		requireNext(t, tr, st.next, where)
	}
}

func requireNext(t *testing.T, tr *probe.Tracker, want time.Duration, where string) {
	t.Helper()
	at, ok := tr.NextRun()
	if want == never {
		require.False(t, ok, "%s: NextRun should be false, got %v", where, at.Sub(t0))
		return
	}
	require.True(t, ok, "%s: NextRun should be due at %v", where, want)
	require.Equal(t, want, at.Sub(t0), where)
}

func TestTrackerAccessorsAndDefaults(t *testing.T) {
	grace := int64(5)
	p := &podlife.Probe{FailureThreshold: 4, TerminationGracePeriodSeconds: &grace}
	tr := probe.NewTracker(probe.Liveness, p, "abc", t0)
	require.Equal(t, probe.Liveness, tr.Kind())
	require.Equal(t, "abc", tr.ContainerID())
	require.Equal(t, probe.EffectiveSpec(p), tr.Spec())

	nilSpec := probe.NewTracker(probe.Startup, nil, "abc", t0)
	require.Equal(t, 10*s, nilSpec.Spec().Period, "a nil probe means every default")

	odd := probe.NewTracker(probe.Kind(9), nil, "abc", t0)
	require.Equal(t, probe.Readiness, odd.Kind(), "an invalid kind is treated as Readiness, which never kills")
}

func TestZeroTrackerIsInert(t *testing.T) {
	var tr probe.Tracker
	_, ok := tr.NextRun()
	require.False(t, ok)
	tr.MarkStarted(t0)
	tr.Trigger(t0)
	require.Equal(t, probe.Effect{}, tr.Observe(probe.FailureOutcome("x"), t0))
	require.Equal(t, probe.Effect{}, tr.ContainerExited(t0))
	require.Equal(t, probe.Effect{}, tr.StopForDeletion(t0))
	require.Equal(t, probe.Effect{}, tr.Reset("c2", t0))
	_, ok = tr.NextRun()
	require.False(t, ok)
	require.Equal(t, probe.Unknown, tr.Result())
	require.Equal(t, probe.Tracker{}, tr, "no call changes the zero Tracker")
}

func TestTrackerSurvivesExtremeTimes(t *testing.T) {
	far := time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := probe.NewTracker(probe.Startup, spec(0, 1, 1, 3), "c1", time.Time{})
	tr.Observe(probe.FailureOutcome("x"), far)
	at, ok := tr.NextRun()
	require.True(t, ok)
	require.False(t, at.Before(far), "NextRun %v is before the latest time %v", at, far)
	tr.Trigger(far.Add(time.Hour))
	at, _ = tr.NextRun()
	require.Equal(t, far.Add(time.Hour), at)
}

// TestTrackerResume covers SEMANTICS "Agent restart" and "Probes": a restarted agent keeps a
// running container's result (KEP-4781), probes at once, once per period from then on, and every
// result counts. The container started at 0 s; the agent resumes at `resume`.
func TestTrackerResume(t *testing.T) {
	tests := []struct {
		name        string
		kind        probe.Kind
		probe       *podlife.Probe
		resume      time.Duration
		kept        probe.Result
		initialNext time.Duration
		steps       []step
	}{
		{
			name: "a kept Ready is not exempt: failureThreshold failures in a row after the restart clear it",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), resume: 95 * s, kept: probe.Success, initialNext: never,
			steps: []step{
				{at: 95 * s, do: markStarted, result: probe.Success, next: 95 * s},
				{at: 95 * s, do: fail, result: probe.Success, next: 105 * s},
				{at: 105 * s, do: fail, result: probe.Success, next: 115 * s},
				{at: 115 * s, do: fail, result: probe.Failure, next: 125 * s},
			},
		},
		{
			name: "a kept Ready stays while the probe succeeds",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), resume: 95 * s, kept: probe.Success, initialNext: never,
			steps: []step{
				{at: 95 * s, do: markStarted, result: probe.Success, next: 95 * s},
				{at: 95 * s, do: succeed, result: probe.Success, next: 105 * s},
			},
		},
		{
			name: "a not-ready container resumes at Failure and turns ready after successThreshold successes",
			kind: probe.Readiness, probe: spec(0, 10, 2, 3), resume: 95 * s, kept: probe.Failure, initialNext: never,
			steps: []step{
				{at: 95 * s, do: markStarted, result: probe.Failure, next: 95 * s},
				{at: 95 * s, do: succeed, result: probe.Failure, next: 105 * s},
				{at: 105 * s, do: succeed, result: probe.Success, next: 115 * s},
			},
		},
		{
			name: "startup of a container not yet started runs once at the restart, not once per missed tick",
			kind: probe.Startup, probe: spec(0, 10, 1, 30), resume: 95 * s, kept: probe.Unknown, initialNext: 95 * s,
			steps: []step{
				{at: 95 * s, do: fail, result: probe.Unknown, next: 105 * s},
				{at: 105 * s, do: succeed, result: probe.Success, next: never},
			},
		},
		{
			name: "liveness: a grid from the restart, not from the container's start",
			kind: probe.Liveness, probe: spec(0, 10, 1, 2), resume: 95 * s, kept: probe.Success, initialNext: never,
			steps: []step{
				{at: 95 * s, do: markStarted, result: probe.Success, next: 95 * s},
				{at: 95 * s, do: fail, result: probe.Success, next: 105 * s},
				{at: 105 * s, do: fail, result: probe.Failure, kill: true, next: never},
			},
		},
		{
			name: "within the initial delay the first run is still when it ends",
			kind: probe.Startup, probe: spec(60, 10, 1, 3), resume: 20 * s, kept: probe.Unknown, initialNext: 60 * s,
			steps: []step{{at: 60 * s, do: succeed, result: probe.Success, next: never}},
		},
		{
			name: "an invalid kept result is the kind's initial one",
			kind: probe.Readiness, probe: spec(0, 10, 1, 3), resume: 5 * s, kept: probe.Result(7), initialNext: never,
			steps: []step{{at: 5 * s, do: markStarted, result: probe.Failure, next: 5 * s}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := 1
			tr := probe.Resume(tc.kind, tc.probe, "c1", t0, t0.Add(tc.resume), tc.kept)
			want := tc.kept
			if want > probe.Failure {
				want = tc.kind.InitialResult()
			}
			require.Equal(t, want, tr.Result(), "the kept result")
			requireNext(t, &tr, tc.initialNext, "after Resume")
			runSteps(t, &tr, tc.steps, &id)
		})
	}
}
