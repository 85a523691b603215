package lifecycle

import (
	"maps"
	"slices"
)

// AgentWorkers lists the pods the agent has a worker for, for tests that check none is left
// behind.
func AgentWorkers(a *Agent) []PodRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Collect(maps.Keys(a.workers))
}
