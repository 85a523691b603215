// Package simruntime is podlife's embedded default container runtime: a simulated node, scripted
// per container, in virtual time.
//
// It has three layers:
//   - World, a deterministic discrete-event core: Do performs one machine action at a given time
//     and returns the events that answer it and follow from it (a slow pull, a natural exit, a
//     sandbox loss); Happen applies a scheduled event when its time has come, or says it was
//     superseded. It reads no clock and starts no goroutine.
//   - Sim, a single-goroutine simulation loop over many lifecycle.Machines and one World, with a
//     (time, insertion order) heap, so that a run is reproducible byte for byte.
//   - Runtime, a lifecycle.Runtime over a World for the concurrent lifecycle.Agent, waiting on a
//     lifecycle.Clock: virtual under testing/synctest with lifecycle.RealClock, or a
//     lifecycle.FakeClock stepped by a test.
//
// Scripts (Script, Run, PodScript) say what each container instance does and how pulls,
// creates, hooks and probes go, and what happens to a pod's setup and sandboxes; a pod's own
// script overrides the script by container name, which overrides the default. They can also make
// the situations a runtime rarely shows: an instance the runtime reports in an unknown state
// (Run.UnknownAfter: ListContainers says Unknown, a ContainerUnknown event and the Runtime's
// RuntimeContainerUnknown follow), a sandbox that comes up without an IP (PodScript.SandboxNoIP),
// a sandbox that is lost (PodScript.SandboxLostAt, or World.LoseSandbox and Runtime.LoseSandbox
// at a time of the caller's), probe failures and errors over windows of the pod's time
// (ProbeWindow), an image made present at a time (AddImage).
//
// The Sim and the Runtime answer alike, to the words of a failure: a lifecycle.Agent on the
// Runtime and the Sim on the World play a pod the same (podlifetest's differential property).
// Sim.Detach and Sim.Add of a restored machine are an agent restart on the Sim.
package simruntime
