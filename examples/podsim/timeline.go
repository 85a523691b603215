package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/scenario"
)

// plan is what podsim simulates: one pod, its script, what happens to it from outside, and
// what the header says of them.
type plan struct {
	ref    lifecycle.PodRef
	spec   podlife.PodSpec
	script simruntime.PodScript
	// images are present on the node from the start.
	images []string
	// ops happen at their times (deletes, image updates, agent restarts, the node lost, ...).
	ops []scenario.Op
	// until is the end of virtual time.
	until time.Duration
	// what says in a few words which pod and script run, for the header.
	what string
	// kind is the manifest's kind ("Deployment", "Job", ...), "" for a pod without one.
	kind string
	// scripted says a script was given (-script, a scenario's script): the header then calls
	// the defaults "unscripted".
	scripted bool
	// defaults says what the containers without a scripted run do (see applyDefaults); "" when
	// every container has one.
	defaults string
	// notes are said on stderr before the run: warnings about what a manifest sets and podlife
	// does not model.
	notes []string
}

// row is one line of the timeline.
type row struct {
	At       time.Duration // since the pod was bound
	Phase    phase.Phase
	Status   string
	Ready    string
	Restarts string
	Event    string
}

// result is what a simulation produced.
type result struct {
	ref     lifecycle.PodRef
	spec    *podlife.PodSpec // defaulted
	rows    []row
	tracks  []*track
	deleted *deletion
	end     time.Duration // when the pod stopped, or the scenario's until
	stopped bool          // the pod reached a terminal phase and released its sandbox
	final   phase.PodStatus
}

type deletion struct {
	at    time.Duration
	grace int64
}

// simulate plays p on simruntime's Sim in virtual time (scenario.RunSim), rendering its steps
// as they come and keeping none. An error means the machine refused an event (a bug in the
// machine or the simulated runtime, not in the scenario) or the scenario could not be played;
// the result holds what happened until then.
func simulate(p plan) (*result, error) {
	t0 := scenario.Epoch()
	sc := scenario.Scenario{Pod: p.ref, Spec: p.spec, Script: p.script, Images: p.images, Ops: p.ops, Until: p.until}
	spec := p.spec.Defaulted()
	r := newRecorder(t0, &spec)
	_, err := scenario.RunSim(sc, scenario.SimOptions{OnStep: r.step, Discard: true})
	if r.m == nil {
		return nil, err
	}
	end, stopped := p.until, r.m.Stopped()
	if stopped {
		end = r.m.Now().Sub(t0)
	}
	res := r.finish(end)
	res.ref = p.ref
	res.stopped = stopped
	return res, err
}

// recorder turns the steps of a play (scenario.SimOptions.OnStep) into timeline rows and
// container tracks.
type recorder struct {
	t0        time.Time
	m         *lifecycle.Machine // the latest machine of the pod (an agent restart makes another)
	spec      *podlife.PodSpec   // defaulted
	deletedAt *time.Time
	deleted   *deletion
	names     map[string]string // container ID -> name
	rows      []row
	last      string // the change key of the columns the last row showed
	cause     string // what the latest event was, for a row that only shows changed columns
	tracks    []*track
	byName    map[string]*track // the tracks by container name
	cur       snapshot          // the pod as the current step sees it
}

func newRecorder(t0 time.Time, spec *podlife.PodSpec) *recorder {
	r := &recorder{t0: t0, spec: spec, names: map[string]string{}, cause: "pod bound to the node"}
	for i := range r.spec.InitContainers {
		c := &r.spec.InitContainers[i]
		kind := "init"
		if c.IsSidecar() {
			kind = "sidecar"
		}
		r.tracks = append(r.tracks, newTrack(c.Name, kind))
	}
	for i := range r.spec.Containers {
		r.tracks = append(r.tracks, newTrack(r.spec.Containers[i].Name, "app"))
	}
	r.byName = make(map[string]*track, len(r.tracks))
	for _, t := range r.tracks {
		r.byName[t.name] = t
	}
	return r
}

// snapshot is the pod as the machine shows it at one moment: its status, the kubectl columns,
// and the key that says whether they changed (the restart count without its "(5s ago)", which
// changes with every second). Each step takes one and every row it prints reads it: a Ready
// may carry a record for each of a thousand containers, all with one status.
type snapshot struct {
	st   phase.PodStatus
	cols phase.Columns
	key  string
}

