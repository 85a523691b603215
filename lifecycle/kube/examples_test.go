package kube

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"

	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

const sec = time.Second

func script(runs ...simruntime.Run) simruntime.Script { return simruntime.Script{Runs: runs} }

// TestExampleWebServer: the Deployment's template warms up behind its startup probe, sheds load
// for 30 s (readiness), and is deleted: preStop sleep 5 s, then SIGTERM with the 25 s left.
func TestExampleWebServer(t *testing.T) {
	web := script(simruntime.Run{TermDelay: sec})
	web.Probes = map[probe.Kind]simruntime.ProbeScript{
		probe.Startup:   {Fail: true, FailUntil: 6 * sec},
		probe.Readiness: {Fail: true, FailFrom: 60 * sec, FailUntil: 90 * sec, Message: "HTTP probe failed with statuscode: 503"},
	}
	r := runManifest(t, "web-server.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{"web": web}}, 200*sec, 120*sec)
	tl := &r.tl
	assert.Equal(t, []string{
		"0.0s Pending ContainerCreating 0/1 0",
		"0.0s Pending Pending 0/1 0",
		"0.0s Running Running 0/1 0",
		"6.0s Running Running 1/1 0",  // startup probe passed at 6 s, readiness at once
		"71.0s Running Running 0/1 0", // readiness failed at 61, 66, 71: failureThreshold 3
		"91.0s Running Running 1/1 0", // one success is enough
		"126.0s Failed Error 0/1 0",   // deleted; the server exited 143 on SIGTERM
	}, tl.statuses())
	assert.Equal(t, []string{"0.0s", "2.0s", "4.0s"}, tl.times("probe=Startup result=Failure"), "period 2 s from the start")
	assert.Equal(t, []string{"6.0s"}, tl.times("probe=Startup result=Success"))
	assert.Equal(t, []string{"10.0s", "20.0s"}, tl.times("got ProbeResult", "probe=Liveness")[:2], "liveness only once started, every 10 s")
	assert.Equal(t, []string{"120.0s do RunHook container=web id=shop/web/web/0 hook=PreStop timeout=30s"}, tl.grep("hook=PreStop timeout"))
	assert.Equal(t, []string{"125.0s do StopContainer container=web id=shop/web/web/0 timeout=25s"},
		tl.grep("do StopContainer"), "after the 5 s sleep, with the 25 s of grace left")
	assert.Empty(t, tl.grep("record Warning BackOff"))

	st := ToPodStatus(r.m.Status())
	assert.Equal(t, v1.PodFailed, st.Phase)
	require.Len(t, st.ContainerStatuses, 1)
	cs := st.ContainerStatuses[0]
	require.NotNil(t, cs.State.Terminated)
	assert.Equal(t, int32(143), cs.State.Terminated.ExitCode)
	assert.Equal(t, int32(15), cs.State.Terminated.Signal)
	assert.Equal(t, "Error", cs.State.Terminated.Reason)
	assert.Equal(t, t0.Add(126*sec), cs.State.Terminated.FinishedAt.Time)
	assert.Equal(t, int32(0), cs.RestartCount)
}

// TestExampleInitSidecar: the migration runs to completion, then the log shipper starts and
// must pass its startup probe before the app starts.
func TestExampleInitSidecar(t *testing.T) {
	shipper := script(simruntime.Run{TermDelay: sec})
	shipper.Probes = map[probe.Kind]simruntime.ProbeScript{probe.Startup: {Fail: true, FailUntil: 2 * sec}}
	r := runManifest(t, "init-sidecar.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{
		"migrate":     script(simruntime.Run{For: 3 * sec}),
		"log-shipper": shipper,
	}}, 30*sec, 0)
	tl := &r.tl
	assert.Equal(t, []string{
		"0.0s Pending Init:0/2 0/2 0",
		"3.0s Pending Init:1/2 0/2 0", // migrate exited 0; the sidecar runs but is not started
		"5.0s Pending PodInitializing 1/2 0",
		"5.0s Pending Pending 1/2 0",
		"5.0s Running Running 1/2 0",
		"5.0s Running Running 2/2 0",
	}, tl.statuses())
	assert.Equal(t, []string{"0.0s"}, tl.times("do StartContainer container=migrate"))
	assert.Equal(t, []string{"3.0s"}, tl.times("do StartContainer container=log-shipper"), "once migrate exited 0")
	assert.Equal(t, []string{"5.0s"}, tl.times("do StartContainer container=orders"), "once the sidecar's startup probe passed")
	st := r.m.Status()
	assert.True(t, phase.IsConditionTrue(st.Conditions, phase.PodInitialized))
	assert.True(t, phase.IsConditionTrue(st.Conditions, phase.PodReady))
}

