package simruntime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// Runtime is a lifecycle.Runtime (and lifecycle.PodSetup) over a World, for the concurrent
// lifecycle.Agent. Each call performs its action on the world at clock.Now() and, when the
// script puts the answer in the future (a slow pull, a 30 s hook, a stop with TermDelay), waits
// on the clock until then or until ctx ends. Container exits and sandbox losses are applied
// when their time comes and streamed by Events; nothing waits for them in the background
// unless a stream is open: every call first applies whatever came due, so the world is never
// behind the clock when it is looked at.
//
// Time is the clock's: run it under testing/synctest with lifecycle.RealClock (virtual time in
// the bubble), or with a lifecycle.FakeClock the test steps. It is safe for concurrent use; the
// only goroutines it starts are Events streams, which end with their ctx.
type Runtime struct {
	clock lifecycle.Clock

	mu      sync.Mutex
	w       *World
	seq     uint64
	pending []pendingEvent // a min-heap by (At, seq) of events to Happen at their time
	subs    map[*subscriber]struct{}
	// scheduled is closed (and replaced) whenever events are scheduled, so that a stop waiting
	// for its container's exit learns that a later, shorter stop brought the exit forward.
	scheduled chan struct{}
}

type pendingEvent struct {
	ev      lifecycle.Event
	seq     uint64
	publish bool  // an exit, an unknown state or a sandbox loss: streamed by Events once it happened
	held    *bool // where a waiting call learns whether its answer still held
}

type subscriber struct {
	queue []lifecycle.RuntimeEvent
	wake  chan struct{}
}

var (
	_ lifecycle.Runtime  = (*Runtime)(nil)
	_ lifecycle.PodSetup = (*Runtime)(nil)
)

// NewRuntime serves w through clock. The world must not be used elsewhere afterwards, except
// through With.
func NewRuntime(w *World, clock lifecycle.Clock) *Runtime {
	return &Runtime{clock: clock, w: w, subs: map[*subscriber]struct{}{}, scheduled: make(chan struct{})}
}

// With runs f on the world under the runtime's lock, after applying what came due: to change
// scripts while the runtime runs, or to look at the world.
func (r *Runtime) With(f func(w *World)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.catchUp(r.clock.Now())
	f(r.w)
}

// Setup runs the pod's scripted setup (PodScript.SetupDelay, SetupFails).
func (r *Runtime) Setup(ctx context.Context, pod lifecycle.PodRef, _ *podlife.PodSpec) error {
	ev, _, err := r.call(ctx, pod, lifecycle.Action{Type: lifecycle.SetupPod})
	if err != nil {
		return err
	}
	if ev.Type == lifecycle.SetupFailed {
		return &lifecycle.RuntimeError{Op: "Setup", ID: pod.String(), Err: errors.New(ev.Message)}
	}
	return nil
}

// Teardown forgets the pod (World.Forget).
func (r *Runtime) Teardown(_ context.Context, pod lifecycle.PodRef) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Forget(pod)
	return nil
}

// RunSandbox runs the pod's attempt-th sandbox, after PodScript.SandboxDelay.
func (r *Runtime) RunSandbox(ctx context.Context, pod lifecycle.PodRef, _ *podlife.PodSpec, attempt int32) (lifecycle.Sandbox, error) {
	ev, held, err := r.call(ctx, pod, lifecycle.Action{Type: lifecycle.RunSandbox, Attempt: attempt})
	switch {
	case err != nil:
		return lifecycle.Sandbox{}, err
	case ev.Type == lifecycle.SandboxFailed:
		return lifecycle.Sandbox{}, &lifecycle.RuntimeError{Op: "RunSandbox", ID: pod.String(), Err: errors.New(ev.Message)}
	case !held:
		return lifecycle.Sandbox{}, &lifecycle.RuntimeError{Op: "RunSandbox", ID: ev.SandboxID, Err: fmt.Errorf("stopped while it was created: %w", lifecycle.ErrNotFound)}
	}
	return lifecycle.Sandbox{ID: ev.SandboxID, IP: ev.IP}, nil
}

