package phase_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

type columnsCase struct {
	name    string
	spec    *podlife.PodSpec
	status  phase.PodStatus
	deleted bool
	want    phase.Columns
}

func runColumnsCases(t *testing.T, cases []columnsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := phase.ColumnsInput{Spec: tc.spec, Status: &tc.status, Now: t0}
			if tc.deleted {
				del := t0.Add(-10 * time.Second)
				in.DeletionTimestamp = &del
			}
			assert.Equal(t, tc.want, phase.KubectlColumns(in))
		})
	}
}

func cols(ready, status, restarts string) phase.Columns {
	return phase.Columns{Ready: ready, Status: status, Restarts: restarts}
}

// unnamed is a spec of n app containers without names, as kubectl's tests build them.
func unnamed(inits, apps int) *podlife.PodSpec {
	return &podlife.PodSpec{InitContainers: make([]podlife.Container, inits), Containers: make([]podlife.Container, apps)}
}

func ago(d time.Duration) time.Time { return t0.Add(-d) }

// cs builds an unnamed status, as kubectl's tests do.
func cs(ready bool, restarts int32, state phase.State) phase.ContainerStatus {
	return phase.ContainerStatus{Ready: ready, RestartCount: restarts, State: state}
}

func withLast(s phase.ContainerStatus, finished time.Time) phase.ContainerStatus {
	s.LastTerminationState = phase.State{Terminated: &phase.TerminatedState{FinishedAt: finished}}
	return s
}

var (
	stRunning = phase.State{Running: &phase.RunningState{}}
	stWaiting = phase.State{Waiting: &phase.WaitingState{}}
)

func stWaitingFor(reason string) phase.State {
	return phase.State{Waiting: &phase.WaitingState{Reason: reason}}
}

func stTerminated(code int32, reason string) phase.State {
	return phase.State{Terminated: &phase.TerminatedState{ExitCode: code, Reason: reason}}
}

