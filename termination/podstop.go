package termination

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// PodStop is the graceful stop of a whole pod: every preStop hook (sidecars' too) starts at
// once; app and regular init containers get their stop signal as soon as their own hook is
// done; a sidecar gets it once every app container and the nearest sidecar declared after it
// have finished stopping, or its grace ran out. See the package documentation for the rules and
// bounds.
//
// Feed it events with their times, in time order: PreStopDone, Exited, Shorten, and Tick at or
// after Deadline. Each returns the actions due by then, ordered by due time, then preStops
// before stop signals before kills, then in member order.
//
// The zero PodStop has no containers: it is Done, has no Deadline, and events naming a
// container fail with ErrUnknownContainer.
type PodStop struct {
	origin   time.Time
	now      instant
	plans    []plan
	members  []memberState
	sidecars []int // sidecar indexes, the last declared first
}

// NewPodStop begins stopping the pod's containers at now with the grace period (whole seconds,
// 0 to MaxGracePeriod; 0 skips every preStop hook and sidecar wait) and returns the actions due
// at once. Member names must be unique and non-empty, sidecar Orders unique.
func NewPodStop(members []Member, grace time.Duration, now time.Time) (*PodStop, []Action, error) {
	if err := validateGrace(grace); err != nil {
		return nil, nil, err
	}
	if err := validateMembers(members); err != nil {
		return nil, nil, fmt.Errorf("termination: %w", err)
	}
	s := &PodStop{origin: now, plans: []plan{{anchor: 0, grace: grace}}, members: make([]memberState, len(members))}
	var out []Action
	for i, m := range members {
		st := memberState{Member: m, hookDone: never, exitedAt: never, closedFrom: math.MaxInt, signalAt: never, killAt: never}
		switch {
		case m.Exited:
			st.exitedAt, st.closedFrom = 0, 0
		case m.HasPreStop && grace > 0:
			st.hook = true
			out = append(out, Action{Kind: RunPreStop, Container: m.Name, At: now})
		}
		s.members[i] = st
	}
	s.sidecars = sidecarChain(s.members)
	return s, s.advance(0, out), nil
}

// Tick reports the actions due at or before now.
func (s *PodStop) Tick(now time.Time) ([]Action, error) {
	t, err := s.instant(now)
	if err != nil {
		return nil, err
	}
	return s.advance(t, nil), nil
}

// PreStopDone records that the container's preStop hook returned at now, failed or not (a
// failure only makes an event upstream). A second report is ignored. It fails with ErrNoPreStop
// when no hook was started for the container.
func (s *PodStop) PreStopDone(name string, now time.Time) ([]Action, error) {
	m, t, err := s.event(name, now)
	if err != nil {
		return nil, err
	}
	if !m.hook {
		return nil, fmt.Errorf("%w: container %q", ErrNoPreStop, name)
	}
	out := s.advance(t, nil)
	if m.hookDone == never {
		m.hookDone = t
	}
	return s.advance(t, out), nil
}

// Exited records that the container exited at now. It gets no more actions; those due before
// now are still returned. A second report is ignored.
func (s *PodStop) Exited(name string, now time.Time) ([]Action, error) {
	m, t, err := s.event(name, now)
	if err != nil {
		return nil, err
	}
	out := s.advance(t, nil)
	if m.exitedAt == never {
		m.exitedAt, m.closedFrom = t, len(s.plans)
	}
	return s.advance(t, out), nil
}

// Shorten applies a second, shorter grace period from now, as kubelet does when a second delete
// or an eviction asks for less: the stop restarts with it for every container still running.
// A grace not shorter than the current one is ignored (shortened is false). Unlike a real
// restart of kubelet's kill, preStop hooks are not started again (a running one keeps running,
// waited for at most the new grace) and no deadline moves later: each is the earlier of what the
// running stop and the restarted one say. Like kubelet's restarted kill, the restarted stop
// counts containers that have exited as not running, so a sidecar that exited no longer makes
// the sidecars declared before it wait for those declared after it.
func (s *PodStop) Shorten(grace time.Duration, now time.Time) (shortened bool, actions []Action, err error) {
	if err := validateGrace(grace); err != nil {
		return false, nil, err
	}
	t, err := s.instant(now)
	if err != nil {
		return false, nil, err
	}
	out := s.advance(t, nil)
	if len(s.plans) == 0 || grace >= s.Grace() {
		return false, out, nil
	}
	s.plans = append(s.plans, plan{anchor: t, grace: grace})
	return true, s.advance(t, out), nil
}

// Grace is the grace period in force: the first one, or the last accepted Shorten.
func (s *PodStop) Grace() time.Duration {
	if len(s.plans) == 0 {
		return 0
	}
	return s.plans[len(s.plans)-1].grace
}

