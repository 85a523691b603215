package probe

import (
	"time"

	"github.com/podlife/podlife"
)

// Tracker follows one probe of one container instance the way kubelet's prober worker does,
// with time as an input. A caller asks NextRun when to run the handler, runs it, and reports the
// interpreted outcome with Observe; it tells the tracker about the container with MarkStarted,
// ContainerExited, Reset (a new container instance) and StopForDeletion.
//
// Runs fall on a grid: the first at the container's StartedAt plus the initial delay, then every
// period. (kubelet's ticker starts with the worker, so its phase is arbitrary; podlife fixes it so
// that the first tick is exactly when the initial delay ends.) Ticks that fall while the probe may
// not run are skipped, as the worker skips them.
//
// The zero Tracker is inert: NextRun reports false and every method leaves it unchanged. Build
// one with NewTracker, or with Resume for an instance that was tracked before a restart of the
// agent. A Tracker is a value: copying it copies its state.
type Tracker struct {
	kind Kind
	spec Spec
	live bool

	containerID string
	delayEnd    time.Time // StartedAt + initial delay
	started     bool      // the container's `started` status
	exited      bool      // the container is no longer running
	onHold      bool      // after a kill (or a startup decision), until a new container
	stopped     bool      // liveness or startup stopped for pod deletion, for good

	result     Result
	lastResult Result // result of the last counted run
	run        int32  // how many counted runs in a row gave lastResult

	anchor time.Time // origin of the tick grid
	due    time.Time // next tick
	latest time.Time // the latest time the tracker was given
}

// Effect is what a call did to the probe's result.
type Effect struct {
	// Result is the probe's result after the call.
	Result Result
	// Changed reports that Result differs from the result before the call.
	Changed bool
	// Kill reports that a liveness or startup probe just reached failureThreshold consecutive
	// failures: the container must be killed (its restart policy decides what follows).
	Kill bool
}

// NewTracker starts tracking the probe p of kind k for the container instance containerID, which
// the runtime started at startedAt (its status's Running.StartedAt, from which the initial delay
// counts). The result starts at k's initial result. Liveness and readiness do not run until
// MarkStarted; startup runs at once after its initial delay. A nil p means every default; an
// invalid k is treated as Readiness, the kind that never kills.
func NewTracker(k Kind, p *podlife.Probe, containerID string, startedAt time.Time) Tracker {
	if !k.Valid() {
		k = Readiness
	}
	t := Tracker{kind: k, spec: EffectiveSpec(p), live: true, latest: startedAt}
	t.enter(containerID, startedAt)
	return t
}

// Resume starts tracking, at now, the probe p of kind k for a container instance that has been
// running since startedAt and was tracked before: by an agent that restarted, as kubelet's prober
// does after a kubelet restart. The result starts at result, the one kept from before (a ready
// container's readiness Success, KEP-4781), rather than k's initial result; the count of equal
// outcomes in a row starts at zero, so from now every counted run counts (a readiness probe that
// fails failureThreshold times in a row turns Success into Failure). Runs start at now, or when
// the initial delay ends if that is later, and then come every period from there: no tick before
// now is made up for. Liveness and readiness still wait for MarkStarted. An invalid result is the
// kind's initial one.
func Resume(k Kind, p *podlife.Probe, containerID string, startedAt, now time.Time, result Result) Tracker {
	t := NewTracker(k, p, containerID, startedAt)
	if now.After(t.delayEnd) {
		t.anchor = now // a new grid from now: kubelet's new worker starts its ticker then
	}
	t.advance(now)
	if result <= Failure {
		t.result = result
	}
	return t
}

// Kind is the probe's kind.
func (t *Tracker) Kind() Kind { return t.kind }

// Spec is the probe's effective spec.
func (t *Tracker) Spec() Spec { return t.spec }

// ContainerID is the container instance the tracker follows.
func (t *Tracker) ContainerID() string { return t.containerID }

// Result is the probe's current result.
func (t *Tracker) Result() Result { return t.result }

// NextRun is when the next run is due, and false when the probe must not run now: liveness and
// readiness before the container is started, startup once the container is started or decided,
// any kind on hold after a kill (until Reset), after the container exited, or stopped for pod
// deletion. The time is never before the latest time the tracker was given.
func (t *Tracker) NextRun() (time.Time, bool) {
	if !t.mayRun() {
		return time.Time{}, false
	}
	return t.due, true
}

