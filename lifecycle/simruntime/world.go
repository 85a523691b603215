package simruntime

import (
	"errors"
	"fmt"
	"github.com/podlife/podlife/internal/stamp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
	"github.com/podlife/podlife/restart"
)

// World is the simulated node: its pods' sandboxes and containers, the images present, and the
// scripts that say how every runtime operation goes. It is a discrete-event core: it reads no
// clock, sleeps not and starts no goroutine; every call gets the time it happens at. The same
// calls with the same times give the same events, IDs included.
//
// Do performs an action and returns every event that follows from it, some in the future (a
// slow pull, a natural exit); the caller delivers them in time order and calls Happen for each
// when its time has come, which applies it to the world or tells the caller to drop it.
//
// IDs are derived from the pod and never random: a pod's key is "namespace/name", or
// "namespace/name/uid" when the UID is set; its sandboxes are "<key>/sb-<attempt>" and its
// containers "<key>/<container>/<attempt>".
//
// A World is not safe for concurrent use (Runtime adds the lock).
type World struct {
	opts      WorldOptions
	byName    map[string]*Script
	overrides map[lifecycle.PodRef]*override
	pods      map[string]*pod
	// present says since when (Unix ns) an image is on the node: a pull in progress makes it
	// present when it completes, not before.
	present    map[string]int64
	imagePulls map[string]int // pulls per image, for image-level failure counts
	out        []lifecycle.Event
	key        []byte
	base       time.Time // what the containers' times are stamps after: the first one
	// hint is the pod a Sim is handling, which lookups by ID or ref try before the index: the
	// Sim knows its pods, and a map lookup per event is a good part of an event's cost.
	hint *pod
}

type override struct {
	hasPod bool
	pod    PodScript
	ctrs   map[string]*Script
}

// pod is the world's record of one pod: small, since a million of them may exist.
type pod struct {
	ref         lifecycle.PodRef
	key         string
	ov          *override
	setups      int32
	sandboxRuns int32
	// sim is the pod's slot + 1 in the Sim that drives it, 0 for none: the Sim finds its pods
	// through the world's index rather than keeping one of its own.
	sim      int32
	lossDone bool // the first sandbox's loss is scheduled (it is lost once)
	gone     bool // forgotten: no longer in the index, so never a hint
	// origin is when the world first acted for the pod (Unix ns): what ProbeWindow times are
	// measured from.
	origin int64
	sb     *sandbox
	ctrs   []*ctr   // the current sandbox's containers; at most two instances per name
	last   *ctr     // the one of ctrs found last, tried first (nil when it went)
	counts *[]count // failures counted per container, for scripts that fail some; nil for most
}

type count struct {
	name           string
	pulls, creates int32
	hooks          [2]int32 // runs of the postStart and preStop hooks
}

type sandbox struct {
	id, ip  string
	attempt int32
	ready   bool
	lostAt  int64 // Unix ns of the scheduled loss, 0 for none
}

// ctr is one container instance: small too, two of them per pod that ran an init container.
type ctr struct {
	id     string // "<key>/<name>/<attempt>"
	reason string
	script *Script
	more   *ctrMore // what does not fit below; nil for most
	// times are the created, started and finished times ListContainers reports, as stamps after
	// the world's base (whole in more when they are no stamps).
	times [3]stamp.Stamp
	// exitAt and stopAt are the pending natural and stop exits (Unix ns, 0 for none; exitAt may
	// be an unknown state instead, Run.UnknownAfter); Happen applies the event whose time
	// matches, so a superseded one is recognised.
	exitAt, stopAt int64
	termAt         int64 // when the first stop signal came (Unix ns), 0 before
	attempt        int32
	exitCode       int32
	signal         int32
	nameAt         uint16 // where the name begins in id; 0: it is in more
	state          lifecycle.ContainerState
}

// ctrMore is the rest of a ctr: times that are no stamps, a name past nameAt's reach.
type ctrMore struct {
	times [3]time.Time
	name  string
}

// The times of a ctr.
const (
	timeCreated = iota
	timeStarted
	timeFinished
)

// mayRun reports whether the instance runs, or may (its state is unknown): hooks and probes run
// in it as scripted.
func (c *ctr) mayRun() bool {
	return c != nil && (c.state == lifecycle.ContainerStateRunning || c.state == lifecycle.ContainerStateUnknown)
}

// name is the container's name, from its ID.
func (c *ctr) name() string {
	if c.nameAt == 0 {
		return c.more.name
	}
	return c.id[c.nameAt:strings.LastIndexByte(c.id, '/')]
}

