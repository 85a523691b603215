package phase

// linearMax is how many statuses a pod may have for lookups to scan the lists by name. For the
// handful of containers a pod usually has, a scan beats building an index and allocates nothing
// (BenchmarkCompute); above it, a call indexes the names once (indexFor), so that a pod of
// thousands of containers costs time linear in their number, not quadratic.
const linearMax = 32

// order is the order in which the lists are searched for a name.
type order uint8

const (
	appsThenInit order = iota // getPhase's: kubelet joins the app statuses, then the init ones
	initThenApps              // the conditions'
	appsOnly                  // HasAnyAppContainerStarted's
)

// index finds a spec container's status in constant time, the very status a scan (lookup)
// finds: the first of that name in the lists, in the order asked for. A nil *index means scan:
// the callers test for nil themselves, so that the scan of a small pod stays inlined.
type index struct {
	// inSpecOrder: init[i] and apps[i] are the statuses of the spec's InitContainers[i] and
	// Containers[i], whose names are unique (see ComputeInSpecOrder).
	inSpecOrder bool
	// names holds, for lists too long to scan, the position + 1 of the first status of each
	// name in init and in apps (0: none).
	names map[string]firsts
}

type firsts struct{ init, app int }

// indexFor indexes long lists by name; nil for short ones.
func indexFor(init, apps []ContainerStatus) *index {
	if len(init)+len(apps) <= linearMax {
		return nil
	}
	return indexNames(init, apps)
}

func indexNames(init, apps []ContainerStatus) *index {
	ix := &index{names: make(map[string]firsts, len(init)+len(apps))}
	for i := range apps {
		if e := ix.names[apps[i].Name]; e.app == 0 {
			e.app = i + 1
			ix.names[apps[i].Name] = e
		}
	}
	for i := range init {
		if e := ix.names[init[i].Name]; e.init == 0 {
			e.init = i + 1
			ix.names[init[i].Name] = e
		}
	}
	return ix
}

// find is the status of the spec container name, at position pos of the spec's init containers
// (inInit) or app containers, searched in init and apps, the lists ix was made for, in order o.
// The index holds no list of its own, so that a caller's lists never escape through it.
func (ix *index) find(name string, pos int, inInit bool, o order, init, apps []ContainerStatus) *ContainerStatus {
	a, b := apps, init
	switch o {
	case initThenApps:
		a, b = init, apps
	case appsOnly:
		b = nil
	}
	if ix.inSpecOrder {
		list := apps
		if inInit {
			list = init
		}
		// The names are unique, so the status at the container's position is the only one of
		// its name in either list.
		if pos < len(list) && list[pos].Name == name && !(inInit && o == appsOnly) {
			return &list[pos]
		}
	}
	if ix.names == nil {
		return lookup(name, a, b)
	}
	e := ix.names[name]
	first, second := e.app, e.init
	switch o {
	case initThenApps:
		first, second = e.init, e.app
	case appsOnly:
		second = 0
	}
	switch {
	case first > 0:
		return &a[first-1]
	case second > 0:
		return &b[second-1]
	}
	return nil
}

// lookup finds the status named name, first in a, then in b.
func lookup(name string, a, b []ContainerStatus) *ContainerStatus {
	for i := range a {
		if a[i].Name == name {
			return &a[i]
		}
	}
	for i := range b {
		if b[i].Name == name {
			return &b[i]
		}
	}
	return nil
}
