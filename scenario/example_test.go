package scenario_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/scenario"
)

// A scenario built in code, played on the Sim: a container that crashes once, deleted at 30 s.
func ExampleRunSim() {
	sc := scenario.Scenario{
		Spec: podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}},
		Script: simruntime.PodScript{Containers: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 5 * time.Second, ExitCode: 1}, {}}},
		}},
		Ops:   []scenario.Op{scenario.DeleteGrace(30*time.Second, 10)},
		Until: time.Minute,
	}
	tl, err := scenario.RunSim(sc, scenario.SimOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range tl.Statuses() {
		fmt.Println(s.At, s.Status.Phase, s.Status.ContainerStatuses[0].RestartCount)
	}
	// Output:
	// 0s Pending 0
	// 0s Pending 0
	// 0s Pending 0
	// 0s Running 0
	// 5s Running 0
	// 5s Running 1
	// 5s Running 1
	// 30s Failed 1
}

// The same scenario as a scenario file, and back.
func ExampleParseScenario() {
	sc, err := scenario.ParseScenario([]byte(`# a crash, then a delete
podlife-scenario: v1
spec:
  containers:
  - name: app
    image: busybox:1.36
script: |
  run app for 5s exit 1
  run app forever
  delete at 30s grace 10
  until 1m
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(sc.Format())
	// Output:
	// podlife-scenario: v1
	// spec:
	//   containers:
	//     - name: app
	//       image: busybox:1.36
	// script: |
	//   run app for 5s exit 1
	//   run app forever
	//   delete at 30s grace 10
	//   until 1m0s
}

// A node lost and back, played with OnStep as a program that shows a play as it goes would:
// the supervisor's Unknown while the agent is away, then the status of the pod a new agent
// recovered, with the exit it missed counted.
func ExampleLoseNode() {
	sc := scenario.Scenario{
		Spec: podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}},
		Script: simruntime.PodScript{Containers: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 45 * time.Second, ExitCode: 1}, {}}},
		}},
		Ops:   []scenario.Op{scenario.LoseNode(30 * time.Second), scenario.NodeBack(time.Minute)},
		Until: 2 * time.Minute,
	}
	last := ""
	_, err := scenario.RunSim(sc, scenario.SimOptions{Discard: true, OnStep: func(m *lifecycle.Machine, s *scenario.Step) {
		switch {
		case s.Op != nil:
			fmt.Println(s.At, s.Op.Kind)
		case s.Status != nil:
			line := fmt.Sprintf("%s %s restarts=%d", s.Status.Phase, s.Status.Reason, s.Status.ContainerStatuses[0].RestartCount)
			if s.Writer != "" {
				line += " (by the " + s.Writer + ")"
			}
			if line != last {
				fmt.Println(s.At, line)
				last = line
			}
		}
	}})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 0s Pending  restarts=0
	// 0s Running  restarts=0
	// 30s node-lost
	// 30s Unknown NodeLost restarts=0 (by the supervisor)
	// 1m0s node-back
	// 1m0s Running  restarts=0
	// 1m0s Running  restarts=1
}
