package phase

import (
	"github.com/podlife/podlife"
	"github.com/podlife/podlife/restart"
)

// Compute returns the phase kubelet's getPhase gives for a pod with this spec and these container
// statuses. podIsTerminal says the pod is being deleted or evicted and every container has
// stopped: then exit codes alone decide between Succeeded and Failed, even under restartPolicy
// Always.
//
// Whether the pod has initialized (an app container exists in the current sandbox) is derived
// from the statuses with HasAnyAppContainerStarted; a caller that tracks sandboxes itself should
// use ComputeInitialized. Statuses are looked up by name, first in statuses, then in
// initStatuses, as kubelet looks them up in the two lists joined; statuses whose names are not in
// the spec are ignored. Unknown is never returned: see the Unknown constant. A nil spec is
// Pending.
func Compute(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, podIsTerminal bool) Phase {
	ix := indexFor(initStatuses, statuses)
	return compute(spec, initStatuses, statuses, ix, podIsTerminal, hasAnyAppContainerStarted(spec, statuses, ix))
}

// ComputeInitialized is Compute with podHasInitialized given by the caller: true when some app
// container exists in the pod's current sandbox (kubelet's HasAnyActiveRegularContainerStarted).
// It only matters for sidecars: a sidecar that is not started keeps the pod Pending until the pod
// has initialized, and no longer once it has (the sidecar is merely restarting).
func ComputeInitialized(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, podIsTerminal, podHasInitialized bool) Phase {
	return compute(spec, initStatuses, statuses, indexFor(initStatuses, statuses), podIsTerminal, podHasInitialized)
}

// ComputeInSpecOrder is ComputeInitialized for status lists in the spec's order, as a
// lifecycle.Machine keeps them: initStatuses[i] is the status of spec.InitContainers[i],
// statuses[i] that of spec.Containers[i], and the spec's container names are unique (it passed
// Validate). Each status is then found at its position, in constant time and without an
// allocation, so that a pod of thousands of containers costs time linear in their number. A
// status that is not where the spec order puts it is looked up by name.
func ComputeInSpecOrder(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, podIsTerminal, podHasInitialized bool) Phase {
	ix := index{inSpecOrder: true}
	return compute(spec, initStatuses, statuses, &ix, podIsTerminal, podHasInitialized)
}

// compute is getPhase. ix finds the statuses, or nil: scan them.
func compute(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, ix *index, podIsTerminal, podHasInitialized bool) Phase {
	if spec == nil {
		return Pending
	}
	var c counts
	c.countRegularInit(spec, initStatuses, statuses, ix)
	c.countSidecars(spec, initStatuses, statuses, ix)
	c.countApps(spec, initStatuses, statuses, ix)
	return c.decide(podIsTerminal, podHasInitialized)
}

// counts are getPhase's counters. Sidecars add to running, waiting and unknown like app
// containers; only app containers add to stopped and succeeded.
type counts struct {
	pendingSidecars, pendingRegularInit, failedInitNotRestartable        int
	unknown, running, waiting, stopped, stoppedNotRestartable, succeeded int
}

func (n *counts) countRegularInit(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, ix *index) {
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.IsSidecar() {
			continue
		}
		var cs *ContainerStatus
		if ix == nil {
			cs = lookup(c.Name, statuses, initStatuses)
		} else {
			cs = ix.find(c.Name, i, true, appsThenInit, initStatuses, statuses)
		}
		switch {
		case cs == nil, cs.State.Running != nil:
			n.pendingRegularInit++
		case cs.State.Terminated != nil:
			if t := cs.State.Terminated; t.ExitCode != 0 && !restartable(spec.RestartPolicy, c, t) {
				n.failedInitNotRestartable++
			}
		case cs.State.Waiting != nil:
			// Waiting after an exit 0 is neither pending nor failed, as upstream.
			t := cs.LastTerminationState.Terminated
			if t == nil {
				n.pendingRegularInit++
			} else if t.ExitCode != 0 && !restartable(spec.RestartPolicy, c, t) {
				n.failedInitNotRestartable++
			}
		default:
			n.pendingRegularInit++
		}
	}
}

func (n *counts) countSidecars(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, ix *index) {
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if !c.IsSidecar() {
			continue
		}
		var cs *ContainerStatus
		if ix == nil {
			cs = lookup(c.Name, statuses, initStatuses)
		} else {
			cs = ix.find(c.Name, i, true, appsThenInit, initStatuses, statuses)
		}
		switch {
		case cs == nil:
			n.unknown++
		case cs.State.Running != nil:
			if !cs.IsStarted() {
				n.pendingSidecars++
			}
			n.running++
		case cs.State.Terminated != nil:
			// A stopped sidecar does not count for the phase.
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated == nil {
				n.pendingSidecars++
				n.waiting++
			}
		default:
			n.pendingSidecars++
			n.unknown++
		}
	}
}

