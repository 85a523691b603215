package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// SimOptions tune RunSim. The zero value plays a scenario as it is.
type SimOptions struct {
	// NewMachine makes the pod's machine when it is bound; nil means lifecycle.New with the zero
	// Options. A test can hand a machine of a lifecycle.Template, or with other back-off curves.
	NewMachine func(ref lifecycle.PodRef, spec podlife.PodSpec, now time.Time) (*lifecycle.Machine, error)
	// OnReady, when set, sees every machine's Ready before it is performed, with the machine:
	// for checks that need the machine itself.
	OnReady func(m *lifecycle.Machine, now time.Time, rd lifecycle.Ready)
	// OnStep, when set, sees every step as the timeline gets it, with the pod's machine then
	// (nil while no agent runs it): after an Input step the machine has taken the event, after a
	// Restore step it is the restored one. A program that shows a play as it goes (podsim) reads
	// the steps here; the step is the timeline's, and with Discard it is valid only during the
	// call.
	OnStep func(m *lifecycle.Machine, s *Step)
	// Discard keeps no steps in the timeline once OnStep saw them, so that a long play (a day of
	// probes every second) holds no memory for them; MaxSteps does not apply then.
	Discard bool
}

// RunSim plays sc on a simruntime.Sim, in one goroutine and virtual time starting at Epoch, and
// returns the pod's timeline: every event its machine was stepped with, every Ready, the
// operations. An agent restart (OpStopAgent, OpStartAgent) is Sim.Detach and, once the agent
// would start, lifecycle.Restore from what the World has, the status and checkpoint as the agent
// last managed to write them and the record's spec, then Sim.Add; the store (OpDelete's grace,
// OpUpdateImage's and OpUpdateDeadline's spec, outages) is kept as a lifecycle.Store and Client
// keep it, so that the play is podlifetest.RunAgent's. A lost node (OpLoseNode) is an agent
// stopped whose last status a Supervisor marks at once (lifecycle.NodeLostRecord, a Step with a
// Writer); OpNodeBack is a new agent starting, restored from that mark. Step errors other than
// stale events are returned with the timeline.
func RunSim(sc Scenario, opts SimOptions) (tl *Timeline, err error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	r := newSimRun(sc, opts)
	defer func() {
		if p := recover(); p != nil {
			if p != errTooLong {
				panic(p)
			}
			tl, err = r.tl, fmt.Errorf("%w (at %s)", errTooLong, r.s.Now().Sub(r.start))
		}
	}()
	return r.tl, r.run()
}

// MaxSteps bounds a play's timeline: a pod that loops without time passing (or far too fast)
// ends the play with ErrTooLong rather than taking the test down.
const MaxSteps = 200_000

// ErrTooLong is returned by RunSim for a timeline past MaxSteps (podlifetest.RunAgent fails its test).
var ErrTooLong = errors.New("scenario: the timeline grew past MaxSteps")

// errTooLong is ErrTooLong as a sentinel a panic carries out of the Sim's callbacks.
var errTooLong = ErrTooLong

type simRun struct {
	sc    Scenario
	opts  SimOptions
	ref   lifecycle.PodRef
	start time.Time
	w     *simruntime.World
	s     *simruntime.Sim
	tl    *Timeline
	m     *lifecycle.Machine // the pod's current machine, nil while no agent runs it
	live  bool               // m is in the Sim (not stopped, not detached)
	agent bool               // an agent runs
	store *storeModel
	wk    worker
	errs  []error
	// What the sandbox of a held runtime (storeModel.held) becomes while no machine runs the
	// pod: when the last RunSandbox was asked, the last sandbox a machine saw ready and when,
	// and the first (the one the script's sandbox loss is for).
	// heldLost is a held sandbox an OpLoseSandbox killed.
	sandboxAsked, readyAt                time.Time
	readySandbox, firstSandbox, heldLost string
}

func newSimRun(sc Scenario, opts SimOptions) *simRun {
	r := &simRun{sc: sc, opts: opts, ref: sc.Ref(), start: Epoch(), agent: true}
	r.w = simruntime.NewWorld(simruntime.WorldOptions{Images: sc.Images})
	r.w.ScriptPod(r.ref, sc.Script)
	r.s = simruntime.NewSim(r.w, r.start)
	r.tl = NewTimeline(r.ref, sc.Spec, r.start)
	r.store = newStoreModel(sc.Spec, sc.Ops)
	r.s.OnEvent = func(_ lifecycle.PodRef, ev lifecycle.Event) {
		if !opts.Discard && len(r.tl.Steps) > MaxSteps {
			panic(errTooLong)
		}
		if ev.Type == lifecycle.SandboxReady {
			r.readySandbox, r.readyAt = ev.SandboxID, ev.At
			if r.firstSandbox == "" {
				r.firstSandbox = ev.SandboxID
			}
		}
		n := len(r.tl.Steps)
		r.tl.AddInput(ev)
		r.track(n)
	}
	r.s.OnReady = r.ready
	r.s.OnError = func(_ lifecycle.PodRef, ev lifecycle.Event, err error) {
		r.errs = append(r.errs, fmt.Errorf("%s: %s: %w", ev.At.Sub(r.start), ev, err))
	}
	return r
}

