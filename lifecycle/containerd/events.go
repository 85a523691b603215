package containerd

import (
	"context"
	"errors"
	"io"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// subscriber is one Events stream: the events waiting to be sent.
type subscriber struct {
	queue []lifecycle.RuntimeEvent
	wake  chan struct{}
}

// detectEvents finds out whether containerd implements GetContainerEvents: containerd 1.6 opens
// the stream and fails the first Recv with Unimplemented at once; a runtime that implements it
// sends nothing until something happens, so a stream still open after a short wait (200 ms, once
// per Connect) counts as implemented.
func (r *Runtime) detectEvents(ctx context.Context) EventSource {
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	st, err := r.rt.GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
	if err != nil {
		return EventsRelist
	}
	_, err = st.Recv()
	// A stream that ended cleanly (EOF) or with our deadline was open: only an error says no.
	if err == nil || errors.Is(err, io.EOF) || status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return EventsStream
	}
	r.log.Debug("no CRI event stream; relisting", zap.Error(err))
	return EventsRelist
}

// Events streams container exits and lost sandboxes from now on, and the exits seen since the
// last stream ended that nobody was told of. Each exit comes once per stream as a rule; an exit
// the adapter cannot tell apart from a new one (a container it never saw before) may come again.
// Exits come from the CRI event stream or the relist (see EventSource), and from StopContainer
// the moment it returns. The channel is closed when ctx ends; one goroutine serves it, and one
// more reads containerd's stream where there is one.
func (r *Runtime) Events(ctx context.Context) (<-chan lifecycle.RuntimeEvent, error) {
	s := &subscriber{wake: make(chan struct{}, 1)}
	r.mu.Lock()
	s.queue, r.backlog = r.backlog, nil
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
	period := r.cfg.RelistPeriod
	if r.source == EventsStream {
		period *= 10
		done := make(chan struct{})
		defer func() { <-done }()
		go func() { defer close(done); r.readStream(ctx) }()
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	r.relist(ctx)
	for {
		r.mu.Lock()
		batch := s.queue
		s.queue = nil
		r.mu.Unlock()
		for _, ev := range batch {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
			r.relist(ctx)
		}
	}
}

// publish hands ev to every stream, or keeps it for the next one. r.mu is held.
func (r *Runtime) publish(ev lifecycle.RuntimeEvent) {
	if len(r.subs) == 0 {
		r.backlog = append(r.backlog, ev)
		if len(r.backlog) > maxBacklog {
			r.backlog = r.backlog[len(r.backlog)-maxBacklog:]
		}
		return
	}
	for s := range r.subs {
		s.queue = append(s.queue, ev)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// observe records a container's status and streams its exit if this is the first time the
// adapter sees it exited. Containers the adapter removed are ignored.
func (r *Runtime) observe(info lifecycle.ContainerInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, gone := r.removed[info.ID]; gone {
		return
	}
	prev, known := r.containers[info.ID]
	if info.SandboxID == "" {
		info.SandboxID = prev.SandboxID
	}
	r.containers[info.ID] = info
	if info.State == lifecycle.ContainerStateExited && (!known || prev.State != lifecycle.ContainerStateExited) {
		r.log.Debug("container exited", zap.String("id", info.ID), zap.Stringer("pod", info.Pod), zap.String("container", info.Name),
			zap.Int32("exitCode", info.ExitCode), zap.String("reason", info.Reason))
		r.publish(lifecycle.RuntimeEvent{Type: lifecycle.RuntimeContainerExited, Container: info})
	}
}

// removedTTL is how long a removed container or sandbox is remembered, so that a relist that
// began before the removal does not bring it back.
const removedTTL = time.Minute

// relist compares containerd's containers and sandboxes with what the adapter saw last, as
// kubelet's generic PLEG does: a container now exited is an exit (its status is read for the
// exit code); one now in an unknown state (CONTAINER_UNKNOWN) is reported as such; one that
// vanished while running exited with 137, ContainerStatusUnknown; a ready
// sandbox that is not ready any more, or gone, and that the adapter did not stop, is lost.
// A relist that fails (containerd is restarting) changes nothing: the next one catches up.
func (r *Runtime) relist(ctx context.Context) {
	cctx, cancel := r.callCtx(ctx)
	defer cancel()
	sel := r.scopeSelector()
	// What the adapter recorded after this moment may be missing from the lists: not vanished.
	listStart := time.Now()
	cs, err := r.rt.ListContainers(cctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: sel}})
	if err != nil {
		if ctx.Err() == nil {
			r.log.Debug("relist failed", zap.Error(err))
		}
		return
	}
	sbs, err := r.rt.ListPodSandbox(cctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	if err != nil {
		if ctx.Err() == nil {
			r.log.Debug("relist failed", zap.Error(err))
		}
		return
	}
	type exited struct{ id, sandboxID string }
	var fetch []exited
	now := time.Now()
	r.mu.Lock()
	r.forgetRemoved(now)
	listed := make(map[string]bool, len(cs.Containers))
	for _, c := range cs.Containers {
		listed[c.Id] = true
		if _, gone := r.removed[c.Id]; gone {
			continue
		}
		state := stateOf(c.State)
		prev, known := r.containers[c.Id]
		switch {
		case state == lifecycle.ContainerStateExited && (!known || prev.State != lifecycle.ContainerStateExited):
			fetch = append(fetch, exited{c.Id, c.PodSandboxId})
		case !known:
			r.containers[c.Id] = lifecycle.ContainerInfo{ID: c.Id, SandboxID: c.PodSandboxId, Pod: podOf(c.Labels),
				Name: c.GetMetadata().GetName(), Attempt: int32(c.GetMetadata().GetAttempt()), State: state, CreatedAt: nsTime(c.CreatedAt)}
		case prev.State != state && state != lifecycle.ContainerStateExited:
			prev.State = state
			r.containers[c.Id] = prev
			if state == lifecycle.ContainerStateUnknown {
				r.publish(lifecycle.RuntimeEvent{Type: lifecycle.RuntimeContainerUnknown, Container: prev})
			}
		}
	}
	for id, prev := range r.containers {
		if listed[id] {
			continue
		}
		if !prev.CreatedAt.Before(listStart) {
			continue
		}
		delete(r.containers, id)
		if prev.State == lifecycle.ContainerStateRunning {
			r.log.Info("a running container vanished", zap.String("id", id), zap.Stringer("pod", prev.Pod), zap.String("container", prev.Name))
			prev.State = lifecycle.ContainerStateExited
			prev.ExitCode = phase.ExitCodeStatusUnknown
			prev.Reason = phase.ReasonContainerStatusUnknown
			prev.Message = phase.MessageContainerVanished
			prev.FinishedAt = now
			r.publish(lifecycle.RuntimeEvent{Type: lifecycle.RuntimeContainerExited, Container: prev})
		}
	}
	seen := make(map[string]bool, len(sbs.Items))
	for _, s := range sbs.Items {
		seen[s.Id] = true
		if _, gone := r.removed[s.Id]; gone {
			continue
		}
		ready := s.State == runtimeapi.PodSandboxState_SANDBOX_READY
		sb := r.sandboxes[s.Id]
		if sb == nil {
			r.sandboxes[s.Id] = &sandboxState{pod: podOf(s.Labels), attempt: int32(s.GetMetadata().GetAttempt()), ready: ready,
				hostNet: s.Annotations[annHostNetwork] == "true", since: now}
			continue
		}
		if sb.ready && !ready {
			r.sandboxLost(s.Id, sb)
		}
		sb.ready = ready
	}
	for id, sb := range r.sandboxes {
		if seen[id] || !sb.since.Before(listStart) {
			continue
		}
		delete(r.sandboxes, id)
		if _, gone := r.removed[id]; !gone && sb.ready {
			r.sandboxLost(id, sb)
		}
	}
	r.mu.Unlock()
	for _, e := range fetch {
		info, err := r.containerStatus(cctx, e.id, e.sandboxID)
		if err != nil {
			continue // the next relist tries again: the state was not recorded
		}
		r.observe(info)
	}
}

// forgetRemoved drops the removals older than removedTTL. r.mu is held.
func (r *Runtime) forgetRemoved(now time.Time) {
	for id, at := range r.removed {
		if now.Sub(at) > removedTTL {
			delete(r.removed, id)
		}
	}
}

// sandboxLost streams the loss of a sandbox. r.mu is held.
func (r *Runtime) sandboxLost(id string, sb *sandboxState) {
	r.log.Info("sandbox lost", zap.String("id", id), zap.Stringer("pod", sb.pod))
	r.publish(lifecycle.RuntimeEvent{Type: lifecycle.RuntimeSandboxLost,
		Sandbox: lifecycle.SandboxInfo{ID: id, Pod: sb.pod, Attempt: sb.attempt, IP: sb.ip}})
}

// readStream follows containerd's CRI event stream until ctx ends, reopening it when it breaks
// (with a relist, for what happened meanwhile). A stopped container's status comes in the event
// or is read; a stopped sandbox (its pause container) that the adapter did not stop is lost.
func (r *Runtime) readStream(ctx context.Context) {
	for ctx.Err() == nil {
		st, err := r.rt.GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
		for err == nil {
			var ev *runtimeapi.ContainerEventResponse
			ev, err = st.Recv()
			if err == nil {
				r.streamEvent(ctx, ev)
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.log.Debug("CRI event stream ended; reopening", zap.Error(err))
		t := time.NewTimer(r.cfg.RelistPeriod)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		r.relist(ctx)
	}
}

func (r *Runtime) streamEvent(ctx context.Context, ev *runtimeapi.ContainerEventResponse) {
	if ev.ContainerEventType != runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT {
		return
	}
	id := ev.ContainerId
	r.mu.Lock()
	sb := r.sandboxes[id]
	_, gone := r.removed[id]
	if sb != nil {
		if sb.ready && !gone {
			r.sandboxLost(id, sb)
		}
		sb.ready = false
	}
	r.mu.Unlock()
	if sb != nil {
		return
	}
	sandboxID := ev.GetPodSandboxStatus().GetId()
	var st *runtimeapi.ContainerStatus
	for _, cs := range ev.ContainersStatuses {
		if cs.GetId() == id {
			st = cs
		}
	}
	if st == nil {
		cctx, cancel := r.callCtx(ctx)
		resp, err := r.rt.ContainerStatus(cctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		cancel()
		if err != nil {
			return // gone: the relist has the last word
		}
		st = resp.GetStatus()
	}
	if st.GetLabels()[LabelScope] == r.cfg.Scope {
		r.observe(infoOf(st, sandboxID))
	}
}
