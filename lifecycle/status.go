package lifecycle

import (
	"github.com/podlife/podlife/phase"
)

// setStatus replaces c's status and marks the pod status for a refresh.
func (m *Machine) setStatus(c *ctr, st phase.ContainerStatus) {
	c.status = st
	m.dirty = true
}

// setWaiting shows c Waiting with reason (a failed pull or create), keeping its last termination.
func (m *Machine) setWaiting(c *ctr, reason, message string) {
	c.waitReason, c.waitMessage = reason, message
	c.waitSince = m.now
	st := c.status
	if st.State.Terminated != nil {
		st.LastTerminationState = phase.State{Terminated: st.State.Terminated}
	}
	st.State = phase.State{Waiting: &phase.WaitingState{Reason: reason, Message: message}}
	st.Ready = false
	m.setStatus(c, st)
}

func (m *Machine) statusLists() (init, apps []phase.ContainerStatus) {
	if m.nInit > 0 {
		init = make([]phase.ContainerStatus, m.nInit)
	}
	apps = make([]phase.ContainerStatus, len(m.ctrs)-m.nInit)
	for i, c := range m.ctrs {
		if i < m.nInit {
			init[i] = c.status
		} else {
			apps[i-m.nInit] = c.status
		}
	}
	return init, apps
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
		ph = phase.ComputeInitialized(&m.spec, init, apps, false, m.initDone)
		// Succeeded and Failed say no container will run again. While one will (a restart that
		// an image change forces whatever the policy), the pod keeps the phase it had.
		if ph.IsTerminal() && !m.status.Phase.IsTerminal() && m.restarting() {
			ph = m.status.Phase
		}
	}
	st := m.status
	st.Phase = ph
	st.InitContainerStatuses, st.ContainerStatuses = init, apps
	st.Conditions = phase.Conditions(phase.ConditionInput{
		Spec: &m.spec, InitStatuses: init, Statuses: apps, Phase: ph,
		SandboxReady:            m.sandbox.ready && (m.spec.HostNetwork || m.sandbox.ip != ""),
		RestartingAllContainers: m.restartingAll,
	}, m.status.Conditions, m.now)
	m.status = st
	out := st
	m.out.Status = &out
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