// timeOf is one of c's times.
func (w *World) timeOf(c *ctr, which int) time.Time {
	if c.times[which] == stamp.None {
		return c.more.times[which]
	}
	return c.times[which].Time(w.base)
}

// setTime sets one of c's times.
func (w *World) setTime(c *ctr, which int, t time.Time) {
	if w.base.IsZero() {
		w.base = t
	}
	c.times[which] = stamp.Of(w.base, t)
	if c.times[which] == stamp.None {
		if c.more == nil {
			c.more = &ctrMore{}
		}
		c.more.times[which] = t
	}
}

// NewWorld makes a world from opts; opts' maps are copied.
func NewWorld(opts WorldOptions) *World {
	w := &World{opts: opts, byName: map[string]*Script{}, overrides: map[lifecycle.PodRef]*override{},
		pods: map[string]*pod{}, present: map[string]int64{}, imagePulls: map[string]int{}}
	for name, s := range opts.Scripts {
		w.byName[name] = &s
	}
	w.opts.Scripts = nil
	w.opts.ImagePulls = make(map[string]Pull, len(opts.ImagePulls))
	for img, p := range opts.ImagePulls {
		w.opts.ImagePulls[img] = p
	}
	for _, img := range opts.Images {
		w.present[img] = math.MinInt64
	}
	return w
}

// Script sets the script of one container of one pod, overriding the script by name and the
// default. It may be called before the pod exists or while it runs; an instance keeps the script
// it was created with, so instances created later use it.
func (w *World) Script(ref lifecycle.PodRef, container string, s Script) {
	ov := w.override(ref)
	if ov.ctrs == nil {
		ov.ctrs = map[string]*Script{}
	}
	ov.ctrs[container] = &s
}

// ScriptPod sets the pod-level script of one pod (setup, sandbox) and replaces its container
// overrides with ps.Containers.
func (w *World) ScriptPod(ref lifecycle.PodRef, ps PodScript) {
	ov := w.override(ref)
	ov.hasPod = true
	ov.pod = ps
	ov.ctrs = make(map[string]*Script, len(ps.Containers))
	for name, s := range ps.Containers {
		ov.ctrs[name] = &s
	}
	ov.pod.Containers = nil
}

func (w *World) override(ref lifecycle.PodRef) *override {
	ov := w.overrides[ref]
	if ov == nil {
		ov = &override{}
		w.overrides[ref] = ov
		if p := w.lookupPod(ref); p != nil {
			p.ov = ov
		}
	}
	return ov
}

// Forget drops what the world knows of a pod (its sandbox, containers and failure counts),
// keeping the scripts set for it. Sim calls it when a pod stopped, so that a long simulation
// holds only live pods.
func (w *World) Forget(ref lifecycle.PodRef) {
	if p := w.lookupPod(ref); p != nil {
		delete(w.pods, p.key)
		p.gone = true
	}
}

// AddImage makes image present on the node from at on (an image pushed to the registry and
// pulled by hand, a pre-loaded image): pulls under IfNotPresent and Never find it then. An image
// already present earlier stays so.
func (w *World) AddImage(image string, at time.Time) {
	t := at.UnixNano()
	if old, ok := w.present[image]; !ok || t < old {
		w.present[image] = t
	}
}

// LoseSandbox makes the pod's ready sandbox die at now, as a node's network or its pause
// process failing would: it returns the SandboxLost event, to deliver (and Happen) at now, and
// false when the pod has no ready sandbox. A loss scripted later (PodScript.SandboxLostAt) is
// superseded.
func (w *World) LoseSandbox(now time.Time, ref lifecycle.PodRef) (lifecycle.Event, bool) {
	p := w.lookupPod(ref)
	if p == nil || p.sb == nil || !p.sb.ready {
		return lifecycle.Event{}, false
	}
	p.sb.lostAt = now.UnixNano()
	return lifecycle.Event{Type: lifecycle.SandboxLost, At: now, SandboxID: p.sb.id}, true
}

// Pods is how many pods the world holds.
func (w *World) Pods() int { return len(w.pods) }

