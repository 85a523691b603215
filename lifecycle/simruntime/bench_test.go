package simruntime

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/phase"
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

// benchPods adds n pods, half jobs, half servers; with templates, each kind's machines share a
// lifecycle.Template.
func benchPods(b *testing.B, s *Sim, n int, templates bool) {
	job := podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "job", Image: "job:1"}}}
	srv := podlife.PodSpec{Containers: []podlife.Container{{Name: "srv", Image: "srv:1",
		ReadinessProbe: execProbe(5), LivenessProbe: execProbe(10),
		Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}}}}
	jobT, err := lifecycle.NewTemplate(job)
	if err != nil {
		b.Fatal(err)
	}
	srvT, err := lifecycle.NewTemplate(srv)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		ref := lifecycle.PodRef{Namespace: "bench", Name: fmt.Sprintf("pod-%d", i), UID: fmt.Sprint(i)}
		spec, tmpl := job, jobT
		if i%2 == 1 {
			spec, tmpl = srv, srvT
		}
		if templates {
			err = s.Add(tmpl.New(ref, s.Now(), lifecycle.Options{}))
		} else {
			_, err = s.AddPod(ref, spec, lifecycle.Options{})
		}
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 1 {
			if err := s.At(t0.Add(time.Minute+time.Duration(i%1000)*time.Millisecond), ref, lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSim runs n pods to completion: half jobs, half servers deleted after a minute; each
// pod's machine made by AddPod (lifecycle.New), or from a Template.
func BenchmarkSim(b *testing.B) {
	for _, c := range []struct {
		n         int
		templates bool
	}{{100, false}, {10000, false}, {10000, true}} {
		n := c.n
		name := fmt.Sprint("pods=", n)
		if c.templates {
			name += "/template"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var events, actions uint64
			start := time.Now()
			for b.Loop() {
				s := NewSim(benchWorld(), t0)
				s.OnError = func(pod lifecycle.PodRef, ev lifecycle.Event, err error) { b.Fatalf("%s: %s: %v", pod, ev, err) }
				benchPods(b, s, n, c.templates)
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
	// The idle pod of issue 7: one app container with a readiness probe, a minute after its
	// start, in the Sim and its World (machine, spec, statuses, probe tracker, tick, the world's
	// sandbox and container). Names are made in the window: a pod's name is part of its cost.
	// With template, the machines share one lifecycle.Template's spec.
	for _, shared := range []bool{false, true} {
		name := "sim/idle-readiness"
		if shared {
			name += "/template"
		}
		b.Run(name, func(b *testing.B) {
			idleSimPods(b, n, shared)
		})
	}
}

func idleSimPods(b *testing.B, n int, shared bool) {
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var per float64
	for b.Loop() {
		before := heap()
		s := NewSim(NewWorld(WorldOptions{}), t0)
		spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1", ReadinessProbe: execProbe(10)}}}
		tmpl, err := lifecycle.NewTemplate(spec)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			ref := lifecycle.PodRef{Namespace: "bench", Name: fmt.Sprintf("pod-%d", i), UID: fmt.Sprint(i)}
			if shared {
				err = s.Add(tmpl.New(ref, s.Now(), lifecycle.Options{}))
			} else {
				_, err = s.AddPod(ref, spec, lifecycle.Options{})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		s.RunUntil(t0.Add(time.Minute))
		per = float64(heap()-before) / float64(n)
		if s.Live() != n {
			b.Fatalf("%d pods live", s.Live())
		}
		runtime.KeepAlive(s)
	}
	b.ReportMetric(per, "B/pod")
}

// agentBenchSpec is the pod of BenchmarkAgent: one app container with a readiness probe, whose
// script exits 0 on the stop signal at once.
func agentBenchSpec() podlife.PodSpec {
	return podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1", ReadinessProbe: execProbe(10)}}}
}

func agentBenchWorld() *World {
	return NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Runs: []Run{{GracefulExit: true}}}}})
}

func agentBenchRef(i int) lifecycle.PodRef {
	return lifecycle.PodRef{Namespace: "bench", Name: fmt.Sprintf("pod-%d", i), UID: fmt.Sprint(i)}
}

// BenchmarkAgent measures the concurrent lifecycle.Agent on the Runtime and memstore, in events
// per second of wall time, against the single-goroutine Sim on the same pods in the same run.
// Each op binds n pods, waits until every one is Ready, deletes them all and waits until every
// one is terminal: setup, sandbox, pull, create, start, the first readiness run, the deletion, the
// exit on the stop signal, and the pod's end.
//
// The agent runs on a lifecycle.FakeClock that stays at t0. A synctest bubble would be the other
// way to give it virtual time, but synctest.Test needs a *testing.T, and a benchmark has only a
// *testing.B. A FakeClock that is never stepped needs no driver that guesses when the agent is
// idle: every scripted step takes no time, so the whole life happens at t0, and the timers the
// agent sets for later (the next probe run, the end of the grace period) never fire. What is
// measured is the agent's own cost per event: goroutines, channels, locks, the store's
// compare-and-swap writes of JSON status records and its watch.
func BenchmarkAgent(b *testing.B) {
	const n = 1000
	b.Run(fmt.Sprint("agent/pods=", n), func(b *testing.B) {
		b.ReportAllocs()
		var events uint64
		for b.Loop() {
			events += runAgentBench(b, n)
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(events)/float64(b.N*n), "events/pod")
	})
	b.Run(fmt.Sprint("sim/pods=", n), func(b *testing.B) {
		b.ReportAllocs()
		var events uint64
		for b.Loop() {
			s := NewSim(agentBenchWorld(), t0)
			s.OnError = func(pod lifecycle.PodRef, ev lifecycle.Event, err error) { b.Fatalf("%s: %s: %v", pod, ev, err) }
			for i := range n {
				if _, err := s.AddPod(agentBenchRef(i), agentBenchSpec(), lifecycle.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			s.RunUntil(t0)
			for i := range n {
				if err := s.At(t0, agentBenchRef(i), lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
					b.Fatal(err)
				}
			}
			s.Run()
			if s.Live() != 0 {
				b.Fatalf("%d pods still live", s.Live())
			}
			events += s.Stats().Events
		}
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(events)/float64(b.N*n), "events/pod")
	})
}

// runAgentBench is one op of BenchmarkAgent; it returns how many events the machines stepped.
func runAgentBench(b *testing.B, n int) uint64 {
	clock := lifecycle.NewFakeClock(t0)
	rt := NewRuntime(agentBenchWorld(), clock)
	store := memstore.New()
	var mu sync.Mutex
	var observed uint64
	readyPods, donePods := map[string]bool{}, map[string]bool{}
	allReady, allDone := make(chan struct{}), make(chan struct{})
	agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: "node-1", Runtime: rt, Store: store, Setup: rt, Clock: clock,
		Observe: func(ref lifecycle.PodRef, _ time.Time, rd lifecycle.Ready) {
			mu.Lock()
			defer mu.Unlock()
			observed++
			switch st := rd.Status; {
			case st == nil:
			case st.Phase.IsTerminal() && !donePods[ref.Name]:
				donePods[ref.Name] = true
				if len(donePods) == n {
					close(allDone)
				}
			case phase.IsConditionTrue(st.Conditions, phase.PodReady) && !readyPods[ref.Name]:
				readyPods[ref.Name] = true
				if len(readyPods) == n {
					close(allReady)
				}
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	client := lifecycle.Client{Store: store}
	wait := func(ch <-chan struct{}, what string) {
		select {
		case <-ch:
		case <-time.After(time.Minute):
			b.Fatalf("not every pod is %s after a minute", what)
		}
	}
	for i := range n {
		if _, err := client.Bind(ctx, "node-1", agentBenchRef(i), agentBenchSpec()); err != nil {
			b.Fatal(err)
		}
	}
	wait(allReady, "Ready")
	for i := range n {
		if err := client.Delete(ctx, "node-1", agentBenchRef(i), nil, t0); err != nil {
			b.Fatal(err)
		}
	}
	wait(allDone, "terminal")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return observed - uint64(n) // every pod's first Ready comes before any event
}
