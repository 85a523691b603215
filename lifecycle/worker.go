package lifecycle

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// worker runs one pod's Machine on its own goroutine: it hands the machine's actions to
// goroutines that call the runtime, and steps the machine with their results, with the
// runtime's events and with the record's changes, in the order they arrive.
type worker struct {
	a   *Agent
	ref PodRef
	m   *Machine
	log *zap.Logger
	ctx context.Context

	mu    sync.Mutex
	inbox []Event
	wake  chan struct{}
	rec   PodRecord // the latest record of the pod the agent saw
	rev   int64     // its revision: the one a removal of the record is conditioned on
	// deleting and grace are the deletion handed to the machine: its effective grace, which
	// only a shorter one replaces.
	deleting bool
	grace    int64
	gone     bool // the pod's record is gone (removed, or another pod's took its key)
	replaced bool // another pod holds the name: this one never writes its status again
	rebound  bool // the same UID was bound again while the pod stopped: start it afresh after
	finished bool // the machine stopped: a deletion now only removes the record

	// starting holds the IDs whose StartContainer is in flight; exits for them wait until the
	// start's result, so a container that exits at once is still seen running first.
	starting map[string]bool
	held     []Event

	status *statusWriter
}

func newWorker(ctx context.Context, a *Agent, rec PodRecord, rev int64, m *Machine, seq uint64) *worker {
	w := &worker{ctx: ctx, a: a, ref: rec.Pod, m: m, log: a.log.With(zap.Stringer("pod", rec.Pod)),
		wake: make(chan struct{}, 1), rec: rec, rev: rev, starting: map[string]bool{}}
	w.status = &statusWriter{w: w, seq: seq, wake: make(chan struct{}, 1), flushed: make(chan struct{}, 1)}
	return w
}

func (w *worker) record() PodRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rec
}

// push queues an event for the machine; its time is set when the machine takes it.
func (w *worker) push(ev Event) {
	w.mu.Lock()
	w.inbox = append(w.inbox, ev)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) pop() (Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.inbox) == 0 {
		return Event{}, false
	}
	ev := w.inbox[0]
	w.inbox = w.inbox[1:]
	return ev, true
}

// recordChanged hands a changed pod record (revision rev) to the machine: a new spec, a
// deletion or a shorter grace. Once the pod stopped, a deletion removes the record.
func (w *worker) recordChanged(rec PodRecord, rev int64) {
	w.mu.Lock()
	specChanged := !sameSpec(w.rec.Spec, rec.Spec)
	w.rec, w.rev = rec, rev
	finished := w.finished
	w.mu.Unlock()
	if finished {
		if rec.Deletion != nil {
			// A finished pod (a job that succeeded) is deleted: nothing runs, only the record goes.
			w.removeRecord(rev)
		}
		return
	}
	if specChanged {
		s := rec.Spec
		w.push(Event{Type: SpecUpdated, Spec: &s})
	}
	if rec.Deletion != nil {
		w.deleteRequested(rec.Deletion)
	}
}

// deleteRequested hands a deletion to the machine unless one with the same or a shorter grace
// was. The grace is given in full from now, as kubelet gives it from when it sees the request
// (a shorter one restarts the stop under way; an agent restarted during the stop starts it
// again with the stored grace: pod_workers.go, calculateEffectiveGracePeriod).
func (w *worker) deleteRequested(d *Deletion) {
	w.mu.Lock()
	grace := w.rec.Spec.EffectiveGracePeriodSeconds()
	if d.GracePeriodSeconds != nil {
		grace = *d.GracePeriodSeconds
	}
	if w.finished || (w.deleting && grace >= w.grace) {
		w.mu.Unlock()
		return
	}
	w.deleting, w.grace = true, grace
	w.mu.Unlock()
	w.push(Event{Type: DeleteRequested, GracePeriodSeconds: &grace})
}

// removed is a pod whose record is gone: a forced deletion, or another pod took its name.
func (w *worker) removed() {
	zero := int64(0)
	w.deleteRequested(&Deletion{RequestedAt: w.a.clock.Now(), GracePeriodSeconds: &zero})
}

// leave marks the pod's record gone (replaced: by another pod's) and reports whether it was
// gone already and whether the pod had stopped. The agent's lock is held.
func (w *worker) leave(replaced bool) (wasGone, finished bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wasGone = w.gone
	w.gone, w.rebound = true, false
	w.replaced = w.replaced || replaced
	return wasGone, w.finished
}

func (w *worker) isGone() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone
}

