package lifecycle

import (
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

// benchMachine is a running pod with one app container that has a readiness probe: the state
// most of a node's pods are in most of the time.
func benchMachine(b *testing.B) (*Machine, string) {
	b.Helper()
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}}}}}
	m, err := New(PodRef{Namespace: "default", Name: "pod", UID: "u"}, spec, t0, Options{})
	if err != nil {
		b.Fatal(err)
	}
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
func BenchmarkMachineStepProbeResult(b *testing.B) {
	m, id := benchMachine(b)
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
}