// Do performs one machine action at now for pod and returns the events that answer it and the
// ones that follow from it (a natural exit, a sandbox loss), each at or after now, in the order
// they were made. The slice is the world's buffer: it is valid until the next call to Do.
//
// Actions that name a container or sandbox ID find the pod from the ID; pod may then be the
// zero PodRef. A PullImage for the zero PodRef (or without a container name) uses the
// image-level script (WorldOptions.ImagePulls).
//
// A RunSandbox for a sandbox that exists answers with it again (SandboxReady) once it is ready,
// and with nothing while it is still being created: its first SandboxReady answers both.
//
// Bad input is answered, never panicked on: an unknown container ID gives ContainerStartFailed,
// a failed HookResult or ProbeResult; CreateContainer in an unknown or lost sandbox gives
// ContainerCreateFailed. StopContainer, RemoveContainer and StopSandbox of something unknown
// (or already exited) are ignored: nothing more will happen to it. Unknown action types are
// ignored.
func (w *World) Do(now time.Time, ref lifecycle.PodRef, a lifecycle.Action) []lifecycle.Event {
	w.out = w.out[:0]
	switch a.Type {
	case lifecycle.SetupPod:
		w.setup(now, w.podAt(now, ref))
	case lifecycle.RunSandbox:
		w.runSandbox(now, w.podAt(now, ref), a.Attempt)
	case lifecycle.StopSandbox:
		w.stopSandbox(ref, a.SandboxID)
	case lifecycle.PullImage:
		w.pull(now, ref, a)
	case lifecycle.CreateContainer:
		w.create(now, a)
	case lifecycle.StartContainer:
		w.start(now, a)
	case lifecycle.StopContainer:
		w.stop(now, a)
	case lifecycle.RemoveContainer:
		w.remove(a.ContainerID)
	case lifecycle.RunHook:
		w.hook(now, a)
	case lifecycle.RunProbe:
		w.probe(now, a)
	}
	return w.out
}

// Happen applies ev, an event Do returned, once its time has come, and reports whether it still
// holds. It returns false for an event that was superseded, which the caller drops: a natural
// exit (or unknown state) of a container that was already stopped (or removed), a stop exit after
// a natural exit or after an earlier stop exit, a sandbox ready or lost after the sandbox was stopped, a probe or
// postStart result after its container exited. A preStop result holds: a sleep handler outlives
// its container, and the machine knows which handler it ran. Events the world has no say on (ticks, outside
// requests, results without state) hold.
func (w *World) Happen(ev lifecycle.Event) bool {
	switch ev.Type {
	case lifecycle.ContainerExited:
		_, c := w.findContainer(ev.ContainerID)
		if c == nil || c.state == lifecycle.ContainerStateExited {
			return false
		}
		at := ev.At.UnixNano()
		if at != c.exitAt && at != c.stopAt {
			return false
		}
		c.state = lifecycle.ContainerStateExited
		c.exitCode, c.signal, c.reason = ev.ExitCode, ev.Signal, ev.Reason
		w.setTime(c, timeFinished, ev.At)
		c.exitAt, c.stopAt, c.termAt = 0, 0, 0
		return true
	case lifecycle.ContainerUnknown:
		_, c := w.findContainer(ev.ContainerID)
		if c == nil || c.state != lifecycle.ContainerStateRunning || ev.At.UnixNano() != c.exitAt {
			return false
		}
		c.state = lifecycle.ContainerStateUnknown
		c.exitAt = 0
		return true
	case lifecycle.ContainerCreated, lifecycle.ContainerStarted:
		_, c := w.findContainer(ev.ContainerID)
		return c != nil
	case lifecycle.ProbeResult, lifecycle.HookResult:
		if ev.Type == lifecycle.HookResult && ev.Hook == lifecycle.PreStop {
			// A preStop hook may outlive its container (a sleep runs in the agent): the machine
			// decides whether its end still matters.
			return true
		}
		_, c := w.findContainer(ev.ContainerID)
		return c != nil && c.state != lifecycle.ContainerStateExited
	case lifecycle.SandboxReady:
		p := w.podOfSandbox(ev.SandboxID)
		if p == nil || p.sb == nil || p.sb.id != ev.SandboxID {
			return false
		}
		p.sb.ready = true
		return true
	case lifecycle.SandboxLost:
		p := w.podOfSandbox(ev.SandboxID)
		if p == nil || p.sb == nil || p.sb.id != ev.SandboxID || !p.sb.ready || p.sb.lostAt != ev.At.UnixNano() {
			return false
		}
		p.sb.ready = false
		p.sb.lostAt = 0
		return true
	}
	return true
}

func (w *World) emit(ev lifecycle.Event) { w.out = append(w.out, ev) }

// podKey writes ref's key into the scratch buffer; w.pods[string(w.key)] does not allocate.
func (w *World) podKey(ref lifecycle.PodRef) []byte {
	w.key = append(w.key[:0], ref.Namespace...)
	w.key = append(w.key, '/')
	w.key = append(w.key, ref.Name...)
	if ref.UID != "" {
		w.key = append(w.key, '/')
		w.key = append(w.key, ref.UID...)
	}
	return w.key
}

