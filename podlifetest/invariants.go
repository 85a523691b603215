package podlifetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// Violation is a broken invariant: which, when, and what happened.
type Violation struct {
	Invariant string
	At        time.Duration
	Detail    string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s: %s", v.At, v.Invariant, v.Detail) }

// Invariant is a rule every timeline of a pod keeps, whoever ran the pod: podlife checks its own
// Machine, Sim and Agent with them, and a test can check a timeline its own code produced.
type Invariant struct {
	Name string
	// Check returns the places where tl breaks the rule. An invariant that needs what tl does not
	// have (actions, inputs, runtime events) finds nothing.
	Check func(tl *Timeline) []Violation
}

// Invariants are the rules Check checks:
//   - TerminalPhaseAbsorbs: once Succeeded or Failed, a pod's phase never changes;
//   - RestartCountsNeverFall: a container's restartCount never goes down (but across a restore
//     from a status older than the last one handed out, which a store outage makes);
//   - StatusesHoldTogether: one state per container, ready only while running (or a regular init
//     container that completed), no instance finished before it started;
//   - NoAppBeforeInit: no app container starts before every regular init container completed;
//   - OneRunningInstance: no container starts while another instance of it runs;
//   - PreStopBeforeGracefulStop: a container with a preStop hook gets a graceful stop signal
//     (more than the 2 s floor) only after its preStop ran;
//   - SidecarsStopLast: in a stop of the whole pod, a sidecar gets its stop signal (more than the
//     2 s floor) only once every app container, and the next running sidecar declared after it,
//     has exited;
//   - NoDeadlineInThePast: a machine never asks for a tick before now;
//   - TimeMovesForward: the steps are in time order;
//   - ReplayIsIdentical: the same events stepped into a fresh machine (lifecycle.New, or Restore
//     from the same inputs) give the same records, actions, statuses and deadlines.
func Invariants() []Invariant {
	return []Invariant{
		{"TerminalPhaseAbsorbs", terminalPhaseAbsorbs},
		{"RestartCountsNeverFall", restartCountsNeverFall},
		{"StatusesHoldTogether", statusesHoldTogether},
		{"NoAppBeforeInit", noAppBeforeInit},
		{"OneRunningInstance", oneRunningInstance},
		{"PreStopBeforeGracefulStop", preStopBeforeGracefulStop},
		{"SidecarsStopLast", sidecarsStopLast},
		{"NoDeadlineInThePast", noDeadlineInThePast},
		{"TimeMovesForward", timeMovesForward},
		{"ReplayIsIdentical", func(tl *Timeline) []Violation { return Replay(tl, lifecycle.Options{}) }},
	}
}

// Check checks every invariant on tl.
func Check(tl *Timeline) []Violation {
	var out []Violation
	for _, inv := range Invariants() {
		out = append(out, inv.Check(tl)...)
	}
	return out
}

// Fataler is what CheckT reports to: a *testing.T, or a *rapid.T.
type Fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// CheckT fails t with every violation of the invariants on tl, and the timeline.
func CheckT(t Fataler, tl *Timeline) {
	t.Helper()
	if vs := Check(tl); len(vs) > 0 {
		var b strings.Builder
		for _, v := range vs {
			b.WriteString(v.String() + "\n")
		}
		t.Fatalf("%d invariants broken:\n%s\ntimeline:\n%s", len(vs), b.String(), tl.Trace())
	}
}

var _ Fataler = (*testing.T)(nil)

func violation(name string, at time.Duration, format string, args ...any) Violation {
	return Violation{Invariant: name, At: at, Detail: fmt.Sprintf(format, args...)}
}

func allStatuses(st *phase.PodStatus) []phase.ContainerStatus {
	return append(append([]phase.ContainerStatus(nil), st.InitContainerStatuses...), st.ContainerStatuses...)
}

func terminalPhaseAbsorbs(tl *Timeline) []Violation {
	var out []Violation
	var terminal phase.Phase
	for _, s := range tl.Statuses() {
		if terminal != "" && s.Status.Phase != terminal {
			out = append(out, violation("TerminalPhaseAbsorbs", s.At, "phase %s after %s", s.Status.Phase, terminal))
		}
		if s.Status.Phase.IsTerminal() && terminal == "" {
			terminal = s.Status.Phase
		}
	}
	return out
}

// restartCountsNeverFall: across a restore from a status older than the last one the pod's
// machines handed out (a store outage lost the writes between), the counts start over from the
// restored machine's: the runtime may not have the instances between any more either, and
// kubelet counts from what it finds then too.
func restartCountsNeverFall(tl *Timeline) []Violation {
	var out []Violation
	counts := map[string]int32{}
	var last *phase.PodStatus
	for _, s := range tl.Steps {
		if r := s.Restore; r != nil && last != nil && !reflect.DeepEqual(r.Status, *last) {
			counts = map[string]int32{}
		}
		if s.Status == nil {
			continue
		}
		last = s.Status
		for _, cs := range allStatuses(s.Status) {
			if cs.RestartCount < counts[cs.Name] {
				out = append(out, violation("RestartCountsNeverFall", s.At, "%s restartCount fell from %d to %d", cs.Name, counts[cs.Name], cs.RestartCount))
			}
			counts[cs.Name] = max(counts[cs.Name], cs.RestartCount)
		}
	}
	return out
}

func statusesHoldTogether(tl *Timeline) []Violation {
	var out []Violation
	add := func(at time.Duration, format string, args ...any) {
		out = append(out, violation("StatusesHoldTogether", at, format, args...))
	}
	for _, s := range tl.Statuses() {
		for _, cs := range allStatuses(&s.Status) {
			st := cs.State
			n := 0
			for _, set := range []bool{st.Waiting != nil, st.Running != nil, st.Terminated != nil} {
				if set {
					n++
				}
			}
			if n > 1 {
				add(s.At, "%s has %d states", cs.Name, n)
			}
			regularInit := kindOf(&tl.Spec, cs.Name) == podlife.KindInit
			completed := st.Terminated != nil && st.Terminated.ExitCode == 0
			if cs.Ready && st.Running == nil && !(regularInit && completed) {
				add(s.At, "%s is ready but not running", cs.Name)
			}
			if t := st.Terminated; t != nil && !t.StartedAt.IsZero() && t.FinishedAt.Before(t.StartedAt) {
				add(s.At, "%s finished at %s, before it started at %s", cs.Name, t.FinishedAt, t.StartedAt)
			}
		}
	}
	return out
}

func kindOf(spec *podlife.PodSpec, name string) podlife.ContainerKind {
	for kind, c := range spec.AllContainers() {
		if c.Name == name {
			return kind
		}
	}
	return podlife.KindNone
}

func noAppBeforeInit(tl *Timeline) []Violation {
	var out []Violation
	var last *phase.PodStatus
	for _, s := range tl.Steps {
		if s.Restore != nil {
			st := s.Restore.Status
			last = &st
		}
		if !s.Ready {
			continue
		}
		if s.Status != nil {
			last = s.Status
		}
		for _, a := range s.Actions {
			if a.Type != lifecycle.StartContainer || kindOf(&tl.Spec, a.Container) != podlife.KindApp || last == nil {
				continue
			}
			for _, cs := range last.InitContainerStatuses {
				if kindOf(&tl.Spec, cs.Name) != podlife.KindInit {
					continue
				}
				if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
					out = append(out, violation("NoAppBeforeInit", s.At, "%s starts while init container %s has not completed", a.Container, cs.Name))
				}
			}
		}
	}
	return out
}

