package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
)

// Errors Step returns; the machine is unchanged when Step fails. Test with errors.Is.
var (
	// ErrTimeWentBackwards: the event is earlier than one the machine already saw.
	ErrTimeWentBackwards = errors.New("lifecycle: event time went backwards")
	// ErrUnknownContainer: the event names a container or container ID the pod does not have.
	ErrUnknownContainer = errors.New("lifecycle: unknown container")
	// ErrStale: the event answers an action the machine no longer waits for (an older container
	// instance, a duplicate, a result that came after the pod moved on). It is safe to drop.
	ErrStale = errors.New("lifecycle: stale event")
	// ErrBadEvent: the event is malformed (unknown type, missing field, invalid spec update).
	ErrBadEvent = errors.New("lifecycle: bad event")
)

// PodRef identifies a pod.
type PodRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
}

// String is kubelet's format.Pod: name_namespace(uid).
func (r PodRef) String() string { return r.Name + "_" + r.Namespace + "(" + r.UID + ")" }

// Options tune a Machine. The zero value is kubelet's defaults.
type Options struct {
	// CrashLoop is the CrashLoopBackOff curve; nil means restart.CrashLoopBackoff().
	CrashLoop *restart.Backoff
	// ImagePull is the image-pull back-off curve; nil means restart.ImagePullBackoff().
	ImagePull *restart.Backoff
}

// Machine is one pod's lifecycle as a deterministic state machine, in the shape of etcd's raft
// node: Step feeds it an event, Ready hands out what to do, Advance acknowledges that. It does no
// I/O, reads no clock and starts no goroutine: the time of every event is in the event. The same
// events in the same order give the same actions and statuses.
//
// A Machine is not safe for concurrent use; one goroutine drives it (Agent does this).
type Machine struct {
	ref PodRef
	// spec is the defaulted spec: the machine's own, or a Template's that many machines read.
	// A shared spec is copied before anything in it changes (ownSpec).
	spec *podlife.PodSpec
	opts *Options // nil for the zero Options: kubelet's curves
	now  time.Time

	sandbox sandbox
	more    *machineMore // what only a pod whose setup, sandbox or pull failed needs
	ctrs    []ctr        // init containers, then app containers, in spec order: one allocation
	retired []retiredID  // earlier instance IDs of the containers

	nInit int32    // how many of ctrs are init containers
	stop  *podStop // a whole-pod stop: deletion, or the pod finished with sidecars left

	// The pod's status is kept in pieces and assembled by Status and refreshStatus, so that an
	// idle machine keeps each once and small: its phase, IP and start time here, the container
	// statuses in the containers, the conditions in conds.
	podPhase  phase.Phase
	podIP     string
	startTime time.Time
	conds     condState

	// Output until Advance: out holds the actions and records (a Template's machine borrows it
	// from the template's pool while it has output, so an idle machine holds none), outStatus
	// the status to persist.
	out       *output
	outStatus *phase.PodStatus
	tmpl      *Template // the machine's template (whose pool lends out), nil for one made by New

	setup setupStage
	// terminal is the phase the pod ended in (see terminalPhase): Succeeded, Failed, a phase
	// from a checkpoint kept in more, or none.
	terminal   terminalCode
	sharedSpec bool
	// initDone says an app container was created in the current sandbox: sidecar restarts no
	// longer hold app containers back.
	initDone bool
	// restartingAll: a RestartAllContainers rule matched; every container is being killed, then
	// the pod starts again from its first init container in the same sandbox (KEP-5532).
	restartingAll bool
	deleted       bool
	// deadlinePassed: the pod was active for spec.activeDeadlineSeconds (see activeDeadline).
	deadlinePassed bool
	dirty          bool
	kills          bool // a container may have a stop of its own under way (see tickStops)
}

// machineMore is the part of a machine for failed setups, sandboxes and pulls, and for pods of
// more than scanMax containers.
type machineMore struct {
	setupAt  time.Time                      // when the setup or sandbox may be retried
	pulls    map[string]restart.PullBackoff // image-pull back-off per image
	terminal phase.Phase                    // a restored terminal phase other than Succeeded, Failed
	// reason and message are the pod status's: why a terminal pod ended when its containers do
	// not say (DeadlineExceeded).
	reason, message string
	// deleteSeconds is the grace of the deletion the machine last took (nil: the spec's).
	deleteSeconds *int64
	// names and ids index ctrs by container name and current instance ID (see byName, byID).
	names, ids map[string]int32
}

// moreOf is m's rare part, made on first use: for writes.
func (m *Machine) moreOf() *machineMore {
	if m.more == nil {
		m.more = &machineMore{}
	}
	return m.more
}