func (w *World) lookupPod(ref lifecycle.PodRef) *pod {
	if h := w.hint; h != nil && !h.gone && h.ref == ref {
		return h
	}
	return w.pods[string(w.podKey(ref))]
}

// podByKey is the pod whose key is key.
func (w *World) podByKey(key string) *pod {
	if h := w.hint; h != nil && !h.gone && h.key == key {
		return h
	}
	return w.pods[key]
}

func (w *World) podFor(ref lifecycle.PodRef) *pod {
	if p := w.lookupPod(ref); p != nil {
		return p
	}
	p := &pod{ref: ref, key: string(w.podKey(ref)), ov: w.overrides[ref]}
	w.pods[p.key] = p
	return p
}

// podAt is podFor for an action at now: a pod the world meets for the first time starts then.
func (w *World) podAt(now time.Time, ref lifecycle.PodRef) *pod {
	p := w.podFor(ref)
	if p.origin == 0 {
		p.origin = now.UnixNano()
	}
	return p
}

// podOfSandbox finds the pod of "<key>/sb-<n>".
func (w *World) podOfSandbox(id string) *pod {
	if h := w.hint; h != nil && !h.gone && h.sb != nil && h.sb.id == id {
		return h // the same string as a rule: the sandbox's ID came from here
	}
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return nil
	}
	return w.podByKey(id[:i])
}

// findContainer finds "<key>/<name>/<attempt>".
func (w *World) findContainer(id string) (*pod, *ctr) {
	if h := w.hint; h != nil && !h.gone {
		if c := h.last; c != nil && c.id == id { // the same string as a rule: the ID came from here
			return h, c
		}
		for _, c := range h.ctrs {
			if c.id == id {
				h.last = c
				return h, c
			}
		}
	}
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return nil, nil
	}
	j := strings.LastIndexByte(id[:i], '/')
	if j < 0 {
		return nil, nil
	}
	p := w.podByKey(id[:j])
	if p == nil {
		return nil, nil
	}
	for _, c := range p.ctrs {
		if c.id == id {
			return p, c
		}
	}
	return p, nil
}

func (w *World) podScript(p *pod) *PodScript {
	if p.ov != nil && p.ov.hasPod {
		return &p.ov.pod
	}
	return &w.opts.Pod
}

func (w *World) script(p *pod, name string) *Script {
	if p != nil && p.ov != nil {
		if s := p.ov.ctrs[name]; s != nil {
			return s
		}
	}
	if s := w.byName[name]; s != nil {
		return s
	}
	return &w.opts.Default
}

func (p *pod) count(name string) *count {
	if p.counts == nil {
		p.counts = new([]count)
	}
	cs := *p.counts
	for i := range cs {
		if cs[i].name == name {
			return &cs[i]
		}
	}
	*p.counts = append(cs, count{name: name})
	return &(*p.counts)[len(cs)]
}

func (w *World) setup(now time.Time, p *pod) {
	ps := w.podScript(p)
	p.setups++
	at := now.Add(nonNegative(ps.SetupDelay))
	if int(p.setups) <= ps.SetupFails {
		msg := ps.SetupFailMessage
		if msg == "" {
			msg = "MountVolume.SetUp failed: scripted setup failure " + strconv.Itoa(int(p.setups))
		}
		w.emit(lifecycle.Event{Type: lifecycle.SetupFailed, At: at, Message: msg})
		return
	}
	w.emit(lifecycle.Event{Type: lifecycle.SetupDone, At: at})
}

func (w *World) runSandbox(now time.Time, p *pod, attempt int32) {
	ps := w.podScript(p)
	id := p.key + "/sb-" + strconv.Itoa(int(attempt))
	if p.sb != nil && p.sb.id == id {
		// Asked again for a sandbox that exists: the same one, as CRI's RunPodSandbox would.
		if p.sb.ready {
			w.emit(lifecycle.Event{Type: lifecycle.SandboxReady, At: now, SandboxID: id, IP: p.sb.ip})
		}
		return
	}
	p.sandboxRuns++
	at := now.Add(nonNegative(ps.SandboxDelay))
	if int(p.sandboxRuns) <= ps.SandboxFails {
		w.emit(lifecycle.Event{Type: lifecycle.SandboxFailed, At: at,
			Message: "scripted sandbox failure " + strconv.Itoa(int(p.sandboxRuns))})
		return
	}
	if p.sb != nil {
		w.dropSandbox(p) // one sandbox per pod: a new attempt replaces the old one
	}
	sb := &sandbox{id: id, ip: podIP(id), attempt: attempt}
	if int(p.sandboxRuns)-ps.SandboxFails <= ps.SandboxNoIP {
		sb.ip = "" // up, but its network was not set up
	}
	p.sb = sb
	w.emit(lifecycle.Event{Type: lifecycle.SandboxReady, At: at, SandboxID: id, IP: sb.ip})
	if ps.SandboxLostAt > 0 && !p.lossDone {
		p.lossDone = true
		lost := at.Add(ps.SandboxLostAt)
		sb.lostAt = lost.UnixNano()
		w.emit(lifecycle.Event{Type: lifecycle.SandboxLost, At: lost, SandboxID: id})
	}
}

