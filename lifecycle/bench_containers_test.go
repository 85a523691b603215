package lifecycle

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// runningPod is a running pod of n app containers, each with a readiness probe (period 10 s,
// failureThreshold 1), all ready; the containers start spread over the first 10 s, so that
// their probes fall due one at a time.
func runningPod(tb testing.TB, n int) *Machine {
	tb.Helper()
	spec := podlife.PodSpec{}
	for i := range n {
		spec.Containers = append(spec.Containers, podlife.Container{Name: "c" + strconv.Itoa(i), Image: "busybox:1",
			ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}, FailureThreshold: 1}})
	}
	// newMachine, not New, which refuses pods over podlife.MaxContainers: the sizes past the
	// limit show that the growth stays linear beyond it.
	d := spec.Defaulted()
	m := newMachine(PodRef{Namespace: "default", Name: "big", UID: "u"}, &d, nil, t0, Options{})
	step := func(ev Event) {
		if err := m.Step(ev); err != nil {
			tb.Fatal(err)
		}
		m.Advance()
	}
	m.Advance()
	step(Event{Type: SetupDone, At: t0})
	step(Event{Type: SandboxReady, At: t0, SandboxID: "sb", IP: "10.0.0.1"})
	for i := range n {
		at := t0.Add(time.Duration(i) * 10 * time.Second / time.Duration(n))
		name, id := spec.Containers[i].Name, "id-"+spec.Containers[i].Name
		step(Event{Type: ImagePulled, At: at, Container: name})
		step(Event{Type: ContainerCreated, At: at, Container: name, ContainerID: id})
		step(Event{Type: ContainerStarted, At: at, ContainerID: id}) // its first probe runs now
		step(Event{Type: ProbeResult, At: at, ContainerID: id, Probe: probe.Readiness, Outcome: probe.SuccessOutcome("")})
	}
	if st := m.Status(); st.Phase != phase.Running || !st.ContainerStatuses[n-1].Ready {
		tb.Fatalf("not running and ready: %s", st.Phase)
	}
	return m
}

// BenchmarkMachineStepContainers is the cost of one event against the size of the pod: in a
// running pod of N containers, the Tick at the next probe deadline runs one container's
// readiness probe, whose result flips the container's readiness (failureThreshold 1): a new pod
// status (its Ready, ContainersReady, Ready) every time. Two events per op. A status names every
// container, so an event costs time linear in N; ns/event/container, flat from 10 to 5,000
// containers, says it is no worse.
func BenchmarkMachineStepContainers(b *testing.B) {
	// From a usual pod to the podlife.MaxContainers limit, and past it.
	for _, n := range []int{10, 100, podlife.MaxContainers, 2000, 5000} {
		var m *Machine
		b.Run(fmt.Sprintf("containers=%d", n), func(b *testing.B) {
			if m == nil { // the pod is started once per size, not once per b.N
				m = runningPod(b, n)
			}
			ok, bad := probe.SuccessOutcome(""), probe.FailureOutcome("not yet")
			unready := make(map[string]bool, n) // all are ready at first
			b.ReportAllocs()
			for b.Loop() {
				at := m.Ready().Deadline
				if err := m.Step(Event{Type: Tick, At: at}); err != nil {
					b.Fatal(err)
				}
				acts := m.Ready().Actions
				if len(acts) != 1 || acts[0].Type != RunProbe {
					b.Fatalf("at %s: %v, want one RunProbe", at, acts)
				}
				id := acts[0].ContainerID
				m.Advance()
				o := bad
				if unready[id] {
					o = ok
				}
				unready[id] = !unready[id]
				if err := m.Step(Event{Type: ProbeResult, At: at, ContainerID: id, Probe: probe.Readiness, Outcome: o}); err != nil {
					b.Fatal(err)
				}
				m.Advance()
			}
			perEvent := float64(b.Elapsed().Nanoseconds()) / float64(2*b.N)
			b.ReportMetric(perEvent, "ns/event")
			b.ReportMetric(perEvent/float64(n), "ns/event/container")
		})
	}
}
