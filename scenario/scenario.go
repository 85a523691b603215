package scenario

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// DefaultUntil is how long a Scenario runs when its Until is 0.
const DefaultUntil = 10 * time.Minute

// Node is the node a Scenario's pod is bound to.
const Node = "node-1"

// DefaultPod is the pod of a Scenario whose Pod is the zero value.
func DefaultPod() lifecycle.PodRef {
	return lifecycle.PodRef{Namespace: "default", Name: "pod", UID: "uid"}
}

// Epoch is when a scenario starts: midnight UTC 2000-01-01, where testing/synctest's clock
// starts, so that a Sim and an Agent in a bubble report the same times.
func Epoch() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// Scenario is one pod's life to play: its spec, how the simulated runtime answers for it, and
// what happens to it from outside at virtual times. RunSim plays it on a simruntime.Sim,
// podlifetest.RunAgent on a lifecycle.Agent in a testing/synctest bubble; ParseScenario reads it
// from a scenario file and Format writes one.
type Scenario struct {
	// Pod is the pod's identity; the zero value is DefaultPod.
	Pod lifecycle.PodRef
	// Spec is the pod bound at time 0.
	Spec podlife.PodSpec
	// Script says how the simulated runtime answers for the pod: its setup and sandboxes and, by
	// container name, each container's runs, pulls, creates, hooks and probes.
	Script simruntime.PodScript
	// Images are present on the node from the start.
	Images []string
	// Ops happen at their times, in order (times are from the pod's binding at 0).
	Ops []Op
	// Until is when the play ends; 0 means DefaultUntil.
	Until time.Duration
}

// OpKind says what an Op does.
type OpKind uint8

// Operations. Each names the Op fields it uses.
const (
	// OpDelete deletes the pod with Grace seconds (nil: the spec's), as lifecycle.Client.Delete:
	// a later, shorter grace shortens the stop, a longer one changes nothing, 0 is a forced
	// deletion.
	OpDelete OpKind = iota + 1
	// OpUpdateImage changes Container's image to Image (lifecycle.Client.UpdateSpec).
	OpUpdateImage
	// OpLoseSandbox makes the pod's ready sandbox die.
	OpLoseSandbox
	// OpAddImage makes Image present on the node (pulled by hand, pushed to a cache).
	OpAddImage
	// OpStopAgent stops the node's agent; the runtime runs on.
	OpStopAgent
	// OpStartAgent starts a new agent, which recovers the pod from the store (its last persisted
	// status and checkpoint) and the runtime. While the store is down it waits, as an agent
	// does (lifecycle.Agent.Run).
	OpStartAgent
	// OpStoreDown makes the store unavailable: every call fails, every watch ends.
	OpStoreDown
	// OpStoreUp ends a store outage.
	OpStoreUp
	// OpUpdateDeadline sets the spec's activeDeadlineSeconds to Deadline
	// (lifecycle.Client.UpdateSpec, which refuses a raised deadline, as the API server does).
	OpUpdateDeadline
	// OpLoseNode loses the node: its agent stops (the runtime runs on), its lease key goes as
	// when the lease expires, and a lifecycle.Supervisor marks the pod Unknown, reason NodeLost
	// (lifecycle.NodeLostRecord), unless it ended already. Until OpNodeBack the pod's status is
	// that mark.
	OpLoseNode
	// OpNodeBack brings a lost node back: a new agent starts and recovers the pod from the store
	// (the supervisor's record, which kept the checkpoint) and the runtime, and reports its true
	// status over the supervisor's.
	OpNodeBack
)

var opNames = [...]string{"", "delete", "image", "sandbox-lost", "image-present", "agent-stop", "agent-start", "store-down", "store-up",
	"deadline", "node-lost", "node-back"}

