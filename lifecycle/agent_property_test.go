package lifecycle_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// agentScenario is a generated pod, its scripts, and when its agent is stopped and for how long.
type agentScenario struct {
	spec     podlife.PodSpec
	scripts  map[string]simruntime.Script
	stopAt   time.Duration
	away     time.Duration
	deleteAt time.Duration // 0: never
}

func genAgentScenario(t *rapid.T) agentScenario {
	s := agentScenario{scripts: map[string]simruntime.Script{}}
	s.spec.RestartPolicy = rapid.SampledFrom([]podlife.RestartPolicy{podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, "policy")
	s.spec.TerminationGracePeriodSeconds = ptr(int64(rapid.IntRange(0, 20).Draw(t, "grace")))
	if rapid.IntRange(0, 3).Draw(t, "hasDeadline") == 0 {
		s.spec.ActiveDeadlineSeconds = ptr(int64(rapid.IntRange(1, 200).Draw(t, "activeDeadline")))
	}
	script := func(name string) {
		var runs []simruntime.Run
		for i := range rapid.IntRange(1, 3).Draw(t, name+"/runs") {
			runs = append(runs, simruntime.Run{
				For:        time.Duration(rapid.IntRange(0, 60).Draw(t, fmt.Sprintf("%s/%d/for", name, i))) * time.Second,
				ExitCode:   rapid.SampledFrom([]int32{0, 1}).Draw(t, fmt.Sprintf("%s/%d/exit", name, i)),
				IgnoreTerm: rapid.Bool().Draw(t, fmt.Sprintf("%s/%d/ignoreTerm", name, i)),
			})
		}
		s.scripts[name] = simruntime.Script{Runs: runs}
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "init") {
		name := fmt.Sprintf("init%d", i)
		c := podlife.Container{Name: name, Image: "busybox:1"}
		if rapid.Bool().Draw(t, name+"/sidecar") {
			c.RestartPolicy = ptr(podlife.RestartAlways)
		}
		s.spec.InitContainers = append(s.spec.InitContainers, c)
		script(name)
	}
	for i := range rapid.IntRange(1, 2).Draw(t, "apps") {
		name := fmt.Sprintf("app%d", i)
		c := podlife.Container{Name: name, Image: "busybox:1"}
		if rapid.Bool().Draw(t, name+"/preStop") {
			c.Lifecycle = &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 0}}}
		}
		s.spec.Containers = append(s.spec.Containers, c)
		script(name)
	}
	s.stopAt = time.Duration(rapid.IntRange(1, 150).Draw(t, "stopAt")) * time.Second
	s.away = time.Duration(rapid.IntRange(0, 40).Draw(t, "away")) * time.Second
	if rapid.Bool().Draw(t, "delete") {
		s.deleteAt = time.Duration(rapid.IntRange(1, 250).Draw(t, "deleteAt")) * time.Second
	}
	return s
}