// snap takes the snapshot of status st at now.
func (r *recorder) snap(now time.Time, st phase.PodStatus) {
	cols := phase.KubectlColumns(phase.ColumnsInput{Spec: r.spec, Status: &st, DeletionTimestamp: r.deletedAt, Now: now})
	count, _, _ := strings.Cut(cols.Restarts, " ")
	r.cur = snapshot{st: st, cols: cols, key: strings.Join([]string{string(st.Phase), cols.Status, cols.Ready, count}, "|")}
}

// snapMachine snaps the machine's status, or, with none (no agent runs the pod), the status
// shown last, with the columns of now.
func (r *recorder) snapMachine(now time.Time, m *lifecycle.Machine) {
	if m != nil {
		r.snap(now, m.Status())
		return
	}
	r.snap(now, r.cur.st)
}

func (r *recorder) emit(now time.Time, event string) {
	c := &r.cur
	r.rows = append(r.rows, row{At: now.Sub(r.t0), Phase: c.st.Phase, Status: c.cols.Status, Ready: c.cols.Ready,
		Restarts: c.cols.Restarts, Event: event})
	r.last = c.key
}

// settle prints a row for columns that changed without a row of their own.
func (r *recorder) settle(now time.Time) {
	if r.cur.key != r.last {
		r.emit(now, r.cause)
	}
}

// step sees one step of the play, with the pod's machine then (nil while no agent runs it).
func (r *recorder) step(m *lifecycle.Machine, s *scenario.Step) {
	if m != nil {
		r.m = m
		r.spec = m.Spec()
	}
	now := r.t0.Add(s.At)
	switch {
	case s.Op != nil:
		r.op(now, m, *s.Op)
	case s.Restore != nil:
		r.snapMachine(now, m)
		r.emit(now, "the new agent recovers the pod from the store and the runtime")
		r.cause = "recovered"
		r.observe(now)
	case s.Writer != "":
		r.snap(now, *s.Status)
		r.emit(now, s.Writer+": "+s.Status.Message)
		r.observe(now)
	case s.Input != nil:
		r.event(m, *s.Input)
	case s.Ready:
		r.ready(m, now, s)
	}
}

// op prints a row for an operation of the scenario, with the columns it led to.
func (r *recorder) op(now time.Time, m *lifecycle.Machine, op scenario.Op) {
	var what string
	switch op.Kind {
	case scenario.OpDelete:
		if r.deletedAt == nil {
			r.deletedAt = &now
		}
		grace, from := r.deleteGrace(op.Grace)
		if r.deleted == nil {
			r.deleted = &deletion{at: now.Sub(r.t0), grace: grace}
		}
		what = fmt.Sprintf("DeleteRequested: grace %ds%s", grace, from)
		if r.m != nil && r.m.Stopped() {
			what += "; the pod stopped already"
		}
	case scenario.OpUpdateImage:
		what = fmt.Sprintf("spec updated: %s image %s", op.Container, quote.Value(op.Image))
	case scenario.OpUpdateDeadline:
		what = fmt.Sprintf("spec updated: activeDeadlineSeconds %d", op.Deadline)
	case scenario.OpLoseSandbox:
		what = "the sandbox dies"
	case scenario.OpAddImage:
		what = "image " + quote.Value(op.Image) + " present on the node"
	case scenario.OpStopAgent:
		what = "agent stopped (the containers run on; nothing is reported)"
	case scenario.OpStartAgent:
		what = "a new agent starts"
	case scenario.OpLoseNode:
		what = "node lost: its agent is gone and its lease expired"
	case scenario.OpNodeBack:
		what = "node back: a new agent starts"
	case scenario.OpStoreDown:
		what = "the store is down"
	case scenario.OpStoreUp:
		what = "the store is up again"
	default:
		what = op.Kind.String()
	}
	r.snapMachine(now, m)
	r.emit(now, what)
	r.cause = op.Kind.String()
	r.observe(now)
}

// event sees every event the machine accepted, after its Step: container exits get a row of
// their own (showing the columns they led to); the others are remembered as the cause of a
// column change that ready then prints. A change of columns comes with a Status in the Ready,
// so ready is called for it; the deletion changes the columns without one (Terminating), and
// has its row as an operation.
func (r *recorder) event(m *lifecycle.Machine, ev lifecycle.Event) {
	if ev.Type == lifecycle.Tick {
		return
	}
	r.snapMachine(ev.At, m)
	switch ev.Type {
	case lifecycle.ContainerCreated:
		r.names[ev.ContainerID] = ev.Container
	case lifecycle.ContainerExited, lifecycle.ContainerStartFailed:
		r.emit(ev.At, r.describeExit(ev))
		r.observe(ev.At)
		return
	}
	r.cause = r.describe(ev)
	r.observe(ev.At)
}