// rebind is the pod's UID bound again (revision rev) while the pod stops after its record went:
// once stopped it starts afresh from rec. The agent's lock is held.
func (w *worker) rebind(rec PodRecord, rev int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gone, w.rebound = false, true
	w.rec, w.rev = rec, rev
}

func (w *worker) isReplaced() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.replaced
}

func (w *worker) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var writer, actions sync.WaitGroup
	defer writer.Wait()
	defer actions.Wait()
	writer.Go(func() { w.status.run(ctx) })
	// The calls whose answers only the running pod needs (pulls, sandboxes, creates, starts,
	// hooks, probes) end when it stopped; the cleanup calls (stops and removals) run out.
	asking, stopAsking := context.WithCancel(ctx)
	defer stopAsking()
	for {
		rd := w.m.Ready()
		if w.a.cfg.Observe != nil {
			w.a.cfg.Observe(w.ref, w.m.Now(), rd)
		}
		for _, r := range rd.Records {
			w.logRecord(r)
		}
		if rd.Status != nil {
			w.status.set(*rd.Status, w.m.Checkpoint(), w.m.Now())
		}
		if w.m.Stopped() {
			// The pod ended: once its sandbox is gone, only the status knows how. So the status is
			// written first; an agent stopped before that (the store away) leaves the runtime as
			// it is, and the next agent finds the end there.
			w.status.flush(ctx)
			if ctx.Err() != nil {
				return
			}
		}
		for _, act := range rd.Actions {
			switch act.Type {
			case StopSandbox, StopContainer, RemoveContainer:
				w.perform(ctx, &actions, act)
			default:
				w.perform(asking, &actions, act)
			}
		}
		w.m.Advance()
		if w.m.Stopped() {
			// The last actions (the sandbox's stop) end before the record goes, so an agent
			// stopped now leaves nothing behind that no record names; what was still asked of
			// the runtime for the running pod (a sandbox still being made, a pull, a hook that
			// outlived its container) no longer matters and is given up.
			stopAsking()
			actions.Wait()
			w.finish(ctx)
			return
		}
		ev, ok := w.next(ctx, rd.Deadline)
		if !ok {
			return
		}
		ev.At = w.a.clock.Now()
		if ev.At.Before(w.m.Now()) {
			ev.At = w.m.Now()
		}
		if err := w.m.Step(ev); err != nil {
			if errors.Is(err, ErrStale) {
				w.log.Debug("dropped a stale event", zap.Error(err))
			} else {
				w.log.Warn("machine refused an event", zap.Error(err))
			}
		}
	}
}

// next waits for an event or the deadline; false means ctx ended.
func (w *worker) next(ctx context.Context, deadline time.Time) (Event, bool) {
	var timer Timer
	var fire <-chan time.Time
	if !deadline.IsZero() {
		timer = w.a.clock.NewTimer(deadline.Sub(w.a.clock.Now()))
		fire = timer.C()
		defer timer.Stop()
	}
	for {
		if ev, ok := w.pop(); ok {
			if ev.Type == ContainerExited && w.holdIfStarting(ev) {
				continue
			}
			return ev, true
		}
		select {
		case <-ctx.Done():
			return Event{}, false
		case <-w.wake:
		case <-fire:
			return Event{Type: Tick}, true
		}
	}
}

// holdIfStarting holds ev, an exit, while its container's start is under way, and says whether
// it did. The look and the hold are one step under the lock: else the start could end between
// them (started finding nothing to hand back) and the exit would be held for ever, the pod
// never stopping (found by TestAgentPodIdentity: a delete as a restart's start was under way).
func (w *worker) holdIfStarting(ev Event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.starting[ev.ContainerID] {
		return false
	}
	w.held = append(w.held, ev)
	return true
}

// started ends the wait of exits held for a start in flight.
func (w *worker) started(id string) {
	w.mu.Lock()
	delete(w.starting, id)
	var back []Event
	kept := w.held[:0]
	for _, ev := range w.held {
		if ev.ContainerID == id {
			back = append(back, ev)
		} else {
			kept = append(kept, ev)
		}
	}
	w.held = kept
	w.mu.Unlock()
	for _, ev := range back {
		w.push(ev)
	}
}