// podIP derives a stable address in 10.0.0.0/8 from the sandbox ID.
func podIP(id string) string {
	v := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		v ^= uint32(id[i])
		v *= 16777619
	}
	last := v&0xff%254 + 1
	return "10." + strconv.Itoa(int(v>>16&0xff)) + "." + strconv.Itoa(int(v>>8&0xff)) + "." + strconv.Itoa(int(last))
}

func (w *World) stopSandbox(ref lifecycle.PodRef, id string) {
	var p *pod
	if id == "" { // the sandbox being created, which has no ID for the machine yet
		p = w.lookupPod(ref)
	} else {
		p = w.podOfSandbox(id)
		if p != nil && (p.sb == nil || p.sb.id != id) {
			return
		}
	}
	if p != nil && p.sb != nil {
		w.dropSandbox(p)
	}
}

// dropSandbox removes the sandbox and every container in it; their pending events no longer
// hold.
func (w *World) dropSandbox(p *pod) {
	p.sb = nil
	clear(p.ctrs)
	p.ctrs, p.last = nil, nil
}

func (w *World) pull(now time.Time, ref lifecycle.PodRef, a lifecycle.Action) {
	ev := lifecycle.Event{Type: lifecycle.ImagePulled, At: now, Container: a.Container}
	policy := a.PullPolicy
	if policy == "" {
		policy = podlife.DefaultPullPolicy(a.Image)
	}
	if a.Image == "" {
		ev.Type, ev.Reason, ev.Message = lifecycle.ImagePullFailed, phase.ReasonInvalidImageName, "image reference is empty"
		w.emit(ev)
		return
	}
	at, ok := w.present[a.Image]
	present := ok && at <= now.UnixNano()
	pull, err := restart.ShouldPull(policy, present)
	switch {
	case errors.Is(err, restart.ErrImageNeverPull):
		ev.Type, ev.Reason, ev.Message = lifecycle.ImagePullFailed, phase.ReasonErrImageNeverPull, restart.ImageNeverPullMessage(a.Image)
		w.emit(ev)
		return
	case err != nil:
		ev.Type, ev.Reason, ev.Message = lifecycle.ImagePullFailed, phase.ReasonErrImagePull, err.Error()
		w.emit(ev)
		return
	case !pull:
		w.emit(ev)
		return
	}
	var pl Pull
	var n int
	var p *pod
	if ref != (lifecycle.PodRef{}) && a.Container != "" {
		p = w.podAt(now, ref)
		pl = w.script(p, a.Container).Pull
	}
	if pl.isZero() {
		pl = w.opts.ImagePulls[a.Image]
		if pl.Failures > 0 {
			w.imagePulls[a.Image]++
			n = w.imagePulls[a.Image]
		}
	} else if pl.Failures > 0 {
		c := p.count(a.Container)
		c.pulls++
		n = int(c.pulls)
	}
	ev.At = now.Add(nonNegative(pl.Delay))
	early := pl.FailUntil > 0 && p != nil && now.UnixNano()-p.origin < int64(pl.FailUntil)
	if pl.fails(n) || early {
		// The runtime's words, as CRI's PullImage reports them; the machine says "Failed to pull
		// image" around them, as kubelet's image manager does.
		ev.Type, ev.Reason = lifecycle.ImagePullFailed, phase.ReasonErrImagePull
		ev.Message = fmt.Sprintf("failed to pull and unpack image %q: scripted pull failure", a.Image)
		w.emit(ev)
		return
	}
	if t := ev.At.UnixNano(); !ok || t < at {
		w.present[a.Image] = t
	}
	w.emit(ev)
}

