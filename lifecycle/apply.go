package lifecycle

import (
	"fmt"
	"reflect"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
	"github.com/podlife/podlife/termination"
)

// retryPeriod is how long a failed setup, sandbox or container create waits before the next try:
// kubelet's pod worker requeues a failed sync after 10 s (without jitter here).
const retryPeriod = 10 * time.Second

// messageSandboxChanged is kubelet's SandboxChanged event (SyncPod).
const messageSandboxChanged = "Pod sandbox changed, it will be killed and re-created."

// apply changes the machine for one event that target accepted. It returns an error only before
// changing anything.
func (m *Machine) apply(ev Event, c *ctr) error {
	switch ev.Type {
	case Tick:
	case SetupDone, SetupFailed:
		if m.setup != setupRunning {
			return m.stale(ev)
		}
		m.now = ev.At
		if ev.Type == SetupDone {
			m.setup = setupDone
			return nil
		}
		m.setup = setupNone
		m.moreOf().setupAt = ev.At.Add(retryPeriod)
		m.record(Warning, "FailedMount", "", ev.Message)
	case SandboxReady, SandboxFailed:
		if !m.sandbox.creating {
			return m.stale(ev)
		}
		m.now = ev.At
		m.sandbox.creating = false
		if ev.Type == SandboxFailed {
			m.sandbox.failures++
			m.moreOf().setupAt = ev.At.Add(m.crashBackoff().Delay(int(m.sandbox.failures)))
			m.record(Warning, "FailedCreatePodSandBox", "", "Failed to create pod sandbox: "+ev.Message)
			return nil
		}
		if ev.IP == "" && !m.spec.HostNetwork {
			// kubelet's podSandboxChanged: a ready sandbox without an IP, for a pod not on the host
			// network, is broken: it is replaced (attempt + 1) before anything runs in it. Counted
			// as a failed sandbox for the back-off, so that a runtime that never gives an IP is not
			// asked again and again at one instant.
			m.sandbox.id, m.sandbox.ip = ev.SandboxID, ""
			m.sandbox.failures++
			m.moreOf().setupAt = ev.At.Add(m.crashBackoff().Delay(int(m.sandbox.failures)))
			m.record(Normal, "SandboxChanged", "", messageSandboxChanged)
			return nil
		}
		m.sandbox.id, m.sandbox.ip, m.sandbox.ready, m.sandbox.failures = ev.SandboxID, ev.IP, true, 0
		m.podIP = ev.IP
		m.dirty = true
	case SandboxLost:
		if !m.sandbox.ready || (ev.SandboxID != "" && ev.SandboxID != m.sandbox.id) {
			return m.stale(ev)
		}
		m.now = ev.At
		m.sandbox.ready = false
		m.dirty = true
		if !m.noNewSandbox() {
			m.record(Normal, "SandboxChanged", "", messageSandboxChanged)
		}
	case ImagePulled, ImagePullFailed:
		if c.stage != pulling {
			return m.stale(ev)
		}
		m.now = ev.At
		m.pulled(c, ev)
	case ContainerCreated, ContainerCreateFailed:
		return m.created(c, ev)
	case ContainerStarted, ContainerStartFailed:
		if c.stage != starting {
			return m.stale(ev)
		}
		m.now = ev.At
		m.startedEv(c, ev)
	case ContainerExited:
		if !c.alive() {
			return m.stale(ev)
		}
		m.now = ev.At
		m.exited(c, terminated(ev, c, m.startedAt(c)))
	case ContainerUnknown:
		if !c.alive() || c.stage == stopping {
			return m.stale(ev) // gone, or already being stopped: its exit comes anyway
		}
		m.now = ev.At
		m.containerUnknown(c)
	case ProbeResult:
		if !ev.Probe.Valid() || !c.hasProbe[ev.Probe] {
			return fmt.Errorf("%w: %s for %s, which has no %s probe", ErrBadEvent, ev.Type, c.spec.Name, ev.Probe)
		}
		if !c.inflight[ev.Probe] {
			return m.stale(ev)
		}
		m.now = ev.At
		m.probed(c, ev)
	case HookResult:
		return m.hooked(c, ev)
	case DeleteRequested:
		if ev.GracePeriodSeconds != nil && *ev.GracePeriodSeconds < 0 {
			return fmt.Errorf("%w: %s with negative grace period %d", ErrBadEvent, ev.Type, *ev.GracePeriodSeconds)
		}
		m.now = ev.At
		// The grace the deletion is under, for the checkpoint; the spec's (nil) costs a machine
		// nothing.
		if g := ev.GracePeriodSeconds; !m.deleted || (g != nil && (m.more == nil || m.more.deleteSeconds == nil || *g < *m.more.deleteSeconds)) {
			if g != nil || m.more != nil {
				m.moreOf().deleteSeconds = g
			}
		}
		m.deleteRequested(ev.GracePeriodSeconds)
	case SpecUpdated:
		return m.specUpdated(ev)
	}
	return nil
}