// finish flushes the final status, tears the pod down and, for a deleted pod whose record is
// still there, removes the record, as kubelet's final delete of the pod object. A pod whose
// record is gone leaves the agent; one that stays (a finished job) keeps its worker, so that a
// later change of the record does not start it again.
func (w *worker) finish(ctx context.Context) {
	w.status.flush(ctx)
	if w.a.cfg.Setup != nil {
		w.a.call(ctx, w.a.cfg.CallTimeout, func(ctx context.Context) error { return w.a.cfg.Setup.Teardown(ctx, w.ref) })
	}
	a := w.a
	a.mu.Lock()
	w.mu.Lock()
	w.finished = true
	gone, rebound, rec, rev := w.gone, w.rebound, w.rec, w.rev
	w.mu.Unlock()
	var next *worker
	if gone || rebound {
		delete(a.workers, w.ref)
	}
	if gone && a.byName[podKey(w.ref)] == w {
		delete(a.byName, podKey(w.ref))
	}
	if rebound {
		if m, err := New(rec.Pod, rec.Spec, a.clock.Now(), a.cfg.Machine); err != nil {
			w.log.Error("skipping a pod that cannot run", zap.Error(err))
			delete(a.byName, podKey(w.ref))
		} else {
			next = newWorker(w.ctx, a, rec, rev, m, w.status.lastSeq())
			a.register(next)
		}
	}
	a.mu.Unlock()
	w.log.Info("pod stopped", zap.String("phase", string(w.m.Status().Phase)))
	switch {
	case next != nil:
		w.log.Info("the pod's UID was bound again; starting it afresh")
		a.launch(w.ctx, next)
	case !gone && rec.Deletion != nil:
		w.removeRecord(rev)
	}
}

func (w *worker) isFinished() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.finished
}

// removeRecord deletes the pod's record, revision rev, once the pod is stopped and deleted: a
// compare-and-swap on the revision the agent acted on, so that a record changed meanwhile, or
// another pod's, is never removed (a changed one comes through the watch and is acted on then).
// A store that does not answer is asked again while the record is still at rev. The pod's last
// status stays for whoever wants to read how it ended.
func (w *worker) removeRecord(rev int64) {
	a := w.a
	key := a.cfg.Keys.Pod(a.cfg.Node, w.ref)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			err := a.cfg.Store.Delete(w.ctx, key, rev)
			switch {
			case err == nil:
				w.log.Info("removed the deleted pod's record", zap.Int64("revision", rev))
				return
			case errors.Is(err, ErrConflict), errors.Is(err, ErrKeyNotFound):
				w.log.Debug("the pod's record changed before it was removed", zap.Int64("revision", rev), zap.Error(err))
				return
			case w.ctx.Err() != nil:
				return
			}
			w.log.Warn("removing the deleted pod's record failed; will retry", zap.Error(err))
			a.sleep(w.ctx, a.cfg.RetryPeriod)
			w.mu.Lock()
			moved := w.rev != rev || w.gone
			w.mu.Unlock()
			if moved || w.ctx.Err() != nil {
				return
			}
		}
	}()
}

func (w *worker) logRecord(r Record) {
	fields := []zap.Field{zap.String("reason", r.Reason), zap.String("message", r.Message)}
	if r.Container != "" {
		fields = append(fields, zap.String("container", r.Container))
	}
	if r.Kind == Warning {
		w.log.Warn("pod event", fields...)
	} else {
		w.log.Info("pod event", fields...)
	}
}

