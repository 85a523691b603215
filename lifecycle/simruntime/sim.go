package simruntime

import (
	"errors"
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
)

// ErrUnknownPod is returned by Sim.At for a pod that is not in the simulation (never added, or
// already stopped and retired).
var ErrUnknownPod = errors.New("simruntime: pod not in the simulation")

// Sim drives many lifecycle.Machines against one World in virtual time, on the caller's
// goroutine: a priority queue of (time, insertion order) items holds the events the world
// scheduled, the events injected from outside and one tick per machine at its Ready().Deadline.
// It reads no clock and starts no goroutine, so a run is reproducible byte for byte.
//
// Events the world says were superseded (World.Happen) are dropped before the machine sees
// them; Step errors wrapping lifecycle.ErrStale are dropped silently, others go to OnError. A
// machine that is Stopped is retired: its pending events are dropped and the world forgets the
// pod, so a long run holds only live pods.
type Sim struct {
	// OnReady, when set, sees every non-empty Ready before its actions are performed; rd's
	// slices belong to the machine and are valid only during the call.
	OnReady func(pod lifecycle.PodRef, now time.Time, rd lifecycle.Ready)
	// OnEvent, when set, sees every event a machine accepted, after its Step.
	OnEvent func(pod lifecycle.PodRef, ev lifecycle.Event)
	// OnError, when set, sees every Step error that is not lifecycle.ErrStale.
	OnError func(pod lifecycle.PodRef, ev lifecycle.Event, err error)

	w     *World
	start time.Time
	now   time.Time
	seq   uint64
	q     queue // every item: events, wakes and ticks, by (at, seq)
	// wholeTicks are the tick times that start plus a Duration do not give back, by pod slot.
	wholeTicks map[int32]time.Time
	// attached is, by slot, the last seq before a machine took the place of a detached one: of
	// the items before it, only the runtime's own events reach the new machine. Few pods ever
	// have one, so an idle pod costs it nothing.
	attached map[int32]uint64
	pods     []simPod
	freeP    []int32
	slab     []lifecycle.Event
	freeE    []int32
	live     int
	stats    Stats
}

// Stats counts what a Sim did.
type Stats struct {
	// Events is how many events were stepped into machines (ticks included).
	Events uint64
	// Superseded is how many scheduled events the world dropped (World.Happen said false).
	Superseded uint64
	// Stale is how many events machines refused as stale.
	Stale uint64
	// Errors is how many other Step errors there were (reported to OnError).
	Errors uint64
	// Actions is how many actions were performed.
	Actions uint64
}

// Item slots that are not events.
const (
	slotTick int32 = -1
	slotWake int32 = -2
)

// item is one entry of the queue, 24 bytes: a million pods have a tick each.
type item struct {
	at   int64  // ns since the sim's start
	seq  uint64 // the order of insertion, which breaks ties of at; never 0
	pod  int32
	slot int32 // index into slab, or slotTick / slotWake
}

// simPod is one slot of the simulation: small, since a million of them may exist (the pod's
// ref is its machine's).
type simPod struct {
	m  *lifecycle.Machine
	wp *pod // the world's record of the pod, for its lookups (World.hint)
	// epoch is the last seq before the pod took the slot: items of a pod that had the slot
	// before have seqs up to it, and are dropped when they come up.
	epoch uint64
	// tickSeq is the seq of the pod's pending tick, 0 for none, and tickAt its at: a tick item
	// of another seq was superseded and is dropped when it comes up.
	tickSeq uint64
	tickAt  int64
}

// detached reports whether the slot's pod is in the world with no machine (see Detach): its
// events still happen in the world, and reach no machine. A free slot has no world pod.
func (p *simPod) detached() bool { return p.m == nil && p.wp != nil }

// NewSim starts a simulation over w at start. The world is the simulation's alone: it keeps
// the simulation's index of pods, so it may serve one Sim and nothing else.
func NewSim(w *World, start time.Time) *Sim {
	return &Sim{w: w, start: start, now: start}
}

// World is the simulation's world.
func (s *Sim) World() *World { return s.w }

// Now is the simulation's time: the time of the latest item delivered, or of RunUntil's end.
func (s *Sim) Now() time.Time { return s.now }

// Live is how many machines are not yet Stopped.
func (s *Sim) Live() int { return s.live }

// Stats reports the counters so far.
func (s *Sim) Stats() Stats { return s.stats }