func (m *Machine) stale(ev Event) error {
	return fmt.Errorf("%w: %s", ErrStale, ev)
}

func (m *Machine) pulled(c *ctr, ev Event) {
	if ev.Type == ImagePulled {
		m.record(Normal, "Pulled", c.spec.Name, m.pulledText(c))
		if !m.sandbox.ready {
			// The sandbox died (or is being replaced) while the image was pulled: nothing is
			// created in it; the container starts over in the next one.
			c.stage = idle
			return
		}
		c.stage = creating
		m.emit(Action{Type: CreateContainer, Container: c.spec.Name, Attempt: c.attempt, SandboxID: m.sandbox.id, Spec: c.spec})
		return
	}
	c.stage = idle
	reason := ev.Reason
	if reason == "" {
		reason = phase.ReasonErrImagePull
	}
	if reason == phase.ReasonErrImagePull {
		mm := m.moreOf()
		pb := mm.pulls[c.spec.Image].Failed(m.pullBackoff(), ev.At)
		if mm.pulls == nil {
			mm.pulls = map[string]restart.PullBackoff{}
		}
		mm.pulls[c.spec.Image] = pb
		c.more().retryAt = pb.NextAttempt()
	} else {
		c.more().retryAt = ev.At.Add(retryPeriod)
	}
	// kubelet's image manager: the event says which image around the runtime's words, the
	// waiting message is the runtime's words alone (EnsureImageExists, evalCRIPullErr).
	msg := ev.Message
	if reason == phase.ReasonErrImagePull {
		msg = fmt.Sprintf("Failed to pull image %q: %s", c.spec.Image, ev.Message)
	}
	m.record(Warning, "Failed", c.spec.Name, msg)
	m.setWaiting(c, reason, ev.Message)
}

func (m *Machine) created(c *ctr, ev Event) error {
	if c.stage != creating || ev.Attempt != c.attempt {
		if ev.Type == ContainerCreated && ev.ContainerID != "" && ev.Attempt <= c.attempt && ev.ContainerID != c.id {
			// An instance the machine gave up on (the pod is stopping): remove it.
			m.now = ev.At
			m.emit(Action{Type: RemoveContainer, Container: c.spec.Name, ContainerID: ev.ContainerID})
			return nil
		}
		return m.stale(ev)
	}
	m.now = ev.At
	if ev.Type == ContainerCreateFailed {
		reason := ev.Reason
		if reason == "" {
			reason = phase.ReasonCreateContainerError
		}
		c.stage = idle
		c.more().retryAt = ev.At.Add(retryPeriod)
		// kuberuntime's startContainer: "Error: <the runtime's words>", which the waiting message
		// carries alone.
		m.record(Warning, "Failed", c.spec.Name, "Error: "+ev.Message)
		m.setWaiting(c, reason, ev.Message)
		return nil
	}
	if ev.ContainerID == "" {
		return fmt.Errorf("%w: %s without a container ID", ErrBadEvent, ev.Type)
	}
	c.stage = starting
	c.id = ev.ContainerID
	c.ran = true
	if r := c.rare; r != nil {
		r.waitReason, r.waitMessage = "", ""
	}
	st := c.status
	if c.exit != nil {
		st.LastTerminationState = phase.State{Terminated: c.exit}
	}
	st.State = phase.State{Waiting: m.createdState()}
	st.Ready = false
	st.RestartCount = c.attempt
	st.ContainerID = ev.ContainerID
	st.Image = c.spec.Image
	m.setStatus(c, st)
	m.record(Normal, "Created", c.spec.Name, m.createdText(c))
	m.emit(Action{Type: StartContainer, Container: c.spec.Name, ContainerID: c.id})
	return nil
}