// Observe records the outcome of a run that finished at now. A run the tracker would not have
// started (NextRun false, or now still in the initial delay) is ignored, and so is an uncounted
// outcome (an agent-side error), which still uses up its tick. A counted outcome extends the run
// of equal outcomes; it changes the result only once successThreshold successes or
// failureThreshold failures in a row are reached. A liveness probe reaching its failure threshold, or a startup probe reaching either
// threshold, puts the tracker on hold until the next container; a failure then also kills.
func (t *Tracker) Observe(o Outcome, now time.Time) Effect {
	slot := t.due
	now = t.advance(now)
	before := t.result
	if !t.mayRun() || now.Before(t.delayEnd) {
		return t.effect(before, false)
	}
	t.scheduleAfterRun(slot, now)
	if !o.Counted() {
		return t.effect(before, false)
	}
	r := o.Result
	if r == t.lastResult {
		t.run++
	} else {
		t.lastResult, t.run = r, 1
	}
	if (r == Failure && t.run < t.spec.FailureThreshold) || (r == Success && t.run < t.spec.SuccessThreshold) {
		return t.effect(before, false)
	}
	t.result = r
	kill := false
	if (t.kind == Liveness && r == Failure) || t.kind == Startup {
		// kubelet stops probing until it sees a new container, and starts counting afresh.
		t.onHold, t.run = true, 0
		kill = r == Failure
	}
	return t.effect(before, kill)
}

// MarkStarted records that the container's `started` status became true at now: at once when it
// is Running without a startup probe, after the startup probe succeeded otherwise. Liveness then
// runs at the next tick; readiness runs at once when its initial delay is over (kubelet triggers a
// run when it sees a started container that is not ready); startup stops.
func (t *Tracker) MarkStarted(now time.Time) {
	now = t.advance(now)
	if !t.live || t.started {
		return
	}
	t.started = true
	if t.kind == Readiness {
		t.Trigger(now)
	}
}

// Trigger asks for a run at once, as kubelet does for a readiness probe each time it updates the
// status of a started container that is not ready; the period then counts from now. It does
// nothing while the probe may not run or is in its initial delay.
func (t *Tracker) Trigger(now time.Time) {
	now = t.advance(now)
	if !t.mayRun() || now.Before(t.delayEnd) {
		return
	}
	t.anchor, t.due = now, now
}

// ContainerExited records that the container stopped running: its result becomes Failure (as
// kubelet sets it for a container that is not running) unless the tracker is on hold, and nothing
// runs until Reset. It never kills.
func (t *Tracker) ContainerExited(now time.Time) Effect {
	t.advance(now)
	before := t.result
	if t.live && !t.stopped && !t.onHold {
		t.exited = true
		t.result = Failure
	}
	return t.effect(before, false)
}

// StopForDeletion records that the pod is being deleted at now. Liveness and startup stop for
// good with a Success result, so that nothing kills or gates the container while it shuts down;
// readiness keeps running until its container has stopped.
func (t *Tracker) StopForDeletion(now time.Time) Effect {
	t.advance(now)
	before := t.result
	if t.live && t.kind.Kills() && !t.stopped {
		t.stopped = true
		t.result = Success
	}
	return t.effect(before, false)
}

// Reset follows a new container instance, started at startedAt: the result returns to the kind's
// initial result, the hold ends, the container is not started yet, and ticks restart from
// startedAt plus the initial delay. The count of equal outcomes in a row is kept, as in kubelet,
// which clears it only when it puts the worker on hold. The same containerID again changes
// nothing; neither does a tracker stopped for deletion.
func (t *Tracker) Reset(containerID string, startedAt time.Time) Effect {
	before := t.result
	if !t.live {
		return t.effect(before, false)
	}
	t.advance(startedAt)
	if !t.stopped && containerID != t.containerID {
		t.enter(containerID, startedAt)
	}
	return t.effect(before, false)
}

func (t *Tracker) enter(containerID string, startedAt time.Time) {
	t.containerID = containerID
	t.started, t.exited, t.onHold = false, false, false
	t.result = t.kind.InitialResult()
	t.delayEnd = startedAt.Add(t.spec.InitialDelay)
	t.anchor = t.delayEnd
	t.due = t.tickAtOrAfter(t.latest)
}

// mayRun is NextRun's condition, mirroring the early returns of the worker's doProbe.
func (t *Tracker) mayRun() bool {
	if !t.live || t.stopped || t.exited || t.onHold {
		return false
	}
	if t.kind == Startup {
		return !t.started
	}
	return t.started
}

func (t *Tracker) effect(before Result, kill bool) Effect {
	return Effect{Result: t.result, Changed: t.result != before, Kill: kill}
}
