package phase_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// benchPod is a running pod with 1 init container, 1 sidecar and 3 app containers.
func benchPod() (*podlife.PodSpec, []phase.ContainerStatus, []phase.ContainerStatus) {
	s := spec(always, inits(app("migrate"), sidecar("proxy")), app("web"), app("worker"), withPolicy(app("cron"), onFailure, ruleOn(podlife.RuleRestart, 42)))
	init := statuses(ready(exited("migrate", 0)), readyRunning("proxy"))
	apps := statuses(readyRunning("web"), restarted(readyRunning("worker"), 2, t0.Add(-time.Minute)), waitingAfter("cron", 42))
	return s, init, apps
}

func BenchmarkCompute(b *testing.B) {
	s, init, apps := benchPod()
	b.ReportAllocs()
	var p phase.Phase
	for b.Loop() {
		p = phase.Compute(s, init, apps, false)
	}
	if p != phase.Running {
		b.Fatalf("phase %s", p)
	}
}

func BenchmarkConditions(b *testing.B) {
	s, init, apps := benchPod()
	in := phase.ConditionInput{Spec: s, InitStatuses: init, Statuses: apps, Phase: phase.Running, SandboxReady: true}
	prev := phase.Conditions(in, nil, t0)
	b.ReportAllocs()
	for b.Loop() {
		prev = phase.Conditions(in, prev, t0)
	}
}

func BenchmarkKubectlColumns(b *testing.B) {
	s, init, apps := benchPod()
	in := phase.ColumnsInput{Spec: s, Status: &phase.PodStatus{Phase: phase.Running, InitContainerStatuses: init, ContainerStatuses: apps}, Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		_ = phase.KubectlColumns(in)
	}
}

// benchPod3 is the smallest pod with every kind of container: one init container (exited 0), one
// sidecar and one app container, both running and ready.
func benchPod3() (*podlife.PodSpec, []phase.ContainerStatus, []phase.ContainerStatus) {
	s := spec(always, inits(app("migrate"), sidecar("proxy")), app("web"))
	return s, statuses(ready(exited("migrate", 0)), readyRunning("proxy")), statuses(readyRunning("web"))
}

// BenchmarkComputeVsKubelet runs phase.Compute and a baseline shaped like kubelet's getPhase in
// the same run, on the 3-container pod and on the 5-container one of BenchmarkCompute. The
// baseline counts by the same rules; what differs is how it finds statuses, as kubelet does:
// its caller joins the app and init statuses into a new slice, and each spec container's status
// is looked up by name and copied out.
func BenchmarkComputeVsKubelet(b *testing.B) {
	pods := []struct {
		name string
		pod  func() (*podlife.PodSpec, []phase.ContainerStatus, []phase.ContainerStatus)
	}{{"containers=3", benchPod3}, {"containers=5", benchPod}}
	for _, p := range pods {
		s, init, apps := p.pod()
		initialized := phase.HasAnyAppContainerStarted(s, apps)
		b.Run(p.name+"/podlife", func(b *testing.B) {
			b.ReportAllocs()
			var got phase.Phase
			for b.Loop() {
				got = phase.ComputeInitialized(s, init, apps, false, initialized)
			}
			if got != phase.Running {
				b.Fatalf("phase %s", got)
			}
		})
		b.Run(p.name+"/kubelet-style", func(b *testing.B) {
			b.ReportAllocs()
			var got phase.Phase
			for b.Loop() {
				got = kubeletStylePhase(s, init, apps, false, initialized)
			}
			if got != phase.Running {
				b.Fatalf("phase %s", got)
			}
		})
		// The same without the join (done once, outside the loop): the cost of the lookups alone.
		all := joinStatuses(apps, init)
		b.Run(p.name+"/kubelet-style-prejoined", func(b *testing.B) {
			b.ReportAllocs()
			var got phase.Phase
			for b.Loop() {
				got = kubeletGetPhase(s, all, false, initialized)
			}
			if got != phase.Running {
				b.Fatalf("phase %s", got)
			}
		})
	}
}

// TestKubeletStyleBaselineAgrees keeps the baseline honest: on pods drawn from the fuzz decoder
// it gives the same phase as phase.ComputeInitialized.
func TestKubeletStyleBaselineAgrees(t *testing.T) {
	data := make([]byte, 64)
	state := uint32(1)
	for i := range 2000 {
		for j := range data {
			state = state*1664525 + 1013904223 // a fixed LCG: the same pods every run
			data[j] = byte(state >> 24)
		}
		s, init, apps, terminal := decodePod(data)
		initialized := phase.HasAnyAppContainerStarted(s, apps)
		want := phase.ComputeInitialized(s, init, apps, terminal, initialized)
		if got := kubeletStylePhase(s, init, apps, terminal, initialized); got != want {
			t.Fatalf("pod %d: baseline says %s, Compute %s", i, got, want)
		}
	}
}

// kubeletStylePhase is the baseline: getPhase's structure (written for this benchmark, not
// copied): one joined status list, a lookup by name that returns a copy for every spec container,
// a counter per state, and the same decision as phase.Compute at the end.
func kubeletStylePhase(spec *podlife.PodSpec, initStatuses, statuses []phase.ContainerStatus, podIsTerminal, podHasInitialized bool) phase.Phase {
	return kubeletGetPhase(spec, joinStatuses(statuses, initStatuses), podIsTerminal, podHasInitialized)
}