// Add puts a machine into the simulation. Its first Ready is handled at its Now, or at the
// simulation's Now when that is later. A machine of a detached pod (see Detach) takes the pod's
// place: as a restarted agent's runtime event stream, it gets the exits, unknown states and
// sandbox losses still to come, and none of the answers to what the machine before it asked.
func (s *Sim) Add(m *lifecycle.Machine) error {
	if m == nil {
		return errors.New("simruntime: Add of a nil machine")
	}
	ref := m.Ref()
	wp := s.w.podFor(ref) // the world's record of the pod also holds its slot here
	if wp.sim != 0 && s.pods[wp.sim-1].detached() {
		i := wp.sim - 1
		s.pods[i].m = m
		if s.attached == nil {
			s.attached = map[int32]uint64{}
		}
		s.attached[i] = s.seq
		s.live++
		s.wake(i, m)
		return nil
	}
	if wp.sim != 0 {
		return fmt.Errorf("simruntime: pod %s is already in the simulation", ref)
	}
	var i int32
	if n := len(s.freeP); n > 0 {
		i = s.freeP[n-1]
		s.freeP = s.freeP[:n-1]
		p := &s.pods[i]
		p.m, p.wp, p.tickSeq, p.epoch = m, wp, 0, s.seq
	} else {
		i = int32(len(s.pods))
		s.pods = append(s.pods, simPod{m: m, wp: wp, epoch: s.seq})
	}
	wp.sim = i + 1
	s.live++
	s.wake(i, m)
	return nil
}

// wake schedules the first Ready of m, in slot i, at its Now or the simulation's.
func (s *Sim) wake(i int32, m *lifecycle.Machine) {
	at := m.Now()
	if at.Before(s.now) {
		at = s.now
	}
	s.seq++
	s.enqueue(item{at: s.since(at), seq: s.seq, pod: i, slot: slotWake})
}

// Detach takes the pod's machine out of the simulation and leaves the pod in the world, as an
// agent that stops leaves its pods' containers running: what the world has scheduled for the
// pod (exits, answers to the actions under way) still happens at its time, and reaches no
// machine. Add a machine of the pod (lifecycle.Restore from the World's containers and
// sandboxes, say) to go on, as a restarted agent does; the detached machine is the caller's.
func (s *Sim) Detach(pod lifecycle.PodRef) (*lifecycle.Machine, error) {
	wp := s.w.lookupPod(pod)
	if wp == nil || wp.sim == 0 || s.pods[wp.sim-1].detached() {
		return nil, fmt.Errorf("%w: %s", ErrUnknownPod, pod)
	}
	i := wp.sim - 1
	p := &s.pods[i]
	m := p.m
	p.m, p.tickSeq = nil, 0
	if len(s.wholeTicks) > 0 {
		delete(s.wholeTicks, i)
	}
	s.live--
	return m, nil
}

// AddPod makes the machine for a pod bound at the simulation's Now and adds it.
func (s *Sim) AddPod(ref lifecycle.PodRef, spec podlife.PodSpec, opts lifecycle.Options) (*lifecycle.Machine, error) {
	m, err := lifecycle.New(ref, spec, s.now, opts)
	if err != nil {
		return nil, err
	}
	if err := s.Add(m); err != nil {
		return nil, err
	}
	return m, nil
}

// At schedules an outside event (DeleteRequested, SpecUpdated, ...) for pod at t; ev.At is set
// to t. t may not be before Now. Like every event it passes World.Happen first, so an injected
// container exit or sandbox loss the world does not expect is dropped as superseded.
func (s *Sim) At(t time.Time, pod lifecycle.PodRef, ev lifecycle.Event) error {
	wp := s.w.lookupPod(pod)
	if wp == nil || wp.sim == 0 {
		return fmt.Errorf("%w: %s", ErrUnknownPod, pod)
	}
	i := wp.sim - 1
	if t.Before(s.now) {
		return fmt.Errorf("simruntime: event %s at %s is before the simulation's now %s", ev.Type, t.Format(time.RFC3339Nano), s.now.Format(time.RFC3339Nano))
	}
	ev.At = t
	s.schedule(i, ev)
	return nil
}

// Run delivers items until every machine is Stopped or nothing is scheduled. A pod that never
// ends (a crash loop under Always, a server never deleted) keeps it going: use RunUntil.
func (s *Sim) Run() {
	for s.live > 0 {
		if _, ok := s.peek(); !ok {
			return
		}
		s.step()
	}
}

// RunUntil delivers every item due by t, then sets Now to t (if later).
func (s *Sim) RunUntil(t time.Time) {
	end := s.since(t)
	for {
		it, ok := s.peek()
		if !ok || it.at > end {
			break
		}
		s.step()
	}
	if t.After(s.now) {
		s.now = t
	}
}

func (s *Sim) since(t time.Time) int64 { return int64(t.Sub(s.start)) }

func (s *Sim) schedule(pod int32, ev lifecycle.Event) {
	var slot int32
	if n := len(s.freeE); n > 0 {
		slot = s.freeE[n-1]
		s.freeE = s.freeE[:n-1]
		s.slab[slot] = ev
	} else {
		slot = int32(len(s.slab))
		s.slab = append(s.slab, ev)
	}
	s.seq++
	s.enqueue(item{at: s.since(ev.At), seq: s.seq, pod: pod, slot: slot})
}

// enqueue adds an event or wake item.
func (s *Sim) enqueue(it item) { s.q.push(it) }