// perform runs one action on its own goroutine and pushes its result.
func (w *worker) perform(ctx context.Context, wg *sync.WaitGroup, act Action) {
	rt := w.a.cfg.Runtime
	limit := w.a.cfg.CallTimeout
	ref := w.ref
	var target Target
	if act.Type == RunHook || act.Type == RunProbe {
		target = Target{Pod: ref, SandboxID: w.m.sandbox.id, PodIP: w.m.podIP, Container: w.m.containerSpec(act.Container), ContainerID: act.ContainerID}
	}
	var pull PullRequest
	if act.Type == PullImage {
		pull = PullRequest{Image: act.Image, Policy: act.PullPolicy, Pod: ref, SandboxID: w.m.sandbox.id, Container: act.Container}
	}
	if act.Type == StartContainer {
		w.mu.Lock()
		w.starting[act.ContainerID] = true
		w.mu.Unlock()
	}
	w.log.Debug("action", zap.Stringer("action", act))
	wg.Add(1)
	go func() {
		defer wg.Done()
		timed := func(d time.Duration) (context.Context, context.CancelFunc) {
			if d <= 0 {
				return context.WithCancel(ctx)
			}
			return context.WithTimeout(ctx, d)
		}
		c, cancel := timed(limit)
		defer cancel()
		switch act.Type {
		case SetupPod:
			if w.a.cfg.Setup == nil {
				w.push(Event{Type: SetupDone})
				return
			}
			if err := w.a.cfg.Setup.Setup(c, ref, w.m.Spec()); err != nil {
				w.failed(ctx, Event{Type: SetupFailed, Message: FailureMessage(err)})
				return
			}
			w.push(Event{Type: SetupDone})
		case RunSandbox:
			sb, err := rt.RunSandbox(c, ref, w.m.Spec(), act.Attempt)
			if err != nil {
				w.failed(ctx, Event{Type: SandboxFailed, Message: FailureMessage(err)})
				return
			}
			w.push(Event{Type: SandboxReady, SandboxID: sb.ID, IP: sb.IP})
		case StopSandbox:
			if act.SandboxID != "" {
				w.a.call(ctx, limit, func(ctx context.Context) error { return rt.StopSandbox(ctx, act.SandboxID) })
			}
		case PullImage:
			c, cancel := timed(0)
			defer cancel()
			if err := rt.PullImage(c, pull); err != nil {
				w.failed(ctx, Event{Type: ImagePullFailed, Container: act.Container, Reason: WaitingReason(PullImage, err), Message: FailureMessage(err)})
				return
			}
			w.push(Event{Type: ImagePulled, Container: act.Container})
		case CreateContainer:
			id, err := rt.CreateContainer(c, act.SandboxID, ref, act.Spec, act.Attempt)
			if err != nil {
				w.failed(ctx, Event{Type: ContainerCreateFailed, Container: act.Container, Attempt: act.Attempt, Reason: WaitingReason(CreateContainer, err), Message: FailureMessage(err)})
				return
			}
			w.push(Event{Type: ContainerCreated, Container: act.Container, Attempt: act.Attempt, ContainerID: id})
		case StartContainer:
			err := rt.StartContainer(c, act.ContainerID)
			if err != nil {
				w.failed(ctx, Event{Type: ContainerStartFailed, ContainerID: act.ContainerID, Message: FailureMessage(err)})
			} else {
				w.push(Event{Type: ContainerStarted, ContainerID: act.ContainerID})
			}
			w.started(act.ContainerID)
		case RunHook:
			c, cancel := timed(act.Timeout)
			defer cancel()
			out := rt.RunHook(c, target, act.Hook, act.Handler)
			w.push(Event{Type: HookResult, ContainerID: act.ContainerID, Hook: act.Hook, HookOutcome: out})
		case RunProbe:
			c, cancel := timed(probeTimeout(act.ProbeSpec))
			defer cancel()
			out := rt.RunProbe(c, target, act.Probe, act.ProbeSpec)
			if ctx.Err() == nil {
				w.push(Event{Type: ProbeResult, ContainerID: act.ContainerID, Probe: act.Probe, Outcome: out})
			}
		case StopContainer:
			w.a.call(ctx, act.Timeout+limit, func(ctx context.Context) error { return rt.StopContainer(ctx, act.ContainerID, act.Timeout) })
		case RemoveContainer:
			w.a.call(ctx, limit, func(ctx context.Context) error { return rt.RemoveContainer(ctx, act.ContainerID) })
		}
	}()
}

// failed pushes a failure result unless the agent is stopping (then the call failed because of
// that, and the next agent finds out what happened).
func (w *worker) failed(ctx context.Context, ev Event) {
	if ctx.Err() != nil {
		return
	}
	w.log.Warn("runtime call failed", zap.Stringer("result", ev))
	w.push(ev)
}

// probeTimeout is a probe's timeoutSeconds, defaulted.
func probeTimeout(p *podlife.Probe) time.Duration {
	if p == nil || p.TimeoutSeconds <= 0 {
		return time.Second
	}
	return time.Duration(p.TimeoutSeconds) * time.Second
}

// statusWriter persists a pod's latest status by compare-and-swap, on its own goroutine, so a
// slow or absent store never holds the machine up: while a write is pending, a newer status
// replaces it, and the last one reaches the store once it answers again.
type statusWriter struct {
	w       *worker
	mu      sync.Mutex
	seq     uint64
	pending *StatusRecord
	last    *StatusRecord // the last record written
	rev     int64         // the key's revision after our last write; 0 unknown
	wake    chan struct{}
	flushed chan struct{}
}

