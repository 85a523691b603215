package scenario

import (
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// storeModel is what a lifecycle.Store holds of the pod and how the agent's writes reach it, for
// the Sim's runner to restart an agent the way podlifetest.RunAgent's is restarted: the pod
// record (its spec and deletion, as lifecycle.Client writes them) and the last status and
// checkpoint the agent managed to write, through store outages, with the agent's retries
// (RetryPeriod 1 s).
type storeModel struct {
	outages [][2]time.Duration // [down, up); up < 0: never

	present  bool // the pod record exists
	spec     podlife.PodSpec
	deletion *int64 // the stored grace, once deleted

	persisted *statusSet // what the store holds
	pending   *statusSet // set, not written yet
	retrying  bool       // the writer retries at retryAt
	retryAt   time.Duration
	removal   bool // the pod stopped deleted: its record goes once its last status is written
	// held is what the runtime had of the pod when it stopped, which the agent leaves there
	// until the pod's last status is written (lifecycle.worker.run): a new agent finds it when
	// the old one stopped before that.
	held *lifecycle.Observed
}

type statusSet struct {
	status     phase.PodStatus
	checkpoint lifecycle.Checkpoint
	writer     string // "" for the agent's (lifecycle.StatusRecord.Writer)
}

// retryPeriod is lifecycle.AgentConfig's default RetryPeriod, which podlifetest.RunAgent's
// agent has.
const retryPeriod = time.Second

// maxStartBackoff is the longest wait of an agent that cannot start (lifecycle.Agent.Run).
const maxStartBackoff = 30 * time.Second

func newStoreModel(spec podlife.PodSpec, ops []Op) *storeModel {
	m := &storeModel{present: true, spec: spec}
	for _, op := range ops {
		switch op.Kind {
		case OpStoreDown:
			m.outages = append(m.outages, [2]time.Duration{op.At, -1})
		case OpStoreUp:
			if n := len(m.outages); n > 0 && m.outages[n-1][1] < 0 {
				m.outages[n-1][1] = op.At
			}
		}
	}
	return m
}

// up reports whether the store answers at t.
func (m *storeModel) up(t time.Duration) bool {
	for _, o := range m.outages {
		if t >= o[0] && (o[1] < 0 || t < o[1]) {
			return false
		}
	}
	return true
}

// set is the agent setting a status at t: written at once, or by the writer's next retry that
// finds the store up.
func (m *storeModel) set(t time.Duration, st statusSet) {
	m.advance(t)
	m.pending = &st
	if m.retrying {
		return
	}
	m.write(t)
}

// write tries to write the pending status at t.
func (m *storeModel) write(t time.Duration) {
	if !m.up(t) {
		m.retrying, m.retryAt = true, t+retryPeriod
		return
	}
	m.persisted, m.pending, m.retrying = m.pending, nil, false
	m.held = nil
	if m.removal {
		m.present, m.removal = false, false
	}
}

// advance runs the writer's retries due by t.
func (m *storeModel) advance(t time.Duration) {
	for m.retrying && m.retryAt <= t {
		m.retrying = false
		m.write(m.retryAt)
	}
}

// agentStopped is the agent stopping at t: a last try to write what is pending, and no more
// retries. What the runtime holds stays held: the worker waiting for that write is stopped too,
// before it stops what the pod had in the runtime.
func (m *storeModel) agentStopped(t time.Duration) {
	m.advance(t)
	if m.pending != nil && m.up(t) {
		m.persisted, m.pending = m.pending, nil
		if m.removal {
			m.present = false
		}
	}
	m.pending, m.retrying, m.removal = nil, false, false
}

// stopped is the pod's machine stopping, with what the runtime had of it then: a deleted pod's
// record goes once its last status is written, and until then the runtime keeps what it had.
func (m *storeModel) stopped(obs lifecycle.Observed) {
	if m.pending != nil || m.retrying {
		m.held = &obs
	}
	if m.deletion == nil || !m.present {
		return
	}
	if m.pending == nil && !m.retrying {
		m.present = false
		return
	}
	m.removal = true
}

// delete is lifecycle.Client.Delete: it reports the grace the agent's pod worker hands its machine
// (deletion.GracePeriodSeconds: the stored one), and whether the record went (a forced deletion).
func (m *storeModel) delete(grace *int64) (stored int64, forced bool) {
	if grace != nil && *grace == 0 {
		m.present = false
		return 0, true
	}
	// As the API server's BeforeDelete: a first deletion without a grace takes the spec's; once
	// deleting, only a shorter grace given changes it ("graceful deletion is pending").
	g := m.spec.EffectiveGracePeriodSeconds()
	if grace != nil {
		g = *grace
	}
	if m.deletion == nil || (grace != nil && g < *m.deletion) {
		m.deletion = &g
	}
	return *m.deletion, false
}

// startAt is when an agent started at t gets going: at once, or at its first try to list the
// store that finds it up (tries at t, then after 1 s, 2 s, 4 s, ... up to 30 s between them).
// It reports false when that is after until.
func (m *storeModel) startAt(t, until time.Duration) (time.Duration, bool) {
	wait := retryPeriod
	for !m.up(t) {
		if t > until {
			return 0, false
		}
		t += wait
		wait = min(2*wait, maxStartBackoff)
	}
	return t, t <= until
}

// worker is what an agent's pod worker keeps of a deletion it handed its machine
// (lifecycle.worker.deleteRequested): a longer grace than the last one is not handed on.
type worker struct {
	deleting bool
	grace    int64
}

// deleteRequested reports whether a deletion with grace goes to the machine.
func (w *worker) deleteRequested(grace int64) bool {
	if w.deleting && grace >= w.grace {
		return false
	}
	w.deleting, w.grace = true, grace
	return true
}
