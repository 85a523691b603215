package scenario

import (
	"slices"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// Timeline is what happened to one pod, step by step, with times since Start: what its machines
// handed out (records, actions, statuses, deadlines) and, as far as the runner knows them, what
// came in (the events a machine was stepped with, the runtime's own events, the scenario's
// operations, the restores of an agent restart). RunSim and podlifetest.RunAgent make one; a
// test can make one from its own code's output (AddReady, AddStatus) and check it with
// podlifetest.Check.
type Timeline struct {
	Pod lifecycle.PodRef
	// Spec is the pod's spec when it was bound.
	Spec podlife.PodSpec
	// Start is the time of At 0.
	Start time.Time
	Steps []Step
}

// Step is one thing the timeline saw at At.
type Step struct {
	At time.Duration
	// Op is an operation of the scenario, done here.
	Op *Op
	// Input is an event a machine was stepped with (the Sim's runner knows them; a Tick
	// included). Events a machine refused as stale are left out.
	Input *lifecycle.Event
	// Runtime is an event of the runtime's own stream (the Agent's runner reports the exits,
	// unknown states and sandbox losses here).
	Runtime *lifecycle.RuntimeEvent
	// Restore is a machine rebuilt by lifecycle.Restore taking over (an agent restart), with
	// what it was rebuilt from. podlifetest.RunAgent knows only the status, read from the store.
	Restore *RestoreInput
	// Writer, when not "", says Status is no machine's: another writer put it in the store (a
	// lifecycle.Supervisor's mark of a lost node's pod: lifecycle.SupervisorWriter).
	Writer string
	// Ready says Records, Actions, Status and Deadline are a machine's Ready.
	Ready    bool
	Records  []lifecycle.Record
	Actions  []lifecycle.Action
	Status   *phase.PodStatus
	Deadline time.Time
}

// RestoreInput is what lifecycle.Restore rebuilt a machine from.
type RestoreInput struct {
	Spec       podlife.PodSpec
	Status     phase.PodStatus
	Checkpoint lifecycle.Checkpoint
	Observed   lifecycle.Observed
	// Deletion is the grace of the deletion stored with the pod, handed to the restored machine
	// at once; nil when the pod was not being deleted.
	Deletion *int64
}

// StatusAt is a status a machine handed out at At.
type StatusAt struct {
	At     time.Duration
	Status phase.PodStatus
}

// RecordAt is an event record a machine handed out at At.
type RecordAt struct {
	At     time.Duration
	Record lifecycle.Record
}

// NewTimeline starts an empty timeline of pod, bound with spec at start.
func NewTimeline(pod lifecycle.PodRef, spec podlife.PodSpec, start time.Time) *Timeline {
	return &Timeline{Pod: pod, Spec: spec, Start: start}
}

// AddReady adds what a machine handed out at now (as AgentConfig.Observe and Sim.OnReady see
// it): the timeline keeps copies, so rd may be reused afterwards. An empty Ready (an Agent
// observes one after an event its machine refused) adds nothing.
func (tl *Timeline) AddReady(now time.Time, rd lifecycle.Ready) {
	if rd.IsEmpty() {
		return
	}
	st := Step{At: tl.since(now), Ready: true, Deadline: norm(rd.Deadline)}
	for _, r := range rd.Records {
		r.At = norm(r.At)
		st.Records = append(st.Records, r)
	}
	st.Actions = slices.Clone(rd.Actions)
	if rd.Status != nil {
		s := copyStatus(*rd.Status)
		st.Status = &s
	}
	tl.Steps = append(tl.Steps, st)
}

// AddStatus adds a status seen at now, from wherever it came (a store watch, an API server).
func (tl *Timeline) AddStatus(now time.Time, status phase.PodStatus) {
	s := copyStatus(status)
	tl.Steps = append(tl.Steps, Step{At: tl.since(now), Ready: true, Status: &s})
}

// AddWritten adds a status another writer put in the store at now (a Supervisor's NodeLost mark),
// which no machine handed out.
func (tl *Timeline) AddWritten(now time.Time, status phase.PodStatus, writer string) {
	s := copyStatus(status)
	tl.Steps = append(tl.Steps, Step{At: tl.since(now), Status: &s, Writer: writer})
}

// AddInput adds an event a machine was stepped with.
func (tl *Timeline) AddInput(ev lifecycle.Event) {
	ev.At = norm(ev.At)
	tl.Steps = append(tl.Steps, Step{At: tl.since(ev.At), Input: &ev})
}

// AddOp adds an operation of the scenario done at now.
func (tl *Timeline) AddOp(now time.Time, op Op) {
	tl.Steps = append(tl.Steps, Step{At: tl.since(now), Op: &op})
}

// AddRestore adds a machine rebuilt by lifecycle.Restore taking over at now (an agent restart),
// with what it was rebuilt from; the timeline keeps a copy of in's status.
func (tl *Timeline) AddRestore(now time.Time, in RestoreInput) {
	in.Status = copyStatus(in.Status)
	tl.Steps = append(tl.Steps, Step{At: tl.since(now), Restore: &in})
}

// AddRuntime adds an event of the runtime's own stream seen at now.
func (tl *Timeline) AddRuntime(now time.Time, ev lifecycle.RuntimeEvent) {
	tl.Steps = append(tl.Steps, Step{At: tl.since(now), Runtime: &ev})
}

func (tl *Timeline) since(t time.Time) time.Duration { return t.Sub(tl.Start) }

// Statuses are the statuses in order.
func (tl *Timeline) Statuses() []StatusAt {
	var out []StatusAt
	for _, s := range tl.Steps {
		if s.Status != nil {
			out = append(out, StatusAt{At: s.At, Status: *s.Status})
		}
	}
	return out
}

// Settled are the statuses that ended their instants: of the statuses at one time, the last.
// They are what a controller watching the store sees for sure: an Agent writes a pod's status
// when it is done with an instant, so a status that one of the same instant followed may never
// reach the store (Compare's first difference).
func (tl *Timeline) Settled() []StatusAt {
	all := tl.Statuses()
	var out []StatusAt
	for i, s := range all {
		if i+1 < len(all) && all[i+1].At == s.At {
			continue
		}
		out = append(out, s)
	}
	return out
}

// Records are the event records in order.
func (tl *Timeline) Records() []RecordAt {
	var out []RecordAt
	for _, s := range tl.Steps {
		for _, r := range s.Records {
			out = append(out, RecordAt{At: s.At, Record: r})
		}
	}
	return out
}

// Last is the last status, or the zero status when there is none.
func (tl *Timeline) Last() phase.PodStatus {
	for i := len(tl.Steps) - 1; i >= 0; i-- {
		if st := tl.Steps[i].Status; st != nil {
			return *st
		}
	}
	return phase.PodStatus{}
}

// norm is t without its monotonic reading, in UTC: times from a clock in a synctest bubble
// compare equal to the same instants from a Sim.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// copyStatus is a deep copy of st with its times normalized (norm).
func copyStatus(st phase.PodStatus) phase.PodStatus {
	st.StartTime = norm(st.StartTime)
	st.Conditions = slices.Clone(st.Conditions)
	for i := range st.Conditions {
		st.Conditions[i].LastTransitionTime = norm(st.Conditions[i].LastTransitionTime)
	}
	st.InitContainerStatuses = copyContainers(st.InitContainerStatuses)
	st.ContainerStatuses = copyContainers(st.ContainerStatuses)
	return st
}

func copyContainers(cs []phase.ContainerStatus) []phase.ContainerStatus {
	cs = slices.Clone(cs)
	for i := range cs {
		cs[i].State = copyState(cs[i].State)
		cs[i].LastTerminationState = copyState(cs[i].LastTerminationState)
		if cs[i].Started != nil {
			b := *cs[i].Started
			cs[i].Started = &b
		}
	}
	return cs
}

func copyState(s phase.State) phase.State {
	if s.Waiting != nil {
		w := *s.Waiting
		s.Waiting = &w
	}
	if s.Running != nil {
		r := phase.RunningState{StartedAt: norm(s.Running.StartedAt)}
		s.Running = &r
	}
	if s.Terminated != nil {
		t := *s.Terminated
		t.StartedAt, t.FinishedAt = norm(t.StartedAt), norm(t.FinishedAt)
		s.Terminated = &t
	}
	return s
}