func (w *World) create(now time.Time, a lifecycle.Action) {
	name := a.Container
	if name == "" && a.Spec != nil {
		name = a.Spec.Name
	}
	ev := lifecycle.Event{Type: lifecycle.ContainerCreateFailed, At: now, Container: name, Attempt: a.Attempt,
		Reason: phase.ReasonCreateContainerError}
	p := w.podOfSandbox(a.SandboxID)
	if p == nil || p.sb == nil || p.sb.id != a.SandboxID || !p.sb.ready {
		ev.Message = fmt.Sprintf("sandbox %q is not ready: %v", a.SandboxID, lifecycle.ErrNotFound)
		w.emit(ev)
		return
	}
	if name == "" {
		ev.Message = "container has no name"
		w.emit(ev)
		return
	}
	for _, c := range p.ctrs {
		if c.name() == name && c.attempt == a.Attempt {
			ev.Type, ev.Reason, ev.ContainerID = lifecycle.ContainerCreated, "", c.id
			w.emit(ev)
			return
		}
	}
	s := w.script(p, name)
	if s.CreateFails > 0 {
		c := p.count(name)
		c.creates++
		if int(c.creates) <= s.CreateFails {
			if s.CreateFailReason != "" {
				ev.Reason = s.CreateFailReason
			}
			ev.Message = "scripted create failure " + strconv.Itoa(int(c.creates))
			w.emit(ev)
			return
		}
	}
	w.collect(p, name)
	c := &ctr{id: p.key + "/" + name + "/" + strconv.Itoa(int(a.Attempt)), script: s,
		attempt: a.Attempt, state: lifecycle.ContainerStateCreated, times: [3]stamp.Stamp{stamp.Zero, stamp.Zero, stamp.Zero}}
	if n := len(p.key) + 1; n <= math.MaxUint16 {
		c.nameAt = uint16(n)
	} else {
		c.more = &ctrMore{name: name}
	}
	w.setTime(c, timeCreated, now)
	p.ctrs = append(p.ctrs, c)
	ev.Type, ev.Reason, ev.ContainerID = lifecycle.ContainerCreated, "", c.id
	w.emit(ev)
}

// collect drops the exited instances of name but the newest before a new one is created, as
// kubelet's container GC keeps one dead instance per container: a crash loop holds two records.
func (w *World) collect(p *pod, name string) {
	newest := -1
	for i, c := range p.ctrs {
		if c.name() == name && c.state == lifecycle.ContainerStateExited {
			newest = i
		}
	}
	if newest < 0 {
		return
	}
	keep := p.ctrs[newest]
	p.last = nil
	p.ctrs = slices.DeleteFunc(p.ctrs, func(c *ctr) bool {
		return c != keep && c.name() == name && c.state == lifecycle.ContainerStateExited
	})
}

func (w *World) start(now time.Time, a lifecycle.Action) {
	ev := lifecycle.Event{Type: lifecycle.ContainerStartFailed, At: now, ContainerID: a.ContainerID,
		ExitCode: 128, Reason: phase.ReasonStartError}
	_, c := w.findContainer(a.ContainerID)
	switch {
	case c == nil:
		ev.Message = fmt.Sprintf("container %q: %v", a.ContainerID, lifecycle.ErrNotFound)
		w.emit(ev)
		return
	case c.state != lifecycle.ContainerStateCreated:
		ev.Message = fmt.Sprintf("container %q is %s, not Created", a.ContainerID, c.state)
		w.emit(ev)
		return
	}
	r := c.script.run(c.attempt)
	if r.StartFails {
		c.state, c.exitCode, c.reason = lifecycle.ContainerStateExited, 128, phase.ReasonStartError
		w.setTime(c, timeFinished, now)
		ev.Message = "failed to start containerd task: scripted start failure"
		w.emit(ev)
		return
	}
	c.state = lifecycle.ContainerStateRunning
	w.setTime(c, timeStarted, now)
	w.emit(lifecycle.Event{Type: lifecycle.ContainerStarted, At: now, ContainerID: c.id})
	if r.UnknownAfter > 0 && (r.For <= 0 || r.UnknownAfter < r.For) {
		// exitAt holds the time of the pending change of state, an unknown state instead of an exit.
		unknown := lifecycle.Event{Type: lifecycle.ContainerUnknown, At: now.Add(r.UnknownAfter), ContainerID: c.id}
		c.exitAt = unknown.At.UnixNano()
		w.emit(unknown)
		return
	}
	if r.For <= 0 {
		return
	}
	exit := lifecycle.Event{Type: lifecycle.ContainerExited, At: now.Add(r.For), ContainerID: c.id, ExitCode: r.ExitCode}
	switch {
	case r.OOM:
		exit.ExitCode, exit.Signal, exit.Reason = 137, 9, phase.ReasonOOMKilled
	case r.ExitCode == 0:
		exit.Reason = phase.ReasonCompleted
	default:
		exit.Reason = phase.ReasonError
	}
	c.exitAt = exit.At.UnixNano()
	w.emit(exit)
}