// Start is when the stop began.
func (s *PodStop) Start() time.Time { return s.origin }

// Deadline is the next time Tick may have something to do, false when only events can change
// anything (every container exited or was killed).
func (s *PodStop) Deadline() (time.Time, bool) {
	next := never
	for i := range s.members {
		m := &s.members[i]
		switch {
		case m.exitedAt != never:
			if m.finish > s.now { // its stop ending may be a sidecar's turn
				next = min(next, m.finish)
			}
		case !m.signalSent:
			next = min(next, m.stopCall)
		case !m.killSent:
			next = min(next, m.kill)
		}
	}
	if next == never {
		return time.Time{}, false
	}
	return s.at(next), true
}

// Done reports whether every container has exited.
func (s *PodStop) Done() bool {
	for i := range s.members {
		if s.members[i].exitedAt == never {
			return false
		}
	}
	return true
}

// ContainerPlan is one container's stop as known at the last event.
type ContainerPlan struct {
	Name string
	// StopSignalAt is when the stop signal went out, or will if no other event comes first; zero
	// when it never will (the container exited first).
	StopSignalAt   time.Time
	StopSignalSent bool
	// StopTimeout is the timeout sent with the stop signal; zero until it is sent. After a
	// Shorten, KillAt may come before StopSignalAt + StopTimeout.
	StopTimeout time.Duration
	// KillAt is when SIGKILL went out or is due if no other event comes first; zero when it
	// never will. A Shorten only moves it earlier. Once the stop signal went out it is final,
	// except after a Shorten: then a sidecar's preStop returning can still move it by less than
	// a second (kubelet truncates the hook's time to whole seconds).
	KillAt   time.Time
	KillSent bool
	Exited   bool
	ExitedAt time.Time
	// PreStopRunning says its preStop hook was started and has not returned, whether or not the
	// container is still running: a sidecar's turn waits for the hook either way.
	PreStopRunning bool
}

// Plan is the named container's stop; false if there is no such container.
func (s *PodStop) Plan(name string) (ContainerPlan, bool) {
	for i := range s.members {
		if s.members[i].Name == name {
			return s.plan(&s.members[i]), true
		}
	}
	return ContainerPlan{}, false
}

// Plans is every container's stop, in member order.
func (s *PodStop) Plans() []ContainerPlan {
	out := make([]ContainerPlan, len(s.members))
	for i := range s.members {
		out[i] = s.plan(&s.members[i])
	}
	return out
}

func (s *PodStop) plan(m *memberState) ContainerPlan {
	p := ContainerPlan{Name: m.Name, StopSignalSent: m.signalSent, KillSent: m.killSent, Exited: m.exitedAt != never,
		PreStopRunning: m.hook && m.hookDone == never}
	signal, kill := m.signalAt, m.killAt
	if !p.Exited {
		if !m.signalSent {
			signal = m.stopCall
		}
		if !m.killSent {
			kill = m.kill
		}
	}
	if p.Exited {
		p.ExitedAt = s.at(m.exitedAt)
	}
	if signal != never {
		p.StopSignalAt = s.at(signal)
		p.StopTimeout = m.timeout
	}
	if kill != never {
		p.KillAt = s.at(kill)
	}
	return p
}

// advance moves to now: re-evaluates and appends the stop signals and kills due by now.
func (s *PodStop) advance(now instant, out []Action) []Action {
	s.now = now
	s.evaluate()
	for i := range s.members {
		m := &s.members[i]
		if m.exitedAt != never {
			continue
		}
		if !m.signalSent && m.stopCall <= now {
			m.signalSent, m.signalAt, m.timeout = true, m.stopCall, m.stopTimeout
			out = append(out, Action{Kind: SendStopSignal, Container: m.Name, At: s.at(m.stopCall), Timeout: m.timeout})
		}
		if m.signalSent && !m.killSent && m.kill <= now {
			m.killSent, m.killAt = true, m.kill
			out = append(out, Action{Kind: Kill, Container: m.Name, At: s.at(m.kill)})
		}
	}
	slices.SortStableFunc(out, func(a, b Action) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return out
}

func (s *PodStop) event(name string, now time.Time) (*memberState, instant, error) {
	t, err := s.instant(now)
	if err != nil {
		return nil, 0, err
	}
	for i := range s.members {
		if s.members[i].Name == name {
			return &s.members[i], t, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: %q", ErrUnknownContainer, name)
}

func (s *PodStop) instant(now time.Time) (instant, error) {
	d := now.Sub(s.origin)
	if d < 0 || instant(d) < s.now {
		return 0, fmt.Errorf("%w: %v is before %v", ErrTimeWentBackwards, now, s.at(s.now))
	}
	return min(instant(d), never-1), nil
}

func (s *PodStop) at(t instant) time.Time { return s.origin.Add(time.Duration(t)) }
