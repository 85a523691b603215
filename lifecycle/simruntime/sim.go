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
// goroutine: a min-heap of (time, insertion order) items holds the events the world scheduled,
// the events injected from outside and one tick per machine at its Ready().Deadline. It reads
// no clock and starts no goroutine, so a run is reproducible byte for byte.
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
	q     []item // a min-heap by (at, seq) of the ticks and of the items for later than now
	// now1 holds the items for now, in seq order: most answers come at once, and a FIFO takes
	// them without the heap's log n. Items for now already in q came before all of these.
	now1  []item
	head  int // of now1
	pods  []simPod
	freeP []int32
	slab  []lifecycle.Event
	freeE []int32
	live  int
	stats Stats
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

type item struct {
	at   int64 // ns since the sim's start
	seq  uint64
	pod  int32
	slot int32 // index into slab, or slotTick / slotWake
	gen  uint32
}

// simPod is one slot of the simulation: small, since a million of them may exist (the pod's
// ref and its tick's time are its machine's).
type simPod struct {
	m    *lifecycle.Machine
	wp   *pod   // the world's record of the pod, for its lookups (World.hint)
	gen  uint32 // bumped when the slot is retired, so late items for it are dropped
	tick int32  // heap index of the pending tick, -1 for none
}

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
// simulation's Now when that is later.
func (s *Sim) Add(m *lifecycle.Machine) error {
	if m == nil {
		return errors.New("simruntime: Add of a nil machine")
	}
	ref := m.Ref()
	wp := s.w.podFor(ref) // the world's record of the pod also holds its slot here
	if wp.sim != 0 {
		return fmt.Errorf("simruntime: pod %s is already in the simulation", ref)
	}
	var i int32
	if n := len(s.freeP); n > 0 {
		i = s.freeP[n-1]
		s.freeP = s.freeP[:n-1]
		p := &s.pods[i]
		p.m, p.wp, p.tick = m, wp, -1
	} else {
		i = int32(len(s.pods))
		s.pods = append(s.pods, simPod{m: m, wp: wp, tick: -1})
	}
	wp.sim = i + 1
	s.live++
	at := m.Now()
	if at.Before(s.now) {
		at = s.now
	}
	s.seq++
	s.enqueue(item{at: s.since(at), seq: s.seq, pod: i, slot: slotWake, gen: s.pods[i].gen})
	return nil
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
	s.enqueue(item{at: s.since(ev.At), seq: s.seq, pod: pod, slot: slot, gen: s.pods[pod].gen})
}

// enqueue adds an event or wake item: to now1 when it is for now, else to the heap.
func (s *Sim) enqueue(it item) {
	if it.at == s.since(s.now) {
		s.now1 = append(s.now1, it)
		return
	}
	s.push(it)
}

// peek is the next item, from now1 or the heap, whichever is first by (at, seq).
func (s *Sim) peek() (item, bool) {
	if s.head < len(s.now1) {
		f := s.now1[s.head]
		if len(s.q) == 0 || f.at < s.q[0].at || (f.at == s.q[0].at && f.seq < s.q[0].seq) {
			return f, true
		}
	}
	if len(s.q) == 0 {
		return item{}, false
	}
	return s.q[0], true
}

// next takes the next item.
func (s *Sim) next() item {
	if s.head < len(s.now1) {
		f := s.now1[s.head]
		if len(s.q) == 0 || f.at < s.q[0].at || (f.at == s.q[0].at && f.seq < s.q[0].seq) {
			s.head++
			if s.head == len(s.now1) {
				s.now1, s.head = s.now1[:0], 0
			}
			return f
		}
	}
	return s.pop()
}