// statusReason is the pod status's reason and message; empty for most pods.
func (m *Machine) statusReason() (reason, message string) {
	if m.more == nil {
		return "", ""
	}
	return m.more.reason, m.more.message
}

// setupAt is when the setup or sandbox may be retried; zero when none failed.
func (m *Machine) setupAt() time.Time {
	if m.more == nil {
		return time.Time{}
	}
	return m.more.setupAt
}

// pulls is the image-pull back-off per image; nil until a pull failed.
func (m *Machine) pulls() map[string]restart.PullBackoff {
	if m.more == nil {
		return nil
	}
	return m.more.pulls
}

// output is what a machine hands out in Ready. A template's machine hands out its status from
// here too (the machine's own otherwise).
type output struct {
	actions []Action
	records []Record
	status  phase.PodStatus
	lists   []phase.ContainerStatus // status's container lists
	conds   []phase.Condition       // status's conditions, when they did not change
}

type setupStage uint8

const (
	setupNone setupStage = iota
	setupRunning
	setupDone
)

type sandbox struct {
	id, ip   string
	attempt  int32
	failures int32
	creating bool
	ready    bool
	stopped  bool
}

// New makes the machine for a pod, validated and with defaults filled in (see
// podlife.PodSpec.Defaulted). now is when the pod was bound to this node; the first Ready asks
// for the pod's setup.
func New(ref PodRef, spec podlife.PodSpec, now time.Time, opts Options) (*Machine, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("lifecycle: pod %s: %w", ref, err)
	}
	d := spec.Defaulted()
	return newMachine(ref, &d, nil, now, opts), nil
}

// Template is a validated and defaulted pod spec that many machines share, read-only: a node or
// a simulation running many pods of one spec validates and defaults it once and keeps it once.
// It is safe for concurrent use.
type Template struct {
	spec podlife.PodSpec
	pool sync.Pool // of *output, lent to the machines while they have output
	// The initial container statuses (their states are shared: nothing changes a state in
	// place) and, by position in Machine.ctrs, the texts of the events each start records.
	initStatuses, statuses []phase.ContainerStatus
	texts                  []startTexts
	created                phase.WaitingState // the state of every created container
}

// startTexts are the messages of the Pulled, Created and Started events of one container.
type startTexts struct{ pulled, created, started string }

func newStartTexts(c *podlife.Container) startTexts {
	return startTexts{pulled: pulledText(c), created: createdText(c), started: startedText(c)}
}

func pulledText(c *podlife.Container) string {
	return fmt.Sprintf("Container image %q present", c.Image)
}
func createdText(c *podlife.Container) string { return "Created container: " + c.Name }
func startedText(c *podlife.Container) string { return "Started container " + c.Name }

// NewTemplate validates spec and fills in its defaults, as New does.
func NewTemplate(spec podlife.PodSpec) (*Template, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("lifecycle: template: %w", err)
	}
	t := &Template{spec: spec.Defaulted()}
	t.initStatuses, t.statuses = phase.InitialStatuses(&t.spec)
	for _, list := range [2][]podlife.Container{t.spec.InitContainers, t.spec.Containers} {
		for i := range list {
			t.texts = append(t.texts, newStartTexts(&list[i]))
		}
	}
	return t, nil
}

// Spec is the template's defaulted spec; do not change it.
func (t *Template) Spec() *podlife.PodSpec { return &t.spec }

// New makes the machine for a pod of the template's spec, as lifecycle.New does. The machine
// reads the template's spec and takes a copy of its own only when a SpecUpdated changes an image.
// Its Ready is lent by the template, the Status with its container lists and conditions too:
// after Advance the memory serves other machines of the template, so copy what you keep before
// (Status gives the machine's own copy). That keeps an idle machine small and a status change
// free of allocations.
func (t *Template) New(ref PodRef, now time.Time, opts Options) *Machine {
	return newMachine(ref, &t.spec, t, now, opts)
}

// newMachine makes a machine on a defaulted spec: the template's when tmpl is not nil.
func newMachine(ref PodRef, spec *podlife.PodSpec, tmpl *Template, now time.Time, opts Options) *Machine {
	m := &Machine{ref: ref, spec: spec, now: now}
	if opts != (Options{}) {
		o := opts // allocated only here: most machines have the zero Options
		m.opts = &o
	}
	var initStatuses, statuses []phase.ContainerStatus
	if tmpl != nil {
		m.tmpl, m.sharedSpec = tmpl, true
		initStatuses, statuses = tmpl.initStatuses, tmpl.statuses
	} else {
		initStatuses, statuses = phase.InitialStatuses(m.spec)
	}
	m.nInit = int32(len(m.spec.InitContainers))
	m.ctrs = make([]ctr, len(m.spec.InitContainers)+len(m.spec.Containers))
	for i := range m.spec.InitContainers {
		m.ctrs[i].setUp(&m.spec.InitContainers[i], true, i, initStatuses[i])
	}
	for i := range m.spec.Containers {
		m.ctrs[int(m.nInit)+i].setUp(&m.spec.Containers[i], false, i, statuses[i])
	}
	m.podPhase, m.startTime = phase.Pending, now
	m.dirty = true
	m.sync()
	return m
}

