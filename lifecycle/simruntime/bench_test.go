package simruntime

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/probe"
)

// benchWorld scripts two kinds of pod: a job that runs 30 s and exits 0, and a server with
// probes and a preStop hook that is deleted after a minute.
func benchWorld() *World {
	return NewWorld(WorldOptions{
		Images: []string{"job:1", "srv:1"},
		Scripts: map[string]Script{
			"job": {Runs: []Run{{For: 30 * time.Second}}},
			"srv": {Runs: []Run{{TermDelay: 2 * time.Second}}, PreStop: HookScript{Took: 3 * time.Second},
				Probes: map[probe.Kind]ProbeScript{probe.Readiness: {Fail: true, FailUntil: 5 * time.Second}}},
		},
	})
}

func benchPods(b *testing.B, s *Sim, n int) {
	job := podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "job", Image: "job:1"}}}
	srv := podlife.PodSpec{Containers: []podlife.Container{{Name: "srv", Image: "srv:1",
		ReadinessProbe: execProbe(5), LivenessProbe: execProbe(10),
		Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}}}}
	for i := range n {
		ref := lifecycle.PodRef{Namespace: "bench", Name: fmt.Sprintf("pod-%d", i), UID: fmt.Sprint(i)}
		spec := job
		if i%2 == 1 {
			spec = srv
		}
		if _, err := s.AddPod(ref, spec, lifecycle.Options{}); err != nil {
			b.Fatal(err)
		}
		if i%2 == 1 {
			if err := s.At(t0.Add(time.Minute+time.Duration(i%1000)*time.Millisecond), ref, lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSim runs n pods to completion: half jobs, half servers deleted after a minute.
func BenchmarkSim(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprint("pods=", n), func(b *testing.B) {
			b.ReportAllocs()
			var events, actions uint64
			start := time.Now()
			for b.Loop() {
				s := NewSim(benchWorld(), t0)
				s.OnError = func(pod lifecycle.PodRef, ev lifecycle.Event, err error) { b.Fatalf("%s: %s: %v", pod, ev, err) }
				benchPods(b, s, n)
				s.Run()
				if s.Live() != 0 {
					b.Fatalf("%d pods still live", s.Live())
				}
				st := s.Stats()
				events += st.Events
				actions += st.Actions
			}
			elapsed := time.Since(start).Seconds()
			b.ReportMetric(float64(events)/elapsed, "events/s")
			b.ReportMetric(float64(events)/float64(b.N)/float64(n), "events/pod")
			b.ReportMetric(float64(n*b.N)/elapsed, "pods/s")
		})
	}
}

// BenchmarkMemory reports the heap held per running pod: by the World alone (a sandbox and one
// or four running containers per pod; the difference over three is one idle container), and by
// a Sim with its machines (one container each).
func BenchmarkMemory(b *testing.B) {
	const n = 20000
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for _, ctrs := range []int{1, 4} {
		b.Run(fmt.Sprintf("world/containers=%d", ctrs), func(b *testing.B) {
			var per float64
			for b.Loop() {
				before := heap()
				w := NewWorld(WorldOptions{})
				for i := range n {
					ref := lifecycle.PodRef{Namespace: "bench", Name: fmt.Sprintf("pod-%d", i), UID: fmt.Sprint(i)}
					sb := w.Do(t0, ref, lifecycle.Action{Type: lifecycle.RunSandbox})[0]
					w.Happen(sb)
					for c := range ctrs {
						id := w.Do(t0, ref, lifecycle.Action{Type: lifecycle.CreateContainer, Container: fmt.Sprint("c", c), SandboxID: sb.SandboxID})[0].ContainerID
						w.Do(t0, ref, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
					}
				}
				per = float64(heap()-before) / n
				runtime.KeepAlive(w)
			}
			b.ReportMetric(per, "B/pod")
		})
	}
	b.Run("sim", func(b *testing.B) {
		var per float64
		for b.Loop() {
			before := heap()
			s := NewSim(NewWorld(WorldOptions{}), t0)
			spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1"}}}
			for i := range n {
				ref := lifecycle.PodRef{Namespace: "bench", Name: fmt.Sprintf("pod-%d", i), UID: fmt.Sprint(i)}
				if _, err := s.AddPod(ref, spec, lifecycle.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			s.RunUntil(t0.Add(time.Minute))
			per = float64(heap()-before) / n
			runtime.KeepAlive(s)
		}
		b.ReportMetric(per, "B/pod")
	})
}