// joinStatuses is how kubelet's generateAPIPodStatus hands statuses to getPhase: the app statuses
// followed by the init ones, in a new slice.
func joinStatuses(statuses, initStatuses []phase.ContainerStatus) []phase.ContainerStatus {
	return append(append([]phase.ContainerStatus{}, statuses...), initStatuses...)
}

func kubeletGetPhase(spec *podlife.PodSpec, all []phase.ContainerStatus, podIsTerminal, podHasInitialized bool) phase.Phase {
	if spec == nil {
		return phase.Pending
	}
	restartable := func(c *podlife.Container, t *phase.TerminatedState) bool {
		return phase.ContainerShouldRestart(spec.RestartPolicy, c, t.ExitCode) || t.Reason == phase.ReasonRestartingAllContainers
	}
	pendingRegularInit, pendingSidecars, failedInit := 0, 0, 0
	unknown, running, waiting, stopped, stoppedNotRestartable, succeeded := 0, 0, 0, 0, 0, 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.IsSidecar() {
			continue
		}
		cs, ok := statusByName(all, c.Name)
		switch {
		case !ok, cs.State.Running != nil:
			pendingRegularInit++
		case cs.State.Terminated != nil:
			if t := cs.State.Terminated; t.ExitCode != 0 && !restartable(c, t) {
				failedInit++
			}
		case cs.State.Waiting != nil:
			if t := cs.LastTerminationState.Terminated; t == nil {
				pendingRegularInit++
			} else if t.ExitCode != 0 && !restartable(c, t) {
				failedInit++
			}
		default:
			pendingRegularInit++
		}
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if !c.IsSidecar() {
			continue
		}
		cs, ok := statusByName(all, c.Name)
		switch {
		case !ok:
			unknown++
		case cs.State.Running != nil:
			if !cs.IsStarted() {
				pendingSidecars++
			}
			running++
		case cs.State.Terminated != nil:
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated == nil {
				pendingSidecars++
				waiting++
			}
		default:
			pendingSidecars++
			unknown++
		}
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		cs, ok := statusByName(all, c.Name)
		switch {
		case !ok:
			unknown++
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if !restartable(c, cs.State.Terminated) {
				stoppedNotRestartable++
			}
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			t := cs.LastTerminationState.Terminated
			if t == nil {
				waiting++
				continue
			}
			stopped++
			if !restartable(c, t) {
				stoppedNotRestartable++
			}
		default:
			unknown++
		}
	}
	switch {
	case failedInit > 0:
		return phase.Failed
	case pendingRegularInit > 0, pendingSidecars > 0 && !podHasInitialized, waiting > 0:
		return phase.Pending
	case running > 0 && unknown == 0:
		return phase.Running
	case running == 0 && stopped > 0 && unknown == 0:
		if podIsTerminal || stopped == stoppedNotRestartable {
			if stopped == succeeded {
				return phase.Succeeded
			}
			return phase.Failed
		}
		return phase.Running
	}
	return phase.Pending
}

// statusByName is podutil.GetContainerStatus's shape: the first status of that name, by value.
func statusByName(statuses []phase.ContainerStatus, name string) (phase.ContainerStatus, bool) {
	for i := range statuses {
		if statuses[i].Name == name {
			return statuses[i], true
		}
	}
	return phase.ContainerStatus{}, false
}

// BenchmarkComputeContainers is phase.Compute and phase.Conditions against the size of the pod:
// N running, ready app containers, their statuses in spec order. "by-name" is Compute and
// Conditions as any caller uses them (a pod of more than a few dozen statuses is indexed once per
// call); "in-spec-order" is ComputeInSpecOrder and ConditionInput.InSpecOrder, as a
// lifecycle.Machine calls them (each status at its container's position). ns/container, flat
// from 10 to 5,000, says the cost grows linearly.
func BenchmarkComputeContainers(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 5000} {
		var cs []podlife.Container
		var sts []phase.ContainerStatus
		for i := range n {
			name := "c" + strconv.Itoa(i)
			cs = append(cs, app(name))
			sts = append(sts, readyRunning(name))
		}
		s := spec(always, nil, cs...)
		for _, inOrder := range []bool{false, true} {
			mode := "by-name"
			if inOrder {
				mode = "in-spec-order"
			}
			b.Run(fmt.Sprintf("containers=%d/%s", n, mode), func(b *testing.B) {
				in := phase.ConditionInput{Spec: s, Statuses: sts, Phase: phase.Running, SandboxReady: true, InSpecOrder: inOrder}
				prev := phase.Conditions(in, nil, t0)
				b.ReportAllocs()
				for b.Loop() {
					var p phase.Phase
					if inOrder {
						p = phase.ComputeInSpecOrder(s, nil, sts, false, true)
					} else {
						p = phase.Compute(s, nil, sts, false)
					}
					if p != phase.Running {
						b.Fatalf("phase %s", p)
					}
					prev = phase.Conditions(in, prev, t0)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/container")
			})
		}
	}
}