// instances follows which instance of each container runs, from the starts a timeline's
// machines asked for and the exits it saw (inputs, the runtime's events, statuses that show an
// instance terminated, what a restore found).
type instances struct {
	running map[string]string // container name -> the ID of its running instance
	unknown map[string]bool   // IDs the runtime reported in an unknown state
	names   map[string]string // ID -> container name
	exiting map[string]bool   // IDs the runtime reports exited in the current instant
}

func newInstances() *instances {
	return &instances{running: map[string]string{}, unknown: map[string]bool{}, names: map[string]string{}}
}

// steps calls f for each step of tl after in took in what it says of exits, unknown states and
// restores. The runtime's own events (Step.Runtime: an Agent's runner has them from a goroutine
// of its own, not in the order the agent saw them) may come after what followed from them in
// their instant: an instance they report exited in an instant counts as gone through all of it
// once it started.
func (in *instances) steps(tl *Timeline, f func(s *Step)) {
	for i := 0; i < len(tl.Steps); {
		j := i
		in.exiting = map[string]bool{}
		for j < len(tl.Steps) && tl.Steps[j].At == tl.Steps[i].At {
			if ev := tl.Steps[j].Runtime; ev != nil && ev.Type == lifecycle.RuntimeContainerExited {
				in.exiting[ev.Container.ID] = true
			}
			j++
		}
		for ; i < j; i++ {
			in.see(&tl.Steps[i])
			f(&tl.Steps[i])
		}
	}
}