func (m *Machine) startedEv(c *ctr, ev Event) {
	if ev.Type == ContainerStartFailed {
		code := ev.ExitCode
		if code == 0 {
			code = 128
		}
		m.record(Warning, "Failed", c.spec.Name, "Error: "+ev.Message)
		m.exited(c, phase.TerminatedState{ExitCode: code, Reason: phase.ReasonStartError, Message: ev.Message,
			StartedAt: ev.At, FinishedAt: ev.At, ContainerID: c.id})
		return
	}
	m.setStartedAt(c, ev.At)
	m.record(Normal, "Started", c.spec.Name, m.startedText(c))
	if c.spec.Lifecycle != nil && c.spec.Lifecycle.PostStart != nil {
		c.stage = postStart
		m.emit(Action{Type: RunHook, Container: c.spec.Name, ContainerID: c.id, Hook: PostStart, Handler: c.spec.Lifecycle.PostStart})
		return
	}
	m.running(c, ev.At)
}

// running makes c Running since startedAt (the runtime's start time) and starts its probes.
func (m *Machine) running(c *ctr, startedAt time.Time) {
	c.stage = running
	st := phase.RunningAgain(c.status, startedAt, c.attempt)
	st.ContainerID = c.id
	for _, k := range probeKinds {
		if c.hasProbe[k] {
			*c.tracker(k) = probe.NewTracker(k, probe.For(c.spec, k), c.id, startedAt)
		}
	}
	if !c.hasProbe[probe.Startup] {
		m.markStarted(c, &st)
	}
	m.setStatus(c, st)
}

// markStarted sets started (and ready when no readiness probe holds it back) and lets liveness
// and readiness run.
func (m *Machine) markStarted(c *ctr, st *phase.ContainerStatus) {
	t := true
	st.Started = &t
	for i := range c.probes {
		c.probes[i].MarkStarted(m.now)
	}
	// A regular init container is ready only once it exited 0 (see exited), not while it runs.
	st.Ready = !c.regularInit() && (!c.hasProbe[probe.Readiness] || c.tracker(probe.Readiness).Result() == probe.Success)
}

func terminated(ev Event, c *ctr, hookAt time.Time) phase.TerminatedState {
	reason := ev.Reason
	if reason == "" {
		reason = phase.ReasonCompleted
		if ev.ExitCode != 0 {
			reason = phase.ReasonError
		}
	}
	var startedAt time.Time
	if c.status.State.Running != nil {
		startedAt = c.status.State.Running.StartedAt
	} else {
		startedAt = hookAt
	}
	return phase.TerminatedState{ExitCode: ev.ExitCode, Signal: ev.Signal, Reason: reason, Message: ev.Message,
		StartedAt: startedAt, FinishedAt: ev.At, ContainerID: c.id}
}

