package probe_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

// scriptedOp is one call in a generated script. dt moves the simulated clock first (it may be
// negative, to check that time never goes backwards inside a tracker); onSchedule makes an
// observation wait for NextRun, as a well-behaved caller does, and last runFor.
type scriptedOp struct {
	Do         op
	DT         time.Duration
	OnSchedule bool
	RunFor     time.Duration
}

type traceLine struct {
	At     time.Time
	Effect probe.Effect
	Next   time.Time
	NextOK bool
}

type script struct {
	Kind  probe.Kind
	Probe podlife.Probe
	Ops   []scriptedOp
}

func drawScript(t *rapid.T) script {
	kind := rapid.SampledFrom([]probe.Kind{probe.Liveness, probe.Readiness, probe.Startup}).Draw(t, "kind")
	p := podlife.Probe{
		InitialDelaySeconds: rapid.Int32Range(0, 20).Draw(t, "delay"),
		PeriodSeconds:       rapid.Int32Range(1, 15).Draw(t, "period"),
		TimeoutSeconds:      rapid.Int32Range(1, 5).Draw(t, "timeout"),
		SuccessThreshold:    rapid.Int32Range(1, 4).Draw(t, "success"),
		FailureThreshold:    rapid.Int32Range(1, 5).Draw(t, "failure"),
	}
	ops := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) scriptedOp {
		// Observations are the common case; lifecycle calls are rarer.
		do := rapid.SampledFrom([]op{succeed, succeed, fail, fail, fail, agentError, markStarted, markStarted,
			exited, deleting, trigger, newContainer, sameContainer}).Draw(t, "do")
		return scriptedOp{
			Do:         do,
			DT:         time.Duration(rapid.Int64Range(-3000, 25000).Draw(t, "dtMillis")) * time.Millisecond,
			OnSchedule: rapid.Float64Range(0, 1).Draw(t, "p") < 0.8,
			RunFor:     time.Duration(rapid.Int64Range(0, 12000).Draw(t, "runMillis")) * time.Millisecond,
		}
	}), 1, 80).Draw(t, "ops")
	return script{Kind: kind, Probe: p, Ops: ops}
}

// runScript plays sc on a fresh tracker, checking the invariants after every call, and returns
// the trace of effects and NextRun values.
func runScript(t *rapid.T, sc script) []traceLine {
	p := sc.Probe
	tr := probe.NewTracker(sc.Kind, &p, "c1", t0)
	id := 1
	now, latest := t0, t0
	consecutiveFailures := int32(0) // reference model of kubelet's resultRun for failures
	delayEnd := t0.Add(time.Duration(p.InitialDelaySeconds) * time.Second)
	stopped := false
	var trace []traceLine
	for i, o := range sc.Ops {
		now = now.Add(o.DT)
		due, mayRun := tr.NextRun()
		isRun := o.Do == succeed || o.Do == fail || o.Do == agentError
		if isRun && o.OnSchedule && mayRun {
			if due.After(now) {
				now = due
			}
			now = now.Add(o.RunFor)
		}
		if now.After(latest) {
			latest = now
		}
		before := tr.Result()
		eff := apply(&tr, o.Do, now, &id)

		if eff.Result != tr.Result() {
			t.Fatalf("op %d: effect result %v, tracker result %v", i, eff.Result, tr.Result())
		}
		if eff.Changed != (before != tr.Result()) {
			t.Fatalf("op %d: Changed=%v but result went %v -> %v", i, eff.Changed, before, tr.Result())
		}
		if sc.Kind != probe.Startup && tr.Result() == probe.Unknown {
			t.Fatalf("op %d: %v result is Unknown; only startup starts there", i, sc.Kind)
		}

		// Runs observed during the initial delay are ignored: kubelet would not have started them.
		counted := isRun && mayRun && o.Do != agentError && !latest.Before(delayEnd)
		switch {
		case o.Do == deleting && sc.Kind.Kills():
			stopped = true
		case o.Do == newContainer && !stopped:
			delayEnd = now.Add(time.Duration(p.InitialDelaySeconds) * time.Second) // Reset counts from the startedAt given
		}
		if counted && o.Do == succeed {
			consecutiveFailures = 0
		}
		if counted && o.Do == fail {
			consecutiveFailures++
		}
		wantKill := counted && o.Do == fail && sc.Kind.Kills() && consecutiveFailures == p.FailureThreshold
		if eff.Kill && consecutiveFailures < p.FailureThreshold {
			t.Fatalf("op %d: Kill after only %d consecutive failures (threshold %d)", i, consecutiveFailures, p.FailureThreshold)
		}
		if eff.Kill != wantKill {
			t.Fatalf("op %d (%v): Kill=%v, want %v (consecutive failures %d, threshold %d)",
				i, o.Do, eff.Kill, wantKill, consecutiveFailures, p.FailureThreshold)
		}
		if eff.Kill {
			consecutiveFailures = 0
			if _, ok := tr.NextRun(); ok {
				t.Fatalf("op %d: the tracker must hold after a kill", i)
			}
		}

		next, ok := tr.NextRun()
		if ok && next.Before(latest) {
			t.Fatalf("op %d: NextRun %v is before the latest time given %v", i, next.Sub(t0), latest.Sub(t0))
		}
		if ok && isRun && mayRun && !now.Before(due) && !next.After(due) && !next.Equal(now) {
			t.Fatalf("op %d: after a run for tick %v the next run is %v, neither later nor at once", i, due.Sub(t0), next.Sub(t0))
		}
		trace = append(trace, traceLine{At: now, Effect: eff, Next: next, NextOK: ok})
	}
	return trace
}

func TestTrackerProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScript(t)
		first := runScript(t, sc)
		second := runScript(t, sc)
		if d := cmp.Diff(first, second); d != "" {
			t.Fatalf("same calls in the same order gave different results (-first +second):\n%s", d)
		}
	})
}

// A success resets the failure count: after any success, failureThreshold-1 failures neither kill
// (liveness) nor flip the result to Failure (readiness); the next one does.
func TestTrackerSuccessResetsFailureCount(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.SampledFrom([]probe.Kind{probe.Liveness, probe.Readiness}).Draw(t, "kind")
		threshold := rapid.Int32Range(1, 6).Draw(t, "failureThreshold")
		before := rapid.IntRange(0, 10).Draw(t, "failuresBefore")
		tr := probe.NewTracker(kind, &podlife.Probe{PeriodSeconds: 1, FailureThreshold: threshold}, "c1", t0)
		tr.MarkStarted(t0)
		observe := func(o probe.Outcome) probe.Effect {
			next, ok := tr.NextRun()
			if !ok {
				t.Fatalf("the tracker stopped running before its threshold")
			}
			return tr.Observe(o, next)
		}
		tripped := func(e probe.Effect) bool { return e.Kill || (kind == probe.Readiness && e.Result == probe.Failure) }
		for i := 0; i < before && i < int(threshold)-1; i++ {
			observe(probe.FailureOutcome("x"))
		}
		observe(probe.SuccessOutcome("ok"))
		for i := int32(1); i < threshold; i++ {
			if tripped(observe(probe.FailureOutcome("x"))) {
				t.Fatalf("%v tripped after %d failures following a success (threshold %d)", kind, i, threshold)
			}
		}
		if !tripped(observe(probe.FailureOutcome("x"))) {
			t.Fatalf("%v did not trip at %d failures in a row", kind, threshold)
		}
	})
}