// createdState is the Waiting state of a created container, not started yet: the template's for
// its machines (states are never changed in place), a new one otherwise.
func (m *Machine) createdState() *phase.WaitingState {
	if m.tmpl != nil {
		return &m.tmpl.created
	}
	return &phase.WaitingState{}
}

// shared are the template's texts of c's start while the machine has the template's spec.
func (m *Machine) shared(c *ctr) (startTexts, bool) {
	if !m.sharedSpec {
		return startTexts{}, false
	}
	i := int(c.index)
	if !c.init {
		i += int(m.nInit)
	}
	return m.tmpl.texts[i], true
}

// The messages of c's Pulled, Created and Started events.

func (m *Machine) pulledText(c *ctr) string {
	if t, ok := m.shared(c); ok {
		return t.pulled
	}
	return pulledText(c.spec)
}

func (m *Machine) createdText(c *ctr) string {
	if t, ok := m.shared(c); ok {
		return t.created
	}
	return createdText(c.spec)
}

func (m *Machine) startedText(c *ctr) string {
	if t, ok := m.shared(c); ok {
		return t.started
	}
	return startedText(c.spec)
}

// ownSpec gives the machine its own copy of a shared spec before it changes it. Only container
// images and the pod's activeDeadlineSeconds change (a pointer replaced, never written through),
// so copying the spec and its container lists is enough.
func (m *Machine) ownSpec() {
	if !m.sharedSpec {
		return
	}
	own := *m.spec
	own.InitContainers = slices.Clone(m.spec.InitContainers)
	own.Containers = slices.Clone(m.spec.Containers)
	m.spec, m.sharedSpec = &own, false
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if c.init {
			c.spec = &own.InitContainers[c.index]
		} else {
			c.spec = &own.Containers[c.index]
		}
	}
}

// Ref is the pod's identity.
func (m *Machine) Ref() PodRef { return m.ref }

// Spec is the pod's defaulted spec; do not change it.
func (m *Machine) Spec() *podlife.PodSpec { return m.spec }

// Now is the latest time the machine has seen.
func (m *Machine) Now() time.Time { return m.now }

// Status is the pod's current status.
func (m *Machine) Status() phase.PodStatus {
	st := phase.PodStatus{Phase: m.podPhase, PodIP: m.podIP, StartTime: m.startTime}
	st.Reason, st.Message = m.statusReason()
	st.InitContainerStatuses, st.ContainerStatuses = m.statusLists()
	// The conditions the last refresh handed out, which conds holds.
	if m.conds.rawPending {
		st.Conditions = m.conditions(st.InitContainerStatuses, st.ContainerStatuses, m.now)
	} else {
		st.Conditions = m.conds.full(make([]phase.Condition, 0, m.conds.count()), m.startTime)
	}
	return st
}

// Terminal reports whether the pod reached Succeeded or Failed, which no event leaves.
func (m *Machine) Terminal() bool { return m.terminal != notTerminal }

// Stopped reports whether the pod is terminal and its sandbox has been released: nothing more
// will happen to it.
func (m *Machine) Stopped() bool { return m.terminal != notTerminal && m.sandbox.stopped }

// terminalCode is a terminal phase in a byte.
type terminalCode uint8

const (
	notTerminal terminalCode = iota
	terminalSucceeded
	terminalFailed
	terminalOther // a checkpoint's, in more.terminal
)

// terminalPhase is the phase the pod ended in; "" while it has not.
func (m *Machine) terminalPhase() phase.Phase {
	switch m.terminal {
	case terminalSucceeded:
		return phase.Succeeded
	case terminalFailed:
		return phase.Failed
	case terminalOther:
		return m.more.terminal
	}
	return ""
}

// setTerminal makes ph the phase the pod ended in ("" for none).
func (m *Machine) setTerminal(ph phase.Phase) {
	switch ph {
	case "":
		m.terminal = notTerminal
	case phase.Succeeded:
		m.terminal = terminalSucceeded
	case phase.Failed:
		m.terminal = terminalFailed
	default:
		m.terminal = terminalOther
		m.moreOf().terminal = ph
	}
}