// step delivers the earliest item.
func (s *Sim) step() {
	it := s.next()
	p := &s.pods[it.pod]
	var ev lifecycle.Event
	switch it.slot {
	case slotTick:
		p.tick = -1
		// The tick's time is the machine's deadline, which has not changed since it was set (only
		// a Step changes it, and every Step sets the tick again): the slot keeps no copy.
		ev = lifecycle.Event{Type: lifecycle.Tick, At: p.m.Ready().Deadline}
	case slotWake:
		if p.gen != it.gen || p.m == nil {
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
		if p.gen != it.gen || p.m == nil {
			return
		}
		s.w.hint = p.wp
		held := s.w.Happen(ev)
		s.w.hint = nil
		if !held {
			s.stats.Superseded++
			return
		}
	}
	if ev.At.After(s.now) {
		s.now = ev.At
	}
	s.stats.Events++
	m := p.m
	ref := m.Ref()
	switch err := m.Step(ev); {
	case err == nil:
		if s.OnEvent != nil {
			s.OnEvent(ref, ev)
		}
	case errors.Is(err, lifecycle.ErrStale):
		s.stats.Stale++
	default:
		s.stats.Errors++
		if s.OnError != nil {
			s.OnError(ref, ev, err)
		}
	}
	s.drain(it.pod)
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
	if p.tick >= 0 {
		s.remove(int(p.tick))
	}
	s.w.Forget(p.m.Ref())
	*p = simPod{gen: p.gen + 1, tick: -1}
	s.freeP = append(s.freeP, i)
	s.live--
}

// setTick keeps one tick per machine, at its latest deadline: a changed deadline moves the
// pending tick instead of adding one, so no stale tick is ever delivered.
func (s *Sim) setTick(i int32, deadline time.Time) {
	p := &s.pods[i]
	if deadline.IsZero() {
		if p.tick >= 0 {
			s.remove(int(p.tick))
		}
		return
	}
	if p.tick >= 0 && s.q[p.tick].at == s.since(deadline) {
		return
	}
	s.seq++
	it := item{at: s.since(deadline), seq: s.seq, pod: i, slot: slotTick, gen: p.gen}
	if j := int(p.tick); j >= 0 {
		s.q[j] = it
		if !s.down(j) {
			s.up(j)
		}
		return
	}
	s.push(it)
}

// The heap is 4-ary: half the levels of a binary heap, whose every level is a cache miss when a
// million pods have a tick each. It keeps each tick's index in its pod (simPod.tick) as items
// move.

const arity = 4

func parent(i int) int { return (i - 1) / arity }

func before(a, b *item) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (s *Sim) less(i, j int) bool { return before(&s.q[i], &s.q[j]) }

func (s *Sim) note(i int) {
	if s.q[i].slot == slotTick {
		s.pods[s.q[i].pod].tick = int32(i)
	}
}

func (s *Sim) push(it item) {
	s.q = append(s.q, it)
	s.up(len(s.q) - 1)
}

func (s *Sim) pop() item {
	it := s.q[0]
	n := len(s.q) - 1
	last := s.q[n]
	s.q[n] = item{}
	s.q = s.q[:n]
	if n > 0 {
		s.q[0] = last
		s.down(0)
	}
	return it
}

// remove takes item i out of the heap; a tick's pod forgets it.
func (s *Sim) remove(i int) {
	n := len(s.q) - 1
	if s.q[i].slot == slotTick {
		s.pods[s.q[i].pod].tick = -1
	}
	last := s.q[n]
	s.q = s.q[:n]
	if i == n {
		return
	}
	s.q[i] = last
	if !s.down(i) {
		s.up(i)
	}
}

// up moves item j towards the root to its place, shifting the parents it passes down.
func (s *Sim) up(j int) {
	it := s.q[j]
	for j > 0 {
		i := parent(j)
		if !before(&it, &s.q[i]) {
			break
		}
		s.q[j] = s.q[i]
		s.note(j)
		j = i
	}
	s.q[j] = it
	s.note(j)
}

// down moves item i0 towards the leaves to its place, and reports whether it moved.
func (s *Sim) down(i0 int) bool {
	n := len(s.q)
	it := s.q[i0]
	i := i0
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		best := c
		for k := c + 1; k < c+arity && k < n; k++ {
			if before(&s.q[k], &s.q[best]) {
				best = k
			}
		}
		if !before(&s.q[best], &it) {
			break
		}
		s.q[i] = s.q[best]
		s.note(i)
		i = best
	}
	s.q[i] = it
	s.note(i)
	return i > i0
}