func (k OpKind) String() string {
	if int(k) < len(opNames) && k != 0 {
		return opNames[k]
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one operation at a virtual time.
type Op struct {
	At        time.Duration
	Kind      OpKind
	Grace     *int64 // OpDelete
	Container string // OpUpdateImage
	Image     string // OpUpdateImage, OpAddImage
	Deadline  int64  // OpUpdateDeadline: activeDeadlineSeconds
}

// Delete is an OpDelete at at with the spec's grace.
func Delete(at time.Duration) Op { return Op{At: at, Kind: OpDelete} }

// DeleteGrace is an OpDelete at at with grace seconds (0: a forced deletion).
func DeleteGrace(at time.Duration, seconds int64) Op {
	return Op{At: at, Kind: OpDelete, Grace: &seconds}
}

// UpdateImage is an OpUpdateImage at at.
func UpdateImage(at time.Duration, container, image string) Op {
	return Op{At: at, Kind: OpUpdateImage, Container: container, Image: image}
}

// UpdateDeadline is an OpUpdateDeadline at at.
func UpdateDeadline(at time.Duration, seconds int64) Op {
	return Op{At: at, Kind: OpUpdateDeadline, Deadline: seconds}
}

// LoseSandbox is an OpLoseSandbox at at.
func LoseSandbox(at time.Duration) Op { return Op{At: at, Kind: OpLoseSandbox} }

// AddImage is an OpAddImage at at.
func AddImage(at time.Duration, image string) Op { return Op{At: at, Kind: OpAddImage, Image: image} }

// StopAgent is an OpStopAgent at at.
func StopAgent(at time.Duration) Op { return Op{At: at, Kind: OpStopAgent} }

// StartAgent is an OpStartAgent at at.
func StartAgent(at time.Duration) Op { return Op{At: at, Kind: OpStartAgent} }

// StoreDown is an OpStoreDown at at.
func StoreDown(at time.Duration) Op { return Op{At: at, Kind: OpStoreDown} }

// StoreUp is an OpStoreUp at at.
func StoreUp(at time.Duration) Op { return Op{At: at, Kind: OpStoreUp} }

// LoseNode is an OpLoseNode at at.
func LoseNode(at time.Duration) Op { return Op{At: at, Kind: OpLoseNode} }

// NodeBack is an OpNodeBack at at.
func NodeBack(at time.Duration) Op { return Op{At: at, Kind: OpNodeBack} }

// ErrBadScenario is wrapped by the errors of Scenario.Validate.
var ErrBadScenario = errors.New("scenario: bad scenario")

// Ref is the scenario's pod: Pod, or DefaultPod when Pod is the zero value.
func (sc *Scenario) Ref() lifecycle.PodRef {
	if sc.Pod == (lifecycle.PodRef{}) {
		return DefaultPod()
	}
	return sc.Pod
}

// End is when the play ends: Until, or DefaultUntil when Until is 0.
func (sc *Scenario) End() time.Duration {
	if sc.Until <= 0 {
		return DefaultUntil
	}
	return sc.Until
}

// SortedOps are the scenario's operations in time order; those of one time keep their order.
func (sc *Scenario) SortedOps() []Op {
	ops := slices.Clone(sc.Ops)
	slices.SortStableFunc(ops, func(a, b Op) int { return int(a.At - b.At) })
	return ops
}

// Validate checks that the scenario can be played: a valid spec, scripts and operations that
// name its containers, operations within [0, Until], the agent stopped before it is started
// again, the store down before it is up again and the node lost before it is back, no negative
// grace. While the node is lost its agent is away (no agent-stop or agent-start) and the store
// stays up: an outage then is not modelled (the Supervisor would mark the pod only once the
// store is back, after its own retries). Every problem is reported, each with its place; a
// problem with an operation is an *OpError, which names the operation's index in Ops.
func (sc *Scenario) Validate() error {
	var errs []error
	if err := sc.Spec.Validate(); err != nil {
		errs = append(errs, err)
	}
	names := map[string]bool{}
	for _, list := range [][]podlife.Container{sc.Spec.InitContainers, sc.Spec.Containers} {
		for i := range list {
			names[list[i].Name] = true
		}
	}
	for name := range sc.Script.Containers {
		if !names[name] {
			errs = append(errs, fmt.Errorf("script: no container %q in the spec", name))
		}
	}
	order := make([]int, len(sc.Ops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(sc.Ops[a].At - sc.Ops[b].At) })
	agentUp, storeUp, nodeUp := true, true, true
	state := map[bool]string{true: "running", false: "stopped"}
	for _, i := range order {
		op := sc.Ops[i]
		bad := func(format string, args ...any) {
			errs = append(errs, &OpError{Index: i, Op: op, Err: fmt.Errorf(format, args...)})
		}
		if op.At < 0 || op.At > sc.End() {
			bad("not within 0s and until %s", sc.End())
		}
		switch op.Kind {
		case OpDelete:
			if op.Grace != nil && *op.Grace < 0 {
				bad("negative grace %d", *op.Grace)
			}
		case OpUpdateImage:
			if !names[op.Container] {
				bad("no container %q in the spec", op.Container)
			}
			if op.Image == "" {
				bad("no image")
			}
		case OpAddImage:
			if op.Image == "" {
				bad("no image")
			}
		case OpUpdateDeadline:
			if op.Deadline < 1 || op.Deadline > podlife.MaxActiveDeadlineSeconds {
				bad("activeDeadlineSeconds %d is not from 1 to %d", op.Deadline, podlife.MaxActiveDeadlineSeconds)
			}
		case OpLoseSandbox:
		case OpStopAgent, OpStartAgent:
			switch {
			case !nodeUp:
				bad("the node is lost (node-back starts its agent)")
			case agentUp != (op.Kind == OpStopAgent):
				bad("the agent is already %s", state[agentUp])
			}
			agentUp = op.Kind == OpStartAgent
		case OpLoseNode:
			switch {
			case !nodeUp:
				bad("the node is already lost")
			case !agentUp:
				bad("the agent is stopped (start it first)")
			case !storeUp:
				bad("the store is down (a node lost in an outage is not modelled)")
			}
			nodeUp, agentUp = false, false
		case OpNodeBack:
			if nodeUp {
				bad("the node is not lost")
			}
			nodeUp, agentUp = true, true
		case OpStoreDown, OpStoreUp:
			switch {
			case storeUp != (op.Kind == OpStoreDown):
				bad("the store is already %s", map[bool]string{true: "up", false: "down"}[storeUp])
			case !nodeUp && op.Kind == OpStoreDown:
				bad("the node is lost (an outage then is not modelled)")
			}
			storeUp = op.Kind == OpStoreUp
		default:
			bad("unknown operation")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBadScenario, errors.Join(errs...))
	}
	return nil
}

// OpError is a problem with one operation of a Scenario: Index is its place in Ops.
type OpError struct {
	Index int
	Op    Op
	Err   error
}

func (e *OpError) Error() string {
	return fmt.Sprintf("op %d (%s at %s): %v", e.Index, e.Op.Kind, e.Op.At, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// OpErrors are the *OpErrors in err (an error of Validate), in the order Validate found them.
func OpErrors(err error) []*OpError {
	var out []*OpError
	var walk func(error)
	walk = func(err error) {
		if oe, ok := err.(*OpError); ok {
			out = append(out, oe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// SpecAfter is spec as op changes it (OpUpdateImage, OpUpdateDeadline; spec's own lists are
// not changed), and whether the update is one lifecycle.Client.UpdateSpec makes
// (podlife.PodSpec.ValidateUpdate: a deadline is never raised).
func SpecAfter(spec podlife.PodSpec, op Op) (podlife.PodSpec, bool) {
	next := spec
	switch op.Kind {
	case OpUpdateImage:
		next = withImage(spec, op.Container, op.Image)
	case OpUpdateDeadline:
		next.ActiveDeadlineSeconds = &op.Deadline
	}
	return next, next.ValidateUpdate(&spec) == nil
}

// withImage is spec with container's image changed to image, in lists of its own.
func withImage(spec podlife.PodSpec, container, image string) podlife.PodSpec {
	spec.InitContainers = slices.Clone(spec.InitContainers)
	spec.Containers = slices.Clone(spec.Containers)
	for _, list := range [][]podlife.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == container {
				list[i].Image = image
			}
		}
	}
	return spec
}
