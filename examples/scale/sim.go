package main

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/internal/procstat"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// config is one run.
type config struct {
	pods     int
	window   time.Duration // the pods are bound evenly over it
	lifetime time.Duration // each pod is deleted this long after it was bound
	crash    float64       // the fraction of pods whose app container crashes once
	// progress, when set, is told how far the run is.
	progress progress
	// atIdle, when set, runs at the idle moment, after the measurement (a heap profile).
	atIdle func() error
}

func defaultConfig() config {
	return config{pods: 100_000, window: time.Minute, lifetime: 90 * time.Second, crash: 0.1}
}

// progress is what simulate tells about its run; see progressBar.
type progress interface {
	update(virtual, end time.Duration, bound int, events uint64)
	done()
}

// report is what a run measured.
type report struct {
	Pods, Crashing   int
	Window, Lifetime time.Duration
	Virtual          time.Duration // from the first binding to the last pod's end
	Wall, CPU        time.Duration
	Events, Actions  uint64
	Stale            uint64
	Superseded       uint64
	PeakHeap         uint64 // heap in use (runtime/metrics), sampled during the run
	MaxRSS           uint64 // the process's, from getrusage; 0 where unknown
	IdleAt           time.Duration
	IdleLive         int
	IdleReady        int
	BytesPerIdlePod  float64
	Succeeded        int
	Failed           int
	Restarts         int64
	Allocs           uint64 // heap allocations during the run
	AllocBytes       uint64 // and their bytes
	GCs              uint32 // garbage collections during the run
}

// The scenario's numbers.
const (
	namespace   = "scale"
	initRuns    = 2 * time.Second  // the init container's run
	crashAfter  = 30 * time.Second // when a flaky app container exits 1
	termDelay   = time.Second      // how long an app container takes to exit after SIGTERM
	probePeriod = 10               // seconds between readiness probe runs
)

// spec is the pod of one kind: app names the app container, which the world scripts by name.
func spec(app string) podlife.PodSpec {
	return podlife.PodSpec{
		InitContainers: []podlife.Container{{Name: "init", Image: "registry.example/init:1"}},
		Containers: []podlife.Container{{Name: app, Image: "registry.example/" + app + ":1",
			ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"/ready"}}},
				PeriodSeconds: probePeriod}}},
	}
}

func world() *simruntime.World {
	serve := simruntime.Run{TermDelay: termDelay, GracefulExit: true}
	return simruntime.NewWorld(simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
		"init":  {Runs: []simruntime.Run{{For: initRuns}}},
		"web":   {Runs: []simruntime.Run{serve}},
		"flaky": {Runs: []simruntime.Run{{For: crashAfter, ExitCode: 1}, serve}},
	}})
}

// crashes says whether pod i is one of the flaky ones: they are spread evenly, floor(n*f) of n.
func crashes(i int, f float64) bool { return int(float64(i+1)*f) > int(float64(i)*f) }

func podName(i int, f float64) string {
	if crashes(i, f) {
		return "flaky-" + strconv.Itoa(i)
	}
	return "web-" + strconv.Itoa(i)
}

// podIndex is the i of podName.
func podIndex(name string) (int, bool) {
	j := strings.LastIndexByte(name, '-')
	if j < 0 {
		return 0, false
	}
	i, err := strconv.Atoi(name[j+1:])
	return i, err == nil
}

// tracker follows every pod's readiness and end through the machines' Readys.
type tracker struct {
	ready, ended []uint64 // bitsets by pod index
	nReady       int
	rep          *report
	errs         []error
}

func newTracker(n int, rep *report) *tracker {
	return &tracker{ready: make([]uint64, (n+63)/64), ended: make([]uint64, (n+63)/64), rep: rep}
}

func (t *tracker) onReady(pod lifecycle.PodRef, _ time.Time, rd lifecycle.Ready) {
	st := rd.Status
	if st == nil {
		return
	}
	i, ok := podIndex(pod.Name)
	if !ok || i/64 >= len(t.ready) {
		t.errs = append(t.errs, fmt.Errorf("a status for pod %s, which the run did not make", pod))
		return
	}
	w, bit := i/64, uint64(1)<<(i%64)
	if ready := phase.IsConditionTrue(st.Conditions, phase.PodReady); ready != (t.ready[w]&bit != 0) {
		t.ready[w] ^= bit
		if ready {
			t.nReady++
		} else {
			t.nReady--
		}
	}
	if st.Phase.IsTerminal() && t.ended[w]&bit == 0 {
		t.ended[w] |= bit
		if st.Phase == phase.Succeeded {
			t.rep.Succeeded++
		} else {
			t.rep.Failed++
		}
		for _, cs := range st.ContainerStatuses {
			t.rep.Restarts += int64(cs.RestartCount)
		}
	}
}

// heapInUse is the heap's in-use spans, as MemStats.HeapInuse, read without stopping the world.
func heapInUse(samples []metrics.Sample) uint64 {
	metrics.Read(samples)
	var n uint64
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			n += s.Value.Uint64()
		}
	}
	return n
}