// StopSandbox removes a sandbox and its containers; an unknown one is not an error.
func (r *Runtime) StopSandbox(_ context.Context, sandboxID string) error {
	if sandboxID == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.catchUp(now)
	r.w.Do(now, lifecycle.PodRef{}, lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: sandboxID})
	return nil
}

// PullImage pulls by the script of the request's pod and container (Script.Pull), as the Sim
// does, or by the image-level script (WorldOptions.ImagePulls) for a request that names none.
func (r *Runtime) PullImage(ctx context.Context, req lifecycle.PullRequest) error {
	ev, _, err := r.call(ctx, req.Pod, lifecycle.Action{Type: lifecycle.PullImage, Container: req.Container, Image: req.Image, PullPolicy: req.Policy})
	if err != nil {
		return err
	}
	if ev.Type == lifecycle.ImagePullFailed {
		return &lifecycle.RuntimeError{Op: "PullImage", ID: req.Image, Err: fmt.Errorf("%w: %s", reasonErr(ev.Reason), ev.Message)}
	}
	return nil
}

// AddImage makes image present on the node from now on (World.AddImage).
func (r *Runtime) AddImage(image string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.catchUp(now)
	r.w.AddImage(image, now)
}

// LoseSandbox makes the pod's ready sandbox die now (World.LoseSandbox); the loss is streamed by
// Events. It reports false when the pod has no ready sandbox.
func (r *Runtime) LoseSandbox(pod lifecycle.PodRef) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.catchUp(now)
	ev, ok := r.w.LoseSandbox(now, pod)
	if ok {
		r.scheduleAll([]lifecycle.Event{ev}, nil)
		r.catchUp(now)
	}
	return ok
}

// CreateContainer creates instance attempt of c in the sandbox; the same pod, name and attempt
// again returns the existing container.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, pod lifecycle.PodRef, c *podlife.Container, attempt int32) (string, error) {
	if c == nil {
		return "", &lifecycle.RuntimeError{Op: "CreateContainer", ID: sandboxID, Err: fmt.Errorf("%w: no container spec", lifecycle.ErrCreateContainer)}
	}
	if !r.known(func(w *World) bool { _, ok := w.Sandbox(sandboxID); return ok }) {
		// The words of the World's answer (World.Do), so that the Agent says what the Sim says.
		return "", &lifecycle.RuntimeError{Op: "CreateContainer", ID: c.Name,
			Err: fmt.Errorf("%w: sandbox %q is not ready: %w", lifecycle.ErrCreateContainer, sandboxID, lifecycle.ErrNotFound)}
	}
	ev, _, err := r.call(ctx, pod, lifecycle.Action{Type: lifecycle.CreateContainer, Container: c.Name, Attempt: attempt, SandboxID: sandboxID, Spec: c})
	if err != nil {
		return "", err
	}
	if ev.Type == lifecycle.ContainerCreateFailed {
		return "", &lifecycle.RuntimeError{Op: "CreateContainer", ID: c.Name, Err: fmt.Errorf("%w: %s", reasonErr(ev.Reason), ev.Message)}
	}
	return ev.ContainerID, nil
}

// StartContainer starts a created container; its natural exit, if scripted, comes by Events.
func (r *Runtime) StartContainer(ctx context.Context, containerID string) error {
	if !r.known(func(w *World) bool { _, ok := w.Container(containerID); return ok }) {
		return &lifecycle.RuntimeError{Op: "StartContainer", ID: containerID,
			Err: fmt.Errorf("%w: container %q: %w", lifecycle.ErrRunContainer, containerID, lifecycle.ErrNotFound)}
	}
	ev, _, err := r.call(ctx, lifecycle.PodRef{}, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: containerID})
	if err != nil {
		return err
	}
	if ev.Type == lifecycle.ContainerStartFailed {
		return &lifecycle.RuntimeError{Op: "StartContainer", ID: containerID, Err: fmt.Errorf("%w: %s", lifecycle.ErrRunContainer, ev.Message)}
	}
	return nil
}

