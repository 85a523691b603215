package phase_test

import (
	"testing"

	"github.com/podlife/podlife/phase"
)

// The cases of kubelet's TestPodPhaseWithRestartAlways, ...Never, ...OnFailure,
// ...AlwaysInitContainers, ...RestartableInitContainers and ...AndPodHasRun
// (pkg/kubelet/kubelet_pods_test.go), rewritten as rows. Upstream's "failed" state exits -1 and
// its "stopped" state exits 0 with no reason; the rows use the same codes.

func TestUpstreamPodPhaseWithRestartAlways(t *testing.T) {
	s := spec(always, nil, app("containerA"), app("containerB"))
	runPhaseCases(t, []phaseCase{
		{name: "waiting", spec: s, want: phase.Pending},
		{name: "all running", spec: s, apps: statuses(running("containerA"), running("containerB")), want: phase.Running},
		{name: "all stopped with restart always", spec: s, apps: statuses(exited("containerA", 0), exited("containerB", 0)), want: phase.Running},
		{name: "all succeeded with restart always, but the pod is terminal", spec: s,
			apps: statuses(exited("containerA", 0), exited("containerB", 0)), podIsTerminal: true, want: phase.Succeeded},
		{name: "all stopped with restart always, but the pod is terminal", spec: s,
			apps: statuses(exited("containerA", 0), exited("containerB", -1)), podIsTerminal: true, want: phase.Failed},
		{name: "mixed state #1 with restart always", spec: s, apps: statuses(running("containerA"), exited("containerB", 0)), want: phase.Running},
		{name: "mixed state #2 with restart always", spec: s, apps: statuses(running("containerA")), want: phase.Pending},
		{name: "mixed state #3 with restart always", spec: s, apps: statuses(running("containerA"), waiting("containerB", "")), want: phase.Pending},
		{name: "backoff crashloop container with restart always", spec: s, apps: statuses(running("containerA"), waitingAfter("containerB", 0)), want: phase.Running},
	})
}

func TestUpstreamPodPhaseWithRestartAlwaysInitContainers(t *testing.T) {
	s := spec(always, inits(app("containerX")), app("containerA"), app("containerB"))
	runPhaseCases(t, []phaseCase{
		{name: "empty, waiting", spec: s, want: phase.Pending},
		{name: "init container running", spec: s, init: statuses(running("containerX")), want: phase.Pending},
		{name: "init container terminated non-zero", spec: s, init: statuses(exited("containerX", -1)), want: phase.Pending},
		{name: "init container waiting, terminated zero", spec: s, init: statuses(waitingAfter("containerX", 0)), want: phase.Pending},
		{name: "init container waiting, terminated non-zero", spec: s, init: statuses(waitingAfter("containerX", -1)), want: phase.Pending},
		{name: "init container waiting, not terminated", spec: s, init: statuses(waiting("containerX", "")), want: phase.Pending},
		{name: "init container succeeded", spec: s, init: statuses(exited("containerX", 0)),
			apps: statuses(running("containerA"), running("containerB")), want: phase.Running},
	})
}

