package phase

import (
	"strconv"
	"time"

	"github.com/podlife/podlife"
)

// ReasonNodeLost is the pod status reason the node lifecycle controller sets on the pods of an
// unreachable node; kubectl shows such a pod, once being deleted, as STATUS Unknown.
const ReasonNodeLost = "NodeLost"

// ColumnsInput is what `kubectl get pods` reads from a pod to print its columns.
type ColumnsInput struct {
	Spec   *podlife.PodSpec
	Status *PodStatus
	// DeletionTimestamp is set once the pod is being deleted.
	DeletionTimestamp *time.Time
	// Now is the moment "(5m ago)" is measured from.
	Now time.Time
}

// Columns are the READY, STATUS and RESTARTS cells of `kubectl get pods`.
type Columns struct {
	Ready    string // "ready/total" over app containers and sidecars
	Status   string // e.g. Running, Init:0/2, CrashLoopBackOff, Terminating
	Restarts string // "N", or "N (5m ago)"
}

// KubectlColumns computes the columns exactly as kubectl's printPod does
// (pkg/printers/internalversion/printers.go), so a reader can compare podlife's statuses with a
// real cluster's. Nil Spec or Status read as empty.
func KubectlColumns(in ColumnsInput) Columns {
	var spec podlife.PodSpec
	if in.Spec != nil {
		spec = *in.Spec
	}
	var st PodStatus
	if in.Status != nil {
		st = *in.Status
	}
	p := podPrinter{spec: &spec, st: &st, total: len(spec.Containers), reason: string(st.Phase)}
	for i := range spec.InitContainers {
		if spec.InitContainers[i].IsSidecar() {
			p.total++
		}
	}
	if st.Reason != "" {
		p.reason = st.Reason
	}
	for _, c := range st.Conditions {
		if c.Type == PodScheduled && c.Reason == ReasonSchedulingGated {
			p.reason = ReasonSchedulingGated
		}
	}
	initializing := p.scanInit()
	if !initializing || IsConditionTrue(st.Conditions, PodInitialized) {
		p.scanApps()
	}
	if in.DeletionTimestamp != nil && st.Reason == ReasonNodeLost {
		p.reason = "Unknown"
	} else if in.DeletionTimestamp != nil && !st.Phase.IsTerminal() {
		p.reason = "Terminating"
	}
	restarts := strconv.Itoa(p.restarts)
	if p.restarts != 0 && !p.lastRestart.IsZero() {
		restarts += " (" + HumanDuration(in.Now.Sub(p.lastRestart)) + " ago)"
	}
	return Columns{
		Ready:    strconv.Itoa(p.ready) + "/" + strconv.Itoa(p.total),
		Status:   p.reason,
		Restarts: restarts,
	}
}

// podPrinter holds printPod's running totals.
type podPrinter struct {
	spec         *podlife.PodSpec
	st           *PodStatus
	reason       string
	ready, total int
	// restarts and lastRestart count every init container seen; the sidecar ones replace them
	// once the pod is past initialization.
	restarts, sidecarRestarts     int
	lastRestart, lastSidecarStart time.Time
	sidecars                      map[string]bool // isSidecar's, for many init containers
}

// scanInit walks the init container statuses in order until the first one that is neither
// exited 0 nor a started sidecar; that one gives the Init:... status. It reports whether the pod
// is still initializing.
func (p *podPrinter) scanInit() bool {
	for i := range p.st.InitContainerStatuses {
		cs := &p.st.InitContainerStatuses[i]
		p.restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && p.lastRestart.Before(t.FinishedAt) {
			p.lastRestart = t.FinishedAt
		}
		sidecar := p.isSidecar(cs.Name)
		if sidecar {
			p.sidecarRestarts += int(cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil && p.lastSidecarStart.Before(t.FinishedAt) {
				p.lastSidecarStart = t.FinishedAt
			}
		}
		s := cs.State
		switch {
		case s.Terminated != nil && s.Terminated.ExitCode == 0:
			continue
		case sidecar && cs.IsStarted():
			if cs.Ready {
				p.ready++
			}
			continue
		case s.Terminated != nil:
			p.reason = "Init:" + terminatedReason(s.Terminated)
		case s.Waiting != nil && s.Waiting.Reason != "" && s.Waiting.Reason != ReasonPodInitializing:
			p.reason = "Init:" + s.Waiting.Reason
		default:
			p.reason = "Init:" + strconv.Itoa(i) + "/" + strconv.Itoa(len(p.spec.InitContainers))
		}
		return true
	}
	return false
}

// scanApps walks the app container statuses from last to first, so that the first one in status
// order that is waiting with a reason or terminated gives the status. A Completed status gives way
// to Running or NotReady while a container runs ready, else to the first failure (a container
// terminated with a non-zero exit code), as kubectl's printPod does since it tracks errorReason.
func (p *podPrinter) scanApps() {
	p.restarts = p.sidecarRestarts
	p.lastRestart = p.lastSidecarStart
	hasRunning := false
	errorReason := ""
	for i := len(p.st.ContainerStatuses) - 1; i >= 0; i-- {
		cs := &p.st.ContainerStatuses[i]
		p.restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && p.lastRestart.Before(t.FinishedAt) {
			p.lastRestart = t.FinishedAt
		}
		s := cs.State
		switch {
		case s.Waiting != nil && s.Waiting.Reason != "":
			p.reason = s.Waiting.Reason
		case s.Terminated != nil:
			p.reason = terminatedReason(s.Terminated)
			if s.Terminated.ExitCode != 0 {
				errorReason = p.reason
			}
		case cs.Ready && s.Running != nil:
			hasRunning = true
			p.ready++
		}
	}
	if p.reason == ReasonCompleted {
		switch {
		case hasRunning && IsConditionTrue(p.st.Conditions, PodReady):
			p.reason = "Running"
		case errorReason != "":
			p.reason = errorReason
		case hasRunning:
			p.reason = "NotReady"
		}
	}
}

// terminatedReason is the runtime's reason, or Signal:N, or ExitCode:N.
func terminatedReason(t *TerminatedState) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return "Signal:" + strconv.Itoa(int(t.Signal))
	}
	return "ExitCode:" + strconv.Itoa(int(t.ExitCode))
}

// isSidecar looks name up among the init containers; with duplicate names the last one counts,
// as in kubectl's name map. A pod with many init containers gets that map, built once.
func (p *podPrinter) isSidecar(name string) bool {
	if len(p.spec.InitContainers) > linearMax {
		if p.sidecars == nil {
			p.sidecars = make(map[string]bool, len(p.spec.InitContainers))
			for i := range p.spec.InitContainers {
				p.sidecars[p.spec.InitContainers[i].Name] = p.spec.InitContainers[i].IsSidecar()
			}
		}
		return p.sidecars[name]
	}
	sidecar := false
	for i := range p.spec.InitContainers {
		if p.spec.InitContainers[i].Name == name {
			sidecar = p.spec.InitContainers[i].IsSidecar()
		}
	}
	return sidecar
}
