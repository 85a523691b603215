package lifecycle

import (
	"slices"
	"time"

	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
	"github.com/podlife/podlife/termination"
)

// purpose says why the whole pod is stopping, which decides what comes after.
type purpose uint8

const (
	purposeDelete   purpose = iota + 1 // the pod was deleted: then it is terminal
	purposeFinished                    // the app containers are done: stop sidecars, then terminal
	purposeSandbox                     // the sandbox changed: then a new sandbox and a fresh start
)

// podStop is a graceful stop of every running container of the pod.
type podStop struct {
	plan    *termination.PodStop
	purpose purpose
}

// startPodStop begins a whole-pod stop: containers being prepared are abandoned, running ones
// get their preStop hooks and stop signals in kubelet's order.
func (m *Machine) startPodStop(p purpose, g termination.Grace) {
	var members []termination.Member
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.inFlight() {
			c.stage = idle // a late ContainerCreated is answered with RemoveContainer
		}
		kind := termination.AppContainer
		switch {
		case c.sidecar:
			kind = termination.SidecarContainer
		case c.init:
			kind = termination.InitContainer
		}
		alive := c.alive()
		if !alive && !c.sidecar {
			continue
		}
		hasPreStop := c.spec.Lifecycle != nil && c.spec.Lifecycle.PreStop != nil
		if c.killing() != nil { // a container stop under way (its preStop already ran) is taken over
			hasPreStop = false
			c.rare.kill = nil
		}
		members = append(members, termination.Member{Name: c.spec.Name, Kind: kind, Order: int(c.index), HasPreStop: hasPreStop, Exited: !alive})
		if alive {
			c.stage = stopping
			// kubelet's killContainer records this for every container it stops, whatever the cause.
			m.record(Normal, "Killing", c.spec.Name, "Stopping container "+c.spec.Name)
		}
	}
	plan, acts, err := termination.NewPodStop(members, g.Period, m.now)
	if err != nil {
		// Members come from a validated spec and grace from GracePeriod, so this cannot happen;
		// rather than panic, stop at once without hooks (grace 0, still the 2 s floor).
		for i := range members {
			members[i].HasPreStop = false
		}
		plan, acts, _ = termination.NewPodStop(members, 0, m.now)
	}
	m.stop = &podStop{plan: plan, purpose: p}
	m.stopActions(acts)
	m.syncStop()
}

// deleteRequested starts the pod's graceful deletion, or shortens one under way.
func (m *Machine) deleteRequested(seconds *int64) {
	g, err := termination.GracePeriod(termination.GraceRequest{Deleted: true, DeleteSeconds: seconds, SpecSeconds: m.spec.TerminationGracePeriodSeconds})
	if err != nil {
		g = termination.Grace{Period: termination.MinimumPodGracePeriod}
	}
	m.deleted = true
	m.restartingAll = false
	if m.terminal != notTerminal {
		return
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.exit != nil && c.stage == idle {
			c.final = true
		}
		for _, k := range probeKinds {
			if k != probe.Readiness && c.hasProbe[k] {
				c.tracker(k).StopForDeletion(m.now)
			}
		}
	}
	if m.stop != nil {
		if m.stop.purpose != purposeDelete {
			m.stop.purpose = purposeDelete
		}
		if shortened, acts, err := m.stop.plan.Shorten(g.Period, m.now); err == nil {
			m.stopActions(acts)
			if shortened {
				m.restopSignalled(acts)
			}
		}
		return
	}
	m.startPodStop(purposeDelete, g)
}

// activeDeadline is when the pod has been active on the node for spec.activeDeadlineSeconds,
// counted from its start time (kubelet's pastActiveDeadline reads status.startTime); false
// without a deadline.
func (m *Machine) activeDeadline() (time.Time, bool) {
	d := m.spec.ActiveDeadlineSeconds
	if d == nil || m.startTime.IsZero() {
		return time.Time{}, false
	}
	return m.startTime.Add(time.Duration(*d) * time.Second), true
}

func (m *Machine) pastActiveDeadline() bool {
	at, ok := m.activeDeadline()
	return ok && !m.now.Before(at)
}

// checkActiveDeadline stops a pod once it has been active for its activeDeadlineSeconds, as
// kubelet's activeDeadlineHandler does: it records the Normal event DeadlineExceeded, and the pod
// worker, told by SyncPod that the pod is terminal, kills every container with the spec's grace
// (SyncTerminatingPod passes no override: killContainer takes terminationGracePeriodSeconds, or
// the deletion's grace for a deleted pod), preStop hooks included, no container restarting
// meanwhile. Once nothing runs the pod is Failed, reason DeadlineExceeded (becomeTerminal). A
// stop already under way goes on (a deletion keeps its shorter grace), but ends the pod rather
// than making a new sandbox; an in-place restart of all containers is abandoned.
func (m *Machine) checkActiveDeadline() {
	if m.deadlinePassed || m.terminal != notTerminal || !m.pastActiveDeadline() {
		return
	}
	m.deadlinePassed = true
	m.record(Normal, phase.ReasonDeadlineExceeded, "", phase.MessageDeadlineExceeded)
	m.restartingAll = false
	if m.stop != nil {
		if m.stop.purpose == purposeSandbox {
			m.stop.purpose = purposeFinished
		}
		return
	}
	if m.anyAlive() || m.anyInFlight() {
		m.startPodStop(purposeFinished, m.specGrace())
		return
	}
	m.becomeTerminal(false)
}