// stop sends the stop signal now and SIGKILL after a.Timeout. A second stop of a stopping
// container keeps the first signal's time and can only bring the exit forward. A created
// container that never started goes at once (137, as a killed task).
func (w *World) stop(now time.Time, a lifecycle.Action) {
	_, c := w.findContainer(a.ContainerID)
	if c == nil || c.state == lifecycle.ContainerStateExited {
		return
	}
	ev := lifecycle.Event{Type: lifecycle.ContainerExited, ContainerID: c.id, ExitCode: 137, Signal: 9, Reason: phase.ReasonError}
	kill := now.Add(nonNegative(a.Timeout))
	switch r := c.script.run(c.attempt); {
	case c.state == lifecycle.ContainerStateCreated: // nothing runs: it goes at once
		ev.At = now
	case r.IgnoreTerm, a.Timeout <= 0: // no time to stop: SIGKILL at once, as containerd does
		ev.At = kill
	default:
		if c.termAt == 0 {
			c.termAt = now.UnixNano()
		}
		term := now.Add(time.Duration(c.termAt-now.UnixNano()) + nonNegative(r.TermDelay))
		if term.Before(now) {
			term = now
		}
		switch {
		case term.After(kill):
			ev.At = kill
		case r.GracefulExit:
			ev.At, ev.ExitCode, ev.Signal, ev.Reason = term, 0, 0, phase.ReasonCompleted
		default:
			ev.At, ev.ExitCode, ev.Signal = term, 143, 15
		}
	}
	if at := ev.At.UnixNano(); c.stopAt != 0 && c.stopAt <= at {
		return // an exit at least as early is already on its way
	}
	c.stopAt = ev.At.UnixNano()
	w.emit(ev)
}

func (w *World) remove(id string) {
	p, c := w.findContainer(id)
	if c == nil {
		return
	}
	p.last = nil
	p.ctrs = slices.DeleteFunc(p.ctrs, func(x *ctr) bool { return x == c })
}

func (w *World) hook(now time.Time, a lifecycle.Action) {
	ev := lifecycle.Event{Type: lifecycle.HookResult, At: now, ContainerID: a.ContainerID, Container: a.Container, Hook: a.Hook}
	p, c := w.findContainer(a.ContainerID)
	if !c.mayRun() {
		ev.HookOutcome = hookFailure(w.hookTarget(p, a), a.Handler, false, errors.New("container is not running"))
		w.emit(ev)
		return
	}
	hs, which := c.script.PostStart, 0
	if a.Hook == lifecycle.PreStop {
		hs, which = c.script.PreStop, 1
	}
	n := 0
	if hs.counted() {
		cnt := p.count(c.name())
		cnt.hooks[which]++
		n = int(cnt.hooks[which])
	}
	took := nonNegative(hs.Took)
	if took == 0 && a.Handler != nil && a.Handler.Sleep != nil {
		took = hooks.SleepDuration(a.Handler.Sleep)
	}
	switch {
	case a.Timeout > 0 && took > a.Timeout:
		ev.At = now.Add(a.Timeout)
		ev.HookOutcome = hookFailure(w.hookTarget(p, a), a.Handler, true, fmt.Errorf("%s hook did not finish within %s", a.Hook, a.Timeout))
	case hs.fails(n):
		msg := hs.Message
		if msg == "" {
			msg = "scripted hook failure"
		}
		ev.At = now.Add(took)
		ev.HookOutcome = hookFailure(w.hookTarget(p, a), a.Handler, false, errors.New(msg))
	default:
		ev.At = now.Add(took)
	}
	w.emit(ev)
}

func (w *World) hookTarget(p *pod, a lifecycle.Action) hooks.Target {
	t := hooks.Target{Container: a.Container}
	if p != nil {
		t.Pod = hooks.PodRef{Name: p.ref.Name, Namespace: p.ref.Namespace, UID: p.ref.UID}
	}
	return t
}

// hookFailure is kubelet's failure outcome for the handler's kind.
func hookFailure(t hooks.Target, h *podlife.LifecycleHandler, interrupted bool, err error) hooks.Outcome {
	switch {
	case h != nil && h.Exec != nil:
		return hooks.ExecRunOutcome(t, h.Exec.Command, "", err)
	case h != nil && h.HTTPGet != nil:
		return hooks.HTTPOutcome(t, h.HTTPGet.Path, 0, err)
	case h != nil && h.Sleep != nil:
		if interrupted {
			return hooks.SleepOutcome(t, h.Sleep.Seconds, true)
		}
	}
	return hooks.Outcome{Result: hooks.Failure, Message: err.Error()}
}

// NotRunning is the message of a probe's error outcome when its container is not running (or
// stops while the probe runs): kubelet throws such a result away, as the exec or request into a
// container that is gone fails on the agent's side.
const NotRunning = "container is not running"