// TestUpstreamPrintPod ports the rows of kubectl's TestPrintPod
// (pkg/printers/internalversion/printers_test.go): READY, STATUS and RESTARTS.
func TestUpstreamPrintPod(t *testing.T) {
	runColumnsCases(t, []columnsCase{
		{name: "test1: num of containers, restarts, container ready status", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: "podPhase", ContainerStatuses: statuses(cs(true, 3, stRunning), cs(false, 3, phase.State{}))},
			want:   cols("1/2", "podPhase", "6")},
		{name: "test2: container error overwrites pod phase", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: "podPhase", ContainerStatuses: statuses(cs(true, 3, stRunning), cs(false, 3, stWaitingFor("ContainerWaitingReason")))},
			want:   cols("1/2", "ContainerWaitingReason", "6")},
		{name: "test3: the first container overwrites the rest", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: "podPhase", ContainerStatuses: statuses(cs(false, 3, stWaitingFor("ContainerWaitingReason")), cs(false, 3, stTerminated(0, "ContainerTerminatedReason")))},
			want:   cols("0/2", "ContainerWaitingReason", "6")},
		{name: "test4: ready is not enough for reporting running", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: "podPhase", ContainerStatuses: statuses(cs(true, 3, stRunning), cs(true, 3, phase.State{}))},
			want:   cols("1/2", "podPhase", "6")},
		{name: "test5: pod reason replaces the phase", spec: unnamed(0, 2),
			status: phase.PodStatus{Reason: "podReason", Phase: "podPhase", ContainerStatuses: statuses(cs(true, 3, stRunning), cs(true, 3, phase.State{}))},
			want:   cols("1/2", "podReason", "6")},
		{name: "test6: one running, one completed, without Ready condition: NotReady", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(cs(true, 3, stTerminated(0, "Completed")), cs(true, 3, stRunning))},
			want:   cols("1/2", "NotReady", "6")},
		{name: "test6b: one running, one completed, with Ready condition: Running", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(cs(true, 3, stTerminated(0, "Completed")), cs(true, 3, stRunning)),
				Conditions: []phase.Condition{{Type: phase.PodReady, Status: phase.ConditionTrue}}},
			want: cols("1/2", "Running", "6")},
		{name: "test7: 1 init container restarting and 1 container not running", spec: unnamed(1, 1),
			status: phase.PodStatus{Phase: "podPhase", InitContainerStatuses: statuses(withLast(cs(false, 3, stRunning), ago(10*time.Second))),
				ContainerStatuses: statuses(cs(false, 0, stWaiting))},
			want: cols("0/1", "Init:0/1", "3 (10s ago)")},
		{name: "test8: 2 init containers, one restarting, the other not running", spec: unnamed(2, 1),
			status: phase.PodStatus{Phase: "podPhase", InitContainerStatuses: statuses(withLast(cs(false, 3, stRunning), ago(10*time.Second)), cs(false, 0, stWaiting)),
				ContainerStatuses: statuses(cs(false, 0, stWaiting))},
			want: cols("0/1", "Init:0/2", "3 (10s ago)")},
		{name: "test9: 2 init containers, one completed without restarts, the other restarting", spec: unnamed(2, 1),
			status: phase.PodStatus{Phase: "podPhase", InitContainerStatuses: statuses(cs(false, 0, stTerminated(0, "")), withLast(cs(false, 3, stRunning), ago(10*time.Second))),
				ContainerStatuses: statuses(cs(false, 0, stWaiting))},
			want: cols("0/1", "Init:1/2", "3 (10s ago)")},
		{name: "test10: 2 init containers, one completed with restarts, the other restarting", spec: unnamed(2, 1),
			status: phase.PodStatus{Phase: "podPhase",
				InitContainerStatuses: statuses(withLast(cs(false, 2, stTerminated(0, "")), ago(2*time.Minute)), withLast(cs(false, 3, stRunning), ago(10*time.Second))),
				ContainerStatuses:     statuses(cs(false, 0, stWaiting))},
			want: cols("0/1", "Init:1/2", "5 (10s ago)")},
		{name: "test11: init container completed with restarts, container restarting", spec: unnamed(1, 1),
			status: phase.PodStatus{Phase: phase.Running,
				InitContainerStatuses: statuses(withLast(cs(false, 2, stTerminated(0, "")), ago(2*time.Minute))),
				ContainerStatuses:     statuses(withLast(cs(false, 4, stRunning), ago(20*time.Second)))},
			want: cols("0/1", "Running", "4 (20s ago)")},
		{name: "test12: 1 container that restarted 5d ago", spec: unnamed(0, 1),
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(withLast(cs(true, 3, stRunning), ago(5*24*time.Hour)))},
			want:   cols("1/1", "Running", "3 (5d ago)")},
		{name: "test13: one never restarted, the other restarted 10d ago", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(cs(true, 0, stRunning), withLast(cs(true, 3, stRunning), ago(10*24*time.Hour)))},
			want:   cols("2/2", "Running", "3 (10d ago)")},
		{name: "test14: one restarted 5d ago, the other 20d ago: the newest counts", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(withLast(cs(true, 6, stRunning), ago(5*24*time.Hour)), withLast(cs(true, 3, stRunning), ago(20*24*time.Hour)))},
			want:   cols("2/2", "Running", "9 (5d ago)")},
		{name: "test15: PodScheduled condition with reason SchedulingGated", spec: unnamed(0, 2),
			status: phase.PodStatus{Phase: "podPhase", Conditions: []phase.Condition{{Type: phase.PodScheduled, Status: phase.ConditionFalse, Reason: phase.ReasonSchedulingGated}}},
			want:   cols("0/2", "SchedulingGated", "0")},
		{name: "test16: pod succeeded", spec: unnamed(0, 1),
			status: phase.PodStatus{Phase: phase.Succeeded, ContainerStatuses: statuses(cs(false, 0, stTerminated(0, "Completed")))},
			want:   cols("0/1", "Completed", "0")},
		{name: "test17: pod failed", spec: unnamed(0, 1),
			status: phase.PodStatus{Phase: phase.Failed, ContainerStatuses: statuses(cs(false, 0, stTerminated(1, "Error")))},
			want:   cols("0/1", "Error", "0")},
		{name: "test18: pod succeeded with deletion stays Completed", spec: unnamed(0, 1), deleted: true,
			status: phase.PodStatus{Phase: phase.Succeeded, ContainerStatuses: statuses(cs(false, 0, stTerminated(0, "Completed")))},
			want:   cols("0/1", "Completed", "0")},
		{name: "test19: pod running with deletion: Terminating", spec: unnamed(0, 1), deleted: true,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(cs(false, 0, stRunning))},
			want:   cols("0/1", "Terminating", "0")},
		{name: "test20: pod pending with deletion: Terminating", spec: unnamed(0, 1), deleted: true,
			status: phase.PodStatus{Phase: phase.Pending},
			want:   cols("0/1", "Terminating", "0")},
	})
}