// restopSignalled restarts the stop of every running container after a shorter grace, as
// kubelet restarts killContainer (Killing again). The runtime only knows the timeout it was
// given with the stop signal, so a container that already had its signal is asked again with
// what the shorter grace leaves until SIGKILL; the others get theirs from the plan.
func (m *Machine) restopSignalled(sent []termination.Action) {
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		p, ok := m.stop.plan.Plan(c.spec.Name)
		if !c.alive() || c.id == "" || !ok || p.Exited {
			continue
		}
		m.record(Normal, "Killing", c.spec.Name, "Stopping container "+c.spec.Name)
		// A stop signal already sent, even a moment ago at this same instant, went out with the
		// old timeout: send it again with the new one (unless Shorten just did).
		if !p.StopSignalSent || slices.ContainsFunc(sent, func(a termination.Action) bool {
			return a.Kind == termination.SendStopSignal && a.Container == c.spec.Name
		}) {
			continue
		}
		m.emit(Action{Type: StopContainer, Container: c.spec.Name, ContainerID: c.id, Timeout: max(p.KillAt.Sub(m.now), 0)})
	}
}

// killContainer stops one container while the pod goes on (a failed probe or postStart hook, a
// changed image). cause, when set, is the waiting reason shown after it exited.
func (m *Machine) killContainer(c *ctr, message, cause string, probeGrace *int64) {
	if c.stage == stopping || !c.alive() {
		return
	}
	g, err := termination.GracePeriod(termination.GraceRequest{Scope: termination.ContainerScope,
		SpecSeconds: m.spec.TerminationGracePeriodSeconds, ProbeSeconds: probeGrace})
	if err != nil {
		g = termination.Grace{}
	}
	hasPreStop := c.spec.Lifecycle != nil && c.spec.Lifecycle.PreStop != nil
	stop, acts, err := termination.NewStop(c.spec.Name, g.Period, hasPreStop, m.now)
	if err != nil {
		stop, acts, _ = termination.NewStop(c.spec.Name, 0, false, m.now)
	}
	r := c.more()
	r.kill = stop
	m.kills = true
	c.stage = stopping
	r.killCause = cause
	for _, k := range probeKinds {
		if k != probe.Readiness && c.hasProbe[k] {
			c.tracker(k).StopForDeletion(m.now)
		}
	}
	m.record(Normal, "Killing", c.spec.Name, message)
	m.stopActions(acts)
}

// tickStops lets graceful stops move on with time.
func (m *Machine) tickStops() {
	if m.kills { // most syncs of most pods have no container stop to tick
		m.kills = false
		for ci := range m.ctrs {
			c := &m.ctrs[ci]
			if k := c.killing(); k != nil {
				m.kills = true
				if acts, err := k.Tick(m.now); err == nil {
					m.stopActions(acts)
				}
			}
		}
	}
	if m.stop != nil {
		if acts, err := m.stop.plan.Tick(m.now); err == nil {
			m.stopActions(acts)
		}
	}
}

// preStopOutlives reports whether c's preStop hook, in the pod's stop, is still running after
// its container exited: a sleep handler runs in the agent, not in the container, so it goes on
// (kubelet's killContainer waits for it) and the sidecars' turn waits for it too.
func (m *Machine) preStopOutlives(c *ctr) bool {
	if m.stop == nil || c.killing() != nil {
		return false
	}
	p, ok := m.stop.plan.Plan(c.spec.Name)
	return ok && p.Exited && p.PreStopRunning
}

// preStopEndsWithExit ends c's preStop hook in the pod's stop when its container exits while
// the hook runs, unless the hook is a sleep: an exec or HTTP handler fails at once against a
// container that is gone (kubelet's executePreStopHook returns), so the stop of c is over.
func (m *Machine) preStopEndsWithExit(c *ctr) {
	if m.stop == nil || c.spec.Lifecycle == nil || c.spec.Lifecycle.PreStop == nil || c.spec.Lifecycle.PreStop.Sleep != nil {
		return
	}
	if p, ok := m.stop.plan.Plan(c.spec.Name); ok && p.PreStopRunning {
		if acts, err := m.stop.plan.PreStopDone(c.spec.Name, m.now); err == nil {
			m.stopActions(acts)
		}
	}
}

