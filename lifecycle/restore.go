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
	Sandbox  SandboxCheckpoint `json:"sandbox"`
	InitDone bool              `json:"initDone,omitempty"`
	Terminal phase.Phase       `json:"terminal,omitempty"`
	// Deleting says the pod is being deleted, with the grace the machine took (nil: the spec's):
	// a restored machine goes on stopping it rather than starting anything.
	Deleting   *DeletingCheckpoint            `json:"deleting,omitempty"`
	Containers []ContainerCheckpoint          `json:"containers,omitempty"`
	Pulls      map[string]restart.PullBackoff `json:"pulls,omitempty"`
}

// DeletingCheckpoint is a deletion under way.
type DeletingCheckpoint struct {
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
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
	if m.deleted {
		cp.Deleting = &DeletingCheckpoint{}
		if m.more != nil && m.more.deleteSeconds != nil {
			g := *m.more.deleteSeconds
			cp.Deleting.GracePeriodSeconds = &g
		}
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
//   - a container of the current instance that runs is adopted: started and ready stay as the
//     status showed them (KEP-4781, the 1.35 default), probes run at once and then every period,
//     and every result counts from there (probe.Resume);
//   - one that was created but not started is started;
//   - one that exited meanwhile is taken as that exit, and the restart policy and back-off apply;
//   - one the runtime reports in an unknown state is handled as a ContainerUnknown event;
//   - one the status shows alive that the runtime no longer has exited with 137,
//     ContainerStatusUnknown;
//   - restart counts and back-off curves are the persisted ones.
//
// If the current sandbox is not ready any more (it died while no agent ran), or is ready but has
// no IP (and the pod is not on the host network), what runs in it is killed and the pod gets a
// new sandbox with its init containers run again, as on the live path after a SandboxLost
// (kubelet's podSandboxChanged): the same SandboxChanged event, the same kills, no crash-loop
// back-off for them. A pod without any sandbox is set up again. A terminal pod stays terminal;
// its leftover sandboxes are stopped.
//
// The checkpoint may be empty, or miss containers, as for a node agent behind a Kubernetes API
// server, which keeps none: kubelet itself derives everything from the API status and the
// runtime. Then Restore infers what it can. The current sandbox is the newest the runtime has
// (by attempt). A container's current instance is its newest in that sandbox, and its attempt
// the larger of that instance's and the status's restartCount. An app container in that sandbox
// means the pod had initialized, and a regular init container the runtime no longer has is then
// taken as completed (as kubelet's convertToAPIContainerStatuses does). A container that exited
// and that the runtime no longer has runs again only if its restart policy says so (kubelet would
// start it again, having no status for it: podlife keeps the exit it persisted). A terminal phase
// in the status stays. Crash-loop and image-pull back-off curves start over: kubelet keeps them
// in memory only (its flowcontrol.Backoff), so a restarted kubelet starts them over too.
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
	present, broken := m.restoreSandbox(cp.Sandbox, obs.Sandboxes)
	persisted := map[string]phase.ContainerStatus{}
	for _, st := range status.InitContainerStatuses {
		persisted[st.Name] = st
	}
	for _, st := range status.ContainerStatuses {
		persisted[st.Name] = st
	}
	// A checkpoint of another sandbox than the current one is older than the runtime: what it
	// says of the containers (their instances, whether they completed) is inferred instead.
	stale := cp.Sandbox.ID != "" && cp.Sandbox.ID != m.sandbox.id
	checkpointed := map[string]ContainerCheckpoint{}
	for _, cc := range cp.Containers {
		if stale {
			cc.Final, cc.Succeeded = false, false
		}
		checkpointed[cc.Name] = cc
	}
	inferred := make([]bool, len(m.ctrs)) // no checkpoint for the container: infer its state
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if st, ok := persisted[c.spec.Name]; ok {
			c.status = st
			c.status.Image = c.spec.Image
		}
		cc, ok := checkpointed[c.spec.Name]
		inferred[ci] = !ok || stale
		c.attempt = max(cc.Attempt, c.status.RestartCount)
		c.setCrashLoop(cc.Crash)
		c.final, c.succeeded = cc.Final, cc.Succeeded
		c.ran = c.succeeded // a completed init container ran in the current sandbox
		c.exit = lastExit(c.status)
	}
	terminal := cp.Terminal
	if terminal == "" && status.Phase.IsTerminal() {
		terminal = status.Phase
	}
	if terminal != "" {
		m.setTerminal(terminal)
		if status.Reason != "" || status.Message != "" {
			r := m.moreOf()
			r.reason, r.message = status.Reason, status.Message
		}
		m.sandbox.stopped = true
		for _, sb := range obs.Sandboxes {
			m.emit(Action{Type: StopSandbox, SandboxID: sb.ID, Reason: "PodTerminated"})
		}
		m.dirty = true
		m.refreshStatus()
		return m, nil
	}
	if present && cp.Sandbox.ID != m.sandbox.id {
		// Without a checkpoint of this sandbox: an app container in it says the pod initialized.
		m.initDone = false
		for _, o := range obs.Containers {
			if o.SandboxID == m.sandbox.id && m.isApp(o.Name) {
				m.initDone = true
			}
		}
	}
	var unknown []*ctr
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		switch m.adopt(c, obs.Containers, present, inferred[ci]) {
		case adoptedUnknown:
			unknown = append(unknown, c)
		case notAdopted:
			if inferred[ci] {
				m.inferIdle(c, obs.Containers)
			}
		}
	}
	for _, c := range unknown { // once every container is in place: the phase decides (containerUnknown)
		m.containerUnknown(c)
	}
	if broken && !m.noNewSandbox() {
		m.record(Normal, "SandboxChanged", "", messageSandboxChanged)
	}
	if d := cp.Deleting; d != nil {
		// Being deleted: nothing new starts; the stop goes on with the grace the machine had.
		m.moreOf().deleteSeconds = d.GracePeriodSeconds
		m.deleteRequested(d.GracePeriodSeconds)
	}
	for _, sb := range obs.Sandboxes {
		if sb.ID != m.sandbox.id {
			m.emit(Action{Type: StopSandbox, SandboxID: sb.ID, Reason: "SandboxChanged"})
		}
	}
	m.dirty = true
	m.sync()
	return m, nil
}