// TestUpstreamPrintPodWithRestartableInitContainer ports kubectl's
// TestPrintPodWithRestartableInitContainer.
func TestUpstreamPrintPodWithRestartableInitContainer(t *testing.T) {
	two := spec(always, inits(sidecar("restartable-init-1"), sidecar("restartable-init-2")), podlife.Container{})
	named := func(name string, s phase.ContainerStatus, started *bool) phase.ContainerStatus {
		s.Name, s.Started = name, started
		return s
	}
	notInitialized := []phase.Condition{{Type: phase.PodInitialized, Status: phase.ConditionFalse}}
	initialized := []phase.Condition{{Type: phase.PodInitialized, Status: phase.ConditionTrue}}
	runColumnsCases(t, []columnsCase{
		{name: "test1: the first sidecar running but not started", spec: two,
			status: phase.PodStatus{Phase: phase.Pending, Conditions: notInitialized,
				InitContainerStatuses: statuses(named("restartable-init-1", withLast(cs(false, 3, stRunning), ago(10*time.Second)), no()), named("restartable-init-2", cs(false, 0, stWaiting), no())),
				ContainerStatuses:     statuses(cs(false, 0, stWaiting))},
			want: cols("0/3", "Init:0/2", "3 (10s ago)")},
		{name: "test1b: the first sidecar started, the second running but not started", spec: two,
			status: phase.PodStatus{Phase: phase.Pending, Conditions: notInitialized,
				InitContainerStatuses: statuses(named("restartable-init-1", withLast(cs(false, 3, stRunning), ago(10*time.Second)), yes()), named("restartable-init-2", cs(false, 0, stRunning), no())),
				ContainerStatuses:     statuses(cs(false, 0, stWaiting))},
			want: cols("0/3", "Init:1/2", "3 (10s ago)")},
		{name: "test2: both sidecars started and the container running", spec: two,
			status: phase.PodStatus{Phase: phase.Running, Conditions: initialized,
				InitContainerStatuses: statuses(named("restartable-init-1", withLast(cs(false, 3, stRunning), ago(10*time.Second)), yes()), named("restartable-init-2", cs(false, 0, stRunning), yes())),
				ContainerStatuses:     statuses(withLast(cs(true, 4, stRunning), ago(20*time.Second)))},
			want: cols("1/3", "Running", "7 (10s ago)")},
		{name: "test3: sidecars exited non-zero and the container completed", spec: two,
			status: phase.PodStatus{Phase: phase.Succeeded, Conditions: initialized,
				InitContainerStatuses: statuses(named("restartable-init-1", withLast(cs(false, 3, stTerminated(137, "Error")), ago(10*time.Second)), no()), named("restartable-init-2", cs(false, 0, stTerminated(137, "Error")), no())),
				ContainerStatuses:     statuses(withLast(cs(false, 4, stTerminated(0, "Completed")), ago(20*time.Second)))},
			want: cols("0/3", "Completed", "7 (10s ago)")},
		{name: "test4: statuses for non-existent init containers and containers", spec: spec(always, inits(app("init1"), sidecar("sidecar1")), app("container1")),
			status: phase.PodStatus{Phase: phase.Running,
				InitContainerStatuses: statuses(noState("initinvalid"), noState("init1"), noState("sidecar1")),
				ContainerStatuses:     statuses(noState("containerinvalid"), noState("container1"))},
			want: cols("0/2", "Init:0/2", "0")},
	})
}