// StopContainer sends the stop signal and returns once the container exited (by the script's
// TermDelay, or SIGKILL at timeout, or its own exit if that comes first). The exit is also
// streamed by Events. An exited container is not an error; an unknown one wraps ErrNotFound.
func (r *Runtime) StopContainer(ctx context.Context, containerID string, timeout time.Duration) error {
	r.mu.Lock()
	now := r.clock.Now()
	r.catchUp(now)
	ci, ok := r.w.Container(containerID)
	if !ok {
		r.mu.Unlock()
		return &lifecycle.RuntimeError{Op: "StopContainer", ID: containerID, Err: lifecycle.ErrNotFound}
	}
	if ci.State != lifecycle.ContainerStateExited {
		r.scheduleAll(r.w.Do(now, lifecycle.PodRef{}, lifecycle.Action{Type: lifecycle.StopContainer, ContainerID: containerID, Timeout: timeout}), nil)
		r.catchUp(now)
	}
	r.mu.Unlock()
	for {
		r.mu.Lock()
		now := r.clock.Now()
		r.catchUp(now)
		ci, ok := r.w.Container(containerID)
		due, pending := r.nextExit(containerID)
		changed := r.scheduled
		r.mu.Unlock()
		switch {
		case !ok || ci.State == lifecycle.ContainerStateExited:
			return nil
		case !pending: // cannot happen: a stop always schedules an exit
			return &lifecycle.RuntimeError{Op: "StopContainer", ID: containerID, Err: errors.New("no exit is scheduled")}
		}
		// Until the exit, or until something else is scheduled: a second stop with a shorter
		// timeout brings the exit forward, and this call returns with the container, as CRI's does.
		if err := r.sleepOr(ctx, due.Sub(now), changed); err != nil {
			return &lifecycle.RuntimeError{Op: "StopContainer", ID: containerID, Err: err}
		}
	}
}

// RemoveContainer removes a container; it is idempotent.
func (r *Runtime) RemoveContainer(_ context.Context, containerID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.catchUp(now)
	r.w.Do(now, lifecycle.PodRef{}, lifecycle.Action{Type: lifecycle.RemoveContainer, ContainerID: containerID})
	return nil
}

// RunHook runs the scripted hook: it returns after HookScript.Took (a sleep handler's seconds by
// default), or a failure when ctx ends first.
func (r *Runtime) RunHook(ctx context.Context, target lifecycle.Target, hook lifecycle.Hook, h *podlife.LifecycleHandler) lifecycle.HookOutcome {
	a := lifecycle.Action{Type: lifecycle.RunHook, Container: containerName(target), ContainerID: target.ContainerID, Hook: hook, Handler: h}
	ev, held, err := r.call(ctx, target.Pod, a)
	t := hooks.Target{Pod: hooks.PodRef{Name: target.Pod.Name, Namespace: target.Pod.Namespace, UID: target.Pod.UID}, Container: a.Container}
	switch {
	case err != nil:
		return hookFailure(t, h, true, err)
	case !held:
		return hookFailure(t, h, true, errors.New("container exited while the hook ran"))
	}
	return ev.HookOutcome
}

// RunProbe runs the scripted probe: it returns after ProbeScript.Took (at most the probe's
// timeoutSeconds), or a failure when ctx ends first.
func (r *Runtime) RunProbe(ctx context.Context, target lifecycle.Target, kind probe.Kind, p *podlife.Probe) lifecycle.Outcome {
	a := lifecycle.Action{Type: lifecycle.RunProbe, Container: containerName(target), ContainerID: target.ContainerID, Probe: kind, ProbeSpec: p}
	ev, held, err := r.call(ctx, target.Pod, a)
	switch {
	case err != nil:
		return probe.FailureOutcome("probe did not finish: " + err.Error())
	case !held: // the container stopped while the probe ran: an error kubelet throws away
		return probe.ErrorOutcome(errors.New(NotRunning))
	}
	return ev.Outcome
}

