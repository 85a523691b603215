package phase

import (
	"strings"
	"time"

	"github.com/podlife/podlife"
)

// Condition reasons, as kubelet (pkg/kubelet/status) and the scheduler set them.
const (
	ReasonUnknownContainerStatuses    = "UnknownContainerStatuses"
	ReasonPodCompleted                = "PodCompleted"
	ReasonPodFailed                   = "PodFailed"
	ReasonContainersNotReady          = "ContainersNotReady"
	ReasonContainersNotInitialized    = "ContainersNotInitialized"
	ReasonReadinessGatesNotReady      = "ReadinessGatesNotReady"
	ReasonRestartAllContainersStarted = "RestartAllContainersStarted"
	ReasonUnschedulable               = "Unschedulable"
	ReasonSchedulingGated             = "SchedulingGated"
)

// MessageRestartAllContainersStarted is the message of a True AllContainersRestarting condition.
const MessageRestartAllContainersStarted = "container exited with restart policy rule"

// ConditionInput is what kubelet's pod conditions are generated from. The zero value (apart from
// Spec) is a scheduled pod whose sandbox is not ready, with no readiness gate satisfied.
type ConditionInput struct {
	Spec *podlife.PodSpec
	// InitStatuses and Statuses are the container statuses, looked up by name in both lists.
	// When both are empty, container statuses are unknown (reason UnknownContainerStatuses).
	InitStatuses, Statuses []ContainerStatus
	// Phase is the pod's phase (see Compute); Succeeded and Failed set terminal reasons.
	Phase Phase
	// SandboxReady is true when no new sandbox is needed: it exists, is ready and has its IP.
	SandboxReady bool
	// ReadinessGates holds the status of readiness gate conditions by type. A gate missing here
	// is looked up among the previous conditions, and if absent there, does not exist.
	ReadinessGates map[string]ConditionStatus
	// NotScheduledReason, when set, makes PodScheduled False with this reason (Unschedulable or
	// SchedulingGated) and NotScheduledMessage. Empty means scheduled, as on a node.
	NotScheduledReason, NotScheduledMessage string
	// RestartingAllContainers is true while an in-place restart of all containers runs
	// (KEP-5532). AllContainersRestarting is only generated for a spec with such a rule.
	RestartingAllContainers bool
}

// kubeletConditions are the condition types kubelet owns: it regenerates them on every sync and
// keeps every other condition (DisruptionTarget, readiness gates) as it finds it.
var kubeletConditions = [...]ConditionType{
	PodScheduled, PodReadyToStartContainers, PodInitialized, ContainersReady, PodReady, AllContainersRestarting,
}

// IsKubeletCondition reports whether kubelet owns condition type t.
func IsKubeletCondition(t ConditionType) bool {
	for _, k := range kubeletConditions {
		if k == t {
			return true
		}
	}
	return false
}

