package lifecycle

import (
	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
	"github.com/podlife/podlife/termination"
)

// sync moves the pod forward as far as it can at m.now: kubelet's SyncPod, level-triggered, so
// that any event (a Tick included) leads to the same place.
func (m *Machine) sync() {
	defer m.refreshStatus()
	if m.Stopped() {
		return
	}
	m.tickStops()
	m.checkActiveDeadline()
	switch {
	case m.stop != nil:
		m.syncStop()
		if m.stop != nil {
			m.syncProbes() // readiness keeps running while containers stop
		}
		return
	case m.terminal != notTerminal:
		m.releaseSandbox()
		return
	}
	if m.restartingAll && !m.finishRestartAll() {
		return
	}
	if m.finishedOrFailed() {
		return
	}
	if !m.prepared() {
		return
	}
	m.syncContainers()
	m.syncProbes()
	m.finishedOrFailed()
}

// prepared runs the pod's setup and sandbox, and reports whether containers may run.
func (m *Machine) prepared() bool {
	if m.setup == setupDone && m.sandbox.ready {
		return true
	}
	if m.now.Before(m.setupAt()) {
		return false
	}
	switch {
	case m.setup == setupNone:
		m.setup = setupRunning
		m.emit(Action{Type: SetupPod})
	case m.setup == setupDone && !m.sandbox.creating:
		if m.noNewSandbox() { // the pod is just finished: stop what runs, then it is terminal
			if m.anyAlive() || m.anyInFlight() {
				m.startPodStop(purposeFinished, m.specGrace())
			} else {
				m.becomeTerminal(false)
			}
			return false
		}
		if m.anyAlive() { // the sandbox changed: kill everything first
			m.startPodStop(purposeSandbox, m.specGrace())
			return false
		}
		if m.sandbox.id != "" {
			m.emit(Action{Type: StopSandbox, SandboxID: m.sandbox.id, Reason: "SandboxChanged"})
			m.sandbox.attempt++
		}
		m.sandbox.creating = true
		m.sandbox.id, m.sandbox.ip = "", ""
		m.initDone = false
		for ci := range m.ctrs {
			c := &m.ctrs[ci]
			c.ran = false
			if c.regularInit() {
				c.succeeded = false
			}
		}
		m.emit(Action{Type: RunSandbox, Attempt: m.sandbox.attempt})
	}
	return false
}

// noNewSandbox is kubelet's exception to making a new sandbox (computePodActions): under
// restartPolicy Never a pod that has already run containers is just finished.
func (m *Machine) noNewSandbox() bool {
	if m.spec.RestartPolicy != podlife.RestartNever || m.sandbox.id == "" {
		return false
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.exit != nil || c.alive() {
			return true
		}
	}
	return false
}

// syncContainers starts what may start: the init containers kubelet's computeInitContainerActions
// would start (see syncInitContainers), then, once the pod is initialized, every app container.
func (m *Machine) syncContainers() {
	if !m.syncInitContainers() {
		return
	}
	for ci := int(m.nInit); ci < len(m.ctrs); ci++ {
		c := &m.ctrs[ci]
		m.ensure(c)
	}
}

// syncInitContainers is kubelet's computeInitContainerActions (SidecarContainers): it walks the
// init containers from the last to the first, guided by the furthest one that ran in this sandbox
// (kubelet relies on the last one because completed init containers may have been removed). Every
// init container before that one counts as having run: a regular one is skipped, a sidecar that
// exited (or never ran here) is started again, all in this sync. The container after the furthest
// initialized one (a regular one exited 0, a sidecar started) starts next. The pod is initialized
// when the last init container is, or when an app container exists and has not exited in this
// sandbox (created, running or stopping); then the app containers start, even while an earlier
// sidecar is restarting. It reports whether the pod is initialized. ensure applies back-off and
// the restart policy to each container it is asked to start.
func (m *Machine) syncInitContainers() bool {
	n := int(m.nInit)
	if n == 0 {
		return true
	}
	initialized := false
	for ci := n; ci < len(m.ctrs); ci++ {
		if m.ctrs[ci].alive() {
			initialized = true
			break
		}
	}
	var start startSet
	start.init(n)
	prev := initialized // the init container before the current one counts as having run
	for i := n - 1; i >= 0; i-- {
		c := &m.ctrs[i]
		if !c.ran {
			if prev && c.sidecar {
				start.add(i)
			}
			continue
		}
		if prev && !c.sidecar {
			continue // after initialization only sidecars are kept running
		}
		switch {
		case c.inFlight() || c.stage == starting || c.stage == postStart:
			// A new instance is on its way; kubelet's start of it is in flight here too.
		case c.alive():
			if c.sidecar && c.started() {
				if i == n-1 {
					initialized = true
				} else if !prev {
					start.add(i + 1)
				}
			}
		case c.regularInit() && c.succeeded:
			if i == n-1 {
				initialized = true
			} else {
				start.add(i + 1)
			}
		case c.regularInit() && c.final:
			return false // failed for good: the pod is finished (finishedOrFailed), nothing starts
		default: // exited: a sidecar restarts, a failed regular init container is retried
			start.add(i)
		}
		prev = true
	}
	if !prev {
		start.add(0)
	}
	for i := 0; i < n; i++ {
		if start.has(i) {
			m.ensure(&m.ctrs[i])
		}
	}
	return initialized
}

