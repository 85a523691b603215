package lifecycle

import (
	"maps"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
)

// Checkpoint is what a Machine knows beyond its PodStatus that a restarted agent needs to go on
// where the last one stopped: the sandbox, each container's place on its back-off curve and
// whether it will run again, and the image-pull back-off. Persist it beside the status (the Agent
// does) and hand both to Restore.
type Checkpoint struct {
	Sandbox    SandboxCheckpoint              `json:"sandbox"`
	InitDone   bool                           `json:"initDone,omitempty"`
	Terminal   phase.Phase                    `json:"terminal,omitempty"`
	Containers []ContainerCheckpoint          `json:"containers,omitempty"`
	Pulls      map[string]restart.PullBackoff `json:"pulls,omitempty"`
}

// SandboxCheckpoint is the pod's current sandbox.
type SandboxCheckpoint struct {
	ID      string `json:"id,omitempty"`
	IP      string `json:"ip,omitempty"`
	Attempt int32  `json:"attempt,omitempty"`
}

// ContainerCheckpoint is one container's restart state.
type ContainerCheckpoint struct {
	Name string `json:"name"`
	// Attempt is the number of the container's next or current instance.
	Attempt   int32             `json:"attempt,omitempty"`
	Crash     restart.CrashLoop `json:"crash,omitzero"`
	Final     bool              `json:"final,omitempty"`
	Succeeded bool              `json:"succeeded,omitempty"`
}

// Checkpoint is the machine's restart state now.
func (m *Machine) Checkpoint() Checkpoint {
	cp := Checkpoint{
		Sandbox:  SandboxCheckpoint{ID: m.sandbox.id, IP: m.sandbox.ip, Attempt: m.sandbox.attempt},
		InitDone: m.initDone,
		Terminal: m.terminalPhase(),
	}
	if p := m.pulls(); len(p) > 0 {
		cp.Pulls = maps.Clone(p)
	}
	cp.Containers = make([]ContainerCheckpoint, len(m.ctrs))
	for i := range m.ctrs {
		c := &m.ctrs[i]
		cp.Containers[i] = ContainerCheckpoint{Name: c.spec.Name, Attempt: c.attempt, Crash: c.crashLoop(), Final: c.final, Succeeded: c.succeeded}
	}
	return cp
}

// Observed is what the runtime has of one pod when an agent starts: its sandboxes and
// containers, as Runtime.ListSandboxes and ListContainers report them.
type Observed struct {
	Sandboxes  []SandboxInfo
	Containers []ContainerInfo
}

// Restore rebuilds the machine of a pod from its last persisted status and checkpoint and from
// what the runtime has now, so that a restarted agent goes on without starting anything twice:
//   - a container of the current instance that runs is adopted (probes start over, as kubelet's
//     do after a restart; started and ready are kept from the status);
//   - one that was created but not started is started;
//   - one that exited meanwhile is taken as that exit, and the restart policy and back-off apply;
//   - one the status shows alive that the runtime no longer has exited with 137,
//     ContainerStatusUnknown;
//   - restart counts and back-off curves are the persisted ones.
//
// If the checkpointed sandbox is not ready any more, the pod is set up again and gets a new
// sandbox, with its init containers run again. A terminal pod stays terminal; its leftover
// sandboxes are stopped.
func Restore(ref PodRef, spec podlife.PodSpec, status phase.PodStatus, cp Checkpoint, obs Observed, now time.Time, opts Options) (*Machine, error) {
	start := status.StartTime
	if start.IsZero() || start.After(now) {
		start = now
	}
	m, err := New(ref, spec, start, opts)
	if err != nil {
		return nil, err
	}
	m.Advance() // drop what New asked for: the restored state decides
	m.setup = setupNone
	m.now = now
	m.podIP = status.PodIP
	m.conds.extra, m.conds.rawPending = status.Conditions, true
	m.initDone = cp.InitDone
	if len(cp.Pulls) > 0 {
		m.moreOf().pulls = maps.Clone(cp.Pulls)
	}
	m.sandbox = sandbox{id: cp.Sandbox.ID, ip: cp.Sandbox.IP, attempt: cp.Sandbox.Attempt}
	for _, sb := range obs.Sandboxes {
		if sb.ID == cp.Sandbox.ID && sb.ID != "" && sb.Ready {
			m.sandbox.ready = true
			m.setup = setupDone
		}
	}
	persisted := map[string]phase.ContainerStatus{}
	for _, st := range status.InitContainerStatuses {
		persisted[st.Name] = st
	}
	for _, st := range status.ContainerStatuses {
		persisted[st.Name] = st
	}
	checkpointed := map[string]ContainerCheckpoint{}
	for _, cc := range cp.Containers {
		checkpointed[cc.Name] = cc
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if st, ok := persisted[c.spec.Name]; ok {
			c.status = st
			c.status.Image = c.spec.Image
		}
		cc := checkpointed[c.spec.Name]
		c.attempt = max(cc.Attempt, c.status.RestartCount)
		c.setCrashLoop(cc.Crash)
		c.final, c.succeeded = cc.Final, cc.Succeeded
		c.exit = lastExit(c.status)
	}
	if cp.Terminal != "" {
		m.setTerminal(cp.Terminal)
		m.sandbox.stopped = true
		for _, sb := range obs.Sandboxes {
			m.emit(Action{Type: StopSandbox, SandboxID: sb.ID, Reason: "PodTerminated"})
		}
		m.dirty = true
		m.refreshStatus()
		return m, nil
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		m.adopt(c, obs.Containers)
	}
	for _, sb := range obs.Sandboxes {
		if sb.ID != m.sandbox.id || !m.sandbox.ready {
			m.emit(Action{Type: StopSandbox, SandboxID: sb.ID, Reason: "SandboxChanged"})
		}
	}
	m.dirty = true
	m.sync()
	return m, nil
}