// TestExampleJob: restartPolicy Never, the report exits 3: the pod fails, nothing restarts.
func TestExampleJob(t *testing.T) {
	r := runManifest(t, "job.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{
		"report": script(simruntime.Run{For: 5 * sec, ExitCode: 3}),
	}}, 60*sec, 0)
	tl := &r.tl
	assert.Equal(t, []string{
		"0.0s Pending ContainerCreating 0/1 0",
		"0.0s Pending Pending 0/1 0",
		"0.0s Running Running 1/1 0",
		"5.0s Failed Error 0/1 0",
	}, tl.statuses())
	assert.Len(t, tl.grep("do StartContainer"), 1)
	assert.Equal(t, []string{"5.0s"}, tl.times("do StopSandbox"))
	assert.True(t, r.m.Stopped())
	st := ToPodStatus(r.m.Status())
	assert.Equal(t, v1.PodFailed, st.Phase)
	term := st.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(3), term.ExitCode)
	assert.Equal(t, "Error", term.Reason)
	assert.Equal(t, t0, term.StartedAt.Time)
	assert.Equal(t, t0.Add(5*sec), term.FinishedAt.Time)
	ready, ok := findCondition(st.Conditions, v1.PodReady)
	require.True(t, ok)
	assert.Equal(t, v1.ConditionFalse, ready.Status)
	assert.Equal(t, "PodFailed", ready.Reason)
}

func findCondition(conds []v1.PodCondition, t v1.PodConditionType) (v1.PodCondition, bool) {
	for _, c := range conds {
		if c.Type == t {
			return c, true
		}
	}
	return v1.PodCondition{}, false
}

// TestExampleCrashLoop: exit 1 a second after each start: the first restart is immediate, then
// 10, 20, 40, 80, 160 s after each exit.
func TestExampleCrashLoop(t *testing.T) {
	r := runManifest(t, "crashloop.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{
		"api": script(simruntime.Run{For: sec, ExitCode: 1}),
	}}, 330*sec, 0)
	tl := &r.tl
	assert.Equal(t, []string{"0.0s", "1.0s", "12.0s", "33.0s", "74.0s", "155.0s", "316.0s"}, tl.times("do StartContainer"))
	assert.Equal(t, []string{"1.0s", "2.0s", "13.0s", "34.0s", "75.0s", "156.0s", "317.0s"}, tl.times("got ContainerExited", "exit=1"))
	assert.Len(t, tl.grep("record Warning BackOff container=api"), 6, "every exit after the first")
	rows := tl.statuses()
	assert.Contains(t, rows, "1.0s Running Error 0/1 0", "after the first exit: Terminated until the immediate restart")
	assert.Contains(t, rows, "2.0s Running CrashLoopBackOff 0/1 1")
	assert.Equal(t, "317.0s Running CrashLoopBackOff 0/1 6", rows[len(rows)-1])

	st := ToPodStatus(r.m.Status())
	assert.Equal(t, v1.PodRunning, st.Phase, "a pod that will restart is Running")
	cs := st.ContainerStatuses[0]
	assert.Equal(t, int32(6), cs.RestartCount)
	require.NotNil(t, cs.State.Waiting)
	assert.Equal(t, "CrashLoopBackOff", cs.State.Waiting.Reason)
	require.NotNil(t, cs.LastTerminationState.Terminated)
	assert.Equal(t, int32(1), cs.LastTerminationState.Terminated.ExitCode)
	assert.Equal(t, t0.Add(317*sec), cs.LastTerminationState.Terminated.FinishedAt.Time)
}