func TestUpstreamPodPhaseWithRestartAlwaysRestartableInitContainers(t *testing.T) {
	s := spec(always, inits(sidecar("containerX")), app("containerA"), app("containerB"))
	bothRunning := statuses(running("containerA"), running("containerB"))
	bothSucceeded := statuses(exited("containerA", 0), exited("containerB", 0))
	runPhaseCases(t, []phaseCase{
		{name: "empty, waiting", spec: s, want: phase.Pending},
		{name: "restartable init container running", spec: s, init: statuses(running("containerX")), want: phase.Pending},
		{name: "restartable init container stopped", spec: s, init: statuses(exited("containerX", 0)), want: phase.Pending},
		{name: "restartable init container waiting, terminated zero", spec: s, init: statuses(waitingAfter("containerX", 0)), want: phase.Pending},
		{name: "restartable init container waiting, terminated non-zero", spec: s, init: statuses(waitingAfter("containerX", -1)), want: phase.Pending},
		{name: "restartable init container waiting, not terminated", spec: s, init: statuses(waiting("containerX", "")), want: phase.Pending},
		{name: "restartable init container started, 1/2 regular container running", spec: s,
			init: statuses(startedRunning("containerX")), apps: statuses(running("containerA")), want: phase.Pending},
		{name: "restartable init container started, all regular containers running", spec: s,
			init: statuses(startedRunning("containerX")), apps: bothRunning, want: phase.Running},
		{name: "restartable init container running, all regular containers running", spec: s,
			init: statuses(running("containerX")), apps: bothRunning, want: phase.Running},
		{name: "restartable init container stopped, all regular containers running", spec: s,
			init: statuses(exited("containerX", 0)), apps: bothRunning, want: phase.Running},
		{name: "backoff crashloop restartable init container, all regular containers running", spec: s,
			init: statuses(waitingAfter("containerX", 0)), apps: bothRunning, want: phase.Running},
		{name: "all regular containers succeeded and restartable init container failed with restart always, but the pod is terminal", spec: s,
			init: statuses(exited("containerX", -1)), apps: bothSucceeded, podIsTerminal: true, want: phase.Succeeded},
		{name: "all regular containers succeeded and restartable init container succeeded with restart always, but the pod is terminal", spec: s,
			init: statuses(exited("containerX", 0)), apps: bothSucceeded, podIsTerminal: true, want: phase.Succeeded},
	})
}

func TestUpstreamPodPhaseWithRestartAlwaysAndPodHasRun(t *testing.T) {
	s := spec(always, inits(app("containerX"), sidecar("containerY")), app("containerA"))
	runPhaseCases(t, []phaseCase{
		{name: "regular init containers, restartable init container and regular container are all running", spec: s,
			init: statuses(running("containerX"), running("containerY")), apps: statuses(running("containerA")), want: phase.Pending},
		{name: "regular containers is stopped, restartable init container and regular int container are both running", spec: s,
			init: statuses(running("containerX"), running("containerY")), apps: statuses(exited("containerA", 0)), want: phase.Pending},
		{name: "regular init container is succeeded, restartable init container is running, regular containers is stopped", spec: s,
			init: statuses(exited("containerX", 0), running("containerY")), apps: statuses(exited("containerA", 0)), want: phase.Running},
		{name: "regular init container is succeeded, restartable init container and regular containers are both running", spec: s,
			init: statuses(exited("containerX", 0), running("containerY")), apps: statuses(running("containerA")), want: phase.Running},
	})
}

func TestUpstreamPodPhaseWithRestartNever(t *testing.T) {
	s := spec(never, nil, app("containerA"), app("containerB"))
	runPhaseCases(t, []phaseCase{
		{name: "waiting", spec: s, want: phase.Pending},
		{name: "all running with restart never", spec: s, apps: statuses(running("containerA"), running("containerB")), want: phase.Running},
		{name: "all succeeded with restart never", spec: s, apps: statuses(exited("containerA", 0), exited("containerB", 0)), want: phase.Succeeded},
		{name: "all failed with restart never", spec: s, apps: statuses(exited("containerA", -1), exited("containerB", -1)), want: phase.Failed},
		{name: "mixed state #1 with restart never", spec: s, apps: statuses(running("containerA"), exited("containerB", 0)), want: phase.Running},
		{name: "mixed state #2 with restart never", spec: s, apps: statuses(running("containerA")), want: phase.Pending},
		{name: "mixed state #3 with restart never", spec: s, apps: statuses(running("containerA"), waiting("containerB", "")), want: phase.Pending},
	})
}

func TestUpstreamPodPhaseWithRestartNeverInitContainers(t *testing.T) {
	s := spec(never, inits(app("containerX")), app("containerA"), app("containerB"))
	runPhaseCases(t, []phaseCase{
		{name: "empty, waiting", spec: s, want: phase.Pending},
		{name: "init container running", spec: s, init: statuses(running("containerX")), want: phase.Pending},
		{name: "init container terminated non-zero", spec: s, init: statuses(exited("containerX", -1)), want: phase.Failed},
		{name: "init container waiting, terminated zero", spec: s, init: statuses(waitingAfter("containerX", 0)), want: phase.Pending},
		{name: "init container waiting, terminated non-zero", spec: s, init: statuses(waitingAfter("containerX", -1)), want: phase.Failed},
		{name: "init container waiting, not terminated", spec: s, init: statuses(waiting("containerX", "")), want: phase.Pending},
		{name: "init container succeeded", spec: s, init: statuses(exited("containerX", 0)),
			apps: statuses(running("containerA"), running("containerB")), want: phase.Running},
	})
}

