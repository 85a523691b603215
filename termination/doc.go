// Package termination plans how a node agent stops containers gracefully, as kubelet does:
// which grace period applies (GracePeriod), and when each container's preStop hook, stop signal
// and SIGKILL are due, for one container (Stop) or a whole pod with its sidecars (PodStop).
//
// It is a pure leaf: it never reads a clock, sleeps or starts goroutines. Every event carries its
// time (`now`); the machines hand back the actions that are due and the next Deadline, and the
// caller performs the actions and ticks at or after the deadline. The same events in the same
// order give the same actions.
//
// The rules follow kubelet v1.34/v1.35:
//   - grace period: pkg/kubelet/pod_workers.go calculateEffectiveGracePeriod for a whole pod
//     (never below 1 s), and setTerminationGracePeriod plus the override in
//     pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer for one container (may be 0);
//   - one container (killContainer): the preStop hook runs unless the grace is 0 and is waited
//     for at most the grace; the whole seconds it took are deducted; a sidecar then waits for its
//     turn (at most what is left, whole seconds deducted again); the runtime is asked to stop the
//     container with timeout max(remaining, 2 s): stop signal at once, SIGKILL when it runs out;
//   - a whole pod (killContainersWithSyncResult, kuberuntime_termination_order.go): every
//     container starts its stop at once; a sidecar's turn comes when every app container and the
//     nearest sidecar declared after it have finished stopping.
//
// Bounds that follow (start is when the stop began, grace the grace period): an app or regular
// init container gets SIGKILL at the latest at start + grace + 2 s. A sidecar gets it at the
// latest at start + grace + 2 s + the fractional part of its preStop hook's duration, so always
// before start + grace + 3 s: kubelet truncates the hook's time to whole seconds before the
// sidecar's wait for its turn, which may then use up the whole remaining grace.
package termination
