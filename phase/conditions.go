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

// The reason and message of a pod that failed because it was active longer than its
// activeDeadlineSeconds (kubelet's active_deadline.go).
const (
	ReasonDeadlineExceeded  = "DeadlineExceeded"
	MessageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

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
	// InSpecOrder says InitStatuses[i] and Statuses[i] are the statuses of Spec.InitContainers[i]
	// and Spec.Containers[i], and the spec's container names are unique (it passed Validate):
	// statuses are then found at their positions, as in ComputeInSpecOrder.
	InSpecOrder bool
}

// kubeletConditions are the condition types kubelet owns: it regenerates them on every sync and
// keeps every other condition (DisruptionTarget, readiness gates) as it finds it.
var kubeletConditions = [...]ConditionType{
	PodScheduled, PodReadyToStartContainers, PodInitialized, ContainersReady, PodReady, AllContainersRestarting,
}

// IsKubeletCondition reports whether kubelet owns condition type t.
func IsKubeletCondition(t ConditionType) bool {
	switch t {
	case PodScheduled, PodReadyToStartContainers, PodInitialized, ContainersReady, PodReady, AllContainersRestarting:
		return true
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
	// The generated conditions go to a buffer on the stack and the result gets exactly the room
	// it needs: one allocation per call, which a Machine keeps for as long as the pod is idle.
	// Loops go by index: a Condition is 88 bytes, and this runs on every status change.
	var buf [maxGenerated]Condition
	gen := generate(buf[:0], in, prev)
	n := len(gen)
	for i := range prev {
		if !IsKubeletCondition(prev[i].Type) {
			n++
		}
	}
	out := make([]Condition, 0, n)
	for i := range prev {
		if !IsKubeletCondition(prev[i].Type) {
			out = append(out, prev[i])
		}
	}
	for i := range gen {
		c := &gen[i]
		c.LastTransitionTime = now
		if j := findCondition(prev, c.Type); j >= 0 && prev[j].Status == c.Status {
			c.LastTransitionTime = prev[j].LastTransitionTime
		}
	}
	return append(out, gen...)
}

// findCondition is the index of the first condition of type t in conds, -1 when there is none.
func findCondition(conds []Condition, t ConditionType) int {
	for i := range conds {
		if conds[i].Type == t {
			return i
		}
	}
	return -1
}

// Generate returns the kubelet-owned conditions for in, without transition times. prev is read
// for readiness gates missing from in.ReadinessGates and for an Initialized condition that was
// already True (it stays True while containers restart in place).
func Generate(in ConditionInput, prev []Condition) []Condition {
	return generate(make([]Condition, 0, maxGenerated), in, prev)
}

// maxGenerated is how many conditions Generate makes at most.
const maxGenerated = len(kubeletConditions)

// generate appends the kubelet-owned conditions to dst.
func generate(dst []Condition, in ConditionInput, prev []Condition) []Condition {
	spec := in.Spec
	if spec == nil {
		spec = &podlife.PodSpec{}
	}
	inOrder := index{inSpecOrder: true}
	ix := &inOrder
	if !in.InSpecOrder {
		ix = indexFor(in.InitStatuses, in.Statuses)
	}
	ready := containersReady(spec, in, ix)
	dst = append(dst,
		readyToStart(in.SandboxReady),
		initialized(spec, in, ix, prev),
		podReady(spec, in, ready, prev),
		ready,
		scheduled(in),
	)
	if hasRestartAllRule(spec) {
		dst = append(dst, allRestarting(in))
	}
	return dst
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

func containersReady(spec *podlife.PodSpec, in ConditionInput, ix *index) Condition {
	if noStatuses(in) {
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonUnknownContainerStatuses}
	}
	// The name lists live on the stack for any pod of up to 8 containers: this runs on every
	// status change of every pod.
	var unknownBuf, unreadyBuf [8]string
	unknown, unready := unknownBuf[:0], unreadyBuf[:0]
	for i := range spec.InitContainers {
		if c := &spec.InitContainers[i]; c.IsSidecar() {
			unknown, unready = notReady(c, i, true, in, ix, unknown, unready)
		}
	}
	for i := range spec.Containers {
		unknown, unready = notReady(&spec.Containers[i], i, false, in, ix, unknown, unready)
	}
	switch {
	case in.Phase == Succeeded && len(unknown) == 0:
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonPodCompleted}
	case in.Phase == Failed:
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonPodFailed}
	}
	if msg := listMessage("containers with unknown status: ", unknown, "containers with unready status: ", unready); msg != "" {
		return Condition{Type: ContainersReady, Status: ConditionFalse, Reason: ReasonContainersNotReady, Message: msg}
	}
	return Condition{Type: ContainersReady, Status: ConditionTrue}
}

