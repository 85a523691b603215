// Package containerd is a lifecycle.Runtime on a real containerd, through the CRI v1 API
// (k8s.io/cri-api over gRPC on containerd's socket): the same calls kubelet makes.
//
// What it does, and the choices it makes where kubelet has a larger world:
//
//   - Pods: RunSandbox runs the sandbox (containerd's pause image) with the pod's metadata and
//     attempt; a pod with hostNetwork gets the node's network namespace and no hostname (runc
//     cannot set one without a private UTS namespace) and the address Config.NodeIP
//     (127.0.0.1 by default); any other pod needs a CNI network on the node. Each container has
//     its own PID namespace, as kubelet's default (shareProcessNamespace false): the container's
//     process is PID 1 there and gets from the kernel only the signals it handles, so a shell
//     that traps TERM to nothing runs until the SIGKILL at the end of its grace period.
//   - Images: ImageStatus first; PullImage only when the policy asks for it (Always) or the image
//     is missing (IfNotPresent); Never with a missing image fails with
//     lifecycle.ErrImageNeverPull.
//   - Volumes: podlife's container spec has no volumeMounts, so with Config.VolumePath set (for
//     example localsetup's Setup.VolumePath) every volume of the pod is bind-mounted into every
//     container at Config.VolumeMountRoot/<volume name> (/volumes/<name> by default); that is how
//     an init container hands a file to the app container.
//   - Stops: StopContainer is CRI's StopContainer (SIGTERM, SIGKILL when the timeout ran out), to
//     the millisecond: a timeout that is not a whole number of seconds gets its SIGKILL from a
//     timer here, since CRI counts in seconds. The exit is streamed at once when it returns.
//   - Probes and hooks: exec through ExecSync with the time left on ctx (a timeout is a
//     "command timed out" failure), HTTP and TCP against the pod address with the probe and hooks
//     packages' interpretation (status ranges, redirects, body limit), gRPC health checks, sleep
//     hooks.
//   - Events: containerd's CRI event stream (GetContainerEvents) where it is implemented, otherwise
//     (containerd 1.6) a relist every Config.RelistPeriod that compares container and sandbox
//     states, as kubelet's generic PLEG does; the choice is made at Connect (see EventSource).
//   - Errors wrap the lifecycle Err* values, so lifecycle.WaitingReason gives kubelet's waiting
//     reason, inside a *lifecycle.RuntimeError naming the call and the object; a call that ran
//     out of time also wraps context.DeadlineExceeded.
//   - Scope: everything a Runtime makes carries the label podlife.io/scope=Config.Scope and its
//     lists see only those, so that several agents (tests) can share one containerd without
//     taking each other's pods for orphans.
//
// The integration tests run on a private containerd that scripts/containerd provisions:
// ./scripts/test does it all; without PODLIFE_CONTAINERD_SOCKET they are skipped.
package containerd
