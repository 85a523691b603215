package lifecycle

import (
	"github.com/podlife/podlife/internal/stamp"
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
	return m.splitStatuses(m.appendStatuses(make([]phase.ContainerStatus, 0, len(m.ctrs))))
}

func (m *Machine) appendStatuses(dst []phase.ContainerStatus) []phase.ContainerStatus {
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		dst = append(dst, c.status)
	}
	return dst
}

func (m *Machine) splitStatuses(all []phase.ContainerStatus) (init, apps []phase.ContainerStatus) {
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
	var init, apps []phase.ContainerStatus
	if m.tmpl != nil {
		// A template's machine lends its status from the output buffer, lists included.
		o := m.output()
		o.lists = m.appendStatuses(o.lists[:0])
		init, apps = m.splitStatuses(o.lists)
	} else {
		init, apps = m.statusLists()
	}
	ph := m.terminalPhase()
	if ph == "" {
		ph = phase.ComputeInSpecOrder(m.spec, init, apps, false, m.initDone)
		// Succeeded and Failed say no container will run again. While one will (a restart that
		// an image change forces whatever the policy), the pod keeps the phase it had. Nor is a
		// pod reported terminal while a container of it may still run (a sidecar stopping, its
		// status not Running): kubelet's status manager holds the phase back until the pod
		// worker has stopped them all (mergePodStatus, couldHaveRunningContainers).
		if ph.IsTerminal() && !m.podPhase.IsTerminal() && (m.restarting() || m.stop != nil || m.anyAlive()) {
			ph = m.podPhase
		}
	}
	m.conds.sandboxReady = m.sandbox.ready && (m.spec.HostNetwork || m.sandbox.ip != "")
	m.conds.restartingAll = m.restartingAll
	m.podPhase = ph
	out := phase.PodStatus{Phase: ph, PodIP: m.podIP, StartTime: m.startTime}
	out.Reason, out.Message = m.statusReason()
	out.InitContainerStatuses, out.ContainerStatuses = init, apps
	// Most status changes leave the conditions as they are (a container created, started, a
	// restart): when everything the conditions follow from is the same as at the last refresh,
	// they are the last ones, rebuilt from conds without phase.Conditions.
	sig := m.condSig()
	switch {
	case sig != 0 && sig == m.conds.sig && !m.conds.rawPending && m.tmpl != nil:
		o := m.output()
		o.conds = m.conds.full(o.conds[:0], m.startTime)
		out.Conditions = o.conds
	case sig != 0 && sig == m.conds.sig && !m.conds.rawPending:
		out.Conditions = m.conds.full(make([]phase.Condition, 0, m.conds.count()), m.startTime)
	default:
		out.Conditions = m.conditions(init, apps, m.now)
		m.conds.keep(out.Conditions, m.startTime)
	}
	m.conds.sig = sig
	if m.tmpl != nil {
		o := m.output()
		o.status = out
		m.outStatus = &o.status
		return
	}
	m.outStatus = new(phase.PodStatus)
	*m.outStatus = out
}

// condSig is everything phase.Conditions reads of a machine's pod besides its spec and the
// previous conditions, packed: whether each container is ready, for a sidecar whether it is
// started, for an app container whether it runs or ran (Initialized); the phase; whether the
// sandbox is ready; whether all containers restart in place. Equal signatures give equal
// conditions. 0 means the pod has too many containers to pack.
func (m *Machine) condSig() uint64 {
	if len(m.ctrs) > maxSigContainers {
		return 0
	}
	var s uint64
	for i := range m.ctrs {
		c := &m.ctrs[i]
		st := &c.status
		var b uint64
		if st.Ready {
			b |= 1
		}
		if c.sidecar && st.IsStarted() {
			b |= 2
		}
		if !c.init && (st.State.Running != nil || st.State.Terminated != nil) {
			b |= 4
		}
		s |= b << (3 * i)
	}
	var ph uint64
	switch m.podPhase {
	case phase.Pending:
		ph = 1
	case phase.Running:
		ph = 2
	case phase.Succeeded:
		ph = 3
	case phase.Failed:
		ph = 4
	default:
		ph = 5
	}
	s |= ph << 57
	if m.conds.sandboxReady {
		s |= 1 << 60
	}
	if m.conds.restartingAll {
		s |= 1 << 61
	}
	return s | 1<<62 // never 0
}

// maxSigContainers is how many containers condSig packs (three bits each, below the phase's).
const maxSigContainers = 19

// conditions are the pod's conditions for these statuses at now, from the last ones (conds).
func (m *Machine) conditions(init, apps []phase.ContainerStatus, now time.Time) []phase.Condition {
	var buf [2 * nKubelet]phase.Condition
	prev := m.conds.prev(buf[:0], m.startTime)
	return phase.Conditions(phase.ConditionInput{
		Spec: m.spec, InitStatuses: init, Statuses: apps, Phase: m.podPhase,
		SandboxReady: m.conds.sandboxReady, RestartingAllContainers: m.conds.restartingAll,
		InSpecOrder: true, // statusLists are in spec order, and the spec passed Validate
	}, prev, now)
}

// nKubelet is how many conditions kubelet owns.
const nKubelet = 6

// kubeletOrder is the order in which phase.Conditions makes kubelet's own conditions.
func kubeletOrder() [nKubelet]phase.ConditionType {
	return [nKubelet]phase.ConditionType{phase.PodReadyToStartContainers, phase.PodInitialized, phase.PodReady,
		phase.ContainersReady, phase.PodScheduled, phase.AllContainersRestarting}
}

