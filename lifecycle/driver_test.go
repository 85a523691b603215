package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// run is one scripted container instance: it runs for For, then exits with Exit. A zero For runs
// until stopped. On a stop signal it exits after TermDelay with 143 (or *TermExit), unless
// IgnoreTerm or a TermDelay longer than the stop timeout: then it is killed with 137 when the
// timeout runs out.
type run struct {
	For        time.Duration
	Exit       int32
	IgnoreTerm bool
	TermDelay  time.Duration
	TermExit   *int32
	// UnknownAfter, when set, has the runtime report the instance in an unknown state that long
	// after its start (it goes on running until stopped or its natural exit).
	UnknownAfter time.Duration
}

// driver answers a machine's actions from a script, in virtual time, and logs what happened:
// for the machine's unit tests, which need its insides. Scenarios and golden traces run on the
// Sim through podlifetest.
type driver struct {
	t       *testing.T
	m       *Machine
	now     time.Time
	queue   []Event
	runs    map[string][]run // per container, one entry per instance; the last repeats
	started map[string]int
	probes  func(container string, k probe.Kind, at time.Time) Outcome
	hookFor map[string]time.Duration // how long a hook takes, by "container/hook"
	ids     map[string]string        // container ID -> name
	exitAt  map[string]int           // container ID -> index of its pending natural exit
	gone    map[string]bool          // container IDs that exited
	log     []string
	observe func(Ready)
	check   ReadyChecker
}