// stopActions turns the termination plan's steps into runtime actions. SIGKILL needs no action:
// the runtime sends it when StopContainer's timeout runs out.
func (m *Machine) stopActions(acts []termination.Action) {
	for _, a := range acts {
		c := m.byName(a.Container)
		if c == nil || c.id == "" {
			continue
		}
		switch a.Kind {
		case termination.RunPreStop:
			c.more().preStopUntil = m.now.Add(m.stopGrace(c))
			m.emit(Action{Type: RunHook, Container: c.spec.Name, ContainerID: c.id, Hook: PreStop, Handler: c.spec.Lifecycle.PreStop, Timeout: m.stopGrace(c)})
		case termination.SendStopSignal:
			m.emit(Action{Type: StopContainer, Container: c.spec.Name, ContainerID: c.id, Timeout: a.Timeout})
		}
	}
}

func (m *Machine) stopGrace(c *ctr) time.Duration {
	if k := c.killing(); k != nil {
		return k.Grace()
	}
	if m.stop != nil {
		return m.stop.plan.Grace()
	}
	return 0
}

// syncStop finishes a whole-pod stop once every container has exited.
func (m *Machine) syncStop() {
	if m.stop == nil || !m.stop.plan.Done() || m.anyAlive() {
		return
	}
	p := m.stop.purpose
	m.stop = nil
	switch p {
	case purposeSandbox:
		m.prepared()
	case purposeDelete:
		m.becomeTerminal(true)
	default:
		m.becomeTerminal(false)
	}
}

// becomeTerminal fixes the phase at Succeeded or Failed and releases the sandbox. A deleted pod
// whose containers all stopped is terminal even if its statuses alone would not say so: kubelet
// (1.27+) then reports Failed unless every app container succeeded. A pod past its active
// deadline ends Failed with reason DeadlineExceeded, whatever its containers say, as kubelet's
// generateAPIPodStatus lets the active deadline handler's ShouldEvict override the phase of every
// status it makes, the final one included.
func (m *Machine) becomeTerminal(deleted bool) {
	init, apps := m.statusLists()
	ph := phase.ComputeInSpecOrder(m.spec, init, apps, deleted, m.initDone)
	if !ph.IsTerminal() {
		ph = phase.Failed
	}
	if m.pastActiveDeadline() {
		ph = phase.Failed
		r := m.moreOf()
		r.reason, r.message = phase.ReasonDeadlineExceeded, phase.MessageDeadlineExceeded
	}
	m.setTerminal(ph)
	m.dirty = true
	m.releaseSandbox()
}

func (m *Machine) releaseSandbox() {
	if m.sandbox.stopped {
		return
	}
	m.sandbox.stopped = true
	m.sandbox.ready = false
	if m.sandbox.id != "" || m.sandbox.creating {
		m.emit(Action{Type: StopSandbox, SandboxID: m.sandbox.id})
	}
}

// containerUnknown handles the runtime reporting c's instance in an unknown state (CRI's
// CONTAINER_UNKNOWN), as kubelet does:
//   - the status (convertToAPIContainerStatuses): a container last shown Running is Terminated
//     with reason ContainerStatusUnknown, exit 137 and its restartCount one up; any other is
//     Waiting with no reason;
//   - if the pod's phase with that status is Succeeded or Failed, the pod is finished (SyncPod
//     stops before computePodActions): nothing restarts and the instance is left to the sandbox's
//     stop, as kubelet's pod kill stops only running containers;
//   - a regular init container in an unknown state counts as failed (isInitContainerFailed): when
//     it would not restart after a failure, the pod fails and nothing more starts; its status is
//     then Terminated ContainerStatusUnknown even when it was not running, so that the phase says
//     Failed;
//   - otherwise it is killed (computePodActions, computeInitContainerActions: reason Unknown,
//     preStop and the pod's grace apply) and a new instance replaces it at once, whatever the
//     restart policy.
func (m *Machine) containerUnknown(c *ctr) {
	st := c.status
	wasRunning := st.State.Running != nil
	failedInit := c.regularInit() && !restart.WillRestart(m.spec.RestartPolicy, c.spec, phase.ExitCodeStatusUnknown)
	if wasRunning || failedInit {
		st = phase.Exited(st, phase.TerminatedState{ExitCode: phase.ExitCodeStatusUnknown,
			Reason: phase.ReasonContainerStatusUnknown, Message: phase.MessageContainerNotLocated})
		if wasRunning {
			st.RestartCount++
		}
	} else {
		st.State = phase.State{Waiting: &phase.WaitingState{}}
		st.Ready = false
		f := false
		st.Started = &f
	}
	m.setStatus(c, st)
	for i := range c.probes { // kubelet probes only running containers
		c.probes[i].ContainerExited(m.now)
	}
	if failedInit || (wasRunning && m.finishedWith()) {
		c.stage = idle
		m.retire(c)
		c.exit = c.status.State.Terminated
		c.final, c.succeeded = true, false
		return
	}
	what := "Container"
	if c.init {
		what = "Init container"
	}
	c.more().unknown = true
	m.killContainer(c, what+` is in "unknown" state, try killing it before restart`, "", nil)
}

// finishedWith reports whether the containers' statuses as they are make the pod Succeeded or
// Failed (kubelet's getPhase), which ends it.
func (m *Machine) finishedWith() bool {
	init, apps := m.statusLists()
	return phase.ComputeInSpecOrder(m.spec, init, apps, false, m.initDone).IsTerminal()
}
