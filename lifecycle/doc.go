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
// Status: the Machine is usable and tested by scenario and property tests; the Agent, the
// Runtime and Store interfaces and their embedded defaults come next.
package lifecycle