// condState is what a machine keeps of its pod's conditions: of kubelet's own, only status and
// lastTransitionTime, which is all phase.Conditions reads of the previous ones (reasons and
// messages follow from the containers, and Status makes them again from the same input); the
// others (DisruptionTarget, readiness gates, from a restored status) as they are. It is a
// quarter of the []phase.Condition an idle pod would otherwise hold.
type condState struct {
	// ltt are the lastTransitionTimes after the machine's start; lttFull those that are no
	// stamps (nil while there are none).
	ltt     [nKubelet]stamp.Stamp
	lttFull *[nKubelet]time.Time
	// extra are the conditions kubelet does not own, as the last refresh kept them; after a
	// restore, until the first refresh (rawPending), the restored status's conditions as they are.
	extra []phase.Condition
	sig   uint64     // the last refresh's condSig
	texts *condTexts // the reasons and messages; nil while all are empty
	// status holds a condStatus code each; 0: the pod has no such condition.
	status     [nKubelet]uint8
	rawPending bool
	// The input of the last refresh besides the containers and the phase, for Status.
	sandboxReady, restartingAll bool
}

// lastTransition is the lastTransitionTime of the i-th of kubeletOrder.
func (cs *condState) lastTransition(i int, base time.Time) time.Time {
	if cs.ltt[i] == stamp.None {
		return cs.lttFull[i]
	}
	return cs.ltt[i].Time(base)
}

// condTexts are the reasons and messages of kubelet's conditions, by kubeletOrder.
type condTexts [nKubelet]struct{ reason, message string }

// count is how many conditions full makes.
func (cs *condState) count() int {
	n := len(cs.extra)
	for _, st := range cs.status {
		if st != 0 {
			n++
		}
	}
	return n
}

// full appends the conditions the last refresh made (keep), complete with their reasons and
// messages, in phase.Conditions's order.
func (cs *condState) full(dst []phase.Condition, base time.Time) []phase.Condition {
	dst = append(dst, cs.extra...)
	for i, t := range kubeletOrder() {
		if cs.status[i] == 0 {
			continue
		}
		c := phase.Condition{Type: t, Status: statusOf(cs.status[i]), LastTransitionTime: cs.lastTransition(i, base)}
		if cs.texts != nil {
			c.Reason, c.Message = cs.texts[i].reason, cs.texts[i].message
		}
		dst = append(dst, c)
	}
	return dst
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
func (cs *condState) prev(dst []phase.Condition, base time.Time) []phase.Condition {
	if cs.rawPending {
		return cs.extra
	}
	dst = append(dst, cs.extra...)
	for i, t := range kubeletOrder() {
		if cs.status[i] != 0 {
			dst = append(dst, phase.Condition{Type: t, Status: statusOf(cs.status[i]), LastTransitionTime: cs.lastTransition(i, base)})
		}
	}
	return dst
}

// statusOf is the status of a code; codeOther gives one phase never makes.
func statusOf(code uint8) phase.ConditionStatus {
	switch code {
	case codeTrue:
		return phase.ConditionTrue
	case codeFalse:
		return phase.ConditionFalse
	case codeUnknown:
		return phase.ConditionUnknown
	}
	return "?"
}

// keep records conds, the output of phase.Conditions: the conditions kubelet does not own come
// first and are the previous ones unchanged, so only the first refresh after a restore copies
// them; kubelet's own follow in kubeletOrder, each type once.
func (cs *condState) keep(conds []phase.Condition, base time.Time) {
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
	// A condition whose status is the one kept keeps its lastTransitionTime (phase.Conditions
	// takes it from prev, which came from here): only the others need a new stamp.
	reuse := !cs.rawPending
	cs.rawPending = false
	var status [nKubelet]uint8
	var texts condTexts
	hasTexts, whole := false, false
	order := kubeletOrder()
	k := 0
	for j := n; j < len(conds); j++ {
		c := &conds[j]
		for k < nKubelet && order[k] != c.Type {
			k++
		}
		if k == nKubelet {
			break // not in kubelet's order: cannot be phase.Conditions' output
		}
		status[k] = statusCode(c.Status)
		if !reuse || cs.status[k] != status[k] {
			cs.ltt[k] = stamp.Of(base, c.LastTransitionTime)
			if cs.ltt[k] == stamp.None {
				if cs.lttFull == nil {
					cs.lttFull = new([nKubelet]time.Time)
				}
				cs.lttFull[k] = c.LastTransitionTime
			}
		}
		whole = whole || cs.ltt[k] == stamp.None
		if c.Reason != "" || c.Message != "" {
			texts[k].reason, texts[k].message = c.Reason, c.Message
			hasTexts = true
		}
	}
	cs.status = status
	if !whole {
		cs.lttFull = nil
	}
	if !hasTexts {
		cs.texts = nil // an idle pod's conditions have none
		return
	}
	if cs.texts == nil {
		cs.texts = new(condTexts)
	}
	*cs.texts = texts
}

// restarting reports whether a container will run again: one being prepared or started, one
// that exited and waits for its next start, one in an unknown state being killed before its
// replacement, or every container while the pod is killed for a changed sandbox and a new one
// is made (kubelet kills and starts in one sync, computePodActions having chosen what to start
// from the statuses before the kill, and reports the phase after).
func (m *Machine) restarting() bool {
	if (m.stop != nil && m.stop.purpose == purposeSandbox) || m.sandbox.creating {
		return true
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.inFlight() || c.stage == starting || c.stage == postStart || (c.stage == idle && c.exit != nil && !c.final && !c.succeeded) {
			return true
		}
		if c.stage == stopping && c.rare != nil && c.rare.unknown {
			return true
		}
	}
	return false
}