// peek is the next item.
func (s *Sim) peek() (item, bool) { return s.q.peek() }

// next takes the next item.
func (s *Sim) next() item { return s.q.pop() }

// step delivers the earliest item.
func (s *Sim) step() {
	it := s.next()
	p := &s.pods[it.pod]
	var ev lifecycle.Event
	switch it.slot {
	case slotTick:
		if p.tickSeq != it.seq {
			return // superseded by a later deadline, or the pod retired
		}
		p.tickSeq = 0
		ev = lifecycle.Event{Type: lifecycle.Tick, At: s.tickTime(it)}
	case slotWake:
		if it.seq <= p.epoch || p.m == nil {
			return
		}
		if now := p.m.Now(); now.After(s.now) {
			s.now = now
		}
		s.drain(it.pod)
		return
	default:
		ev = s.slab[it.slot]
		s.slab[it.slot] = lifecycle.Event{}
		s.freeE = append(s.freeE, it.slot)
		if it.seq <= p.epoch || p.wp == nil {
			return
		}
		s.w.hint = p.wp
		held := s.w.Happen(ev)
		s.w.hint = nil
		if !held {
			s.stats.Superseded++
			return
		}
		if p.m == nil || (len(s.attached) > 0 && it.seq <= s.attached[it.pod] && !spontaneous(ev.Type)) {
			return // it happened in the world; no machine waits for it
		}
	}
	if ev.At.After(s.now) {
		s.now = ev.At
	}
	s.stats.Events++
	m := p.m
	switch err := m.Step(ev); {
	case err == nil:
		if s.OnEvent != nil {
			s.OnEvent(m.Ref(), ev)
		}
	case errors.Is(err, lifecycle.ErrStale):
		s.stats.Stale++
	default:
		s.stats.Errors++
		if s.OnError != nil {
			s.OnError(m.Ref(), ev, err)
		}
	}
	s.drain(it.pod)
}

// spontaneous reports whether the runtime reports events of type t on its own (its event stream),
// rather than as the answer to an action.
func spontaneous(t lifecycle.EventType) bool {
	return t == lifecycle.ContainerExited || t == lifecycle.ContainerUnknown || t == lifecycle.SandboxLost
}

// drain performs the machine's Ready at Now and schedules its next tick.
func (s *Sim) drain(i int32) {
	m := s.pods[i].m
	if m == nil {
		return
	}
	ref := m.Ref()
	rd := m.Ready()
	if !rd.IsEmpty() {
		if s.OnReady != nil {
			s.OnReady(ref, s.now, rd)
		}
		s.w.hint = s.pods[i].wp
		for _, a := range rd.Actions {
			s.stats.Actions++
			for _, ev := range s.w.Do(s.now, ref, a) {
				s.schedule(i, ev)
			}
		}
		s.w.hint = nil
		m.Advance()
	}
	if m.Stopped() {
		s.retire(i)
		return
	}
	s.setTick(i, rd.Deadline)
}

func (s *Sim) retire(i int32) {
	p := &s.pods[i]
	if len(s.wholeTicks) > 0 {
		delete(s.wholeTicks, i)
	}
	if len(s.attached) > 0 {
		delete(s.attached, i)
	}
	s.w.Forget(p.m.Ref())
	*p = simPod{} // its pending items are dropped when they come up (see epoch)
	s.freeP = append(s.freeP, i)
	s.live--
}

// tickTime is the time of tick item it.
func (s *Sim) tickTime(it item) time.Time {
	if len(s.wholeTicks) > 0 {
		if t, ok := s.wholeTicks[it.pod]; ok {
			delete(s.wholeTicks, it.pod)
			return t
		}
	}
	return s.start.Add(time.Duration(it.at))
}

// setTick keeps one live tick per machine, at its latest deadline: a changed deadline
// supersedes the pending tick, which is dropped when it comes up, so no stale tick is ever
// delivered.
func (s *Sim) setTick(i int32, deadline time.Time) {
	p := &s.pods[i]
	if deadline.IsZero() {
		p.tickSeq = 0
		if len(s.wholeTicks) > 0 {
			delete(s.wholeTicks, i)
		}
		return
	}
	at := s.since(deadline)
	if p.tickSeq != 0 && p.tickAt == at {
		return
	}
	// The tick's time is start plus its item's at, which holds nearly every deadline exactly; the
	// few it does not (another location, a monotonic reading) are kept whole.
	if s.start.Add(time.Duration(at)) != deadline {
		if s.wholeTicks == nil {
			s.wholeTicks = map[int32]time.Time{}
		}
		s.wholeTicks[i] = deadline
	} else if len(s.wholeTicks) > 0 {
		delete(s.wholeTicks, i)
	}
	s.seq++
	p.tickSeq, p.tickAt = s.seq, at
	s.q.push(item{at: at, seq: s.seq, pod: i, slot: slotTick})
}
