package lifecycle

import (
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
	spec    *podlife.Container
	name    string
	init    bool
	sidecar bool
	index   int

	stage   stage
	id      string
	oldIDs  []string
	attempt int32 // the number of the next instance to create (its restartCount)
	status  phase.ContainerStatus

	exit      *phase.TerminatedState // how the last instance ended; nil while none ended
	succeeded bool                   // a regular init container exited 0 in this sandbox run
	final     bool                   // it will not run again in this pod
	// restartAt is when the next instance may start after an exit; zero means at once.
	restartAt time.Time
	forced    bool // the next restart happens whatever the policy says (image changed)
	crash     restart.CrashLoop
	// waitReason is a waiting reason set by a failed pull or create, until the next attempt.
	waitReason, waitMessage string
	waitSince               time.Time
	retryAt                 time.Time // when a failed pull or create is tried again

	probes   [3]probe.Tracker
	hasProbe [3]bool
	inflight [3]bool

	kill       *termination.Stop // a stop of this container alone
	killReason string
	killCause  string // the waiting reason to show after the kill (PostStartHookError)
	hookAt     time.Time
	// preStopUntil is when the grace of the running preStop hook runs out.
	preStopUntil time.Time
}

func newCtr(spec *podlife.Container, init bool, index int, st phase.ContainerStatus) *ctr {
	c := &ctr{spec: spec, name: spec.Name, init: init, sidecar: init && spec.IsSidecar(), index: index, status: st}
	for _, k := range probeKinds {
		c.hasProbe[k] = probe.For(spec, k) != nil
	}
	return c
}

func (c *ctr) regularInit() bool { return c.init && !c.sidecar }

// alive reports whether an instance exists that may be running (started or about to be).
func (c *ctr) alive() bool {
	return c.stage == starting || c.stage == postStart || c.stage == running || c.stage == stopping
}

// inFlight reports whether an instance is being prepared (pull or create in flight).
func (c *ctr) inFlight() bool { return c.stage == pulling || c.stage == creating }

func (c *ctr) started() bool { return c.status.IsStarted() }

func (c *ctr) hasOldID(id string) bool {
	for _, o := range c.oldIDs {
		if o == id {
			return true
		}
	}
	return false
}

// retire forgets the current instance's ID, keeping it to recognise late events.
func (c *ctr) retire() {
	if c.id != "" {
		c.oldIDs = append(c.oldIDs, c.id)
		if len(c.oldIDs) > 8 {
			c.oldIDs = c.oldIDs[len(c.oldIDs)-8:]
		}
	}
	c.id = ""
	for k := range c.probes {
		c.probes[k] = probe.Tracker{}
		c.inflight[k] = false
	}
}

// deadline is the container's next timed step.
func (c *ctr) deadline(now time.Time) time.Time {
	var d time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	if c.stage == idle && !c.final {
		if c.exit != nil && !c.restartAt.IsZero() {
			earliest(c.restartAt)
		}
		earliest(c.retryAt)
		if c.waitReason == phase.ReasonErrImagePull && c.retryAt.After(c.waitSince.Add(retryPeriod)) && now.Before(c.waitSince.Add(retryPeriod)) {
			earliest(c.waitSince.Add(retryPeriod)) // the resync that shows ImagePullBackOff
		}
	}
	if c.stage == running || c.stage == stopping {
		for k := range c.probes {
			if c.inflight[k] {
				continue
			}
			if t, ok := c.probes[k].NextRun(); ok {
				earliest(t)
			}
		}
	}
	if c.kill != nil {
		if t, ok := c.kill.Deadline(); ok {
			earliest(t)
		}
	}
	return d
}
