package lifecycle

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

// maker makes the machine of a benchmark: with New (its own spec and buffers), or from a
// Template (shared spec, lent buffers), which is how the Sim runs many pods of one spec.
type maker struct {
	name string
	make func(b *testing.B, spec podlife.PodSpec) *Machine
}

func makers() []maker {
	return []maker{
		{"new", func(b *testing.B, spec podlife.PodSpec) *Machine {
			m, err := New(PodRef{Namespace: "default", Name: "pod", UID: "u"}, spec, t0, Options{})
			if err != nil {
				b.Fatal(err)
			}
			return m
		}},
		{"template", func(b *testing.B, spec podlife.PodSpec) *Machine {
			tmpl, err := NewTemplate(spec)
			if err != nil {
				b.Fatal(err)
			}
			return tmpl.New(PodRef{Namespace: "default", Name: "pod", UID: "u"}, t0, Options{})
		}},
	}
}

// forMakers runs bench once per maker.
func forMakers(b *testing.B, bench func(b *testing.B, mk maker)) {
	for _, mk := range makers() {
		b.Run(mk.name, func(b *testing.B) { bench(b, mk) })
	}
}

// benchMachine is a running pod with one app container that has a readiness probe: the state
// most of a node's pods are in most of the time.
func benchMachine(b *testing.B, mk maker) (*Machine, string) {
	b.Helper()
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}}}}}
	m := mk.make(b, spec)
	step := func(ev Event) {
		if err := m.Step(ev); err != nil {
			b.Fatal(err)
		}
		m.Advance()
	}
	m.Advance()
	step(Event{Type: SetupDone, At: t0})
	step(Event{Type: SandboxReady, At: t0, SandboxID: "sb", IP: "10.0.0.1"})
	step(Event{Type: ImagePulled, At: t0, Container: "app"})
	step(Event{Type: ContainerCreated, At: t0, Container: "app", ContainerID: "c1"})
	step(Event{Type: ContainerStarted, At: t0, ContainerID: "c1"})
	return m, "c1"
}

// BenchmarkMachineStepProbeResult is the most frequent event of a running pod: a probe result
// that changes nothing, then the Tick at the next probe deadline.
func BenchmarkMachineStepProbeResult(b *testing.B) { forMakers(b, benchProbeResult) }

func benchProbeResult(b *testing.B, mk maker) {
	m, id := benchMachine(b, mk)
	at := t0
	ok := probe.SuccessOutcome("")
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(10 * time.Second)
		if err := m.Step(Event{Type: Tick, At: at}); err != nil {
			b.Fatal(err)
		}
		m.Advance()
		if err := m.Step(Event{Type: ProbeResult, At: at, ContainerID: id, Probe: probe.Readiness, Outcome: ok}); err != nil {
			b.Fatal(err)
		}
		m.Advance()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/event")
}

// stepper steps m at increasing times and fails the benchmark on an error.
func stepper(b *testing.B, m *Machine) func(ev Event) {
	return func(ev Event) {
		if err := m.Step(ev); err != nil {
			b.Fatal(err)
		}
		m.Advance()
	}
}

// BenchmarkMachineStepExitBackoff is a crash loop at its cap: the container exits 1 after a
// minute (BackOff, CrashLoopBackOff), the Tick at the end of the back-off asks for the pull,
// and the pull, create and start bring the next instance up with a new readiness tracker: five
// events per op, the exit being the one that decides the back-off.
func BenchmarkMachineStepExitBackoff(b *testing.B) { forMakers(b, benchExitBackoff) }

func benchExitBackoff(b *testing.B, mk maker) {
	m, id := benchMachine(b, mk)
	step := stepper(b, m)
	ids := make([]string, 16) // more than the 8 old IDs a container remembers
	for i := range ids {
		ids[i] = fmt.Sprintf("c%d", i+2)
	}
	at := t0
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Minute)
		step(Event{Type: ContainerExited, At: at, ContainerID: id, ExitCode: 1})
		if d := m.Ready().Deadline; !d.IsZero() { // zero after the first exit, which restarts at once
			at = d
		}
		step(Event{Type: Tick, At: at})
		step(Event{Type: ImagePulled, At: at, Container: "app"})
		id = ids[n%len(ids)]
		n++
		step(Event{Type: ContainerCreated, At: at, Container: "app", Attempt: m.ctrs[0].attempt, ContainerID: id})
		step(Event{Type: ContainerStarted, At: at, ContainerID: id})
	}
	if st := m.Status().ContainerStatuses[0]; st.State.Running == nil || st.RestartCount != int32(n) {
		b.Fatalf("after %d restarts: %+v", n, st)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(5*b.N), "ns/event")
}