// notReady adds c's name to unknown when it has no status, to unready when it is not ready. c
// is at position pos of the spec's init (inInit) or app containers.
func notReady(c *podlife.Container, pos int, inInit bool, in ConditionInput, ix *index, unknown, unready []string) ([]string, []string) {
	var cs *ContainerStatus
	if ix == nil {
		cs = lookup(c.Name, in.InitStatuses, in.Statuses)
	} else {
		cs = ix.find(c.Name, pos, inInit, initThenApps, in.InitStatuses, in.Statuses)
	}
	switch {
	case cs == nil:
		unknown = append(unknown, c.Name)
	case !cs.Ready:
		unready = append(unready, c.Name)
	}
	return unknown, unready
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

func initialized(spec *podlife.PodSpec, in ConditionInput, ix *index, prev []Condition) Condition {
	if noStatuses(in) && len(spec.InitContainers) > 0 {
		return Condition{Type: PodInitialized, Status: ConditionFalse, Reason: ReasonUnknownContainerStatuses}
	}
	var unknownBuf, incompleteBuf [8]string
	unknown, incomplete := unknownBuf[:0], incompleteBuf[:0]
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		var cs *ContainerStatus
		if ix == nil {
			cs = lookup(c.Name, in.InitStatuses, in.Statuses)
		} else {
			cs = ix.find(c.Name, i, true, initThenApps, in.InitStatuses, in.Statuses)
		}
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
	if anyAppRanOrRuns(spec, in, ix) {
		return Condition{Type: PodInitialized, Status: ConditionTrue}
	}
	if len(unknown)+len(incomplete) == 0 {
		return Condition{Type: PodInitialized, Status: ConditionTrue}
	}
	// Once initialized, a pod stays so while its containers restart in place.
	if IsConditionTrue(prev, PodInitialized) {
		return Condition{Type: PodInitialized, Status: ConditionTrue}
	}
	msg := listMessage("containers with unknown status: ", unknown, "containers with incomplete status: ", incomplete)
	return Condition{Type: PodInitialized, Status: ConditionFalse, Reason: ReasonContainersNotInitialized, Message: msg}
}

// anyAppRanOrRuns is kubelet's HasAnyRegularContainerStarted: an app container is Running or
// Terminated.
func anyAppRanOrRuns(spec *podlife.PodSpec, in ConditionInput, ix *index) bool {
	for i := range spec.Containers {
		var cs *ContainerStatus
		if ix == nil {
			cs = lookup(spec.Containers[i].Name, in.InitStatuses, in.Statuses)
		} else {
			cs = ix.find(spec.Containers[i].Name, i, false, initThenApps, in.InitStatuses, in.Statuses)
		}
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

// listMessage is kubelet's message for two lists of container names, each formatted as fmt's
// %s formats a []string ("[a b]") after its prefix and left out when empty, joined by ", ":
// "prefixA[a1 a2], prefixB[b1]". It is built in one allocation.
func listMessage(prefixA string, a []string, prefixB string, b []string) string {
	size := func(prefix string, names []string) int {
		if len(names) == 0 {
			return 0
		}
		n := len(prefix) + 2 + len(names) - 1
		for _, s := range names {
			n += len(s)
		}
		return n
	}
	na, nb := size(prefixA, a), size(prefixB, b)
	if na+nb == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(na + nb + 2)
	write := func(prefix string, names []string) {
		sb.WriteString(prefix)
		sb.WriteByte('[')
		for i, s := range names {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(s)
		}
		sb.WriteByte(']')
	}
	if na > 0 {
		write(prefixA, a)
	}
	if na > 0 && nb > 0 {
		sb.WriteString(", ")
	}
	if nb > 0 {
		write(prefixB, b)
	}
	return sb.String()
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
