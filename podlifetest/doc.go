// Package podlifetest is podlife's test kit, for your own _test.go files as for podlife's: a
// controller, a scheduler or a node agent of your own tested against pods that live by kubelet's
// rules, in virtual time, with the generators and invariants podlife tests itself with.
//
//   - Scenario is one pod's life in one value: its spec, how the simulated runtime answers for
//     it (simruntime.PodScript), and operations at virtual times (deletes, image and deadline
//     updates, sandbox losses, the agent stopped and restarted, the node lost and back, store
//     outages).
//     RunSim plays it on a simruntime.Sim, RunAgent on a lifecycle.Agent over memstore and
//     simruntime.Runtime in a testing/synctest bubble; both give a Timeline. Scenario, its
//     operations, Timeline, RunSim and the file format live in package scenario, which a
//     command can link; the names here are the same (aliases), so a test needs one import.
//   - Check runs podlife's invariants over any Timeline, one your own code produced included
//     (NewTimeline, AddReady, AddStatus): terminal phases absorb, restart counts never fall, no
//     app container before its init containers, one running instance per name, preStop before a
//     graceful stop, sidecars stop last, no deadline in the past, replay is identical. Compare
//     holds two timelines of one scenario to the same statuses and records at the same times, up
//     to the differences an Agent's concurrency makes (see Compare).
//   - Spec, Script, Ops and Scenarios are generators for pgregory.net/rapid; they draw small
//     values first, so counterexamples shrink to small ones, and a Scenario prints as a file.
//   - Scenario files (ParseFile, Scenario.Format, Timeline.Trace) are podlife's golden traces as
//     a versioned format; RunFiles plays a directory of them and compares, or rewrites, traces.
//   - Rig is a node for a controller's test in one call: an Agent, the simulated runtime, an
//     in-memory store and a lifecycle.Client; with Supervise, a lifecycle.Supervisor too, so
//     that LoseNode makes the node's pods Unknown (NodeLost) until StartAgent brings it back.
//
// Importing the kit pulls in no container runtime, etcd or Kubernetes client.
package podlifetest