// HasReady reports whether Ready has something to hand out.
func (m *Machine) HasReady() bool {
	return m.outStatus != nil || (m.out != nil && (len(m.out.actions) > 0 || len(m.out.records) > 0))
}

// Ready is what the caller must do now: perform the actions (their results come back as events),
// show the records, persist the status when it is not nil, and deliver a Tick at Deadline. Call
// Advance once it is done (or handed on). The slices are the machine's, valid until the next
// Step; a Template's machine lends the status too, until Advance (see Template.New).
func (m *Machine) Ready() Ready {
	rd := Ready{Status: m.outStatus, Deadline: m.deadline()}
	if m.out != nil {
		rd.Actions, rd.Records = m.out.actions, m.out.records
	}
	return rd
}

// Advance acknowledges the last Ready.
func (m *Machine) Advance() {
	if o := m.out; o != nil {
		// Keep nothing of what was handed out alive; most Readys hand out little.
		if len(o.actions) > 0 {
			clear(o.actions)
			o.actions = o.actions[:0]
		}
		if len(o.records) > 0 {
			clear(o.records)
			o.records = o.records[:0]
		}
		if m.outStatus == &o.status {
			clear(o.lists)
			clear(o.conds)
			o.lists, o.conds = o.lists[:0], o.conds[:0]
			o.status = phase.PodStatus{}
		}
		if m.tmpl != nil {
			m.tmpl.pool.Put(o)
			m.out = nil
		}
	}
	m.outStatus = nil
}

// output is where actions and records go until Advance.
func (m *Machine) output() *output {
	if m.out == nil {
		if m.tmpl != nil {
			m.out, _ = m.tmpl.pool.Get().(*output)
		}
		if m.out == nil {
			m.out = &output{}
		}
	}
	return m.out
}

// Step applies one event. On error the machine is unchanged and the error says why (see the
// Err* values); events that come too late to matter give ErrStale and can be dropped.
func (m *Machine) Step(ev Event) error {
	if ev.At.Before(m.now) {
		return fmt.Errorf("%w: %s at %s is before %s", ErrTimeWentBackwards, ev.Type, ev.At.Format(time.RFC3339Nano), m.now.Format(time.RFC3339Nano))
	}
	c, err := m.target(ev)
	if err != nil {
		return err
	}
	if m.Stopped() && ev.Type != Tick {
		return fmt.Errorf("%w: %s: pod is %s", ErrStale, ev.Type, m.terminalPhase())
	}
	if err := m.apply(ev, c); err != nil {
		return err
	}
	if ev.Type == ContainerCreated {
		m.indexID(c)
	}
	m.now = ev.At
	m.sync()
	return nil
}

