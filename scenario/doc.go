// Package scenario is one pod's life as a value and its play in virtual time: what a program
// (podsim), a test (podlifetest, which re-exports these names) or a tool of your own needs to
// say "this pod, this runtime, these operations at these times" and see what podlife does.
//
//   - Scenario is the pod's spec, how the simulated runtime answers for it
//     (simruntime.PodScript), and operations at virtual times (Op: deletes with a grace or
//     forced, image and activeDeadlineSeconds updates, sandbox losses, images made present, the
//     agent stopped and a new one started, the node lost and back, store outages). Validate
//     says what cannot be played.
//   - RunSim plays it on a simruntime.Sim in one goroutine and gives a Timeline: every event a
//     machine was stepped with, every Ready, the operations, the restores of a restarted agent,
//     the statuses a Supervisor wrote for a lost node. podlifetest.RunAgent plays the same
//     scenario on a lifecycle.Agent.
//   - ParseFile, ParseScenario and Scenario.Format are the scenario file format, versioned
//     ("podlife-scenario: v1"), in which podlife's golden traces are written; Timeline.Trace is
//     the trace such a file holds.
//
// It imports no test package (testing, rapid), so that a command links it; the generators,
// invariants and runners for tests are in podlifetest.
package scenario
