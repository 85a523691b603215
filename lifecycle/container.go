package lifecycle

import (
	"github.com/podlife/podlife/internal/stamp"
	"slices"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
	"github.com/podlife/podlife/termination"
)

// stage is where a container's current instance is in its life.
type stage uint8

const (
	// idle: no instance is in flight; exit says whether the last one ended.
	idle stage = iota
	pulling
	creating
	starting  // created (id set), start in flight
	postStart // started, postStart hook in flight: not reported Running yet
	running
	stopping // the machine is stopping it (preStop, stop signal)
)

// ctr is the machine's record of one container.
type ctr struct {
	spec   *podlife.Container // its Name is the container's; SpecUpdated changes only images
	id     string
	status phase.ContainerStatus

	exit *phase.TerminatedState // how the last instance ended; nil while none ended
	// since is when the current or last instance started (rare.started when no stamp).
	since stamp.Stamp

	// probes holds a tracker for each probe the container has, at probeAt[kind]: a container
	// without probes carries none, one with only a readiness probe carries one.
	probes []probe.Tracker

	// rare holds what only some containers ever need (see ctrRare); nil until then, so that an
	// idle container stays small.
	rare *ctrRare

	attempt   int32 // the number of the next instance to create (its restartCount)
	index     int32 // in the spec's InitContainers or Containers
	probeAt   [3]int8
	hasProbe  [3]bool
	inflight  [3]bool
	stage     stage
	init      bool
	sidecar   bool
	succeeded bool // a regular init container exited 0 in this sandbox run
	final     bool // it will not run again in this pod
	ran       bool // an instance was created in the current sandbox (kubelet has a status for it)
	forced    bool // the next restart happens whatever the policy says (image changed)
}

// ctrRare is the part of a container's record for a restart, a failed pull or create, a kill of
// the container alone and a preStop hook.
type ctrRare struct {
	// restartAt is when the next instance may start after an exit; zero means at once.
	restartAt time.Time
	crash     restart.CrashLoop
	started   time.Time // when no stamp holds it
	// waitReason is a waiting reason set by a failed pull or create, until the next attempt.
	waitReason, waitMessage string
	waitSince               time.Time
	retryAt                 time.Time // when a failed pull or create is tried again

	kill      *termination.Stop // a stop of this container alone
	killCause string            // the waiting reason to show after the kill (PostStartHookError)
	// unknown: the instance being killed was in an unknown state; replace: the next instance
	// replaces it (a new attempt, no step on the crash-loop curve); next: attempt already is the
	// number of the next instance, which replaces one killed in an unknown state (Restore).
	unknown, replace, next bool
	// preStopUntil is when the grace of the running preStop hook runs out.
	preStopUntil time.Time
}

// startedAt is when c's current or last instance started (its hook time).
func (m *Machine) startedAt(c *ctr) time.Time {
	if c.since == stamp.None {
		return c.rare.started
	}
	return c.since.Time(m.startTime)
}

// setStartedAt records when c's instance started.
func (m *Machine) setStartedAt(c *ctr, t time.Time) {
	c.since = stamp.Of(m.startTime, t)
	if c.since == stamp.None {
		c.more().started = t
	}
}

// more is c's rare part, made on first use: for writes.
func (c *ctr) more() *ctrRare {
	if c.rare == nil {
		c.rare = &ctrRare{}
	}
	return c.rare
}

// killing is the stop of c alone under way, or nil.
func (c *ctr) killing() *termination.Stop {
	if c.rare == nil {
		return nil
	}
	return c.rare.kill
}

// restartAt is when the next instance may start after an exit; zero means at once.
func (c *ctr) restartAt() time.Time {
	if c.rare == nil {
		return time.Time{}
	}
	return c.rare.restartAt
}

// restartNow lets the next instance start at once.
func (c *ctr) restartNow() {
	if c.rare != nil {
		c.rare.restartAt = time.Time{}
	}
}

// crashLoop is c's place on the crash-loop back-off curve.
func (c *ctr) crashLoop() restart.CrashLoop {
	if c.rare == nil {
		return restart.CrashLoop{}
	}
	return c.rare.crash
}