// lastExit is how the container's last instance ended, as its status shows it.
func lastExit(st phase.ContainerStatus) *phase.TerminatedState {
	if t := st.State.Terminated; t != nil {
		return t
	}
	if st.State.Waiting != nil {
		return st.LastTerminationState.Terminated
	}
	return nil
}

// adopt matches c with the runtime's instance of its current attempt.
func (m *Machine) adopt(c *ctr, all []ContainerInfo) {
	var cur *ContainerInfo
	for i := range all {
		o := &all[i]
		if o.Name != c.spec.Name || (m.sandbox.ready && o.SandboxID != m.sandbox.id) {
			continue
		}
		if o.ID == c.status.ContainerID || o.Attempt == c.attempt {
			if cur == nil || o.Attempt > cur.Attempt {
				cur = o
			}
		}
	}
	// The status shows an instance alive: Running, or created and waiting to start.
	shownAlive := c.status.ContainerID != "" && (c.status.State.Running != nil || (c.status.State.Waiting != nil && c.status.State.Waiting.Reason == ""))
	if cur != nil && cur.State == ContainerStateExited && cur.ID != c.status.ContainerID && c.exit != nil && !shownAlive {
		cur = nil // an old instance whose exit the status already holds
	}
	if cur == nil || !m.sandbox.ready {
		if shownAlive {
			c.id = c.status.ContainerID
			c.stage = running
			m.exited(c, phase.TerminatedState{ExitCode: phase.ExitCodeStatusUnknown, Reason: phase.ReasonContainerStatusUnknown,
				Message: phase.MessageContainerVanished, FinishedAt: m.now, ContainerID: c.id})
		}
		return
	}
	c.id = cur.ID
	c.attempt = cur.Attempt
	switch cur.State {
	case ContainerStateCreated:
		c.stage = starting
		st := c.status
		st.State = phase.State{Waiting: &phase.WaitingState{}}
		st.ContainerID, st.RestartCount = cur.ID, cur.Attempt
		m.setStatus(c, st)
		m.emit(Action{Type: StartContainer, Container: c.spec.Name, ContainerID: c.id})
	case ContainerStateRunning, ContainerStateExited:
		m.adoptRunning(c, cur)
		if cur.State == ContainerStateExited {
			m.exited(c, exitOf(cur, c, m.startedAt(c), m.now))
		}
	default:
		c.id = ""
	}
}

// adoptRunning takes over a running instance: probes start over from its start time, started
// and ready stay as the status showed them.
func (m *Machine) adoptRunning(c *ctr, o *ContainerInfo) {
	c.stage = running
	startedAt := o.StartedAt
	if startedAt.IsZero() && c.status.State.Running != nil {
		startedAt = c.status.State.Running.StartedAt
	}
	m.setStartedAt(c, startedAt)
	st := c.status
	if st.State.Running == nil || st.ContainerID != o.ID {
		st = phase.RunningAgain(c.status, startedAt, o.Attempt)
	}
	st.ContainerID = o.ID
	for _, k := range probeKinds {
		if c.hasProbe[k] {
			*c.tracker(k) = probe.NewTracker(k, probe.For(c.spec, k), c.id, startedAt)
		}
	}
	if st.IsStarted() || !c.hasProbe[probe.Startup] {
		ready := st.Ready
		m.markStarted(c, &st)
		st.Ready = ready || !c.hasProbe[probe.Readiness]
	}
	m.setStatus(c, st)
}

func exitOf(o *ContainerInfo, c *ctr, hookAt, now time.Time) phase.TerminatedState {
	reason := o.Reason
	if reason == "" {
		reason = phase.ReasonCompleted
		if o.ExitCode != 0 {
			reason = phase.ReasonError
		}
	}
	started, finished := o.StartedAt, o.FinishedAt
	if started.IsZero() {
		started = hookAt
	}
	if finished.IsZero() || finished.After(now) {
		finished = now
	}
	return phase.TerminatedState{ExitCode: o.ExitCode, Signal: o.Signal, Reason: reason, Message: o.Message,
		StartedAt: started, FinishedAt: finished, ContainerID: o.ID}
}