// liveHeap is the heap the program holds: after a collection, MemStats.HeapAlloc.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// simulate runs cfg and measures it.
func simulate(cfg config) (*report, error) {
	rep := &report{Pods: cfg.pods, Window: cfg.window, Lifetime: cfg.lifetime}
	for i := range cfg.pods {
		if crashes(i, cfg.crash) {
			rep.Crashing++
		}
	}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	tr := newTracker(cfg.pods, rep) // before the baseline: the bitsets are the run's, not the pods'
	base := liveHeap()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := procstat.CPUTime()
	wall0 := time.Now()

	web, err := lifecycle.NewTemplate(spec("web"))
	if err != nil {
		return nil, err
	}
	flaky, err := lifecycle.NewTemplate(spec("flaky"))
	if err != nil {
		return nil, err
	}
	t0 := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC) // any fixed start would do
	sim := simruntime.NewSim(world(), t0)
	sim.OnReady = tr.onReady
	sim.OnError = func(pod lifecycle.PodRef, ev lifecycle.Event, err error) {
		if len(tr.errs) < 10 {
			tr.errs = append(tr.errs, fmt.Errorf("pod %s refused %s: %w", pod, ev, err))
		}
	}
	n := cfg.pods
	bindAt := func(i int) time.Duration { return time.Duration(int64(cfg.window) * int64(i) / int64(n)) }
	idleAt := min(cfg.window, cfg.lifetime)
	measured := false
	measure := func() error {
		sim.RunUntil(t0.Add(idleAt))
		rep.IdleAt, rep.IdleLive, rep.IdleReady = idleAt, sim.Live(), tr.nReady
		held := liveHeap()
		if rep.IdleLive > 0 && held > base {
			rep.BytesPerIdlePod = float64(held-base) / float64(rep.IdleLive)
		}
		rep.PeakHeap = max(rep.PeakHeap, heapInUse(samples))
		measured = true
		if cfg.atIdle != nil {
			return cfg.atIdle()
		}
		return nil
	}
	end := bindAt(n-1) + cfg.lifetime
	var steps int
	tick := func(bound int) {
		steps++
		if steps%4096 != 0 {
			return
		}
		rep.PeakHeap = max(rep.PeakHeap, heapInUse(samples))
		if cfg.progress != nil {
			cfg.progress.update(sim.Now().Sub(t0), end, bound, sim.Stats().Events)
		}
	}
	// Bindings and deletions in time order: pod j is deleted lifetime after pod j was bound.
	for i, j := 0, 0; j < n; {
		bind := i < n && bindAt(i) <= bindAt(j)+cfg.lifetime
		at := bindAt(j) + cfg.lifetime
		if bind {
			at = bindAt(i)
		}
		if !measured && at > idleAt {
			if err := measure(); err != nil {
				return nil, err
			}
		}
		sim.RunUntil(t0.Add(at))
		if bind {
			tmpl := web
			if crashes(i, cfg.crash) {
				tmpl = flaky
			}
			ref := lifecycle.PodRef{Namespace: namespace, Name: podName(i, cfg.crash)}
			if err := sim.Add(tmpl.New(ref, sim.Now(), lifecycle.Options{})); err != nil {
				return nil, err
			}
			i++
		} else {
			ref := lifecycle.PodRef{Namespace: namespace, Name: podName(j, cfg.crash)}
			if err := sim.At(t0.Add(at), ref, lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
				return nil, fmt.Errorf("deleting pod %s: %w", ref, err)
			}
			j++
		}
		tick(i)
	}
	if !measured {
		if err := measure(); err != nil {
			return nil, err
		}
	}
	// The deletions are in: let the pods stop, a virtual second at a time for the progress bar.
	for sim.Live() > 0 {
		before := sim.Stats().Events
		sim.RunUntil(sim.Now().Add(time.Second))
		tick(n)
		if sim.Stats().Events == before && sim.Now().Sub(t0) > end+time.Hour {
			break // nothing happens any more: some pod will never end
		}
	}
	rep.Wall = time.Since(wall0)
	rep.CPU = procstat.CPUTime() - cpu0
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	rep.Allocs, rep.AllocBytes, rep.GCs = ms1.Mallocs-ms0.Mallocs, ms1.TotalAlloc-ms0.TotalAlloc, ms1.NumGC-ms0.NumGC-1 // less measure's own
	rep.PeakHeap = max(rep.PeakHeap, heapInUse(samples))
	rep.MaxRSS = procstat.MaxRSS()
	if cfg.progress != nil {
		cfg.progress.update(end, end, n, sim.Stats().Events)
		cfg.progress.done()
	}
	st := sim.Stats()
	rep.Events, rep.Actions, rep.Stale, rep.Superseded = st.Events, st.Actions, st.Stale, st.Superseded
	rep.Virtual = sim.Now().Sub(t0)
	if len(tr.errs) > 0 {
		return rep, fmt.Errorf("simulation: %w", errors.Join(tr.errs...))
	}
	if sim.Live() > 0 || rep.Succeeded+rep.Failed != n {
		return rep, fmt.Errorf("simulation: %d pods still live, %d of %d ended", sim.Live(), rep.Succeeded+rep.Failed, n)
	}
	return rep, nil
}