// deleteGrace is the grace a delete request asks for, and where it came from.
func (r *recorder) deleteGrace(seconds *int64) (int64, string) {
	if seconds != nil {
		return *seconds, ""
	}
	if s := r.spec.TerminationGracePeriodSeconds; s != nil {
		return *s, " (the spec's terminationGracePeriodSeconds)"
	}
	return podlife.DefaultGracePeriodSeconds, " (the default)"
}

// ready sees every non-empty Ready: its records and the actions worth a row.
func (r *recorder) ready(m *lifecycle.Machine, now time.Time, s *scenario.Step) {
	r.snapMachine(now, m)
	for _, rec := range s.Records {
		r.emit(now, describeRecord(rec))
		if rec.Reason == "Unhealthy" {
			if t := r.track(rec.Container); t != nil {
				t.probeFailures = append(t.probeFailures, probeMark{at: now.Sub(r.t0), message: rec.Message})
			}
		}
	}
	for _, a := range s.Actions {
		if s := describeAction(a); s != "" {
			r.emit(now, s)
		}
		if a.Type == lifecycle.StopContainer {
			if t := r.track(a.Container); t != nil {
				t.stopSignals = append(t.stopSignals, now.Sub(r.t0))
			}
		}
	}
	r.settle(now)
	r.observe(now)
}

func (r *recorder) track(name string) *track { return r.byName[name] }

// observe moves every container's track to its state now. The tracks are in the spec's order
// (init containers, then app containers), as the machine's status lists are, so each track's
// status is at its own position: a pod of thousands of containers costs linear time per event.
func (r *recorder) observe(now time.Time) {
	st := &r.cur.st
	at := now.Sub(r.t0)
	all := [2][]phase.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses}
	for i, t := range r.tracks {
		list, pos := 0, i
		if i >= len(r.spec.InitContainers) {
			list, pos = 1, i-len(r.spec.InitContainers)
		}
		cs := (*phase.ContainerStatus)(nil)
		if pos < len(all[list]) && all[list][pos].Name == t.name {
			cs = &all[list][pos]
		} else {
			cs = statusOf(st, t.name)
		}
		if cs != nil {
			t.observe(at, cs)
		}
	}
}

func (r *recorder) finish(end time.Duration) *result {
	r.snapMachine(r.t0.Add(end), r.m)
	r.settle(r.t0.Add(end))
	for _, t := range r.tracks {
		t.finish(end)
	}
	return &result{spec: r.spec, rows: r.rows, tracks: r.tracks, deleted: r.deleted, end: end, final: r.cur.st}
}