// BenchmarkMachineStepReadinessFlip is a readiness probe with failureThreshold 1 that fails and
// succeeds in turn: every result flips Ready, so every one makes a new pod status (container
// ready, ContainersReady, Ready). Four events per op: two Ticks and two results.
func BenchmarkMachineStepReadinessFlip(b *testing.B) { forMakers(b, benchReadinessFlip) }

func benchReadinessFlip(b *testing.B, mk maker) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}, FailureThreshold: 1}}}}
	m := mk.make(b, spec)
	m.Advance()
	step := stepper(b, m)
	step(Event{Type: SetupDone, At: t0})
	step(Event{Type: SandboxReady, At: t0, SandboxID: "sb", IP: "10.0.0.1"})
	step(Event{Type: ImagePulled, At: t0, Container: "app"})
	step(Event{Type: ContainerCreated, At: t0, Container: "app", ContainerID: "c1"})
	step(Event{Type: ContainerStarted, At: t0, ContainerID: "c1"})
	step(Event{Type: ProbeResult, At: t0, ContainerID: "c1", Probe: probe.Readiness, Outcome: probe.SuccessOutcome("")})
	at := t0
	ok, bad := probe.SuccessOutcome(""), probe.FailureOutcome("not yet")
	b.ReportAllocs()
	for b.Loop() {
		for _, o := range [2]probe.Outcome{bad, ok} {
			at = at.Add(10 * time.Second)
			step(Event{Type: Tick, At: at})
			step(Event{Type: ProbeResult, At: at, ContainerID: "c1", Probe: probe.Readiness, Outcome: o})
		}
	}
	if !m.Status().ContainerStatuses[0].Ready {
		b.Fatal("not ready after a success")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(4*b.N), "ns/event")
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleMachineMemory reports the heap held by one idle Machine: a running pod with one
// app container and a readiness probe, after its start and its first readiness success, with
// its Ready handed out and acknowledged. It is the marginal cost of a machine, spec included.
// "new" makes each machine with New (its own defaulted spec), "template" from one Template.
func BenchmarkIdleMachineMemory(b *testing.B) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}}}}}
	tmpl, err := NewTemplate(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("new", func(b *testing.B) {
		idleMachines(b, func(ref PodRef) (*Machine, error) { return New(ref, spec, t0, Options{}) })
	})
	b.Run("template", func(b *testing.B) {
		idleMachines(b, func(ref PodRef) (*Machine, error) { return tmpl.New(ref, t0, Options{}), nil })
	})
}

func idleMachines(b *testing.B, newMachine func(PodRef) (*Machine, error)) {
	const n = 10000
	names, ids := make([]string, n), make([]string, n)
	for i := range n {
		names[i], ids[i] = fmt.Sprint("pod-", i), fmt.Sprint("c-", i)
	}
	ok := probe.SuccessOutcome("")
	var per, allocs float64
	for b.Loop() {
		ms := make([]*Machine, n)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range ms {
			m, err := newMachine(PodRef{Namespace: "default", Name: names[i]})
			if err != nil {
				b.Fatal(err)
			}
			m.Advance()
			step := stepper(b, m)
			step(Event{Type: SetupDone, At: t0})
			step(Event{Type: SandboxReady, At: t0, SandboxID: "sb", IP: "10.0.0.1"})
			step(Event{Type: ImagePulled, At: t0, Container: "app"})
			step(Event{Type: ContainerCreated, At: t0, Container: "app", ContainerID: ids[i]})
			step(Event{Type: ContainerStarted, At: t0, ContainerID: ids[i]})
			step(Event{Type: ProbeResult, At: t0, ContainerID: ids[i], Probe: probe.Readiness, Outcome: ok})
			ms[i] = m
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		allocs = float64(after.Mallocs-before.Mallocs) / n
		per = float64(liveHeap()-before.HeapAlloc) / n
		for _, m := range ms {
			if !m.Status().ContainerStatuses[0].Ready {
				b.Fatal("not ready")
			}
		}
		runtime.KeepAlive(ms)
	}
	b.ReportMetric(per, "B/machine")
	b.ReportMetric(allocs, "allocs/machine")
}