func (w *World) probe(now time.Time, a lifecycle.Action) {
	ev := lifecycle.Event{Type: lifecycle.ProbeResult, At: now, ContainerID: a.ContainerID, Container: a.Container, Probe: a.Probe}
	p, c := w.findContainer(a.ContainerID)
	if !c.mayRun() {
		ev.Outcome = probe.ErrorOutcome(errors.New(NotRunning))
		w.emit(ev)
		return
	}
	ps := c.script.Probes[a.Probe]
	timeout := time.Duration(podlife.DefaultProbeTimeoutSeconds) * time.Second
	if a.ProbeSpec != nil && a.ProbeSpec.TimeoutSeconds > 0 {
		timeout = time.Duration(a.ProbeSpec.TimeoutSeconds) * time.Second
	}
	took := nonNegative(ps.Took)
	exec := a.ProbeSpec != nil && a.ProbeSpec.Exec != nil
	switch {
	case took > timeout:
		took = timeout
		if exec {
			ev.Outcome = probe.ExecOutcome(0, true, "")
		} else {
			ev.Outcome = probe.FailureOutcome("context deadline exceeded")
		}
	case ps.failing(now.Sub(w.timeOf(c, timeStarted))):
		msg := ps.Message
		if msg == "" {
			msg = "scripted failure"
		}
		ev.Outcome = probe.FailureOutcome(msg)
	default:
		ev.Outcome = windowOutcome(ps.Windows, time.Duration(now.UnixNano()-p.origin))
	}
	ev.At = now.Add(took)
	w.emit(ev)
}

// windowOutcome is a probe's outcome by its windows at sincePod: the first window that holds
// fails or errors it, a success otherwise.
func windowOutcome(ws []ProbeWindow, sincePod time.Duration) probe.Outcome {
	for _, win := range ws {
		if !win.holds(sincePod) {
			continue
		}
		msg := win.Message
		if win.Error {
			if msg == "" {
				msg = "scripted error"
			}
			return probe.ErrorOutcome(errors.New(msg))
		}
		if msg == "" {
			msg = "scripted failure"
		}
		return probe.FailureOutcome(msg)
	}
	return probe.SuccessOutcome("")
}

// Container reports one container as ListContainers would.
func (w *World) Container(id string) (lifecycle.ContainerInfo, bool) {
	p, c := w.findContainer(id)
	if c == nil {
		return lifecycle.ContainerInfo{}, false
	}
	return w.info(p, c), true
}

// Sandbox reports one sandbox as ListSandboxes would.
func (w *World) Sandbox(id string) (lifecycle.SandboxInfo, bool) {
	p := w.podOfSandbox(id)
	if p == nil || p.sb == nil || p.sb.id != id {
		return lifecycle.SandboxInfo{}, false
	}
	return sandboxInfo(p), true
}

// Containers lists every container, sorted by ID.
func (w *World) Containers() []lifecycle.ContainerInfo {
	var out []lifecycle.ContainerInfo
	for _, p := range w.pods {
		for _, c := range p.ctrs {
			out = append(out, w.info(p, c))
		}
	}
	slices.SortFunc(out, func(a, b lifecycle.ContainerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Sandboxes lists every sandbox, sorted by ID.
func (w *World) Sandboxes() []lifecycle.SandboxInfo {
	var out []lifecycle.SandboxInfo
	for _, p := range w.pods {
		if p.sb != nil {
			out = append(out, sandboxInfo(p))
		}
	}
	slices.SortFunc(out, func(a, b lifecycle.SandboxInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ImagePresent reports whether image is on the node at t.
func (w *World) ImagePresent(image string, t time.Time) bool {
	at, ok := w.present[image]
	return ok && at <= t.UnixNano()
}

func (w *World) info(p *pod, c *ctr) lifecycle.ContainerInfo {
	ci := lifecycle.ContainerInfo{ID: c.id, Pod: p.ref, Name: c.name(), Attempt: c.attempt, State: c.state,
		CreatedAt: w.timeOf(c, timeCreated), StartedAt: w.timeOf(c, timeStarted), FinishedAt: w.timeOf(c, timeFinished),
		ExitCode: c.exitCode, Signal: c.signal, Reason: c.reason}
	if p.sb != nil {
		ci.SandboxID = p.sb.id
	}
	return ci
}

func sandboxInfo(p *pod) lifecycle.SandboxInfo {
	return lifecycle.SandboxInfo{ID: p.sb.id, Pod: p.ref, Attempt: p.sb.attempt, IP: p.sb.ip, Ready: p.sb.ready}
}