func TestUpstreamPodPhaseWithRestartNeverRestartableInitContainers(t *testing.T) {
	s := spec(never, inits(sidecar("containerX")), app("containerA"), app("containerB"))
	bothSucceeded := statuses(exited("containerA", 0), exited("containerB", 0))
	runPhaseCases(t, []phaseCase{
		{name: "empty, waiting", spec: s, want: phase.Pending},
		{name: "restartable init container running", spec: s, init: statuses(running("containerX")), want: phase.Pending},
		{name: "restartable init container stopped", spec: s, init: statuses(exited("containerX", 0)), want: phase.Pending},
		{name: "restartable init container waiting, terminated zero", spec: s, init: statuses(waitingAfter("containerX", 0)), want: phase.Pending},
		{name: "restartable init container waiting, terminated non-zero", spec: s, init: statuses(waitingAfter("containerX", -1)), want: phase.Pending},
		{name: "restartable init container waiting, not terminated", spec: s, init: statuses(waiting("containerX", "")), want: phase.Pending},
		{name: "restartable init container started, one main container running", spec: s,
			init: statuses(startedRunning("containerX")), apps: statuses(running("containerA")), want: phase.Pending},
		{name: "restartable init container started, main containers succeeded", spec: s,
			init: statuses(startedRunning("containerX")), apps: bothSucceeded, want: phase.Running},
		{name: "restartable init container running, main containers succeeded", spec: s,
			init: statuses(running("containerX")), apps: bothSucceeded, want: phase.Running},
		{name: "all containers succeeded", spec: s, init: statuses(exited("containerX", 0)), apps: bothSucceeded, want: phase.Succeeded},
		{name: "restartable init container terminated non-zero, main containers succeeded", spec: s,
			init: statuses(exited("containerX", -1)), apps: bothSucceeded, want: phase.Succeeded},
		{name: "backoff crashloop restartable init container, main containers succeeded", spec: s,
			init: statuses(waitingAfter("containerX", 0)), apps: bothSucceeded, want: phase.Succeeded},
		{name: "backoff crashloop with non-zero restartable init container, main containers succeeded", spec: s,
			init: statuses(waitingAfter("containerX", -1)), apps: bothSucceeded, want: phase.Succeeded},
	})
}

func TestUpstreamPodPhaseWithRestartOnFailure(t *testing.T) {
	s := spec(onFailure, nil, app("containerA"), app("containerB"))
	runPhaseCases(t, []phaseCase{
		{name: "waiting", spec: s, want: phase.Pending},
		{name: "all running with restart onfailure", spec: s, apps: statuses(running("containerA"), running("containerB")), want: phase.Running},
		{name: "all succeeded with restart onfailure", spec: s, apps: statuses(exited("containerA", 0), exited("containerB", 0)), want: phase.Succeeded},
		{name: "all failed with restart onfailure", spec: s, apps: statuses(exited("containerA", -1), exited("containerB", -1)), want: phase.Running},
		{name: "mixed state #1 with restart onfailure", spec: s, apps: statuses(running("containerA"), exited("containerB", 0)), want: phase.Running},
		{name: "mixed state #2 with restart onfailure", spec: s, apps: statuses(running("containerA")), want: phase.Pending},
		{name: "mixed state #3 with restart onfailure", spec: s, apps: statuses(running("containerA"), waiting("containerB", "")), want: phase.Pending},
		{name: "backoff crashloop container with restart onfailure", spec: s, apps: statuses(running("containerA"), waitingAfter("containerB", 0)), want: phase.Running},
	})
}
