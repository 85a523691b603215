// Package probe models one container probe the way kubelet's prober worker runs it
// (pkg/kubelet/prober/worker.go, Kubernetes v1.34/v1.35), with time as an input.
//
// Three parts:
//
//   - EffectiveSpec turns a *podlife.Probe into concrete durations and thresholds, applying the
//     API defaults for zero fields.
//   - Outcome interprets what one run of a handler gave (exec exit code, HTTP replies, TCP dial,
//     gRPC health status) into Success, Failure or an uncounted agent-side error, with the text
//     kubelet puts in its events. ResolvePort resolves a named port.
//   - Tracker is the state machine of one probe of one container instance: when the next run is
//     due, how consecutive outcomes move the result past the thresholds, and when the container
//     must be killed.
//
// Timing is a choice podlife makes where kubelet's is arbitrary. Kubelet's prober worker ticks
// every periodSeconds on a grid that starts when the worker starts (before the container runs),
// so its first probe falls somewhere within one period after the container's start plus
// initialDelaySeconds. podlife probes first at exactly start + initialDelaySeconds, the earliest
// instant kubelet can, then every period. A probe never catches up on missed ticks: at most one
// run per period. After a restart of the agent (Resume), a probe runs at once, or when its
// initial delay ends, then every period from there; kubelet's new worker also probes promptly
// (after a random part of a period, which podlife leaves out), and every result counts from then
// on, the kept one included.
//
// Nothing here reads a clock, sleeps or starts a goroutine: every time-dependent method takes
// `now`, and the same calls in the same order give the same results.
package probe