func (r *simRun) ready(_ lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
	if r.opts.OnReady != nil {
		r.opts.OnReady(r.m, now, rd)
	}
	for _, a := range rd.Actions {
		if a.Type == lifecycle.RunSandbox {
			r.sandboxAsked = now
		}
	}
	n := len(r.tl.Steps)
	r.tl.AddReady(now, rd)
	r.track(n)
	if rd.Status != nil {
		r.store.set(now.Sub(r.start), statusSet{status: copyStatus(*rd.Status), checkpoint: r.m.Checkpoint()})
	}
	if r.m.Stopped() {
		r.live = false
		r.store.stopped(observed(r.w, r.ref))
	}
}

// track hands the steps from n on to OnStep and, with Discard, drops them.
func (r *simRun) track(n int) {
	if r.opts.OnStep != nil {
		var m *lifecycle.Machine
		if r.live {
			m = r.m
		}
		for i := n; i < len(r.tl.Steps); i++ {
			r.opts.OnStep(m, &r.tl.Steps[i])
		}
	}
	if r.opts.Discard {
		clear(r.tl.Steps)
		r.tl.Steps = r.tl.Steps[:0]
	}
}

// at is what the runner does at a time: an operation, or an agent getting going.
type at struct {
	t       time.Duration
	op      *Op
	recover bool
}

func (r *simRun) run() error {
	m, err := r.newMachine()
	if err != nil {
		return err
	}
	r.m, r.live = m, true
	if err := r.s.Add(m); err != nil {
		return err
	}
	var todo []at
	for _, op := range r.sc.SortedOps() {
		todo = append(todo, at{t: op.At, op: &op})
	}
	for len(todo) > 0 {
		next := todo[0]
		todo = todo[1:]
		r.s.RunUntil(r.start.Add(next.t))
		r.store.advance(next.t)
		if next.recover {
			r.recover(next.t)
			continue
		}
		n := len(r.tl.Steps)
		r.tl.AddOp(r.s.Now(), *next.op)
		r.track(n)
		if op := next.op; op.Kind == OpStartAgent || op.Kind == OpNodeBack {
			if t, ok := r.store.startAt(op.At, r.sc.End()); ok {
				i, _ := slices.BinarySearchFunc(todo, t, func(a at, t time.Duration) int { return int(a.t - t) })
				todo = slices.Insert(todo, i, at{t: t, recover: true})
			}
			continue
		}
		r.do(*next.op)
	}
	r.s.RunUntil(r.start.Add(r.sc.End()))
	return errors.Join(r.errs...)
}

func (r *simRun) newMachine() (*lifecycle.Machine, error) {
	if r.opts.NewMachine != nil {
		return r.opts.NewMachine(r.ref, r.sc.Spec, r.start)
	}
	return lifecycle.New(r.ref, r.sc.Spec, r.start, lifecycle.Options{})
}

// event hands ev to the pod's machine now, if an agent runs it.
func (r *simRun) event(ev lifecycle.Event) {
	if !r.agent || !r.live {
		return
	}
	if err := r.s.At(r.s.Now(), r.ref, ev); err != nil {
		r.errs = append(r.errs, err)
	}
}

func (r *simRun) do(op Op) {
	now := r.s.Now()
	st := r.store
	client := st.up(op.At) && st.present // a Client call that can succeed
	switch op.Kind {
	case OpDelete:
		if !client {
			return
		}
		grace, forced := st.delete(op.Grace)
		switch {
		case !r.agent:
		case forced || r.live:
			if forced || r.wk.deleteRequested(grace) {
				r.event(lifecycle.Event{Type: lifecycle.DeleteRequested, GracePeriodSeconds: &grace})
			}
		default: // the pod stopped: the agent removes the record
			st.present = false
		}
	case OpUpdateImage, OpUpdateDeadline:
		if !client {
			return
		}
		next, ok := SpecAfter(st.spec, op)
		if !ok || sameSpec(st.spec, next) {
			return
		}
		st.spec = next
		r.event(lifecycle.Event{Type: lifecycle.SpecUpdated, Spec: &next})
	case OpLoseSandbox:
		if ev, ok := r.w.LoseSandbox(now, r.ref); ok {
			if err := r.s.At(now, r.ref, ev); err != nil {
				r.w.Happen(ev) // no machine of the pod in the Sim: it happens all the same
			}
		}
		r.loseHeld()
	case OpAddImage:
		r.w.AddImage(op.Image, now)
	case OpStopAgent, OpLoseNode:
		st.agentStopped(op.At)
		r.agent = false
		if r.live {
			if _, err := r.s.Detach(r.ref); err != nil {
				r.errs = append(r.errs, err)
			}
			r.live = false
		}
		if op.Kind == OpLoseNode {
			r.markLost(now)
		}
	}
}