// target finds the container an event is about, checking it before anything changes.
func (m *Machine) target(ev Event) (*ctr, error) {
	switch ev.Type {
	case ImagePulled, ImagePullFailed, ContainerCreated, ContainerCreateFailed:
		c := m.byName(ev.Container)
		if c == nil {
			return nil, fmt.Errorf("%w: %s names container %q", ErrUnknownContainer, ev.Type, ev.Container)
		}
		return c, nil
	case ContainerStarted, ContainerStartFailed, ContainerExited, ContainerUnknown, ProbeResult, HookResult:
		if ev.ContainerID == "" {
			return nil, fmt.Errorf("%w: %s without a container ID", ErrBadEvent, ev.Type)
		}
		if c := m.byID(ev.ContainerID); c != nil {
			return c, nil
		}
		for _, r := range m.retired {
			if r.id == ev.ContainerID {
				if ev.Type == HookResult && ev.Hook == PreStop && m.preStopOutlives(r.c) {
					return r.c, nil
				}
				return nil, fmt.Errorf("%w: %s for %s instance %s", ErrStale, ev.Type, r.c.spec.Name, ev.ContainerID)
			}
		}
		if ev.Type == HookResult && ev.Hook == PreStop {
			// A preStop hook may outlive its instance by far (a sleep runs in the agent, an exec
			// returns after the container it ran in was replaced many times): its result may name
			// an instance older than the last maxRetired the machine remembers.
			return nil, fmt.Errorf("%w: %s for a forgotten instance %s", ErrStale, ev.Type, ev.ContainerID)
		}
		return nil, fmt.Errorf("%w: %s names container ID %q", ErrUnknownContainer, ev.Type, ev.ContainerID)
	case Tick, SetupDone, SetupFailed, SandboxReady, SandboxFailed, SandboxLost, DeleteRequested, SpecUpdated:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: unknown event type %v", ErrBadEvent, ev.Type)
}

// scanMax is how many containers byName and byID scan; a larger pod gets an index, so that an
// event costs the same whatever the container's position (a scan per event would make a pod's
// life cost the square of its container count in lookups alone).
const scanMax = 32

// byName is the container named name, nil when the pod has none. Names never change (a
// SpecUpdated changes only images), so a large pod's index is built once.
func (m *Machine) byName(name string) *ctr {
	if len(m.ctrs) <= scanMax {
		for ci := range m.ctrs {
			if c := &m.ctrs[ci]; c.spec.Name == name {
				return c
			}
		}
		return nil
	}
	more := m.moreOf()
	if more.names == nil {
		more.names = make(map[string]int32, len(m.ctrs))
		for ci := range m.ctrs {
			more.names[m.ctrs[ci].spec.Name] = int32(ci)
		}
	}
	if ci, ok := more.names[name]; ok {
		return &m.ctrs[ci]
	}
	return nil
}

// byID is the container whose current instance is id, nil when none is. A large pod's index is
// kept by Step as containers are created (indexID); an entry is checked before it is trusted,
// and an ID it does not hold (one set by Restore, or no current one) is looked for by a scan.
func (m *Machine) byID(id string) *ctr {
	if len(m.ctrs) > scanMax && m.more != nil && m.more.ids != nil {
		if ci, ok := m.more.ids[id]; ok && m.ctrs[ci].id == id {
			return &m.ctrs[ci]
		}
	}
	for ci := range m.ctrs {
		if c := &m.ctrs[ci]; c.id == id {
			m.indexID(c)
			return c
		}
	}
	return nil
}

// indexID records c's current instance ID in a large pod's index. Entries of instances that
// are gone are dropped by a rebuild once they outnumber the containers.
func (m *Machine) indexID(c *ctr) {
	if len(m.ctrs) <= scanMax || c.id == "" {
		return
	}
	more := m.moreOf()
	if more.ids == nil || len(more.ids) >= 2*len(m.ctrs) {
		more.ids = make(map[string]int32, len(m.ctrs))
		for ci := range m.ctrs {
			if id := m.ctrs[ci].id; id != "" {
				more.ids[id] = int32(ci)
			}
		}
		return
	}
	more.ids[c.id] = int32(m.ctrIndex(c))
}

// ctrIndex is c's position in m.ctrs.
func (m *Machine) ctrIndex(c *ctr) int {
	if c.init {
		return int(c.index)
	}
	return int(m.nInit) + int(c.index)
}

// containerSpec is the spec of the named container, nil when the pod has none.
func (m *Machine) containerSpec(name string) *podlife.Container {
	if c := m.byName(name); c != nil {
		return c.spec
	}
	return nil
}

func (m *Machine) emit(a Action) { o := m.output(); o.actions = append(o.actions, a) }

func (m *Machine) record(kind EventKind, reason, container, message string) {
	o := m.output()
	o.records = append(o.records, Record{At: m.now, Kind: kind, Reason: reason, Container: container, Message: message})
}

// deadline is the earliest time after now when something is due without an event: a retry
// after back-off, a probe run, a step of a graceful stop. What was due by now was done by the
// last sync, or waits for an event (an init container to finish, a stop to complete).
func (m *Machine) deadline() time.Time {
	var d time.Time
	earliest := func(t time.Time) {
		if t.After(m.now) && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	if m.Stopped() {
		return d
	}
	if at := m.setupAt(); !at.IsZero() && (m.setup == setupNone || (!m.sandbox.ready && !m.sandbox.creating)) {
		earliest(at)
	}
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		earliest(c.deadline(m.now))
	}
	if m.stop != nil {
		if t, ok := m.stop.plan.Deadline(); ok {
			earliest(t)
		}
	}
	if at, ok := m.activeDeadline(); ok && !m.deadlinePassed && m.terminal == notTerminal {
		earliest(at)
	}
	return d
}

// crashBackoff and pullBackoff are the curves of Options, or kubelet's: a nil option costs an
// idle machine nothing.
func (m *Machine) crashBackoff() restart.Backoff {
	if m.opts != nil && m.opts.CrashLoop != nil {
		return *m.opts.CrashLoop
	}
	return restart.CrashLoopBackoff()
}

func (m *Machine) pullBackoff() restart.Backoff {
	if m.opts != nil && m.opts.ImagePull != nil {
		return *m.opts.ImagePull
	}
	return restart.ImagePullBackoff()
}

// probeKinds in the order probes are considered.
var probeKinds = [...]probe.Kind{probe.Startup, probe.Liveness, probe.Readiness}