// Conditions returns the pod's conditions after a sync at now: prev's conditions that kubelet
// does not own, in their order, then the generated ones in kubelet's order
// (PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled and, for a spec
// with a RestartAllContainers rule, AllContainersRestarting). A generated condition keeps prev's
// lastTransitionTime when its status did not change, else gets now; reason and message always
// follow the new state. prev is not modified.
func Conditions(in ConditionInput, prev []Condition, now time.Time) []Condition {
	gen := Generate(in, prev)
	out := make([]Condition, 0, len(prev)+len(gen))
	for _, c := range prev {
		if !IsKubeletCondition(c.Type) {
			out = append(out, c)
		}
	}
	for _, c := range gen {
		c.LastTransitionTime = now
		if p, ok := FindCondition(prev, c.Type); ok && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

// Generate returns the kubelet-owned conditions for in, without transition times. prev is read
// for readiness gates missing from in.ReadinessGates and for an Initialized condition that was
// already True (it stays True while containers restart in place).
func Generate(in ConditionInput, prev []Condition) []Condition {
	var spec podlife.PodSpec
	if in.Spec != nil {
		spec = *in.Spec
	}
	ready := containersReady(&spec, in)
	out := []Condition{
		readyToStart(in.SandboxReady),
		initialized(&spec, in, prev),
		podReady(&spec, in, ready, prev),
		ready,
		scheduled(in),
	}
	if hasRestartAllRule(&spec) {
		out = append(out, allRestarting(in))
	}
	return out
}

func readyToStart(sandboxReady bool) Condition {
	if sandboxReady {
		return Condition{Type: PodReadyToStartContainers, Status: ConditionTrue}
	}
	return Condition{Type: PodReadyToStartContainers, Status: ConditionFalse}
}

func scheduled(in ConditionInput) Condition {
	if in.NotScheduledReason == "" {
		return Condition{Type: PodScheduled, Status: ConditionTrue}
	}
	return Condition{Type: PodScheduled, Status: ConditionFalse, Reason: in.NotScheduledReason, Message: in.NotScheduledMessage}
}

func noStatuses(in ConditionInput) bool { return len(in.InitStatuses)+len(in.Statuses) == 0 }

func containersReady(spec *podlife.PodSpec, in ConditionInput) Condition {
	if noStatuses(in) {
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonUnknownContainerStatuses}
	}
	var unknown, unready []string
	check := func(c *podlife.Container) {
		cs := lookup(c.Name, in.InitStatuses, in.Statuses)
		switch {
		case cs == nil:
			unknown = append(unknown, c.Name)
		case !cs.Ready:
			unready = append(unready, c.Name)
		}
	}
	for i := range spec.InitContainers {
		if spec.InitContainers[i].IsSidecar() {
			check(&spec.InitContainers[i])
		}
	}
	for i := range spec.Containers {
		check(&spec.Containers[i])
	}
	switch {
	case in.Phase == Succeeded && len(unknown) == 0:
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonPodCompleted}
	case in.Phase == Failed:
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonPodFailed}
	}
	if msg := joinMessages(withNames("containers with unknown status: ", unknown), withNames("containers with unready status: ", unready)); msg != "" {
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonContainersNotReady, Message: msg}
	}
	return Condition{Type: ContainersReady, Status: ConditionTrue}
}

func podReady(spec *podlife.PodSpec, in ConditionInput, containers Condition, prev []Condition) Condition {
	if containers.Status != ConditionTrue {
		return Condition{Type: PodReady, Status: containers.Status, Reason: containers.Reason, Message: containers.Message}
	}
	var msgs []string
	for _, gate := range spec.ReadinessGates {
		st, ok := in.ReadinessGates[gate]
		if !ok {
			var c Condition
			c, ok = FindCondition(prev, ConditionType(gate))
			st = c.Status
		}
		switch {
		case !ok:
			msgs = append(msgs, `corresponding condition of pod readiness gate "`+gate+`" does not exist.`)
		case st != ConditionTrue:
			msgs = append(msgs, `the status of pod readiness gate "`+gate+`" is not "True", but `+string(st))
		}
	}
	if len(msgs) > 0 {
		return Condition{Type: PodReady, Status: ConditionFalse, Reason: ReasonReadinessGatesNotReady, Message: strings.Join(msgs, ", ")}
	}
	return Condition{Type: PodReady, Status: ConditionTrue}
}