func (n *counts) countApps(spec *podlife.PodSpec, initStatuses, statuses []ContainerStatus, ix *index) {
	for i := range spec.Containers {
		c := &spec.Containers[i]
		var cs *ContainerStatus
		if ix == nil {
			cs = lookup(c.Name, statuses, initStatuses)
		} else {
			cs = ix.find(c.Name, i, false, appsThenInit, initStatuses, statuses)
		}
		switch {
		case cs == nil:
			n.unknown++
		case cs.State.Running != nil:
			n.running++
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			n.stopped++
			if !restartable(spec.RestartPolicy, c, t) {
				n.stoppedNotRestartable++
			}
			if t.ExitCode == 0 {
				n.succeeded++
			}
		case cs.State.Waiting != nil:
			t := cs.LastTerminationState.Terminated
			if t == nil {
				n.waiting++
				continue
			}
			// Stopped, but never counted as succeeded, whatever the last exit code (upstream).
			n.stopped++
			if !restartable(spec.RestartPolicy, c, t) {
				n.stoppedNotRestartable++
			}
		default:
			n.unknown++
		}
	}
}

func (n *counts) decide(podIsTerminal, podHasInitialized bool) Phase {
	if n.failedInitNotRestartable > 0 {
		return Failed
	}
	switch {
	case n.pendingRegularInit > 0, n.pendingSidecars > 0 && !podHasInitialized, n.waiting > 0:
		return Pending
	case n.running > 0 && n.unknown == 0:
		return Running
	case n.running == 0 && n.stopped > 0 && n.unknown == 0:
		if podIsTerminal || n.stopped == n.stoppedNotRestartable {
			if n.stopped == n.succeeded {
				return Succeeded
			}
			return Failed
		}
		return Running // at least one container is restarting
	}
	return Pending
}

// HasAnyAppContainerStarted reports whether statuses show an app container of spec that exists in
// the pod's sandbox: Running, Terminated, created but not started (Waiting with no reason), or
// waiting to restart after an exit. A container waiting because all containers restart in place
// (reason RestartingAllContainers) does not count: that restart removes the old containers and
// runs the init containers again. This approximates kubelet's HasAnyActiveRegularContainerStarted,
// which asks the runtime; statuses cannot tell that a sandbox was recreated.
func HasAnyAppContainerStarted(spec *podlife.PodSpec, statuses []ContainerStatus) bool {
	return hasAnyAppContainerStarted(spec, statuses, indexFor(nil, statuses))
}

func hasAnyAppContainerStarted(spec *podlife.PodSpec, statuses []ContainerStatus, ix *index) bool {
	if spec == nil {
		return false
	}
	for i := range spec.Containers {
		var cs *ContainerStatus
		if ix == nil {
			cs = lookup(spec.Containers[i].Name, statuses, nil)
		} else {
			cs = ix.find(spec.Containers[i].Name, i, false, appsOnly, nil, statuses)
		}
		if cs == nil {
			continue
		}
		s := cs.State
		switch {
		case s.Running != nil, s.Terminated != nil:
			return true
		case s.Waiting != nil && s.Waiting.Reason == "" && cs.LastTerminationState.Terminated == nil:
			return true
		case s.Waiting != nil && cs.LastTerminationState.Terminated != nil && s.Waiting.Reason != ReasonRestartingAllContainers:
			return true
		}
	}
	return false
}

// restartable is whether kubelet will run a stopped container again: its restart policy or rules
// say so, or it was stopped to restart all containers in place.
func restartable(podPolicy podlife.RestartPolicy, c *podlife.Container, t *TerminatedState) bool {
	return ContainerShouldRestart(podPolicy, c, t.ExitCode) || t.Reason == ReasonRestartingAllContainers
}

// ContainerShouldRestart is kubelet's podutil.ContainerShouldRestart: with a container-level
// restartPolicy, the first rule whose exit codes match decides, and both actions, Restart and
// RestartAllContainers, restart the container; otherwise the container's policy applies, then the
// pod's (empty means Always). A container policy that is not Always, OnFailure or Never falls back
// to the pod's. It is restart.WillRestart.
//
// A RestartAllContainers match counts as restarting (SEMANTICS "Restart policy and back-off"):
// while the in-place restart is pending, the container whose exit matched keeps the pod Running
// (an app container of an initialized pod) or Pending (an init container), never Failed or
// Succeeded, even under restartPolicy Never. Kubelet's e2e "should restart init and sidecar
// containers on init container exit" (a regular init container with policy Never whose rule
// matched) relies on it: had getPhase made that pod Failed, it would never have restarted.
func ContainerShouldRestart(podPolicy podlife.RestartPolicy, c *podlife.Container, exitCode int32) bool {
	return restart.WillRestart(podPolicy, c, exitCode)
}
