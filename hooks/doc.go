// Package hooks holds the rules of a container's lifecycle hooks, postStart and preStop, as
// kubelet applies them (pkg/kubelet/lifecycle/handlers.go and
// pkg/kubelet/kuberuntime/kuberuntime_container.go, Kubernetes 1.34/1.35): which handler a hook
// runs (exec, httpGet or sleep), how long a sleep lasts, how one run of a handler is read
// (Outcome), and what that outcome means for the container (Effect), with kubelet's exact event
// reasons and messages.
//
// The package is pure: it runs nothing and reads no clock. The caller runs the handler and brings
// back what it saw (an exit code, an HTTP error, an interrupted sleep).
//
// In short:
//   - postStart runs right after the container started; the container is not Running until it
//     returns. A failure records FailedPostStartHook, kills the container (its preStop runs, the
//     normal grace period applies) and shows waiting reason PostStartHookError while it waits to
//     restart per its restart policy, with crash-loop back-off.
//   - preStop runs when kubelet stops a running container and the grace period is above 0. A
//     failure records FailedPreStopHook and nothing else: the stop goes on.
//   - An HTTP hook fails only when the request fails (no connection, timeout, broken response):
//     kubelet does not look at the status code, so a 404 or 500 answer is a success
//     (kubernetes/kubernetes#56963).
package hooks