// setCrashLoop puts c at cl on the crash-loop curve.
func (c *ctr) setCrashLoop(cl restart.CrashLoop) {
	if c.rare != nil || cl != (restart.CrashLoop{}) {
		c.more().crash = cl
	}
}

// retryAt is when a failed pull or create is tried again; zero when none failed.
func (c *ctr) retryAt() time.Time {
	if c.rare == nil {
		return time.Time{}
	}
	return c.rare.retryAt
}

// clearRetry forgets a failed pull's or create's retry time.
func (c *ctr) clearRetry() {
	if c.rare != nil {
		c.rare.retryAt = time.Time{}
	}
}

// setUp makes c the record of container spec, the index-th of the init or app containers, with its
// initial status st.
func (c *ctr) setUp(spec *podlife.Container, isInit bool, index int, st phase.ContainerStatus) {
	*c = ctr{spec: spec, init: isInit, sidecar: isInit && spec.IsSidecar(), index: int32(index), status: st, since: stamp.Zero}
	n := 0
	for _, k := range probeKinds {
		c.hasProbe[k] = probe.For(spec, k) != nil
		c.probeAt[k] = -1
		if c.hasProbe[k] {
			c.probeAt[k] = int8(n)
			n++
		}
	}
	if n > 0 {
		c.probes = make([]probe.Tracker, n)
	}
}

// tracker is the tracker of c's probe of kind k; nil when c has no such probe.
func (c *ctr) tracker(k probe.Kind) *probe.Tracker {
	if i := c.probeAt[k]; i >= 0 {
		return &c.probes[i]
	}
	return nil
}

func (c *ctr) regularInit() bool { return c.init && !c.sidecar }

// alive reports whether an instance exists that may be running (started or about to be).
func (c *ctr) alive() bool {
	return c.stage == starting || c.stage == postStart || c.stage == running || c.stage == stopping
}

// inFlight reports whether an instance is being prepared (pull or create in flight).
func (c *ctr) inFlight() bool { return c.stage == pulling || c.stage == creating }

func (c *ctr) started() bool { return c.status.IsStarted() }

// retire forgets c's current instance ID, keeping it (the last 8 per container) to recognise
// late events; the probes of the instance end with it.
func (m *Machine) retire(c *ctr) {
	if c.id != "" {
		n, first := 0, -1
		for i, r := range m.retired {
			if r.c == c {
				if first < 0 {
					first = i
				}
				n++
			}
		}
		if n >= maxRetired {
			m.retired = slices.Delete(m.retired, first, first+1)
		}
		m.retired = append(m.retired, retiredID{id: c.id, c: c})
	}
	c.id = ""
	for i := range c.probes {
		c.probes[i] = probe.Tracker{}
	}
	c.inflight = [3]bool{}
}

// maxRetired is how many earlier instance IDs of one container a machine remembers.
const maxRetired = 8

// retiredID is an earlier instance ID of container c. The machine keeps them in one list rather
// than per container: most containers never have one, and one that exited once has one.
type retiredID struct {
	id string
	c  *ctr
}

// deadline is the container's next timed step after now. A time not after now was due by the
// last sync, and is no deadline: kept, a restart due now would hide a pull's retry after its
// back-off (an image changed to one that cannot be pulled was never pulled again).
func (c *ctr) deadline(now time.Time) time.Time {
	var d time.Time
	earliest := func(t time.Time) {
		if t.After(now) && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	if c.stage == idle && !c.final {
		if r := c.rare; c.exit != nil && r != nil && !r.restartAt.IsZero() {
			earliest(r.restartAt)
		}
		if r := c.rare; r != nil {
			earliest(r.retryAt)
			if r.waitReason == phase.ReasonErrImagePull && r.retryAt.After(r.waitSince.Add(retryPeriod)) && now.Before(r.waitSince.Add(retryPeriod)) {
				earliest(r.waitSince.Add(retryPeriod)) // the resync that shows ImagePullBackOff
			}
		}
	}
	if c.stage == running || c.stage == stopping {
		for _, k := range probeKinds {
			if !c.hasProbe[k] || c.inflight[k] {
				continue
			}
			if t, ok := c.tracker(k).NextRun(); ok {
				earliest(t)
			}
		}
	}
	if k := c.killing(); k != nil {
		if t, ok := k.Deadline(); ok {
			earliest(t)
		}
	}
	return d
}