func newDriver(t *testing.T, spec podlife.PodSpec) *driver {
	t.Helper()
	m, err := New(PodRef{Namespace: "default", Name: "pod", UID: "uid"}, spec, t0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &driver{t: t, m: m, now: t0, runs: map[string][]run{}, started: map[string]int{},
		hookFor: map[string]time.Duration{}, ids: map[string]string{}, exitAt: map[string]int{}, gone: map[string]bool{}}
}

func (d *driver) at() string { return fmt.Sprintf("%4.0fs", d.now.Sub(t0).Seconds()) }

func (d *driver) push(ev Event) { d.queue = append(d.queue, ev) }

func (d *driver) handle(rd Ready) {
	if d.observe != nil {
		d.observe(rd)
	}
	if err := d.check.Check(d.m, rd); err != nil {
		d.t.Fatalf("at %s %v", d.at(), err)
	}
	// Records first: they tell what happened, the actions what the machine does about it.
	for _, r := range rd.Records {
		d.log = append(d.log, d.at()+" event "+r.String())
	}
	for _, a := range rd.Actions {
		d.log = append(d.log, d.at()+" "+a.String())
		switch a.Type {
		case SetupPod:
			d.push(Event{Type: SetupDone, At: d.now})
		case RunSandbox:
			d.push(Event{Type: SandboxReady, At: d.now, SandboxID: fmt.Sprintf("sb%d", a.Attempt), IP: "10.1.0.2"})
		case PullImage:
			d.push(Event{Type: ImagePulled, At: d.now, Container: a.Container})
		case CreateContainer:
			id := fmt.Sprintf("%s-%d", a.Container, a.Attempt)
			d.ids[id] = a.Container
			d.push(Event{Type: ContainerCreated, At: d.now, Container: a.Container, Attempt: a.Attempt, ContainerID: id})
		case StartContainer:
			d.push(Event{Type: ContainerStarted, At: d.now, ContainerID: a.ContainerID})
			r := d.instance(a.Container)
			if r.For > 0 {
				d.push(Event{Type: ContainerExited, At: d.now.Add(r.For), ContainerID: a.ContainerID, ExitCode: r.Exit})
			}
			if r.UnknownAfter > 0 && (r.For == 0 || r.UnknownAfter < r.For) {
				d.push(Event{Type: ContainerUnknown, At: d.now.Add(r.UnknownAfter), ContainerID: a.ContainerID})
			}
		case RunProbe:
			o := probe.SuccessOutcome("")
			if d.probes != nil {
				o = d.probes(a.Container, a.Probe, d.now)
			}
			d.push(Event{Type: ProbeResult, At: d.now, ContainerID: a.ContainerID, Probe: a.Probe, Outcome: o})
		case RunHook:
			took := d.hookFor[a.Container+"/"+a.Hook.String()]
			if a.Timeout > 0 && took > a.Timeout {
				took = a.Timeout
			}
			d.push(Event{Type: HookResult, At: d.now.Add(took), ContainerID: a.ContainerID, Hook: a.Hook})
		case StopContainer:
			r := d.current(a.ContainerID)
			d.drop(a.ContainerID)
			if r.IgnoreTerm || a.Timeout == 0 || r.TermDelay > a.Timeout { // a zero timeout is SIGKILL at once, as in CRI
				d.push(Event{Type: ContainerExited, At: d.now.Add(a.Timeout), ContainerID: a.ContainerID, ExitCode: 137, Signal: 9})
			} else {
				code, signal := int32(143), int32(15)
				if r.TermExit != nil {
					code, signal = *r.TermExit, 0
				}
				d.push(Event{Type: ContainerExited, At: d.now.Add(r.TermDelay), ContainerID: a.ContainerID, ExitCode: code, Signal: signal})
			}
		}
	}
}

// instance is the script of the next instance of a container.
func (d *driver) instance(name string) run {
	rs := d.runs[name]
	i := d.started[name]
	d.started[name]++
	if len(rs) == 0 {
		return run{}
	}
	return rs[min(i, len(rs)-1)]
}

func (d *driver) current(id string) run {
	name := d.ids[id]
	rs := d.runs[name]
	if len(rs) == 0 {
		return run{}
	}
	return rs[min(d.started[name]-1, len(rs)-1)]
}

// drop removes a pending natural exit (or unknown state) of id: it is being stopped instead.
func (d *driver) drop(id string) {
	d.queue = slices.DeleteFunc(d.queue, func(e Event) bool {
		return (e.Type == ContainerExited || e.Type == ContainerUnknown) && e.ContainerID == id
	})
}

// runUntil drives the machine until the pod stopped or virtual time passes end.
func (d *driver) runUntil(end time.Time, extra ...Event) {
	d.t.Helper()
	d.queue = append(d.queue, extra...)
	for i := 0; i < 100000; i++ {
		rd := d.m.Ready()
		d.handle(rd)
		d.m.Advance()
		if d.m.Stopped() {
			return
		}
		best := -1
		for j, e := range d.queue {
			if best < 0 || e.At.Before(d.queue[best].At) {
				best = j
			}
		}
		var ev Event
		switch {
		case best >= 0 && (rd.Deadline.IsZero() || !rd.Deadline.Before(d.queue[best].At)):
			ev = d.queue[best]
			d.queue = slices.Delete(d.queue, best, best+1)
		case !rd.Deadline.IsZero():
			ev = Event{Type: Tick, At: rd.Deadline}
		default:
			return
		}
		if ev.At.After(end) {
			d.queue = append(d.queue, ev)
			return
		}
		if (ev.Type == HookResult && ev.Hook != PreStop || ev.Type == ProbeResult) && d.gone[ev.ContainerID] {
			continue // a probe or postStart in a container that exited ends with it (World.Happen too)
		}
		d.now = ev.At
		if ev.Type == ContainerExited {
			d.gone[ev.ContainerID] = true
		}
		if err := d.m.Step(ev); err != nil {
			d.log = append(d.log, d.at()+" error "+err.Error())
		}
	}
	n := len(d.log)
	d.t.Fatalf("no end after 100000 steps; last log:\n%s", strings.Join(d.log[max(0, n-30):], "\n"))
}

// lines returns the log lines containing every one of the words.
func (d *driver) lines(words ...string) []string {
	var out []string
	for _, l := range d.log {
		ok := true
		for _, w := range words {
			if !strings.Contains(l, w) {
				ok = false
			}
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}