func statusOf(st *phase.PodStatus, name string) *phase.ContainerStatus {
	for _, list := range [][]phase.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// describe says in a few words what an event did, for a row whose columns changed.
func (r *recorder) describe(ev lifecycle.Event) string {
	name := ev.Container
	if name == "" {
		name = r.names[ev.ContainerID]
	}
	switch ev.Type {
	case lifecycle.SetupDone:
		return "pod setup done (volumes, secrets)"
	case lifecycle.SetupFailed:
		return "pod setup failed: " + ev.Message
	case lifecycle.SandboxReady:
		if ev.IP == "" {
			return "sandbox ready without an IP"
		}
		return "sandbox ready, pod IP " + quote.Value(ev.IP)
	case lifecycle.SandboxFailed:
		return "sandbox failed: " + ev.Message
	case lifecycle.SandboxLost:
		return "sandbox lost"
	case lifecycle.ImagePulled:
		return name + " image present"
	case lifecycle.ImagePullFailed:
		return name + " image pull failed: " + quote.Value(ev.Reason)
	case lifecycle.ContainerCreated:
		return name + " created"
	case lifecycle.ContainerCreateFailed:
		return name + " create failed: " + quote.Value(ev.Reason)
	case lifecycle.ContainerStarted:
		return name + " started"
	case lifecycle.ProbeResult:
		return fmt.Sprintf("%s %s probe: %s", name, strings.ToLower(ev.Probe.String()), strings.ToLower(ev.Outcome.Result.String()))
	case lifecycle.HookResult:
		return fmt.Sprintf("%s %s hook: %s", name, hookName(ev.Hook), strings.ToLower(ev.HookOutcome.Result.String()))
	case lifecycle.SpecUpdated:
		return "SpecUpdated"
	case lifecycle.ContainerUnknown:
		return name + " in an unknown state"
	}
	return ev.Type.String()
}

func (r *recorder) describeExit(ev lifecycle.Event) string {
	name := r.names[ev.ContainerID]
	if ev.Type == lifecycle.ContainerStartFailed {
		return fmt.Sprintf("%s failed to start: %s", name, ev.Message)
	}
	why := ev.Reason
	switch {
	case ev.Reason == phase.ReasonOOMKilled:
	case ev.Signal == 15:
		why = "SIGTERM"
	case ev.Signal == 9:
		why = "SIGKILL"
	case ev.Signal != 0:
		why = "signal " + strconv.Itoa(int(ev.Signal))
	case why == "" && ev.ExitCode == 0:
		why = phase.ReasonCompleted
	case why == "":
		why = phase.ReasonError
	}
	return fmt.Sprintf("%s exited %d (%s)", name, ev.ExitCode, why)
}

// describeRecord is a Kubernetes event as `kubectl describe pod` lists it: reason, container,
// message; warnings say so.
func describeRecord(rec lifecycle.Record) string {
	var b strings.Builder
	if rec.Kind == lifecycle.Warning {
		b.WriteString("Warning ")
	}
	b.WriteString(quote.Value(rec.Reason))
	if rec.Container != "" {
		b.WriteString(" " + quote.Value(rec.Container))
	}
	if rec.Message != "" {
		b.WriteString(": " + rec.Message) // free text; writeTimeline escapes what it must
	}
	return b.String()
}

// describeAction is the row for an action worth seeing (hooks, stop signals, the sandbox going
// away), or "".
func describeAction(a lifecycle.Action) string {
	switch a.Type {
	case lifecycle.RunHook:
		return fmt.Sprintf("%s %s hook: %s", a.Container, hookName(a.Hook), describeHandler(a.Handler))
	case lifecycle.StopContainer:
		if a.Timeout <= 0 {
			return fmt.Sprintf("stop %s: SIGKILL now", a.Container)
		}
		return fmt.Sprintf("stop %s: SIGTERM now, SIGKILL after %s", a.Container, fmtDur(a.Timeout))
	case lifecycle.StopSandbox:
		return "sandbox stopped"
	}
	return ""
}

// hookName is the hook as the spec's field names it: postStart, preStop.
func hookName(h hooks.Hook) string {
	s := h.String()
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func describeHandler(h *podlife.LifecycleHandler) string {
	switch {
	case h == nil:
		return "(none)"
	case h.Sleep != nil:
		return "sleep " + fmtDur(hooks.SleepDuration(h.Sleep))
	case h.Exec != nil:
		args := make([]string, len(h.Exec.Command))
		for i, a := range h.Exec.Command {
			args[i] = quote.Value(a)
		}
		return "exec " + strings.Join(args, " ")
	case h.HTTPGet != nil:
		return fmt.Sprintf("GET %s on port %s", quote.Value(h.HTTPGet.Path), h.HTTPGet.Port)
	}
	return "(unknown handler)"
}

// writeTimeline prints what is simulated, the rows as aligned columns, then how the run ended.
func writeTimeline(w io.Writer, res *result, what string) error {
	fmt.Fprintf(w, "Pod %s (%s) on simruntime's simulated node, in virtual time.\n\n",
		quote.Value(res.ref.Namespace+"/"+res.ref.Name), quote.Line(what))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPHASE\tSTATUS\tREADY\tRESTARTS\tEVENT")
	// Every cell is one line of printable text: a runtime's message or a container's reason
	// holds what the runtime put there, so a control character or a tab is shown escaped.
	for _, r := range res.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", fmtDur(r.At), quote.Line(string(r.Phase)), quote.Line(r.Status),
			r.Ready, r.Restarts, quote.Line(r.Event))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The pod's own reason (DeadlineExceeded, NodeLost) is not in kubectl's STATUS when a
	// container's is there: say it.
	final := string(res.final.Phase)
	if res.final.Reason != "" {
		final += " (reason " + quote.Line(res.final.Reason) + ")"
	}
	var err error
	if res.stopped {
		_, err = fmt.Fprintf(w, "\nThe pod stopped at %s in phase %s; nothing more will happen to it.\n", fmtDur(res.end), final)
	} else {
		_, err = fmt.Fprintf(w, "\nVirtual time ran out at %s (-until) with the pod in phase %s.\n", fmtDur(res.end), final)
	}
	return err
}

// fmtDur formats a duration as kubectl users read one: 0s, 7s, 1m12s, 5m, 1h2m3s; fractions of
// a second only when there are some. time.ParseDuration reads it back.
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	if h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
	}
	if m > 0 || (h > 0 && d > 0) {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s")
	}
	return b.String()
}