// startSet is the init containers syncInitContainers starts, by index: a bit mask, and a slice
// only for a pod with more than 64 of them.
type startSet struct {
	bits uint64
	more []bool
}

func (s *startSet) init(n int) {
	if n > 64 {
		s.more = make([]bool, n)
	}
}

func (s *startSet) add(i int) {
	if s.more != nil {
		s.more[i] = true
		return
	}
	s.bits |= 1 << uint(i)
}

func (s *startSet) has(i int) bool {
	if s.more != nil {
		return s.more[i]
	}
	return s.bits&(1<<uint(i)) != 0
}

// ensure starts a new instance of c when none is in flight, it may run again, and its
// back-off or retry time has come.
func (m *Machine) ensure(c *ctr) {
	if c.stage != idle || c.final {
		return
	}
	if r := c.rare; r != nil && r.waitReason == phase.ReasonErrImagePull && !m.now.Before(r.waitSince.Add(retryPeriod)) && m.now.Before(r.retryAt) {
		m.setWaiting(c, phase.ReasonImagePullBackOff, restart.ImagePullBackOffMessage(c.spec.Image))
	}
	if m.now.Before(c.retryAt()) || (c.exit != nil && m.now.Before(c.restartAt())) {
		return
	}
	if r := c.rare; r != nil && r.next {
		r.next = false // restored with the replacement's number already
	} else if r != nil && r.replace {
		// The replacement of an instance killed in an unknown state: a new attempt, but no step on
		// the crash-loop curve (kubelet's doBackOff looks only at exited instances).
		r.replace = false
		c.attempt++
	} else if c.exit != nil && c.status.RestartCount == c.attempt {
		// A new instance after an exit: the attempt number counts restarts in this pod.
		c.setCrashLoop(c.crashLoop().Restarted(m.crashBackoff(), c.exit.FinishedAt, m.now))
		c.attempt++
	}
	if !c.init {
		m.initDone = true
	}
	c.stage = pulling
	c.clearRetry()
	m.emit(Action{Type: PullImage, Container: c.spec.Name, Image: c.spec.Image, PullPolicy: c.spec.ImagePullPolicy})
}

// syncProbes asks for every probe run that is due.
func (m *Machine) syncProbes() {
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.stage != running && c.stage != stopping {
			continue
		}
		for _, k := range probeKinds {
			if !c.hasProbe[k] || c.inflight[k] {
				continue
			}
			if t, ok := c.tracker(k).NextRun(); ok && !t.After(m.now) {
				c.inflight[k] = true
				m.emit(Action{Type: RunProbe, Container: c.spec.Name, ContainerID: c.id, Probe: k, ProbeSpec: probe.For(c.spec, k)})
			}
		}
	}
}

// finishedOrFailed ends a pod whose app containers all exited for good, or whose regular init
// container failed for good: remaining sidecars are stopped, then the phase is terminal.
func (m *Machine) finishedOrFailed() bool {
	failedInit := false
	for ci := range m.ctrs[:m.nInit] {
		c := &m.ctrs[ci]
		if c.regularInit() && c.final && c.exit != nil && c.exit.ExitCode != 0 {
			failedInit = true
		}
	}
	done := true
	for ci := int(m.nInit); ci < len(m.ctrs); ci++ {
		c := &m.ctrs[ci]
		if !c.final || c.stage != idle {
			done = false
		}
	}
	if !failedInit && !done {
		return false
	}
	if m.anyAlive() || m.anyInFlight() {
		m.startPodStop(purposeFinished, m.specGrace())
		return true
	}
	m.becomeTerminal(false)
	return true
}

func (m *Machine) anyAlive() bool {
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.alive() {
			return true
		}
	}
	return false
}

func (m *Machine) anyInFlight() bool {
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.inFlight() {
			return true
		}
	}
	return false
}

func (m *Machine) specGrace() termination.Grace {
	g, err := termination.GracePeriod(termination.GraceRequest{SpecSeconds: m.spec.TerminationGracePeriodSeconds})
	if err != nil { // the spec was validated; keep the default rather than fail
		return termination.Grace{Period: termination.MinimumPodGracePeriod}
	}
	return g
}
