package lifecycle

import (
	"slices"
	"time"

	"github.com/podlife/podlife/phase"
)

// setStatus replaces c's status and marks the pod status for a refresh.
func (m *Machine) setStatus(c *ctr, st phase.ContainerStatus) {
	c.status = st
	m.dirty = true
}

// setWaiting shows c Waiting with reason (a failed pull or create), keeping its last termination.
func (m *Machine) setWaiting(c *ctr, reason, message string) {
	r := c.more()
	r.waitReason, r.waitMessage = reason, message
	r.waitSince = m.now
	st := c.status
	if st.State.Terminated != nil {
		st.LastTerminationState = phase.State{Terminated: st.State.Terminated}
	}
	st.State = phase.State{Waiting: &phase.WaitingState{Reason: reason, Message: message}}
	st.Ready = false
	m.setStatus(c, st)
}

// statusLists are new copies of the containers' statuses, in one allocation (init's capacity
// ends where apps begin, so an append to one cannot overwrite the other).
func (m *Machine) statusLists() (init, apps []phase.ContainerStatus) {
	all := make([]phase.ContainerStatus, len(m.ctrs))
	for i, c := range m.ctrs {
		all[i] = c.status
	}
	if m.nInit > 0 {
		init = all[:m.nInit:m.nInit]
	}
	return init, all[m.nInit:]
}

// refreshStatus recomputes the pod status when something changed, and hands it out in Ready.
func (m *Machine) refreshStatus() {
	if !m.dirty {
		return
	}
	m.dirty = false
	init, apps := m.statusLists()
	ph := m.terminal
	if ph == "" {
		ph = phase.ComputeInitialized(m.spec, init, apps, false, m.initDone)
		// Succeeded and Failed say no container will run again. While one will (a restart that
		// an image change forces whatever the policy), the pod keeps the phase it had.
		if ph.IsTerminal() && !m.podPhase.IsTerminal() && m.restarting() {
			ph = m.podPhase
		}
	}
	m.conds.sandboxReady = m.sandbox.ready && (m.spec.HostNetwork || m.sandbox.ip != "")
	m.conds.restartingAll = m.restartingAll
	m.podPhase = ph
	out := phase.PodStatus{Phase: ph, PodIP: m.podIP, StartTime: m.startTime}
	out.InitContainerStatuses, out.ContainerStatuses = init, apps
	out.Conditions = m.conditions(init, apps, m.now)
	m.conds.keep(out.Conditions)
	if m.pool != nil {
		o := m.output()
		o.status = out
		m.outStatus = &o.status
		return
	}
	m.outStatus = &out
}

// conditions are the pod's conditions for these statuses at now, from the last ones (conds).
func (m *Machine) conditions(init, apps []phase.ContainerStatus, now time.Time) []phase.Condition {
	var buf [2 * len(kubeletOrder)]phase.Condition
	prev := m.conds.prev(buf[:0])
	return phase.Conditions(phase.ConditionInput{
		Spec: m.spec, InitStatuses: init, Statuses: apps, Phase: m.podPhase,
		SandboxReady: m.conds.sandboxReady, RestartingAllContainers: m.conds.restartingAll,
	}, prev, now)
}

// kubeletOrder is the order in which phase.Conditions makes kubelet's own conditions.
var kubeletOrder = [...]phase.ConditionType{phase.PodReadyToStartContainers, phase.PodInitialized, phase.PodReady,
	phase.ContainersReady, phase.PodScheduled, phase.AllContainersRestarting}

// condState is what a machine keeps of its pod's conditions: of kubelet's own, only status and
// lastTransitionTime, which is all phase.Conditions reads of the previous ones (reasons and
// messages follow from the containers, and Status makes them again from the same input); the
// others (DisruptionTarget, readiness gates, from a restored status) as they are. It is a
// quarter of the []phase.Condition an idle pod would otherwise hold.
type condState struct {
	ltt    [len(kubeletOrder)]time.Time
	status [len(kubeletOrder)]uint8 // a condStatus code; 0: the pod has no such condition
	// extra are the conditions kubelet does not own, as the last refresh kept them; after a
	// restore, until the first refresh (rawPending), the restored status's conditions as they are.
	extra      []phase.Condition
	rawPending bool
	// The input of the last refresh besides the containers and the phase, for Status.
	sandboxReady, restartingAll bool
}

// condStatus codes; codeOther is a status phase never makes (from a restored record).
const (
	codeTrue uint8 = iota + 1
	codeFalse
	codeUnknown
	codeOther
)

func statusCode(s phase.ConditionStatus) uint8 {
	switch s {
	case phase.ConditionTrue:
		return codeTrue
	case phase.ConditionFalse:
		return codeFalse
	case phase.ConditionUnknown:
		return codeUnknown
	}
	return codeOther
}

// prev appends the conditions the last refresh made, as far as phase.Conditions reads them.
func (cs *condState) prev(dst []phase.Condition) []phase.Condition {
	if cs.rawPending {
		return cs.extra
	}
	dst = append(dst, cs.extra...)
	for i, t := range kubeletOrder {
		var st phase.ConditionStatus
		switch cs.status[i] {
		case 0:
			continue
		case codeTrue:
			st = phase.ConditionTrue
		case codeFalse:
			st = phase.ConditionFalse
		case codeUnknown:
			st = phase.ConditionUnknown
		default:
			st = "?" // never equal to a status phase makes
		}
		dst = append(dst, phase.Condition{Type: t, Status: st, LastTransitionTime: cs.ltt[i]})
	}
	return dst
}

// keep records conds, the output of phase.Conditions: the conditions kubelet does not own come
// first and are the previous ones unchanged, so only the first refresh after a restore copies
// them.
func (cs *condState) keep(conds []phase.Condition) {
	n := 0
	for n < len(conds) && !phase.IsKubeletCondition(conds[n].Type) {
		n++
	}
	if cs.rawPending || len(cs.extra) != n {
		cs.extra = nil // not conds[:0:0], which would keep conds alive
		if n > 0 {
			cs.extra = slices.Clone(conds[:n:n])
		}
	}
	cs.rawPending = false
	cs.status = [len(kubeletOrder)]uint8{}
	for _, c := range conds[n:] {
		for i, t := range kubeletOrder {
			if t == c.Type && cs.status[i] == 0 {
				cs.status[i], cs.ltt[i] = statusCode(c.Status), c.LastTransitionTime
			}
		}
	}
}

// restarting reports whether a container will run again: one being prepared or started, or one
// that exited and waits for its next start.
func (m *Machine) restarting() bool {
	for _, c := range m.ctrs {
		if c.inFlight() || c.stage == starting || c.stage == postStart || (c.stage == idle && c.exit != nil && !c.final && !c.succeeded) {
			return true
		}
	}
	return false
}