// exited records the end of c's current instance and decides what follows.
func (m *Machine) exited(c *ctr, t phase.TerminatedState) {
	if k := c.killing(); k != nil {
		_, _ = k.Exited(m.now)
		c.rare.kill = nil
	}
	if m.stop != nil {
		acts, err := m.stop.plan.Exited(c.spec.Name, m.now)
		if err == nil {
			m.stopActions(acts)
		}
		m.preStopEndsWithExit(c)
	}
	c.stage = idle
	m.retire(c)
	if m.restartingAll {
		t.Reason = phase.ReasonRestartingAllContainers
	}
	st := phase.Exited(c.status, t)
	c.exit = st.State.Terminated // one copy for the status and the restart decision
	var cause string
	unknown := false
	if r := c.rare; r != nil {
		cause, r.killCause = r.killCause, ""
		unknown, r.unknown = r.unknown, false
	}
	// kubelet: a regular init container is ready when it exited 0; one killed because its state
	// was unknown counts as failed, however the kill ended.
	c.succeeded = c.regularInit() && t.ExitCode == 0 && !unknown
	st.Ready = c.succeeded
	switch {
	case m.deleted || (m.stop != nil && m.stop.purpose != purposeSandbox):
		c.final = true
	case m.restartingAll: // killed for an in-place restart of the pod: everything runs again
		c.restartNow()
		c.succeeded = false
	case unknown: // killed because its state was unknown: a new instance replaces it at once
		c.restartNow()
		c.more().replace = true
	case c.succeeded:
	case m.stop != nil: // the sandbox is being replaced: everything runs again
		c.restartNow()
	default:
		m.decideRestart(c, &st, cause)
	}
	m.setStatus(c, st)
}

// decideRestart applies the restart policy and the crash-loop back-off to an exited container.
func (m *Machine) decideRestart(c *ctr, st *phase.ContainerStatus, cause string) {
	t := c.exit
	if !c.forced && restart.Decide(m.spec.RestartPolicy, c.spec, t.ExitCode) == restart.RestartAll {
		m.restartAllContainers(c)
		return
	}
	restartIt := c.forced || c.sidecar || restart.WillRestart(m.spec.RestartPolicy, c.spec, t.ExitCode)
	c.forced = false
	if !restartIt {
		c.final = true
		return
	}
	r := c.more()
	r.restartAt = r.crash.NextStart(m.crashBackoff(), t.FinishedAt)
	// The kill's cause (PostStartHookError) shows until an immediate restart; a restart held
	// back shows CrashLoopBackOff, as kubelet's next sync reports it.
	if cause != "" && !r.restartAt.After(m.now) {
		*st = phase.BackingOff(*st, "")
		st.State.Waiting.Reason, st.State.Waiting.Message = cause, r.waitMessage
		return
	}
	if r.restartAt.After(m.now) {
		delay := r.crash.Delay(m.crashBackoff(), t.FinishedAt)
		msg := "back-off " + delay.String() + " restarting failed container=" + c.spec.Name + " pod=" + m.ref.String()
		*st = phase.BackingOff(*st, msg)
		m.record(Warning, "BackOff", c.spec.Name, "Back-off restarting failed container "+c.spec.Name+" in pod "+m.ref.String())
	}
}

func (m *Machine) probed(c *ctr, ev Event) {
	k := ev.Probe
	c.inflight[k] = false
	// Unhealthy for a failure or an agent-side error (not counted), ProbeWarning for a success
	// with a warning, as kubelet's prober records them.
	if reason, msg := ev.Outcome.Event(k); reason != "" {
		m.record(Warning, reason, c.spec.Name, msg)
	}
	eff := c.tracker(k).Observe(ev.Outcome, ev.At)
	// A container being stopped still runs: its readiness goes on counting (kubelet's readiness
	// worker probes it until it exits), nothing else does.
	if c.stage != running && !(c.stage == stopping && k == probe.Readiness) {
		return
	}
	// Most results change nothing: leave the status alone then, so no new pod status is made.
	switch {
	case k == probe.Startup && eff.Changed && eff.Result == probe.Success:
		st := c.status
		m.markStarted(c, &st)
		m.setStatus(c, st)
	case k == probe.Readiness && eff.Changed:
		st := c.status
		st.Ready = c.started() && eff.Result == probe.Success
		m.setStatus(c, st)
	}
	if eff.Kill {
		what := "liveness"
		if k == probe.Startup {
			what = "startup"
		}
		var grace *int64
		if p := probe.For(c.spec, k); p != nil {
			grace = p.TerminationGracePeriodSeconds
		}
		m.killContainer(c, fmt.Sprintf("Container %s failed %s probe, will be restarted", c.spec.Name, what), "", grace)
	}
}