// markLost is a lifecycle.Supervisor seeing the node's lease go at now: it marks the status
// record the agent left, as lifecycle.NodeLostRecord says.
func (r *simRun) markLost(now time.Time) {
	p := r.store.persisted
	if p == nil {
		return // no status record: nothing to mark
	}
	rec := lifecycle.StatusRecord{Pod: r.ref, Node: Node, Status: p.status, Checkpoint: p.checkpoint, Writer: p.writer}
	marked, ok := lifecycle.NodeLostRecord(rec, Node, now)
	if !ok {
		return
	}
	r.store.persisted = &statusSet{status: marked.Status, checkpoint: marked.Checkpoint, writer: marked.Writer}
	n := len(r.tl.Steps)
	r.tl.AddWritten(now, marked.Status, marked.Writer)
	r.track(n)
}

// recover is a new agent getting going at t: it rebuilds the pod's machine from the store and
// the World, as lifecycle.Agent does when it starts.
func (r *simRun) recover(t time.Duration) {
	r.agent, r.wk = true, worker{}
	st := r.store
	if !st.present {
		return // an orphan: the agent removes what the runtime has of it, and it has no timeline
	}
	in := RestoreInput{Spec: st.spec, Observed: observed(r.w, r.ref), Deletion: st.deletion}
	if st.held != nil {
		// The pod stopped while its last status could not be written, and the agent left the
		// runtime as it was then (the Sim's World forgot it at once: its stop ran).
		in.Observed, st.held = r.heldNow(*st.held), nil
	}
	if p := st.persisted; p != nil {
		in.Status, in.Checkpoint = copyStatus(p.status), p.checkpoint
	}
	if st.deletion != nil && in.Checkpoint.Deleting == nil {
		in.Checkpoint.Deleting = &lifecycle.DeletingCheckpoint{GracePeriodSeconds: st.deletion} // as lifecycle.Agent does
	}
	m, err := lifecycle.Restore(r.ref, in.Spec, in.Status, in.Checkpoint, in.Observed, r.s.Now(), lifecycle.Options{})
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	r.m, r.live = m, true
	n := len(r.tl.Steps)
	r.tl.Steps = append(r.tl.Steps, Step{At: t, Restore: &in})
	r.track(n)
	if err := r.s.Add(m); err != nil {
		r.errs = append(r.errs, err)
		return
	}
	if st.deletion != nil && r.wk.deleteRequested(*st.deletion) {
		r.event(lifecycle.Event{Type: lifecycle.DeleteRequested, GracePeriodSeconds: st.deletion})
	}
}

// heldNow is what a runtime left as it was (held) has now, as the runtime goes on without an
// agent: a sandbox that was still being made is ready once the script's sandbox delay from its
// RunSandbox has passed, and the pod's first sandbox dies the script's sandbox loss after it
// was ready (OpLoseSandbox meanwhile: loseHeld).
func (r *simRun) heldNow(o lifecycle.Observed) lifecycle.Observed {
	o.Sandboxes = slices.Clone(o.Sandboxes)
	now := r.s.Now()
	ps := r.sc.Script
	for i := range o.Sandboxes {
		sb := &o.Sandboxes[i]
		if sb.ID == r.heldLost {
			continue
		}
		first := sb.ID == r.firstSandbox || r.firstSandbox == ""
		readyAt := r.readyAt
		switch {
		case sb.ID == r.readySandbox:
			if !sb.Ready {
				continue // dead already
			}
		case sb.Ready:
			continue // not a sandbox the script may lose
		default: // still being made
			readyAt = r.sandboxAsked.Add(max(ps.SandboxDelay, 0))
			sb.Ready = !now.Before(readyAt)
		}
		if sb.Ready && first && ps.SandboxLostAt > 0 && !now.Before(readyAt.Add(ps.SandboxLostAt)) {
			sb.Ready = false
		}
	}
	return o
}

// loseHeld is OpLoseSandbox on a held runtime: its ready sandbox dies.
func (r *simRun) loseHeld() {
	h := r.store.held
	if h == nil {
		return
	}
	*h = r.heldNow(*h)
	for i := range h.Sandboxes {
		if sb := &h.Sandboxes[i]; sb.Ready {
			sb.Ready, r.heldLost = false, sb.ID
		}
	}
}

// observed is what the world has of pod, as the runtime lists it.
func observed(w *simruntime.World, pod lifecycle.PodRef) lifecycle.Observed {
	var o lifecycle.Observed
	for _, sb := range w.Sandboxes() {
		if sb.Pod == pod {
			o.Sandboxes = append(o.Sandboxes, sb)
		}
	}
	for _, c := range w.Containers() {
		if c.Pod == pod {
			o.Containers = append(o.Containers, c)
		}
	}
	return o
}

// sameSpec is the agent's test of a changed spec: equal once defaulted.
func sameSpec(a, b podlife.PodSpec) bool {
	x, y := a.Defaulted(), b.Defaulted()
	return equalSpecs(&x, &y)
}

func equalSpecs(a, b *podlife.PodSpec) bool { return reflect.DeepEqual(a, b) }