// see takes in what s says of exits, unknown states and restores (not its starts).
func (in *instances) see(s *Step) {
	gone := func(id string) {
		if name, ok := in.names[id]; ok && in.running[name] == id {
			delete(in.running, name)
		}
	}
	if ev := s.Input; ev != nil {
		switch ev.Type {
		case lifecycle.ContainerExited, lifecycle.ContainerStartFailed:
			gone(ev.ContainerID)
		case lifecycle.ContainerUnknown:
			in.unknown[ev.ContainerID] = true
		}
	}
	if ev := s.Runtime; ev != nil {
		switch ev.Type {
		case lifecycle.RuntimeContainerExited:
			gone(ev.Container.ID)
		case lifecycle.RuntimeContainerUnknown:
			in.unknown[ev.Container.ID] = true
		}
	}
	if st := s.Status; st != nil {
		for _, cs := range allStatuses(st) {
			for _, t := range []*phase.TerminatedState{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t != nil && t.ContainerID != "" {
					gone(t.ContainerID)
				}
			}
			if cs.State.Waiting != nil && cs.ContainerID == "" {
				// No instance: the last one was removed (an in-place restart of the pod).
				if id, ok := in.running[cs.Name]; ok {
					gone(id)
				}
			}
		}
	}
	if r := s.Restore; r != nil {
		in.running = map[string]string{}
		for _, c := range r.Observed.Containers {
			in.names[c.ID] = c.Name
			switch c.State {
			case lifecycle.ContainerStateRunning, lifecycle.ContainerStateCreated:
				in.running[c.Name] = c.ID
			case lifecycle.ContainerStateUnknown:
				in.running[c.Name] = c.ID
				in.unknown[c.ID] = true
			}
		}
	}
}

// start is a start of id; it reports the instance of the container that runs already.
func (in *instances) start(name, id string) (other string) {
	in.names[id] = name
	other = in.running[name]
	in.running[name] = id
	if other == id || in.exiting[other] {
		return ""
	}
	return other
}

// runs reports whether an instance of name runs, not known to be in an unknown state nor to exit
// in this instant.
func (in *instances) runs(name string) bool {
	id, ok := in.running[name]
	return ok && !in.unknown[id] && !in.exiting[id]
}

func oneRunningInstance(tl *Timeline) []Violation {
	var out []Violation
	in := newInstances()
	in.steps(tl, func(s *Step) {
		for _, a := range s.Actions {
			if a.Type != lifecycle.StartContainer {
				continue
			}
			if other := in.start(a.Container, a.ContainerID); other != "" {
				out = append(out, violation("OneRunningInstance", s.At, "%s starts %s while %s runs", a.Container, a.ContainerID, other))
			}
		}
	})
	return out
}

// floor is the shortest stop signal of a graceful stop (termination's 2 s floor): a stop signal
// with more time than it is a graceful one.
const floor = 2 * time.Second

func preStopBeforeGracefulStop(tl *Timeline) []Violation {
	var out []Violation
	preStopped := map[string]bool{}
	for _, s := range tl.Steps {
		for _, a := range s.Actions {
			switch a.Type {
			case lifecycle.RunHook:
				if a.Hook == lifecycle.PreStop {
					preStopped[a.ContainerID] = true
				}
			case lifecycle.StopContainer:
				c, ok := tl.Spec.ContainerByName(a.Container)
				if ok && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && a.Timeout > floor && !preStopped[a.ContainerID] {
					out = append(out, violation("PreStopBeforeGracefulStop", s.At, "%s gets its stop signal (%s) before its preStop", a.ContainerID, a.Timeout))
				}
			}
		}
	}
	return out
}

// stoppingText is the Killing event of a container in a stop of the whole pod.
func stoppingText(name string) string { return "Stopping container " + name }

