package lifecycle

import (
	"errors"
	"fmt"
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
func (r PodRef) String() string { return fmt.Sprintf("%s_%s(%s)", r.Name, r.Namespace, r.UID) }

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
	ref  PodRef
	spec podlife.PodSpec
	opts Options
	now  time.Time

	setup   setupStage
	setupAt time.Time // when the setup or sandbox may be retried
	sandbox sandbox
	pulls   map[string]restart.PullBackoff // image-pull back-off per image
	// initDone says an app container was created in the current sandbox: sidecar restarts no
	// longer hold app containers back.
	initDone bool
	ctrs     []*ctr // init containers, then app containers, in spec order
	nInit    int

	stop *podStop // a whole-pod stop: deletion, or the pod finished with sidecars left
	// restartingAll: a RestartAllContainers rule matched; every container is being killed, then
	// the pod starts again from its first init container in the same sandbox (KEP-5532).
	restartingAll bool
	deleted       bool
	terminal      phase.Phase

	status phase.PodStatus
	dirty  bool
	out    Ready
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
	creating bool
	ready    bool
	stopped  bool
	failures int
}

// New makes the machine for a pod, validated and with defaults filled in (see
// podlife.PodSpec.Defaulted). now is when the pod was bound to this node; the first Ready asks
// for the pod's setup.
func New(ref PodRef, spec podlife.PodSpec, now time.Time, opts Options) (*Machine, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("lifecycle: pod %s: %w", ref, err)
	}
	m := &Machine{ref: ref, spec: spec.Defaulted(), opts: opts, now: now, pulls: map[string]restart.PullBackoff{}}
	if m.opts.CrashLoop == nil {
		b := restart.CrashLoopBackoff()
		m.opts.CrashLoop = &b
	}
	if m.opts.ImagePull == nil {
		b := restart.ImagePullBackoff()
		m.opts.ImagePull = &b
	}
	m.nInit = len(m.spec.InitContainers)
	initStatuses, statuses := phase.InitialStatuses(&m.spec)
	for i := range m.spec.InitContainers {
		m.ctrs = append(m.ctrs, newCtr(&m.spec.InitContainers[i], true, i, initStatuses[i]))
	}
	for i := range m.spec.Containers {
		m.ctrs = append(m.ctrs, newCtr(&m.spec.Containers[i], false, i, statuses[i]))
	}
	m.status = phase.PodStatus{Phase: phase.Pending, StartTime: now}
	m.dirty = true
	m.sync()
	return m, nil
}

// Ref is the pod's identity.
func (m *Machine) Ref() PodRef { return m.ref }

// Spec is the pod's defaulted spec; do not change it.
func (m *Machine) Spec() *podlife.PodSpec { return &m.spec }

// Now is the latest time the machine has seen.
func (m *Machine) Now() time.Time { return m.now }

// Status is the pod's current status.
func (m *Machine) Status() phase.PodStatus { return m.status }

// Terminal reports whether the pod reached Succeeded or Failed, which no event leaves.
func (m *Machine) Terminal() bool { return m.terminal != "" }

// Stopped reports whether the pod is terminal and its sandbox has been released: nothing more
// will happen to it.
func (m *Machine) Stopped() bool { return m.terminal != "" && m.sandbox.stopped }

// HasReady reports whether Ready has something to hand out.
func (m *Machine) HasReady() bool { return !m.out.IsEmpty() }

// Ready is what the caller must do now: perform the actions (their results come back as events),
// show the records, persist the status when it is not nil, and deliver a Tick at Deadline. Call
// Advance once it is done (or handed on).
func (m *Machine) Ready() Ready {
	rd := m.out
	rd.Deadline = m.deadline()
	return rd
}

// Advance acknowledges the last Ready.
func (m *Machine) Advance() {
	m.out.Actions = m.out.Actions[:0]
	m.out.Records = m.out.Records[:0]
	m.out.Status = nil
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
		return fmt.Errorf("%w: %s: pod is %s", ErrStale, ev.Type, m.terminal)
	}
	if err := m.apply(ev, c); err != nil {
		return err
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
	case ContainerStarted, ContainerStartFailed, ContainerExited, ProbeResult, HookResult:
		if ev.ContainerID == "" {
			return nil, fmt.Errorf("%w: %s without a container ID", ErrBadEvent, ev.Type)
		}
		for _, c := range m.ctrs {
			if c.id == ev.ContainerID {
				return c, nil
			}
		}
		for _, c := range m.ctrs {
			if c.hasOldID(ev.ContainerID) {
				return nil, fmt.Errorf("%w: %s for %s instance %s", ErrStale, ev.Type, c.name, ev.ContainerID)
			}
		}
		return nil, fmt.Errorf("%w: %s names container ID %q", ErrUnknownContainer, ev.Type, ev.ContainerID)
	case Tick, SetupDone, SetupFailed, SandboxReady, SandboxFailed, SandboxLost, DeleteRequested, SpecUpdated:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: unknown event type %v", ErrBadEvent, ev.Type)
}

func (m *Machine) byName(name string) *ctr {
	for _, c := range m.ctrs {
		if c.name == name {
			return c
		}
	}
	return nil
}

// containerSpec is the spec of the named container, nil when the pod has none.
func (m *Machine) containerSpec(name string) *podlife.Container {
	if c := m.byName(name); c != nil {
		return c.spec
	}
	return nil
}

func (m *Machine) emit(a Action) { m.out.Actions = append(m.out.Actions, a) }

func (m *Machine) record(kind EventKind, reason, container, message string) {
	m.out.Records = append(m.out.Records, Record{At: m.now, Kind: kind, Reason: reason, Container: container, Message: message})
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
	if !m.setupAt.IsZero() && (m.setup == setupNone || (!m.sandbox.ready && !m.sandbox.creating)) {
		earliest(m.setupAt)
	}
	for _, c := range m.ctrs {
		earliest(c.deadline(m.now))
	}
	if m.stop != nil {
		if t, ok := m.stop.plan.Deadline(); ok {
			earliest(t)
		}
	}
	return d
}

func (m *Machine) crashBackoff() restart.Backoff { return *m.opts.CrashLoop }
func (m *Machine) pullBackoff() restart.Backoff  { return *m.opts.ImagePull }

// probeKinds in the order probes are considered.
var probeKinds = [...]probe.Kind{probe.Startup, probe.Liveness, probe.Readiness}
