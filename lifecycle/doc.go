// Package lifecycle composes podlife's pure packages into one deterministic state machine per
// pod, Machine, in the Step / Ready / Advance shape of etcd's raft node: the caller feeds events
// (results of actions, container exits, probe and hook results, delete requests, ticks) and
// performs the actions the machine hands out (set up the pod, run the sandbox, pull, create,
// start and stop containers, run hooks and probes), persisting the status it reports.
//
// The machine reads no clock: every event carries its time, and Ready reports the next deadline
// at which the caller delivers a Tick. The same events in the same order give the same actions
// and statuses.
//
// Agent is the imperative shell, kubelet's role: it runs every pod bound to its node in a Store,
// performs the machines' actions through a Runtime, and persists statuses by compare-and-swap;
// a restarted agent recovers its pods from the Store and the Runtime (Checkpoint, Restore; Restore
// also works from a status without a checkpoint, as kubelet recovers from the API status and the
// runtime alone).
// Client is the other side (a scheduler): it binds pods, asks for deletions, reads statuses.
// A pod is its UID, not its name: Keys documents the layout in the Store and the rules both
// sides keep so that a pod bound again under an earlier one's name starts a new life.
//
// The interfaces are small and the embedded defaults live in sub-packages, so importing this
// package pulls in no container runtime or database client:
//   - lifecycle/simruntime: a simulated Runtime, scriptable per container, in virtual time; also
//     World and Sim, a single-goroutine discrete-event loop for running many pods fast;
//   - lifecycle/memstore: an in-memory Store with revisions, compare-and-swap and watch;
//   - lifecycle/localsetup: a PodSetup that lays out pod volumes in a local directory.
package lifecycle