func (m *Machine) hooked(c *ctr, ev Event) error {
	switch ev.Hook {
	case PostStart:
		if c.stage != postStart {
			return m.stale(ev)
		}
		m.now = ev.At
		eff := hooks.EffectOf(hooks.PostStart, ev.HookOutcome)
		if eff.Running {
			m.running(c, m.startedAt(c))
			return nil
		}
		m.record(Warning, eff.Event.Reason, c.spec.Name, eff.Event.Message)
		c.more().waitMessage = eff.WaitingMessage
		m.killContainer(c, eff.KillEvent.Message, eff.WaitingReason, nil)
		return nil
	case PreStop:
		var acts []termination.Action
		var err error
		switch {
		case c.killing() != nil:
			acts, err = c.killing().PreStopDone(ev.At)
		case m.stop != nil:
			acts, err = m.stop.plan.PreStopDone(c.spec.Name, ev.At)
		default:
			return m.stale(ev)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrStale, ev, err)
		}
		m.now = ev.At
		// A preStop still running when the grace ran out is not waited for any longer, and its
		// being cut short is no failure: kubelet's executePreStopHook only logs "PreStop hook not
		// completed in grace period"; FailedPreStopHook is for a handler that failed in time.
		inTime := c.rare != nil && ev.At.Before(c.rare.preStopUntil)
		if eff := hooks.EffectOf(hooks.PreStop, ev.HookOutcome); eff.Event.Reason != "" && inTime {
			m.record(Warning, eff.Event.Reason, c.spec.Name, eff.Event.Message)
		}
		m.stopActions(acts)
		return nil
	}
	return fmt.Errorf("%w: %s with unknown hook %v", ErrBadEvent, ev.Type, ev.Hook)
}

// specUpdated takes a new spec that changes only what a pod update may change
// (podlife.PodSpec.ValidateUpdate: container images and activeDeadlineSeconds), as kubelet acts
// only on those: a running container whose image changed is killed and recreated whatever its
// restart policy, with a fresh back-off curve (kubelet keys back-off by the spec hash); a new
// active deadline applies from the pod's start time, at once if it has passed.
func (m *Machine) specUpdated(ev Event) error {
	if ev.Spec == nil {
		return fmt.Errorf("%w: %s without a spec", ErrBadEvent, ev.Type)
	}
	next := ev.Spec.Defaulted()
	if err := next.ValidateUpdate(m.spec); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadEvent, ev.Type, err)
	}
	m.now = ev.At
	if !reflect.DeepEqual(next.ActiveDeadlineSeconds, m.spec.ActiveDeadlineSeconds) {
		m.ownSpec()
		m.spec.ActiveDeadlineSeconds = next.ActiveDeadlineSeconds
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		var src *podlife.Container
		if c.init {
			src = &next.InitContainers[c.index]
		} else {
			src = &next.Containers[c.index]
		}
		if src.Image == c.spec.Image {
			continue
		}
		m.ownSpec()
		c.spec.Image, c.spec.ImagePullPolicy = src.Image, src.ImagePullPolicy
		if c.regularInit() && c.succeeded {
			continue // completed init containers are not re-run for an image change
		}
		c.setCrashLoop(restart.CrashLoop{})
		if c.alive() && c.stage != stopping {
			c.forced = true
			m.killContainer(c, fmt.Sprintf("Container %s definition changed, will be restarted", c.spec.Name), "", nil)
		} else if c.exit != nil && !c.final {
			c.restartNow()
		}
	}
	return nil
}
