package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// Trace renders the timeline as a scenario file's trace (see ParseFile): a line per input,
// record, action and change of status, with its time.
func (tl *Timeline) Trace() string {
	r := &tracer{tl: tl, prefix: podKey(tl.Pod) + "/", spec: tl.Spec, ctrs: map[string]string{}}
	for i := range tl.Steps {
		r.step(&tl.Steps[i])
	}
	return strings.Join(r.lines, "\n") + "\n"
}

// podKey is the World's key of a pod, which its sandbox and container IDs start with.
func podKey(ref lifecycle.PodRef) string {
	k := ref.Namespace + "/" + ref.Name
	if ref.UID != "" {
		k += "/" + ref.UID
	}
	return k
}

type tracer struct {
	tl        *Timeline
	prefix    string
	lines     []string
	spec      podlife.PodSpec // the spec as updated so far
	status    *phase.PodStatus
	deletedAt *time.Time
	pod       string
	ctrs      map[string]string
}

func (r *tracer) add(at time.Duration, s string) {
	r.lines = append(r.lines, fmtAt(at)+" "+strings.ReplaceAll(s, r.prefix, ""))
}

// fmtAt is a time of a trace: seconds, right-aligned, with the fraction only when there is one.
func fmtAt(d time.Duration) string {
	return fmt.Sprintf("%4ss", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
}

func (r *tracer) deleted(at time.Duration) {
	if r.deletedAt == nil {
		t := r.tl.Start.Add(at)
		r.deletedAt = &t
	}
}

func (r *tracer) step(s *Step) {
	switch {
	case s.Op != nil:
		switch s.Op.Kind {
		case OpStopAgent, OpStartAgent, OpStoreDown, OpStoreUp, OpAddImage, OpLoseNode, OpNodeBack:
			r.add(s.At, "-- "+strings.TrimSuffix(s.Op.String(), " at "+s.Op.At.String()))
		case OpDelete:
			if s.Op.Grace == nil || *s.Op.Grace > 0 {
				r.deleted(s.At)
			}
		}
	case s.Restore != nil:
		r.add(s.At, "-- recover: the pod is restored from the store and the runtime")
	case s.Writer != "":
		r.add(s.At, "-- "+s.Writer+" writes the pod's status")
		r.status = s.Status
		r.statusLines(s.At)
	case s.Input != nil:
		r.input(s.At, s.Input)
	case s.Runtime != nil:
		r.add(s.At, "~> "+runtimeEventString(s.Runtime))
	case s.Ready:
		for _, rec := range s.Records {
			r.add(s.At, "event "+rec.String())
		}
		for _, a := range s.Actions {
			r.add(s.At, a.String())
		}
		if s.Status != nil {
			r.status = s.Status
		}
		r.statusLines(s.At)
	}
}

func (r *tracer) input(at time.Duration, ev *lifecycle.Event) {
	var line string
	switch ev.Type {
	case lifecycle.ContainerExited, lifecycle.ContainerUnknown, lifecycle.ContainerStartFailed, lifecycle.ImagePullFailed,
		lifecycle.ContainerCreateFailed, lifecycle.HookResult, lifecycle.DeleteRequested, lifecycle.SandboxLost,
		lifecycle.SandboxFailed, lifecycle.SetupFailed:
		line = ev.String()
	case lifecycle.SandboxReady:
		if ev.IP == "" {
			line = ev.String() + " (no IP)"
		}
	case lifecycle.ProbeResult:
		if ev.Outcome.Result != probe.Success {
			line = ev.String()
		}
	case lifecycle.SpecUpdated:
		line = "SpecUpdated " + specChange(&r.spec, ev.Spec)
		r.spec = *ev.Spec
	}
	if ev.Type == lifecycle.DeleteRequested {
		r.deleted(at)
	}
	if line != "" {
		r.add(at, "<- "+line)
	}
}

// specChange says what an update changes: "image container=image,..." of each container whose
// image changes, "activeDeadlineSeconds=S" for a new deadline.
func specChange(prev, next *podlife.PodSpec) string {
	var images, out []string
	for _, pair := range [][2][]podlife.Container{{prev.InitContainers, next.InitContainers}, {prev.Containers, next.Containers}} {
		for i := range pair[1] {
			if i < len(pair[0]) && pair[0][i].Image != pair[1][i].Image {
				images = append(images, pair[1][i].Name+"="+pair[1][i].Image)
			}
		}
	}
	if len(images) > 0 {
		out = append(out, "image "+strings.Join(images, ","))
	}
	if d := next.ActiveDeadlineSeconds; d != nil && (prev.ActiveDeadlineSeconds == nil || *prev.ActiveDeadlineSeconds != *d) {
		out = append(out, "activeDeadlineSeconds="+strconv.FormatInt(*d, 10))
	}
	return strings.Join(out, " ")
}

func runtimeEventString(ev *lifecycle.RuntimeEvent) string {
	switch ev.Type {
	case lifecycle.RuntimeContainerExited:
		c := ev.Container
		s := fmt.Sprintf("runtime ContainerExited id=%s exit=%d", c.ID, c.ExitCode)
		if c.Signal != 0 {
			s += fmt.Sprintf(" signal=%d", c.Signal)
		}
		return s
	case lifecycle.RuntimeContainerUnknown:
		return "runtime ContainerUnknown id=" + ev.Container.ID
	}
	return "runtime SandboxLost sandbox=" + ev.Sandbox.ID
}

// statusLines adds the lines of what changed in the status (see ParseFile).
func (r *tracer) statusLines(at time.Duration) {
	st := r.status
	if st == nil {
		return
	}
	now := r.tl.Start.Add(at)
	cols := phase.KubectlColumns(phase.ColumnsInput{Spec: &r.tl.Spec, Status: st, DeletionTimestamp: r.deletedAt, Now: now})
	var conds []string
	for _, c := range st.Conditions {
		if c.Status == phase.ConditionTrue && c.Type != phase.PodScheduled {
			conds = append(conds, string(c.Type))
		}
	}
	if len(conds) == 0 {
		conds = []string{"-"}
	}
	pod := fmt.Sprintf("status %s | %s %s %s | %s", st.Phase, cols.Status, cols.Ready, cols.Restarts, strings.Join(conds, ","))
	if st.Reason != "" {
		pod += " | reason=" + st.Reason + " " + strconv.Quote(st.Message)
	}
	// "(5s ago)" changes with time alone: not a change of status.
	key := pod
	if i := strings.Index(cols.Restarts, " ("); i >= 0 {
		key = strings.Replace(pod, cols.Restarts, cols.Restarts[:i], 1)
	}
	if key != r.pod {
		r.add(at, pod)
		r.pod = key
	}
	for _, cs := range allStatuses(st) {
		l := containerLine(cs)
		if l != r.ctrs[cs.Name] {
			r.add(at, "  "+cs.Name+" "+l)
			r.ctrs[cs.Name] = l
		}
	}
}

// containerLine renders one container status: its state, ready, restartCount, last state and
// waiting message.
func containerLine(cs phase.ContainerStatus) string {
	var b strings.Builder
	s := cs.State
	switch {
	case s.Waiting != nil:
		fmt.Fprintf(&b, "Waiting(%s)", s.Waiting.Reason)
	case s.Running != nil:
		b.WriteString("Running")
		var flags []string
		if cs.IsStarted() {
			flags = append(flags, "started")
		}
		if cs.Ready {
			flags = append(flags, "ready")
		}
		if len(flags) > 0 {
			b.WriteString("(" + strings.Join(flags, ",") + ")")
		}
	case s.Terminated != nil:
		b.WriteString("Terminated(" + terminatedString(s.Terminated) + ")")
	default:
		b.WriteString("NoState")
	}
	if s.Running == nil && cs.Ready {
		b.WriteString(" ready")
	}
	if cs.RestartCount != 0 {
		fmt.Fprintf(&b, " restarts=%d", cs.RestartCount)
	}
	if lt := cs.LastTerminationState.Terminated; lt != nil {
		b.WriteString(" last=" + terminatedString(lt))
	}
	if s.Waiting != nil && s.Waiting.Message != "" {
		b.WriteString(" " + strconv.Quote(s.Waiting.Message))
	}
	return b.String()
}

func terminatedString(t *phase.TerminatedState) string {
	s := fmt.Sprintf("%s exit=%d", t.Reason, t.ExitCode)
	if t.Signal != 0 {
		s += fmt.Sprintf(" signal=%d", t.Signal)
	}
	return s
}

// allStatuses are the init containers' statuses, then the app containers'.
func allStatuses(st *phase.PodStatus) []phase.ContainerStatus {
	return append(append([]phase.ContainerStatus(nil), st.InitContainerStatuses...), st.ContainerStatuses...)
}