// TestKubectlColumnRules has one row per kubectl column rule of SEMANTICS.md.
func TestKubectlColumnRules(t *testing.T) {
	oneInit := spec(always, inits(app("init")), app("a"))
	withSidecar := spec(always, inits(sidecar("side"), app("init")), app("a"), app("b"))
	twoApps := spec(always, nil, app("a"), app("b"))
	threeApps := spec(always, nil, app("a"), app("b"), app("c"))
	runColumnsCases(t, []columnsCase{
		{name: "STATUS starts from the phase", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(readyRunning("a"), readyRunning("b"))},
			want:   cols("2/2", "Running", "0")},
		{name: "status.reason replaces the phase (Evicted)", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Failed, Reason: "Evicted"},
			want:   cols("0/2", "Evicted", "0")},
		{name: "SchedulingGated when the PodScheduled condition says so, over status.reason", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Pending, Reason: "Other", Conditions: []phase.Condition{{Type: phase.PodScheduled, Reason: phase.ReasonSchedulingGated}}},
			want:   cols("0/2", "SchedulingGated", "0")},
		{name: "init: skip those exited 0; terminated gives Init:<reason>", spec: spec(always, inits(app("i1"), app("i2")), app("a")),
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(exited("i1", 0), exitedWith("i2", 1, phase.ReasonOOMKilled))},
			want:   cols("0/1", "Init:OOMKilled", "0")},
		{name: "init: terminated without reason and with a signal gives Init:Signal:N", spec: oneInit,
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(phase.ContainerStatus{Name: "init", State: phase.State{Terminated: &phase.TerminatedState{ExitCode: 137, Signal: 9}}})},
			want:   cols("0/1", "Init:Signal:9", "0")},
		{name: "init: terminated without reason or signal gives Init:ExitCode:N", spec: oneInit,
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(exitedWith("init", 3, ""))},
			want:   cols("0/1", "Init:ExitCode:3", "0")},
		{name: "init: waiting with a reason other than PodInitializing gives Init:<reason>", spec: oneInit,
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(restarted(waiting("init", phase.ReasonCrashLoopBackOff), 4, ago(90*time.Second)))},
			want:   cols("0/1", "Init:CrashLoopBackOff", "4 (90s ago)")},
		{name: "init: waiting PodInitializing gives Init:i/M", spec: oneInit,
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(waiting("init", phase.ReasonPodInitializing))},
			want:   cols("0/1", "Init:0/1", "0")},
		{name: "init: started sidecars are skipped and M counts sidecars", spec: withSidecar,
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(readyRunning("side"), running("init"))},
			want:   cols("1/3", "Init:1/2", "0")},
		{name: "not initializing: the first app container that is waiting gives its reason", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(waiting("a", phase.ReasonImagePullBackOff), exitedWith("b", 1, phase.ReasonError))},
			want:   cols("0/2", "ImagePullBackOff", "0")},
		{name: "not initializing: a terminated app container gives Signal:N", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(readyRunning("a"), phase.ContainerStatus{Name: "b", State: phase.State{Terminated: &phase.TerminatedState{Signal: 15}}})},
			want:   cols("1/2", "Signal:15", "0")},
		{name: "not initializing: a terminated app container gives ExitCode:N", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(exitedWith("a", 2, ""), readyRunning("b"))},
			want:   cols("1/2", "ExitCode:2", "0")},
		{name: "Completed while an app container is running and ready: Running if the pod is Ready", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(exited("a", 0), readyRunning("b")), Conditions: []phase.Condition{{Type: phase.PodReady, Status: phase.ConditionTrue}}},
			want:   cols("1/2", "Running", "0")},
		{name: "Completed while an app container is running and ready: NotReady if the pod is not Ready", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(exited("a", 0), readyRunning("b")), Conditions: []phase.Condition{{Type: phase.PodReady, Status: phase.ConditionFalse}}},
			want:   cols("1/2", "NotReady", "0")},
		{name: "Completed with no running app container stays Completed", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(exited("a", 0), running("b"))},
			want:   cols("0/2", "Completed", "0")},
		{name: "Completed gives way to a later container's failure (printPod's errorReason)", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Failed, ContainerStatuses: statuses(exited("a", 0), exited("b", 2))},
			want:   cols("0/2", "Error", "0")},
		{name: "Completed gives way to a failure without a reason as ExitCode:N", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Failed, ContainerStatuses: statuses(exited("a", 0), exitedWith("b", 3, ""))},
			want:   cols("0/2", "ExitCode:3", "0")},
		{name: "Completed gives way to the first failure in status order", spec: threeApps,
			status: phase.PodStatus{Phase: phase.Failed, ContainerStatuses: statuses(exited("a", 0), exitedWith("b", 1, "OOMKilled"), exited("c", 2))},
			want:   cols("0/3", "OOMKilled", "0")},
		{name: "Completed with a failure and a ready running container: Running if the pod is Ready", spec: threeApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(exited("a", 0), exited("b", 1), readyRunning("c")),
				Conditions: []phase.Condition{{Type: phase.PodReady, Status: phase.ConditionTrue}}},
			want: cols("1/3", "Running", "0")},
		{name: "Completed with a failure and a ready running container: the failure if the pod is not Ready", spec: threeApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(exited("a", 0), exited("b", 1), readyRunning("c"))},
			want:   cols("1/3", "Error", "0")},
		{name: "deletion timestamp and reason NodeLost give Unknown", spec: twoApps, deleted: true,
			status: phase.PodStatus{Phase: phase.Running, Reason: phase.ReasonNodeLost, ContainerStatuses: statuses(readyRunning("a"), readyRunning("b"))},
			want:   cols("2/2", "Unknown", "0")},
		{name: "reason NodeLost without deletion shows NodeLost", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, Reason: phase.ReasonNodeLost, ContainerStatuses: statuses(readyRunning("a"), readyRunning("b"))},
			want:   cols("2/2", "NodeLost", "0")},
		{name: "deletion timestamp overrides all when not Succeeded/Failed: Terminating", spec: twoApps, deleted: true,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(waiting("a", phase.ReasonCrashLoopBackOff), readyRunning("b"))},
			want:   cols("1/2", "Terminating", "0")},
		{name: "deletion timestamp on a Failed pod keeps the status", spec: twoApps, deleted: true,
			status: phase.PodStatus{Phase: phase.Failed, ContainerStatuses: statuses(exitedWith("a", 1, phase.ReasonError), exited("b", 0))},
			want:   cols("0/2", "Error", "0")},
		{name: "READY: a sidecar counts when started and ready", spec: withSidecar,
			status: phase.PodStatus{Phase: phase.Running, InitContainerStatuses: statuses(readyRunning("side"), ready(exited("init", 0))), ContainerStatuses: statuses(readyRunning("a"), readyRunning("b"))},
			want:   cols("3/3", "Running", "0")},
		{name: "READY: a started sidecar that is not ready does not count", spec: withSidecar,
			status: phase.PodStatus{Phase: phase.Running, InitContainerStatuses: statuses(startedRunning("side"), exited("init", 0)), ContainerStatuses: statuses(readyRunning("a"), readyRunning("b"))},
			want:   cols("2/3", "Running", "0")},
		{name: "READY: app containers do not count while initializing", spec: withSidecar,
			status: phase.PodStatus{Phase: phase.Pending, InitContainerStatuses: statuses(readyRunning("side"), running("init")), ContainerStatuses: statuses(readyRunning("a"), readyRunning("b"))},
			want:   cols("1/3", "Init:1/2", "0")},
		{name: "READY: an app container counts only when Running and ready", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(ready(waiting("a", "")), readyRunning("b"))},
			want:   cols("1/2", "Running", "0")},
		{name: "RESTARTS: while initializing, the sum over init containers", spec: withSidecar,
			status: phase.PodStatus{Phase: phase.Pending,
				InitContainerStatuses: statuses(restarted(startedRunning("side"), 2, ago(5*time.Minute)), restarted(running("init"), 3, ago(30*time.Second))),
				ContainerStatuses:     statuses(restarted(waiting("a", phase.ReasonPodInitializing), 7, ago(time.Second)))},
			want: cols("0/3", "Init:1/2", "5 (30s ago)")},
		{name: "RESTARTS: afterwards sidecars plus app containers, regular init restarts dropped", spec: withSidecar,
			status: phase.PodStatus{Phase: phase.Running,
				InitContainerStatuses: statuses(restarted(readyRunning("side"), 2, ago(5*time.Minute)), restarted(ready(exited("init", 0)), 3, ago(time.Second))),
				ContainerStatuses:     statuses(restarted(readyRunning("a"), 1, ago(2*time.Hour)), readyRunning("b"))},
			want: cols("3/3", "Running", "3 (5m ago)")},
		{name: "RESTARTS: the app section also runs when Initialized is True (upstream)", spec: oneInit,
			status: phase.PodStatus{Phase: phase.Running, Conditions: []phase.Condition{{Type: phase.PodInitialized, Status: phase.ConditionTrue}},
				InitContainerStatuses: statuses(restarted(running("init"), 3, ago(time.Second))),
				ContainerStatuses:     statuses(restarted(waiting("a", phase.ReasonCrashLoopBackOff), 6, ago(3*time.Hour+30*time.Minute)))},
			want: cols("0/1", "CrashLoopBackOff", "6 (3h30m ago)")},
		{name: "RESTARTS: not 0 but no lastState time prints only the count", spec: twoApps,
			status: phase.PodStatus{Phase: phase.Running, ContainerStatuses: statuses(phase.ContainerStatus{Name: "a", RestartCount: 2, State: stRunning, Ready: true}, readyRunning("b"))},
			want:   cols("2/2", "Running", "2")},
		{name: "nil spec and nil status read as empty", want: cols("0/0", "", "0")},
	})
	assert.Equal(t, cols("0/0", "", "0"), phase.KubectlColumns(phase.ColumnsInput{}), "nil status pointer")
}