// restoreSandbox finds the pod's current sandbox: the checkpoint's, or without one the newest
// the runtime has. It reports whether the runtime has that sandbox (present), so that its
// containers are adopted: then the pod's setup is done, and the sandbox is ready unless it is
// broken: not ready any more, or without an IP while the pod is not on the host network
// (kubelet's podSandboxChanged), when what runs in it is killed before a new one is made.
func (m *Machine) restoreSandbox(cp SandboxCheckpoint, obs []SandboxInfo) (present, broken bool) {
	m.sandbox = sandbox{id: cp.ID, ip: cp.IP, attempt: cp.Attempt}
	var cur, newest *SandboxInfo
	for i := range obs {
		sb := &obs[i]
		if cp.ID != "" && sb.ID == cp.ID {
			cur = sb
		}
		if newest == nil || sb.Attempt > newest.Attempt || (sb.Attempt == newest.Attempt && sb.Ready && !newest.Ready) {
			newest = sb
		}
	}
	if cp.ID == "" || (newest != nil && newest.Attempt > cp.Attempt) {
		// No checkpoint, or one older than the sandboxes (its writes were lost while the store
		// was away): the newest sandbox is the current one.
		cur = newest
		m.sandbox.attempt = 0
		if cur != nil {
			m.sandbox.attempt = cur.Attempt
		}
	}
	if cur == nil || cur.ID == "" {
		return false, false
	}
	m.sandbox.id, m.sandbox.ip = cur.ID, cur.IP
	m.setup = setupDone
	if !cur.Ready {
		return true, true
	}
	if cur.IP == "" && !m.spec.HostNetwork {
		return true, true
	}
	m.sandbox.ready = true
	if cur.IP != "" {
		m.podIP = cur.IP
	}
	return true, false
}