func (s *statusWriter) set(st phase.PodStatus, cp Checkpoint, now time.Time) {
	s.mu.Lock()
	s.seq++
	s.pending = &StatusRecord{Pod: s.w.ref, Node: s.w.a.cfg.Node, Seq: s.seq, UpdatedAt: now, Status: st, Checkpoint: cp}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *statusWriter) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			// A last try, so that a stopping agent leaves its latest status behind.
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			s.writePending(c)
			cancel()
			return
		case <-s.wake:
		}
		for !s.writePending(ctx) && ctx.Err() == nil {
			s.w.a.sleep(ctx, s.w.a.cfg.RetryPeriod)
		}
		select {
		case s.flushed <- struct{}{}:
		default:
		}
	}
}

// reassert writes the last status again, above whatever another writer put in its place.
func (s *statusWriter) reassert() {
	s.mu.Lock()
	if s.pending == nil && s.last != nil {
		s.seq++
		rec := *s.last
		rec.Seq = s.seq
		s.pending = &rec
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush waits until the latest status is written (or ctx ends).
func (s *statusWriter) flush(ctx context.Context) {
	for {
		s.mu.Lock()
		done := s.pending == nil
		s.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.flushed:
		}
	}
}

// writePending writes the pending record; false means the store failed and it is still pending.
func (s *statusWriter) writePending(ctx context.Context) bool {
	s.mu.Lock()
	rec := s.pending
	s.mu.Unlock()
	if rec == nil {
		return true
	}
	store, key := s.w.a.cfg.Store, s.w.a.cfg.Keys.Status(s.w.a.cfg.Node, s.w.ref)
	b, err := EncodeStatus(*rec)
	if err != nil {
		s.w.log.Error("encoding the status failed", zap.Error(err))
		s.done(rec)
		return true
	}
	for {
		if s.w.isReplaced() {
			// Another pod holds the name: its status is there, or will be, and this pod's never
			// again. Checked before every write: the agent marks a pod replaced before it starts
			// the next, and every write is conditioned on a revision this pod read, so a write of
			// the old pod that was under way fails once the new one wrote.
			s.drop()
			return true
		}
		rev, err := store.Put(ctx, key, b, s.rev)
		if err == nil {
			s.rev = rev
			s.mu.Lock()
			s.last = rec
			s.mu.Unlock()
			s.done(rec)
			return true
		}
		if !errors.Is(err, ErrConflict) {
			if ctx.Err() == nil {
				s.w.log.Warn("writing the status failed; will retry", zap.Error(err))
			}
			return false
		}
		// Someone else wrote (or our last write's revision is unknown): read, and never replace a
		// newer status.
		kv, gerr := store.Get(ctx, key)
		switch {
		case errors.Is(gerr, ErrKeyNotFound):
			s.rev = 0
		case gerr != nil:
			return false
		default:
			cur, derr := DecodeStatus(kv.Value)
			if derr == nil && cur.Pod.UID != s.w.ref.UID {
				// An earlier pod of the name left it (or another writer's word on it): this pod
				// holds the name now (checked above), and its first status replaces it.
				s.rev = kv.Revision
				continue
			}
			if derr == nil && cur.Seq >= rec.Seq && cur.Writer != "" {
				// Someone else's word on the pod (a supervisor's Unknown): ours is the truth, and
				// goes in above it.
				s.mu.Lock()
				rec = s.pending
				if rec != nil {
					rec.Seq = max(rec.Seq, cur.Seq+1)
					s.seq = max(s.seq, rec.Seq)
				}
				s.mu.Unlock()
				if rec == nil {
					return true
				}
				if b, err = EncodeStatus(*rec); err != nil {
					s.done(rec)
					return true
				}
				s.rev = kv.Revision
				continue
			}
			if derr == nil && cur.Seq >= rec.Seq {
				s.mu.Lock()
				if cur.Seq >= s.seq {
					s.seq = cur.Seq
				}
				s.mu.Unlock()
				s.w.log.Warn("the store has a newer status than ours; not replacing it", zap.Uint64("stored", cur.Seq), zap.Uint64("ours", rec.Seq))
				s.done(rec)
				return true
			}
			s.rev = kv.Revision
		}
	}
}

// drop forgets the pending record: the pod no longer reports.
func (s *statusWriter) drop() {
	s.mu.Lock()
	s.pending = nil
	s.mu.Unlock()
}

// lastSeq is the sequence number of the last status set.
func (s *statusWriter) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// done clears the pending record if it is still rec.
func (s *statusWriter) done(rec *StatusRecord) {
	s.mu.Lock()
	if s.pending == rec {
		s.pending = nil
	}
	s.mu.Unlock()
}

func sameSpec(a, b podlife.PodSpec) bool {
	x, y := a.Defaulted(), b.Defaulted()
	return reflect.DeepEqual(&x, &y)
}