// ListSandboxes lists the world's sandboxes, sorted by ID.
func (r *Runtime) ListSandboxes(context.Context) ([]lifecycle.SandboxInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.catchUp(r.clock.Now())
	return r.w.Sandboxes(), nil
}

// ListContainers lists the world's containers, sorted by ID.
func (r *Runtime) ListContainers(context.Context) ([]lifecycle.ContainerInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.catchUp(r.clock.Now())
	return r.w.Containers(), nil
}

// Events streams container exits and sandbox losses that happen from now on, each at its time.
// The channel is closed when ctx ends; one goroutine serves it meanwhile.
func (r *Runtime) Events(ctx context.Context) (<-chan lifecycle.RuntimeEvent, error) {
	s := &subscriber{wake: make(chan struct{}, 1)}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	ch := make(chan lifecycle.RuntimeEvent)
	go r.serve(ctx, s, ch)
	return ch, nil
}

func (r *Runtime) serve(ctx context.Context, s *subscriber, ch chan<- lifecycle.RuntimeEvent) {
	defer close(ch)
	defer func() {
		r.mu.Lock()
		delete(r.subs, s)
		r.mu.Unlock()
	}()
	for {
		r.mu.Lock()
		now := r.clock.Now()
		r.catchUp(now)
		batch := s.queue
		s.queue = nil
		var next time.Time
		if len(r.pending) > 0 {
			next = r.pending[0].ev.At
		}
		r.mu.Unlock()
		for _, ev := range batch {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		if len(batch) > 0 {
			continue // time may have moved while sending
		}
		var timer lifecycle.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = r.clock.NewTimer(next.Sub(now))
			fire = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// call performs a on the world at the clock's now and waits until its answer's time, applying
// the answer and every event before it in time order. held says whether the answer still held
// (World.Happen); err is ctx's error when it ended first.
func (r *Runtime) call(ctx context.Context, pod lifecycle.PodRef, a lifecycle.Action) (ev lifecycle.Event, held bool, err error) {
	r.mu.Lock()
	now := r.clock.Now()
	r.catchUp(now)
	evs := r.w.Do(now, pod, a)
	if len(evs) == 0 {
		r.mu.Unlock()
		return ev, false, &lifecycle.RuntimeError{Op: a.Type.String(), ID: idOf(a), Err: errors.New("the simulated runtime gave no answer")}
	}
	ev = evs[0]
	h := new(bool)
	r.scheduleAll(evs, h)
	r.catchUp(now)
	r.mu.Unlock()
	if err := r.sleep(ctx, ev.At.Sub(now)); err != nil {
		return ev, false, &lifecycle.RuntimeError{Op: a.Type.String(), ID: idOf(a), Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.clock.Now()
	if now.Before(ev.At) {
		now = ev.At
	}
	r.catchUp(now)
	return ev, *h, nil
}

// scheduleAll queues the events of one Do. The first one answers the action (Do puts it first);
// it gets held, when not nil.
func (r *Runtime) scheduleAll(evs []lifecycle.Event, held *bool) {
	for i, ev := range evs {
		var h *bool
		if i == 0 {
			h = held
		}
		r.seq++
		publish := ev.Type == lifecycle.ContainerExited || ev.Type == lifecycle.ContainerUnknown || ev.Type == lifecycle.SandboxLost
		r.push(pendingEvent{ev: ev, seq: r.seq, publish: publish, held: h})
	}
	if len(evs) > 0 {
		close(r.scheduled)
		r.scheduled = make(chan struct{})
	}
	for s := range r.subs {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// idOf names what an action is about, for errors.
func idOf(a lifecycle.Action) string {
	switch {
	case a.ContainerID != "":
		return a.ContainerID
	case a.Image != "":
		return a.Image
	case a.Container != "":
		return a.Container
	}
	return a.SandboxID
}

// catchUp applies every queued event due by now, in (time, order), and streams the exits and
// losses that held.
func (r *Runtime) catchUp(now time.Time) {
	for len(r.pending) > 0 && !r.pending[0].ev.At.After(now) {
		p := r.pop()
		ok := r.w.Happen(p.ev)
		if p.held != nil {
			*p.held = ok
		}
		if !ok || !p.publish {
			continue
		}
		var rev lifecycle.RuntimeEvent
		switch p.ev.Type {
		case lifecycle.ContainerExited:
			ci, _ := r.w.Container(p.ev.ContainerID)
			rev = lifecycle.RuntimeEvent{Type: lifecycle.RuntimeContainerExited, Container: ci}
		case lifecycle.ContainerUnknown:
			ci, _ := r.w.Container(p.ev.ContainerID)
			rev = lifecycle.RuntimeEvent{Type: lifecycle.RuntimeContainerUnknown, Container: ci}
		default:
			si, _ := r.w.Sandbox(p.ev.SandboxID)
			rev = lifecycle.RuntimeEvent{Type: lifecycle.RuntimeSandboxLost, Sandbox: si}
		}
		for s := range r.subs {
			s.queue = append(s.queue, rev)
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
}

// nextExit is the earliest queued exit of a container.
func (r *Runtime) nextExit(id string) (time.Time, bool) {
	var at time.Time
	found := false
	for _, p := range r.pending {
		if p.ev.Type == lifecycle.ContainerExited && p.ev.ContainerID == id && (!found || p.ev.At.Before(at)) {
			at, found = p.ev.At, true
		}
	}
	return at, found
}

func (r *Runtime) known(f func(w *World) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.catchUp(r.clock.Now())
	return f(r.w)
}

// sleep waits d on the clock, or until ctx ends; an answer due now does not look at ctx.
func (r *Runtime) sleep(ctx context.Context, d time.Duration) error { return r.sleepOr(ctx, d, nil) }

// sleepOr is sleep that also ends, without an error, when wake is closed.
func (r *Runtime) sleepOr(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return nil
	}
	t := r.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func containerName(t lifecycle.Target) string {
	if t.Container == nil {
		return ""
	}
	return t.Container.Name
}

// reasonErr maps a waiting reason from the world to the lifecycle error the agent maps back.
func reasonErr(reason string) error {
	switch reason {
	case phase.ReasonErrImageNeverPull:
		return lifecycle.ErrImageNeverPull
	case phase.ReasonInvalidImageName:
		return lifecycle.ErrInvalidImageName
	case phase.ReasonCreateContainerConfigError:
		return lifecycle.ErrCreateContainerConfig
	case phase.ReasonCreateContainerError:
		return lifecycle.ErrCreateContainer
	case phase.ReasonRunContainerError:
		return lifecycle.ErrRunContainer
	}
	return lifecycle.ErrImagePull
}

func (r *Runtime) less(i, j int) bool {
	a, b := &r.pending[i], &r.pending[j]
	if !a.ev.At.Equal(b.ev.At) {
		return a.ev.At.Before(b.ev.At)
	}
	return a.seq < b.seq
}

func (r *Runtime) push(p pendingEvent) {
	r.pending = append(r.pending, p)
	for j := len(r.pending) - 1; j > 0; {
		i := (j - 1) / 2
		if !r.less(j, i) {
			break
		}
		r.pending[i], r.pending[j] = r.pending[j], r.pending[i]
		j = i
	}
}

func (r *Runtime) pop() pendingEvent {
	top := r.pending[0]
	n := len(r.pending) - 1
	r.pending[0] = r.pending[n]
	r.pending[n] = pendingEvent{}
	r.pending = r.pending[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if l+1 < n && r.less(l+1, l) {
			j = l + 1
		}
		if !r.less(j, i) {
			break
		}
		r.pending[i], r.pending[j] = r.pending[j], r.pending[i]
		i = j
	}
	return top
}