// isApp reports whether name is an app container of the pod.
func (m *Machine) isApp(name string) bool {
	for ci := int(m.nInit); ci < len(m.ctrs); ci++ {
		if m.ctrs[ci].spec.Name == name {
			return true
		}
	}
	return false
}

// inferIdle decides, without a checkpoint, what follows for a container the runtime has no
// instance of in the current sandbox. Its next instance comes after the newest the runtime has
// in any sandbox of the pod (kubelet: that one's restartCount + 1). A regular init container is
// completed when an app container exists in the current sandbox (the pod initialized). A
// container whose status shows an exit runs again only if its restart policy says so; a sidecar
// always does.
func (m *Machine) inferIdle(c *ctr, all []ContainerInfo) {
	for i := range all {
		if o := &all[i]; o.Name == c.spec.Name && o.Attempt >= c.attempt {
			c.attempt = o.Attempt + 1
		}
	}
	if c.regularInit() && m.initDone {
		c.succeeded, c.ran = true, true
		if t := c.status.State.Terminated; t == nil || t.ExitCode != 0 {
			// kubelet's convertToAPIContainerStatuses shows it so.
			st := phase.Exited(c.status, phase.TerminatedState{Reason: phase.ReasonCompleted, Message: messageInitTreatedAsExited})
			st.Ready = true
			m.setStatus(c, st)
			c.exit = c.status.State.Terminated
		}
		return
	}
	if c.exit == nil || c.sidecar || c.stage != idle {
		return
	}
	if c.regularInit() && c.exit.ExitCode == 0 {
		return // ran in an earlier sandbox: it runs again in this one
	}
	c.final = !restart.WillRestart(m.spec.RestartPolicy, c.spec, c.exit.ExitCode)
}

// messageInitTreatedAsExited is kubelet's message on a regular init container the runtime no
// longer has, in a pod that has initialized.
const messageInitTreatedAsExited = "Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally"

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

// adoption is what adopt made of a container.
type adoption uint8

const (
	notAdopted     adoption = iota // no instance of it runs in the current sandbox
	adopted                        // its instance runs, was created or exited meanwhile
	adoptedUnknown                 // its instance is in an unknown state (see containerUnknown)
)

