package termination

import (
	"cmp"
	"slices"

	"github.com/podlife/podlife"
)

// Kind is a container's role in the pod, which decides its place in the stop order.
type Kind int

// Kinds. The zero value is AppContainer.
const (
	// AppContainer is one of spec.containers; it stops at once, in parallel with the others.
	AppContainer Kind = iota
	// SidecarContainer is an init container with restartPolicy Always; it stops after every app
	// container and every sidecar declared after it.
	SidecarContainer
	// InitContainer is a regular init container still running (the pod stops while it
	// initializes); it stops at once and nothing waits for it.
	InitContainer
)

// Member is one container of a PodStop.
type Member struct {
	Name string
	Kind Kind
	// Order is a sidecar's position among the pod's init containers (spec order, unique among
	// sidecars); sidecars stop in reverse Order. Ignored for other kinds.
	Order int
	// HasPreStop says the container has a preStop hook.
	HasPreStop bool
	// Exited says the container is not running when the stop begins: it gets no actions and
	// counts as stopped for the ordering. List every sidecar of the pod, running or not: like
	// kubelet, a sidecar waits only for the nearest sidecar declared after it, so one that is
	// not running lets the sidecars before it go without waiting for those after it.
	Exited bool
}

func validateMembers(members []Member) error {
	var errs podlife.ErrorList
	names := make(map[string]bool, len(members))
	orders := make(map[int]bool)
	for i, m := range members {
		p := podlife.Path("members").Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, podlife.Required(p.Child("name"), "every container needs a name"))
		case names[m.Name]:
			errs = append(errs, podlife.Duplicate(p.Child("name"), m.Name))
		}
		names[m.Name] = true
		switch m.Kind {
		case AppContainer, InitContainer:
		case SidecarContainer:
			if orders[m.Order] {
				errs = append(errs, podlife.Duplicate(p.Child("order"), m.Order))
			}
			orders[m.Order] = true
		default:
			errs = append(errs, podlife.Invalid(p.Child("kind"), int(m.Kind),
				"must be AppContainer, SidecarContainer or InitContainer"))
		}
	}
	return errs.AsError()
}

// sidecarChain links each sidecar to the nearest sidecar declared after it (next, -1 for none)
// and returns the sidecars' indexes from the last declared to the first, the order in which
// their turns can be computed.
func sidecarChain(states []memberState) []int {
	var sidecars []int
	for i := range states {
		states[i].next = -1
		if states[i].Kind == SidecarContainer {
			sidecars = append(sidecars, i)
		}
	}
	slices.SortFunc(sidecars, func(a, b int) int { return cmp.Compare(states[b].Order, states[a].Order) })
	for k := 1; k < len(sidecars); k++ {
		states[sidecars[k]].next = sidecars[k-1]
	}
	return sidecars
}