// TestExampleRestartRules: exit 42 matches the rule and restarts (immediately, then after 10 s
// of back-off); exit 0 then ends the pod Succeeded. Another exit code is not restarted.
func TestExampleRestartRules(t *testing.T) {
	preempted := simruntime.Run{For: 5 * sec, ExitCode: 42}
	r := runManifest(t, "restart-rules.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{
		"train": script(preempted, preempted, simruntime.Run{For: 5 * sec}),
	}}, 60*sec, 0)
	tl := &r.tl
	assert.Equal(t, []string{"0.0s", "5.0s", "20.0s"}, tl.times("do StartContainer"))
	rows := tl.statuses()
	assert.Contains(t, rows, "10.0s Running CrashLoopBackOff 0/1 1")
	assert.Equal(t, "25.0s Succeeded Completed 0/1 2", rows[len(rows)-1])
	assert.True(t, r.m.Stopped())

	r = runManifest(t, "restart-rules.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{
		"train": script(preempted, simruntime.Run{For: 5 * sec, ExitCode: 1}),
	}}, 60*sec, 0)
	assert.Equal(t, []string{"0.0s", "5.0s"}, r.tl.times("do StartContainer"))
	rows = r.tl.statuses()
	assert.Equal(t, "10.0s Failed Error 0/1 1", rows[len(rows)-1], "exit 1 is not in the rule: the container's own Never applies")
}

// TestExampleNodeAgent: a liveness failure from 30 s into each instance kills the agent after
// three failed probes; Always restarts it at once.
func TestExampleNodeAgent(t *testing.T) {
	agent := script(simruntime.Run{})
	agent.Probes = map[probe.Kind]simruntime.ProbeScript{probe.Liveness: {Fail: true, FailFrom: 30 * sec}}
	r := runManifest(t, "node-agent.yaml", simruntime.PodScript{Containers: map[string]simruntime.Script{"agent": agent}}, 60*sec, 0)
	tl := &r.tl
	assert.Equal(t, []string{"5.0s", "15.0s", "25.0s", "35.0s", "45.0s", "55.0s"}, tl.times("got ProbeResult", "probe=Liveness")[:6],
		"initialDelaySeconds 5, then every 10 s")
	assert.Equal(t, []string{"55.0s"}, tl.times("record Normal Killing container=agent"), "failures at 35, 45, 55 s")
	assert.Equal(t, []string{"0.0s", "55.0s"}, tl.times("do StartContainer"), "killed with 137 at once (no preStop), restarted at once")
	assert.Equal(t, int32(1), r.m.Status().ContainerStatuses[0].RestartCount)
}

// TestExampleManifestsRun: every manifest in examples/manifests loads, validates, lists the
// warnings expected of it and runs for five simulated minutes without an error.
func TestExampleManifestsRun(t *testing.T) {
	want := map[string][]string{
		"web-server.yaml":      {"spec.template.spec.containers[0].resources", "spec.replicas", "spec.selector"},
		"init-sidecar.yaml":    {"spec.initContainers[1].volumeMounts", "spec.containers[0].volumeMounts"},
		"job.yaml":             {"spec.backoffLimit", "spec.ttlSecondsAfterFinished"},
		"crashloop.yaml":       nil,
		"init-containers.yaml": nil,
		"restart-rules.yaml":   nil,
		"node-agent.yaml": {"spec.template.spec.containers[0].volumeMounts", "spec.template.spec.tolerations",
			"spec.selector"},
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "manifests", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, len(want), "a new example needs its row here")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ms, err := LoadFile(f)
			require.NoError(t, err)
			require.Len(t, ms, 1)
			assert.Equal(t, want[filepath.Base(f)], ms[0].Warnings.Fields())
			for _, w := range ms[0].Warnings {
				assert.Positive(t, w.Line, "%s has its line", w.Field)
			}
			r := runSpec(t, &ms[0], simruntime.PodScript{}, 300*sec, 0)
			assert.Zero(t, r.s.Stats().Errors)
			st := r.m.Status()
			assert.False(t, st.Phase.IsTerminal(), "every container runs until stopped")
			running := 0
			for _, cs := range append(st.InitContainerStatuses, st.ContainerStatuses...) {
				if cs.State.Running != nil {
					running++
				}
			}
			assert.Equal(t, 1, running, "the first container that runs holds the rest back or is the only one")
		})
	}
}
