package lifecycle

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/google/go-cmp/cmp"

	"github.com/podlife/podlife/phase"
)

// AgentWorkers lists the pods the agent has a worker for, for tests that check none is left
// behind.
func AgentWorkers(a *Agent) []PodRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Collect(maps.Keys(a.workers))
}

// ReadyChecker is the golden traces' check of a machine's insides, for every Ready it hands out:
// the status in it is what Status() puts together again from the pieces the machine keeps, and
// the conditions, which the machine often rebuilds without phase.Conditions, are what
// phase.Conditions makes of that status. It keeps the conditions of the last status for the next.
type ReadyChecker struct {
	m    *Machine
	last []phase.Condition
}

// Check checks one Ready of m. A machine after the first (one Restore rebuilt) is checked from
// its second status on: the conditions it started from are the restored status's.
func (c *ReadyChecker) Check(m *Machine, rd Ready) error {
	st := rd.Status
	if st == nil {
		return nil
	}
	if m != c.m {
		first := c.m == nil
		c.m = m
		if !first {
			c.last = st.Conditions
			return nil
		}
	}
	// reflect.DeepEqual first: cmp.Diff is the readable report, but far too slow for every status.
	if got := m.Status(); !reflect.DeepEqual(*st, got) {
		return fmt.Errorf("Status() differs from the status in Ready (-ready +Status):\n%s", cmp.Diff(*st, got))
	}
	want := phase.Conditions(phase.ConditionInput{Spec: m.Spec(), InitStatuses: st.InitContainerStatuses,
		Statuses: st.ContainerStatuses, Phase: st.Phase, SandboxReady: m.conds.sandboxReady,
		RestartingAllContainers: m.conds.restartingAll}, c.last, m.Now())
	if !reflect.DeepEqual(want, st.Conditions) {
		return fmt.Errorf("the conditions are not phase.Conditions' (-want +got):\n%s", cmp.Diff(want, st.Conditions))
	}
	c.last = want
	return nil
}

// ScanMax is how many containers a pod may have before the machine finds them through an index.
const ScanMax = scanMax

// CheckIndexes checks that the indexes of byName and byID give what a scan of the containers
// gives, and that the ID index stays within twice the containers.
func CheckIndexes(m *Machine) error {
	for ci := range m.ctrs {
		c := &m.ctrs[ci]
		if got := m.byName(c.spec.Name); got != c {
			return fmt.Errorf("byName(%s) is not the container", c.spec.Name)
		}
		if c.id != "" && m.byID(c.id) != c {
			return fmt.Errorf("byID(%s) is not %s", c.id, c.spec.Name)
		}
		if c.id == "" || m.more == nil {
			continue
		}
		if i, ok := m.more.ids[c.id]; ok && &m.ctrs[i] != c {
			return fmt.Errorf("the ID index has %s at %d, not at %s's place", c.id, i, c.spec.Name)
		}
	}
	for _, r := range m.retired {
		if c := m.byID(r.id); c != nil && c.id != r.id {
			return fmt.Errorf("byID(%s) gives %s, whose instance is %s", r.id, c.spec.Name, c.id)
		}
	}
	if m.byName("nope") != nil || m.byID("nope") != nil {
		return fmt.Errorf("a name or ID the pod has not is found")
	}
	if m.more != nil && len(m.more.ids) > 2*len(m.ctrs) {
		return fmt.Errorf("the ID index holds %d entries for %d containers", len(m.more.ids), len(m.ctrs))
	}
	return nil
}

// Indexed reports whether the machine has built its indexes.
func Indexed(m *Machine) bool { return m.more != nil && m.more.names != nil && m.more.ids != nil }
