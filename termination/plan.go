package termination

import (
	"math"
	"time"
)

// instant is a time as the offset from the start of the stop. never is +infinity: an event not
// seen yet, or something that will not happen. Unknown event times count as never, so every
// value below is "what happens if no other event arrives first", and a value at or before now is
// settled: events arriving later cannot change it.
type instant time.Duration

const never instant = math.MaxInt64

// plus adds d, saturating at never.
func (a instant) plus(d time.Duration) instant {
	if a == never || d >= time.Duration(never-a) {
		return never
	}
	return a + instant(d)
}

// wholeSeconds truncates like kubelet's int64(elapsed.Seconds()).
func wholeSeconds(d instant) time.Duration { return time.Duration(d).Truncate(time.Second) }

// plan is one run of killContainer over the pod: the first begins with the stop, each accepted
// Shorten adds one beginning at its time with its grace. Every deadline is the earliest over the
// plans, so a plan added later can only make things happen sooner.
type plan struct {
	anchor instant
	grace  time.Duration
}

// memberState is a Member with what has happened to it and what its plans say.
type memberState struct {
	Member
	next     int     // index of the nearest sidecar declared after this one, -1 for none
	hook     bool    // its preStop hook was started
	hookDone instant // when the hook returned
	exitedAt instant // when the container exited
	// closedFrom is the index of the first plan begun after the exit was recorded: for that plan
	// and later ones the container was not running when they began. Running: math.MaxInt.
	closedFrom int

	signalSent, killSent bool
	signalAt, killAt     instant // when they were sent
	timeout              time.Duration

	// Evaluated from the facts above, earliest over the plans.
	stopCall    instant       // when the stop signal goes out
	stopTimeout time.Duration // the timeout the plan sending it passes with it
	kill        instant       // when SIGKILL is due
	finish      instant       // when its stop is over, for those waiting on it
	planFinish  instant       // scratch: its finish under the plan being evaluated
}

// evaluate recomputes every member's deadlines. Within a plan, app and regular init containers
// depend on nothing; a sidecar depends on the app containers and the next sidecar, so sidecars
// go from the last declared to the first.
func (s *PodStop) evaluate() {
	for i := range s.members {
		m := &s.members[i]
		m.stopCall, m.stopTimeout, m.kill, m.finish = never, 0, never, never
	}
	for k, p := range s.plans {
		appsDone := instant(0)
		for i := range s.members {
			m := &s.members[i]
			if m.Kind == SidecarContainer {
				continue
			}
			m.evaluatePlan(k, p, 0)
			if m.Kind == AppContainer {
				appsDone = max(appsDone, m.planFinish)
			}
		}
		for _, i := range s.sidecars {
			m := &s.members[i]
			turn := appsDone
			if m.next >= 0 {
				turn = max(turn, s.members[m.next].planFinish)
			}
			m.evaluatePlan(k, p, turn)
		}
	}
}

// evaluatePlan is killContainer under plan p, the k-th: wait for the running preStop hook at most the
// grace and deduct its whole seconds; a sidecar then waits for its turn at most what is left
// and deducts that too; stop with timeout max(remaining, 2 s). A container already exited when
// the plan begins is not running for it: it is done at once, with no actions.
func (m *memberState) evaluatePlan(k int, p plan, turn instant) {
	if k >= m.closedFrom {
		m.planFinish = p.anchor
		m.finish = min(m.finish, p.anchor)
		return
	}
	hookEnd, remaining := p.anchor, p.grace
	if m.hook && p.grace > 0 && m.hookDone > p.anchor {
		hookEnd = min(m.hookDone, p.anchor.plus(p.grace))
		remaining -= wholeSeconds(hookEnd - p.anchor)
	}
	stopCall := hookEnd
	if m.Kind == SidecarContainer && remaining > 0 {
		stopCall = min(max(turn, hookEnd), hookEnd.plus(remaining))
		remaining -= wholeSeconds(stopCall - hookEnd)
	}
	timeout := max(remaining, MinimumStopTimeout)
	if stopCall < m.stopCall || stopCall == m.stopCall && timeout < m.stopTimeout {
		m.stopCall, m.stopTimeout = stopCall, timeout
	}
	m.kill = min(m.kill, stopCall.plus(timeout))
	m.planFinish = max(m.exitedAt, stopCall)
	m.finish = min(m.finish, m.planFinish)
}
