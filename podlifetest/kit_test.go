package podlifetest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/podlifetest"
	"github.com/podlife/podlife/scenario"
)

// TestGeneratedSpecsAreValid: every spec Spec draws passes Validate, and so does its defaulted
// form; every scenario Scenarios draws passes Scenario.Validate, and each of its spec updates,
// in time order, is one the API server makes (a deadline set or lowered, never raised).
func TestGeneratedSpecsAreValid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := podlifetest.Spec(podlifetest.SpecOptions{MaxInitContainers: 4, MaxContainers: 4}).Draw(rt, "spec")
		require.NoError(rt, s.Validate())
		d := s.Defaulted()
		require.NoError(rt, d.Validate())
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{Agent: rapid.Bool().Draw(rt, "agent")}).Draw(rt, "scenario")
		require.NoError(rt, sc.Validate())
		spec := sc.Spec
		for _, op := range sc.SortedOps() {
			if op.Kind != podlifetest.OpUpdateImage && op.Kind != podlifetest.OpUpdateDeadline {
				continue
			}
			next, ok := scenario.SpecAfter(spec, op)
			require.True(rt, ok, "%s refused: %v", op, next.ValidateUpdate(&spec))
			spec = next
		}
	})
}

func app() podlife.PodSpec {
	return podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
}

// running is a status of app running instance n since at, its restartCount n.
func running(n int32, at time.Time) phase.PodStatus {
	return phase.PodStatus{Phase: phase.Running, ContainerStatuses: []phase.ContainerStatus{{Name: "app", RestartCount: n,
		ContainerID: "app/" + string(rune('0'+n)), State: phase.State{Running: &phase.RunningState{StartedAt: at}}}}}
}

// TestInvariantsFindBrokenTimelines: each invariant finds what breaks it in a timeline made by
// hand, as a user's code could make one, and nothing in a good one.
func TestInvariantsFindBrokenTimelines(t *testing.T) {
	t0 := podlifetest.Epoch()
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	failed := phase.PodStatus{Phase: phase.Failed}
	sidecar := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "proxy", Image: "envoy:1", RestartPolicy: ptr(podlife.RestartAlways)}},
		Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}
	withInit := podlife.PodSpec{InitContainers: []podlife.Container{{Name: "setup", Image: "busybox:1"}}, Containers: app().Containers}
	withPreStop := app()
	withPreStop.Containers[0].Lifecycle = &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}
	start := func(name, id string) lifecycle.Ready {
		return lifecycle.Ready{Actions: []lifecycle.Action{{Type: lifecycle.StartContainer, Container: name, ContainerID: id}}}
	}
	for _, c := range []struct {
		invariant string
		spec      podlife.PodSpec
		build     func(tl *podlifetest.Timeline)
	}{
		{"TerminalPhaseAbsorbs", app(), func(tl *podlifetest.Timeline) {
			tl.AddStatus(sec(1), failed)
			tl.AddStatus(sec(2), running(0, sec(2)))
		}},
		{"RestartCountsNeverFall", app(), func(tl *podlifetest.Timeline) {
			tl.AddStatus(sec(1), running(2, sec(1)))
			tl.AddStatus(sec(2), running(1, sec(1)))
		}},
		{"StatusesHoldTogether", app(), func(tl *podlifetest.Timeline) {
			st := running(0, sec(1))
			st.ContainerStatuses[0].State.Running, st.ContainerStatuses[0].Ready = nil, true
			st.ContainerStatuses[0].State.Waiting = &phase.WaitingState{}
			tl.AddStatus(sec(1), st)
		}},
		{"NoAppBeforeInit", withInit, func(tl *podlifetest.Timeline) {
			st := running(0, sec(1))
			st.InitContainerStatuses = []phase.ContainerStatus{{Name: "setup", State: phase.State{Running: &phase.RunningState{StartedAt: sec(0)}}}}
			tl.AddStatus(sec(1), st)
			tl.AddReady(sec(1), start("app", "app/0"))
		}},
		{"OneRunningInstance", app(), func(tl *podlifetest.Timeline) {
			tl.AddReady(sec(1), start("app", "app/0"))
			tl.AddReady(sec(2), start("app", "app/1"))
		}},
		{"PreStopBeforeGracefulStop", withPreStop, func(tl *podlifetest.Timeline) {
			tl.AddReady(sec(1), start("app", "app/0"))
			tl.AddReady(sec(2), lifecycle.Ready{Actions: []lifecycle.Action{{Type: lifecycle.StopContainer, Container: "app", ContainerID: "app/0", Timeout: 30 * time.Second}}})
		}},
		{"SidecarsStopLast", sidecar, func(tl *podlifetest.Timeline) {
			tl.AddReady(sec(1), start("proxy", "proxy/0"))
			tl.AddReady(sec(1), start("app", "app/0"))
			tl.AddReady(sec(2), lifecycle.Ready{
				Records: []lifecycle.Record{{At: sec(2), Kind: lifecycle.Normal, Reason: "Killing", Container: "proxy", Message: "Stopping container proxy"}},
				Actions: []lifecycle.Action{{Type: lifecycle.StopContainer, Container: "proxy", ContainerID: "proxy/0", Timeout: 30 * time.Second}}})
		}},
		{"NoDeadlineInThePast", app(), func(tl *podlifetest.Timeline) {
			tl.AddReady(sec(5), lifecycle.Ready{Status: &phase.PodStatus{Phase: phase.Pending}, Deadline: sec(4)})
		}},
		{"TimeMovesForward", app(), func(tl *podlifetest.Timeline) {
			tl.AddStatus(sec(5), phase.PodStatus{Phase: phase.Pending})
			tl.AddStatus(sec(4), phase.PodStatus{Phase: phase.Pending})
		}},
		{"ReplayIsIdentical", app(), func(tl *podlifetest.Timeline) {
			tl.AddReady(sec(0), lifecycle.Ready{Actions: []lifecycle.Action{{Type: lifecycle.PullImage, Container: "app"}}})
			tl.AddInput(lifecycle.Event{Type: lifecycle.Tick, At: sec(1)})
		}},
	} {
		t.Run(c.invariant, func(t *testing.T) {
			tl := podlifetest.NewTimeline(podlifetest.DefaultPod(), c.spec, t0)
			c.build(tl)
			var names []string
			for _, v := range podlifetest.Check(tl) {
				names = append(names, v.Invariant)
			}
			assert.Contains(t, names, c.invariant)
		})
	}
	t.Run("a good timeline", func(t *testing.T) {
		sc := podlifetest.Scenario{Spec: withPreStop, Until: time.Minute, Ops: []podlifetest.Op{podlifetest.Delete(20 * time.Second)},
			Script: simruntime.PodScript{Containers: map[string]simruntime.Script{"app": {Runs: []simruntime.Run{{For: 3 * time.Second, ExitCode: 1}, {}}}}}}
		tl, err := podlifetest.RunSim(sc, podlifetest.SimOptions{})
		require.NoError(t, err)
		assert.Empty(t, podlifetest.Check(tl))
	})
}