func sidecarsStopLast(tl *Timeline) []Violation {
	var out []Violation
	in := newInstances()
	podStop := map[string]bool{} // sidecars in a stop of the whole pod
	alone := map[string]bool{}   // sidecars killed alone (a failed probe, an unknown state), which no pod stop waits for
	var sidecars []string
	for _, c := range tl.Spec.InitContainers {
		if c.IsSidecar() {
			sidecars = append(sidecars, c.Name)
		}
	}
	in.steps(tl, func(s *Step) {
		for _, r := range s.Records {
			if r.Reason == "Killing" && r.Container != "" {
				if r.Message == stoppingText(r.Container) {
					podStop[r.Container] = true
				} else {
					alone[r.Container] = true
				}
			}
		}
		for _, a := range s.Actions {
			switch a.Type {
			case lifecycle.StartContainer:
				in.start(a.Container, a.ContainerID)
				delete(podStop, a.Container)
				delete(alone, a.Container)
			case lifecycle.StopContainer:
				if !podStop[a.Container] || alone[a.Container] || a.Timeout <= floor || kindOf(&tl.Spec, a.Container) != podlife.KindSidecar {
					continue
				}
				for _, c := range tl.Spec.Containers {
					if in.runs(c.Name) {
						out = append(out, violation("SidecarsStopLast", s.At, "sidecar %s stopped while %s runs", a.Container, c.Name))
					}
				}
				for j, name := range sidecars {
					if name == a.Container && j+1 < len(sidecars) && in.runs(sidecars[j+1]) {
						out = append(out, violation("SidecarsStopLast", s.At, "sidecar %s stopped while %s, declared after it, runs", name, sidecars[j+1]))
					}
				}
			}
		}
	})
	return out
}

func noDeadlineInThePast(tl *Timeline) []Violation {
	var out []Violation
	for _, s := range tl.Steps {
		if s.Ready && !s.Deadline.IsZero() && s.Deadline.Sub(tl.Start) < s.At {
			out = append(out, violation("NoDeadlineInThePast", s.At, "deadline %s", s.Deadline.Sub(tl.Start)))
		}
	}
	return out
}

func timeMovesForward(tl *Timeline) []Violation {
	var out []Violation
	for i := 1; i < len(tl.Steps); i++ {
		if tl.Steps[i].At < tl.Steps[i-1].At {
			out = append(out, violation("TimeMovesForward", tl.Steps[i].At, "after %s", tl.Steps[i-1].At))
		}
	}
	return out
}

// Replay steps the inputs of tl into fresh machines, made with opts: lifecycle.New when the pod
// was bound, lifecycle.Restore from each Step.Restore, and reports where what they hand out is
// not what tl has (records, actions, statuses, deadlines). A timeline without inputs (an
// Agent's) replays nothing.
func Replay(tl *Timeline, opts lifecycle.Options) []Violation {
	const name = "ReplayIsIdentical"
	hasInputs := false
	for _, s := range tl.Steps {
		if s.Input != nil {
			hasInputs = true
			break
		}
	}
	if !hasInputs {
		return nil
	}
	var out []Violation
	m, err := lifecycle.New(tl.Pod, tl.Spec, tl.Start, opts)
	if err != nil {
		return []Violation{violation(name, 0, "lifecycle.New: %v", err)}
	}
	pending := true // m's Ready is still to be compared with the next Ready step
	for i := range tl.Steps {
		s := &tl.Steps[i]
		switch {
		case s.Restore != nil:
			r := s.Restore
			m, err = lifecycle.Restore(tl.Pod, r.Spec, r.Status, r.Checkpoint, r.Observed, tl.Start.Add(s.At), opts)
			if err != nil {
				return append(out, violation(name, s.At, "lifecycle.Restore: %v", err))
			}
			pending = true
		case s.Input != nil:
			if m == nil {
				continue
			}
			if err := m.Step(*s.Input); err != nil {
				out = append(out, violation(name, s.At, "%s: %v", s.Input, err))
			}
			pending = true
		case s.Ready && m != nil:
			if !pending {
				out = append(out, violation(name, s.At, "a Ready the replay did not make"))
				continue
			}
			rd := m.Ready()
			if d := diffReady(tl, s, rd); d != "" {
				out = append(out, violation(name, s.At, "%s", d))
			}
			m.Advance()
			pending = false
			if m.Stopped() {
				m = nil
			}
		}
	}
	return out
}

func diffReady(tl *Timeline, s *Step, rd lifecycle.Ready) string {
	if rd.IsEmpty() {
		return "the replay handed out nothing here"
	}
	got := Timeline{Start: tl.Start}
	got.AddReady(tl.Start.Add(s.At), rd)
	g := got.Steps[0]
	switch {
	case !reflect.DeepEqual(g.Records, s.Records):
		return fmt.Sprintf("records %v, replayed %v", s.Records, g.Records)
	case !reflect.DeepEqual(actionStrings(g.Actions), actionStrings(s.Actions)):
		return fmt.Sprintf("actions %v, replayed %v", actionStrings(s.Actions), actionStrings(g.Actions))
	case !reflect.DeepEqual(g.Status, s.Status):
		return "the status differs"
	case !g.Deadline.Equal(s.Deadline):
		return fmt.Sprintf("deadline %s, replayed %s", s.Deadline, g.Deadline)
	}
	return ""
}

func actionStrings(as []lifecycle.Action) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}