func initialized(spec *podlife.PodSpec, in ConditionInput, prev []Condition) Condition {
	if noStatuses(in) && len(spec.InitContainers) > 0 {
		return Condition{Type: PodInitialized, Status: ConditionFalse, Reason: ReasonUnknownContainerStatuses}
	}
	var unknown, incomplete []string
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		cs := lookup(c.Name, in.InitStatuses, in.Statuses)
		switch {
		case cs == nil:
			unknown = append(unknown, c.Name)
		case c.IsSidecar() && !cs.IsStarted(), !c.IsSidecar() && !cs.Ready:
			incomplete = append(incomplete, c.Name)
		}
	}
	if in.Phase == Succeeded && len(unknown) == 0 {
		return Condition{Type: PodInitialized, Status: ConditionTrue, Reason: ReasonPodCompleted}
	}
	// An app container that ran shows the pod initialized before, even while sidecars restart.
	if anyAppRanOrRuns(spec, in) {
		return Condition{Type: PodInitialized, Status: ConditionTrue}
	}
	msg := joinMessages(withNames("containers with unknown status: ", unknown), withNames("containers with incomplete status: ", incomplete))
	if msg == "" {
		return Condition{Type: PodInitialized, Status: ConditionTrue}
	}
	// Once initialized, a pod stays so while its containers restart in place.
	if IsConditionTrue(prev, PodInitialized) {
		return Condition{Type: PodInitialized, Status: ConditionTrue}
	}
	return Condition{Type: PodInitialized, Status: ConditionFalse, Reason: ReasonContainersNotInitialized, Message: msg}
}

// anyAppRanOrRuns is kubelet's HasAnyRegularContainerStarted: an app container is Running or
// Terminated.
func anyAppRanOrRuns(spec *podlife.PodSpec, in ConditionInput) bool {
	for i := range spec.Containers {
		cs := lookup(spec.Containers[i].Name, in.InitStatuses, in.Statuses)
		if cs != nil && (cs.State.Running != nil || cs.State.Terminated != nil) {
			return true
		}
	}
	return false
}

func allRestarting(in ConditionInput) Condition {
	switch {
	case in.Phase == Succeeded:
		return Condition{Type: AllContainersRestarting, Status: ConditionFalse, Reason: ReasonPodCompleted}
	case in.Phase == Failed:
		return Condition{Type: AllContainersRestarting, Status: ConditionFalse, Reason: ReasonPodFailed}
	case in.RestartingAllContainers:
		return Condition{Type: AllContainersRestarting, Status: ConditionTrue, Reason: ReasonRestartAllContainersStarted, Message: MessageRestartAllContainersStarted}
	}
	return Condition{Type: AllContainersRestarting, Status: ConditionFalse}
}

// hasRestartAllRule reports whether some container of spec may restart all containers in place.
func hasRestartAllRule(spec *podlife.PodSpec) bool {
	for _, list := range [2][]podlife.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			for _, r := range list[i].RestartPolicyRules {
				if r.Action == podlife.RuleRestartAllContainers {
					return true
				}
			}
		}
	}
	return false
}

// withNames formats names the way kubelet does with fmt's %s on a []string: "[a b]".
func withNames(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return prefix + "[" + strings.Join(names, " ") + "]"
}

func joinMessages(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ", " + b
}

// FindCondition returns the first condition of type t in conds.
func FindCondition(conds []Condition, t ConditionType) (Condition, bool) {
	for _, c := range conds {
		if c.Type == t {
			return c, true
		}
	}
	return Condition{}, false
}

// IsConditionTrue reports whether conds hold a condition of type t with status True.
func IsConditionTrue(conds []Condition, t ConditionType) bool {
	c, ok := FindCondition(conds, t)
	return ok && c.Status == ConditionTrue
}

// SetCondition returns conds with c in place of the condition of the same type (appended when
// there is none). lastTransitionTime is kept when the status did not change and set to now
// otherwise, which is how conditions that kubelet does not own (DisruptionTarget, readiness
// gates) should be written. conds is not modified.
func SetCondition(conds []Condition, c Condition, now time.Time) []Condition {
	out := make([]Condition, 0, len(conds)+1)
	c.LastTransitionTime = now
	replaced := false
	for _, old := range conds {
		if old.Type != c.Type || replaced {
			out = append(out, old)
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		out = append(out, c)
		replaced = true
	}
	if !replaced {
		out = append(out, c)
	}
	return out
}
