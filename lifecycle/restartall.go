package lifecycle

import (
	"fmt"

	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// restartAllContainers starts an in-place restart of the whole pod because trigger exited with
// an exit code that a RestartAllContainers rule matches (KEP-5532, alpha in 1.35): every running
// container is killed at once, without preStop hooks and without the pod's grace period (the
// KEP: "TerminationGracePeriodSeconds is not respected", preStop hooks are not run on this
// path); the sandbox is kept. Once nothing runs, finishRestartAll starts the pod over.
func (m *Machine) restartAllContainers(trigger *ctr) {
	m.restartingAll = true
	m.record(Normal, "RestartAllContainers", trigger.spec.Name,
		fmt.Sprintf("Container %s exited with code %d, restarting all containers", trigger.spec.Name, trigger.exit.ExitCode))
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.inFlight() {
			c.stage = idle // a late ContainerCreated is answered with RemoveContainer
		}
		if !c.alive() {
			continue
		}
		if r := c.rare; r != nil {
			r.kill, r.killCause = nil, ""
		}
		c.stage = stopping
		for _, k := range probeKinds {
			if k != probe.Readiness && c.hasProbe[k] {
				c.tracker(k).StopForDeletion(m.now)
			}
		}
		m.emit(Action{Type: StopContainer, Container: c.spec.Name, ContainerID: c.id, Reason: "RestartAllContainers"})
	}
}

// MessageRestartingAllContainers is kubelet's message on a container removed for an in-place
// restart of the pod (convertToAPIContainerStatuses).
const MessageRestartingAllContainers = "The container is removed because RestartAllContainers in place"

// exitCodeRemoved is the exit code kubelet writes for a container removed for an in-place restart.
const exitCodeRemoved = 137

// finishRestartAll ends an in-place restart once no container runs: each container that ran is
// removed from the runtime and shows, as kubelet's convertToAPIContainerStatuses does, Waiting
// RestartingAllContainers with last state Terminated 137 RestartingAllContainers and its
// restartCount one up; then the pod runs again from its first init container, whatever the
// restart policy said of the containers that had finished. It reports whether the restart is
// over.
func (m *Machine) finishRestartAll() bool {
	if m.anyAlive() {
		return false
	}
	m.restartingAll = false
	m.initDone = false
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		c.final, c.forced, c.ran = false, false, false
		c.restartNow()
		c.clearRetry()
		if c.regularInit() {
			c.succeeded = false
		}
		st := c.status
		if st.State.Waiting != nil {
			continue // it had not run (or was waiting to run again): nothing to remove
		}
		if st.ContainerID != "" {
			m.emit(Action{Type: RemoveContainer, Container: c.spec.Name, ContainerID: st.ContainerID})
		}
		c.exit = nil // the next instance is the one counted here, not a restart after an exit
		c.attempt++
		st.State = phase.State{Waiting: &phase.WaitingState{Reason: phase.ReasonRestartingAllContainers, Message: MessageRestartingAllContainers}}
		st.LastTerminationState = phase.State{Terminated: &phase.TerminatedState{ExitCode: exitCodeRemoved,
			Reason: phase.ReasonRestartingAllContainers, Message: MessageRestartingAllContainers}}
		st.RestartCount = c.attempt
		st.ContainerID = ""
		st.Ready = false
		st.Started = nil
		m.setStatus(c, st)
	}
	return true
}