func ptr[T any](v T) *T { return &v }

// TestCompare: Compare finds a status or a record that differs, and passes over what an Agent's
// concurrency may change: the order within one instant, and probes that erred on an exiting
// container.
func TestCompare(t *testing.T) {
	t0 := podlifetest.Epoch()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	rec := func(s int, reason, msg string) lifecycle.Record {
		return lifecycle.Record{At: at(s), Kind: lifecycle.Normal, Reason: reason, Container: "app", Message: msg}
	}
	base := func() *podlifetest.Timeline {
		tl := podlifetest.NewTimeline(podlifetest.DefaultPod(), app(), t0)
		tl.AddReady(at(0), lifecycle.Ready{Records: []lifecycle.Record{rec(0, "Pulled", "a"), rec(0, "Created", "b")}, Status: &phase.PodStatus{Phase: phase.Pending}})
		tl.AddStatus(at(0), phase.PodStatus{Phase: phase.Running})
		return tl
	}
	reordered := podlifetest.NewTimeline(podlifetest.DefaultPod(), app(), t0)
	reordered.AddReady(at(0), lifecycle.Ready{Records: []lifecycle.Record{rec(0, "Created", "b")}, Status: &phase.PodStatus{Phase: phase.Running}})
	reordered.AddReady(at(0), lifecycle.Ready{Records: []lifecycle.Record{rec(0, "Pulled", "a"),
		{At: at(0), Kind: lifecycle.Warning, Reason: "Unhealthy", Container: "app", Message: "Liveness probe errored and resulted in unknown state: " + simruntime.NotRunning}}})
	assert.Empty(t, podlifetest.Compare(base(), reordered), "the same instant in another order")

	later := base()
	later.AddStatus(at(1), phase.PodStatus{Phase: phase.Failed})
	assert.Contains(t, podlifetest.Compare(base(), later), "only the second timeline has status Failed")
	other := podlifetest.NewTimeline(podlifetest.DefaultPod(), app(), t0)
	other.AddReady(at(0), lifecycle.Ready{Records: []lifecycle.Record{rec(0, "Pulled", "a"), rec(0, "Created", "c")}, Status: &phase.PodStatus{Phase: phase.Running}})
	assert.Contains(t, podlifetest.Compare(base(), other), "the records differ")

	settled := later.Settled()
	if assert.Len(t, settled, 2, "the Pending of instant 0 is not settled") {
		assert.Equal(t, phase.Running, settled[0].Status.Phase)
		assert.Equal(t, time.Second, settled[1].At)
	}
}

// TestRunFilesRewrites: with Rewrite, RunFiles writes the trace after the header, which keeps
// its comments; without, a file that matches passes.
func TestRunFilesRewrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.txt")
	head := "# a crash loop\npodlife-scenario: v1\nspec:\n  containers: [{name: app, image: busybox:1}]\nscript: |\n  run app for 1s exit 1\n  until 30s\n"
	require.NoError(t, os.WriteFile(path, []byte(head), 0o644))
	podlifetest.RunFiles(t, filepath.Join(dir, "*.txt"), podlifetest.FileOptions{Rewrite: true})
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), head+"----\n"), "the header stays as it was")
	assert.Contains(t, string(data), "  13s event Warning BackOff container=app")
	podlifetest.RunFiles(t, filepath.Join(dir, "*.txt"), podlifetest.FileOptions{Invariants: true})
}