// playAgent runs the scenario through two agents in turn, on one store and one runtime, in a
// synctest bubble, and returns the problems it saw.
func playAgent(t *testing.T, s agentScenario) (problems []string) {
	synctest.Test(t, func(t *testing.T) {
		world := simruntime.NewWorld(simruntime.WorldOptions{Scripts: s.scripts})
		rt := simruntime.NewRuntime(world, lifecycle.RealClock{})
		store := memstore.New()
		client := lifecycle.Client{Store: store}
		start := time.Now()
		found := newFindings()
		problem, observe := found.add, found.observe
		defer func() { problems = found.all() }()
		// Every status the agents store, in order.
		ctx, cancelWatch := context.WithCancel(t.Context())
		var watched sync.WaitGroup
		watched.Go(func() {
			var last lifecycle.StatusRecord
			restarts := map[string]int32{}
			for resp := range store.Watch(ctx, lifecycle.Keys{}.Statuses(node), 1) {
				for _, ev := range resp.Events {
					if ev.Type != lifecycle.WatchPut {
						continue
					}
					rec, err := lifecycle.DecodeStatus(ev.KV.Value)
					if err != nil {
						problem("status does not decode: %v", err)
						continue
					}
					if rec.Seq <= last.Seq {
						problem("status seq %d after %d", rec.Seq, last.Seq)
					}
					if last.Status.Phase.IsTerminal() && rec.Status.Phase != last.Status.Phase {
						problem("phase left terminal %s for %s", last.Status.Phase, rec.Status.Phase)
					}
					for _, cs := range append(append([]phase.ContainerStatus{}, rec.Status.InitContainerStatuses...), rec.Status.ContainerStatuses...) {
						if cs.RestartCount < restarts[cs.Name] {
							problem("%s restartCount fell from %d to %d", cs.Name, restarts[cs.Name], cs.RestartCount)
						}
						restarts[cs.Name] = cs.RestartCount
					}
					last = rec
				}
			}
		})
		oneRunning := func() {
			rt.With(func(w *simruntime.World) {
				running := map[string]string{}
				for _, c := range w.Containers() {
					if c.State != lifecycle.ContainerStateRunning {
						continue
					}
					if id, ok := running[c.Name]; ok {
						problem("%s runs twice: %s and %s", c.Name, id, c.ID)
					}
					running[c.Name] = c.ID
				}
			})
		}
		runAgent := func() func() {
			ag, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: node, Runtime: rt, Store: store, Setup: rt, Observe: observe})
			if err != nil {
				problem("NewAgent: %v", err)
				return func() {}
			}
			actx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { defer close(done); _ = ag.Run(actx) }()
			return func() { cancel(); <-done }
		}
		sleepUntil := func(d time.Duration) {
			for time.Since(start) < d {
				time.Sleep(time.Second)
				synctest.Wait()
				oneRunning()
			}
		}
		deleteIfDue := func() {
			if s.deleteAt > 0 && time.Since(start) >= s.deleteAt {
				_ = client.Delete(t.Context(), node, podRef, nil, time.Now())
				s.deleteAt = 0
			}
		}

		stop := runAgent()
		if _, err := client.Bind(t.Context(), node, podRef, s.spec); err != nil {
			problem("Bind: %v", err)
		}
		for _, phaseEnd := range []time.Duration{s.stopAt, s.stopAt + s.away, 300 * time.Second} {
			for time.Since(start) < phaseEnd {
				if s.deleteAt > 0 && s.deleteAt < phaseEnd {
					sleepUntil(max(s.deleteAt, time.Since(start)))
					deleteIfDue()
					continue
				}
				sleepUntil(phaseEnd)
			}
			switch phaseEnd {
			case s.stopAt:
				stop()
			case s.stopAt + s.away:
				stop = runAgent()
			}
		}
		stop()
		cancelWatch()
		watched.Wait()
	})
	return problems
}

// The agent is stopped at a random moment and a new one takes over on the same store and
// runtime: no container starts twice, at most one instance of a container runs, restart counts
// and the status sequence never go back, terminal phases absorb.
func TestAgentRestartInvariants(t *testing.T) {
	checkPlays(t, genAgentScenario, playAgent)
}

// checkPlays plays generated scenarios and fails with the problems of one that has some.
func checkPlays[S any](t *testing.T, gen func(*rapid.T) S, play func(*testing.T, S) []string) {
	rapid.Check(t, func(rt *rapid.T) {
		if problems := play(t, gen(rt)); len(problems) > 0 {
			rt.Fatalf("%d problems, first: %s\nall:\n%s", len(problems), problems[0], strings.Join(problems, "\n"))
		}
	})
}

// findings collects what a played scenario shows wrong, each with its virtual time (in a
// synctest bubble, the time since the bubble started).
type findings struct {
	start  time.Time
	mu     sync.Mutex
	list   []string
	starts map[string]int
}

func newFindings() *findings { return &findings{start: time.Now(), starts: map[string]int{}} }

func (f *findings) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, fmt.Sprintf("%s: ", time.Since(f.start))+fmt.Sprintf(format, args...))
}

// observe is an AgentConfig.Observe that finds a container started twice.
func (f *findings) observe(_ lifecycle.PodRef, _ time.Time, rd lifecycle.Ready) {
	for _, a := range rd.Actions {
		if a.Type != lifecycle.StartContainer {
			continue
		}
		f.mu.Lock()
		f.starts[a.ContainerID]++
		twice := f.starts[a.ContainerID] > 1
		f.mu.Unlock()
		if twice {
			f.add("%s started twice", a.ContainerID)
		}
	}
}

func (f *findings) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list
}