// adopt matches c with the runtime's instance of it in the current sandbox (present: that
// sandbox is up): the checkpointed attempt, or without a checkpoint (inferred) the newest.
func (m *Machine) adopt(c *ctr, all []ContainerInfo, present, inferred bool) adoption {
	var cur *ContainerInfo
	for i := range all {
		o := &all[i]
		if !present || o.Name != c.spec.Name || o.SandboxID != m.sandbox.id {
			continue
		}
		// The checkpointed instance, or a newer one: a checkpoint may be older than the runtime
		// (its writes were lost while the store was away).
		if inferred || o.ID == c.status.ContainerID || o.Attempt >= c.attempt {
			if cur == nil || o.Attempt > cur.Attempt {
				cur = o
			}
		}
	}
	// The status shows an instance alive: Running, or created and waiting to start.
	shownAlive := c.status.ContainerID != "" && (c.status.State.Running != nil || (c.status.State.Waiting != nil && c.status.State.Waiting.Reason == ""))
	// An exited instance older than the checkpoint's is one whose exit the status holds; one of
	// the checkpoint's number is newer than the status (created as the agent stopped, before the
	// status that shows it was written) and is adopted with its exit, never created again.
	if cur != nil && cur.State == ContainerStateExited && c.exit != nil && !shownAlive && !inferred &&
		cur.Attempt < c.attempt {
		cur = nil // an old instance whose exit the status already holds
		if c.status.RestartCount == c.attempt {
			// The status counts the next instance already (it replaces one killed in an unknown
			// state): it gets that number, with no step on the crash-loop curve.
			c.more().next = true
		}
	}
	if cur == nil {
		if shownAlive {
			c.id = c.status.ContainerID
			c.stage = running
			m.exited(c, phase.TerminatedState{ExitCode: phase.ExitCodeStatusUnknown, Reason: phase.ReasonContainerStatusUnknown,
				Message: phase.MessageContainerVanished, FinishedAt: m.now, ContainerID: c.id})
		}
		return notAdopted
	}
	c.id = cur.ID
	c.attempt = cur.Attempt // the runtime's number, which kubelet shows as restartCount too
	c.ran = true
	// The machine before was killing this instance because its state was unknown (see
	// containerUnknown): the status shows it gone, its restartCount already one up.
	killedUnknown := cur.ID == c.status.ContainerID && c.status.State.Terminated != nil &&
		c.status.State.Terminated.Reason == phase.ReasonContainerStatusUnknown
	shown := c.status.RestartCount
	switch cur.State {
	case ContainerStateCreated:
		c.stage = starting
		st := c.status
		st.State = phase.State{Waiting: &phase.WaitingState{}}
		st.ContainerID, st.RestartCount = cur.ID, c.attempt
		m.setStatus(c, st)
		m.emit(Action{Type: StartContainer, Container: c.spec.Name, ContainerID: c.id})
	case ContainerStateRunning, ContainerStateExited:
		m.adoptRunning(c, cur)
		if cur.State == ContainerStateExited {
			if killedUnknown {
				// Its exit ends that kill, as on the live path: a new instance replaces it, with
				// no step on the crash-loop curve, and the count shown does not go back.
				c.more().unknown = true
			}
			m.exited(c, exitOf(cur, c, m.startedAt(c), m.now))
			if st := c.status; st.RestartCount < shown {
				st.RestartCount = shown
				m.setStatus(c, st)
			}
		}
	default: // unknown: it may run; containerUnknown decides once all are in place
		c.stage = running
		m.setStartedAt(c, cur.StartedAt)
		st := c.status
		if st.ContainerID != cur.ID && !cur.StartedAt.IsZero() {
			// The status is older than the instance: it ran, as the status would show it.
			st = phase.RunningAgain(st, cur.StartedAt, c.attempt)
		}
		st.ContainerID, st.RestartCount = cur.ID, max(st.RestartCount, c.attempt)
		m.setStatus(c, st)
		return adoptedUnknown
	}
	return adopted
}

// adoptRunning takes over a running instance: started and ready stay as the status showed them
// (KEP-4781), the probes go on from there (probe.Resume): they run at once and then every period,
// without making up for the ticks before now, and every result counts.
func (m *Machine) adoptRunning(c *ctr, o *ContainerInfo) {
	c.stage = running
	startedAt := o.StartedAt
	if startedAt.IsZero() && c.status.State.Running != nil {
		startedAt = c.status.State.Running.StartedAt
	}
	m.setStartedAt(c, startedAt)
	st := c.status
	if st.State.Running == nil || st.ContainerID != o.ID {
		st = phase.RunningAgain(c.status, startedAt, c.attempt)
	}
	st.ContainerID, st.RestartCount = o.ID, c.attempt
	for _, k := range probeKinds {
		if !c.hasProbe[k] {
			continue
		}
		kept := k.InitialResult()
		switch {
		case k == probe.Readiness && st.Ready:
			kept = probe.Success
		case k == probe.Startup && st.IsStarted():
			kept = probe.Success
		}
		*c.tracker(k) = probe.Resume(k, probe.For(c.spec, k), c.id, startedAt, m.now, kept)
	}
	if st.IsStarted() || !c.hasProbe[probe.Startup] {
		m.markStarted(c, &st)
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
