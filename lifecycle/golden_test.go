package lifecycle

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// Golden traces, in the style of etcd raft's testdata: each testdata/*.txt file is one scenario.
//
//	# comments: what the scenario shows and the rule it checks
//	spec:                      # a podlife.PodSpec in YAML, with the API's field names
//	  containers:
//	  - name: app
//	    image: busybox:1
//	script: |                  # how the driver answers, one directive a line (see below)
//	  run app for 1s exit 1
//	  until 200s
//	----
//	   0s SetupPod             # the trace: what the machine did, at virtual time
//	   ...
//
// The trace has one line per record the machine handed out ("event Normal Killing ..."), per
// action ("StopContainer ... timeout=10s"), per input that carries the script's information
// ("<- ContainerExited id=app-0 exit=1": exits, probe failures and errors, hook results, failed
// pulls, creates and setups, outside events; the driver's plain acknowledgements are left out),
// and per status change, as the pod line and one line per container whose status changed:
//
//	  12s status Running | CrashLoopBackOff 0/1 2 (0s ago) | PodReadyToStartContainers,Initialized
//	  12s   app Waiting(CrashLoopBackOff) restarts=2 last=Error exit=1 "back-off 20s ..."
//
// that is the phase | kubectl's STATUS READY RESTARTS | the True conditions but PodScheduled;
// then the container's state (Running(started,ready), Terminated(reason exit=N signal=S),
// Waiting(reason)), "ready" for a container ready while not running (a completed init container),
// restartCount, last state and waiting message. A change of "(5s ago)" alone is no change. The
// run ends when the pod stopped or at "until". `go test ./lifecycle -run Golden -rewrite`
// rewrites the part after "----" from what the machine does now: read the diff before you keep it.
//
// Script directives (durations are Go durations; times are from the pod's binding at 0s):
//
//	run C for D exit N [times K]         K instances (default 1) of C run D, then exit N
//	run C forever [times K]              instances that run until stopped
//	  ... [ignoreTerm] [termDelay D] [termExit N] [unknownAfter D]
//	                                     on the stop signal: ignore it (SIGKILL at the timeout),
//	                                     or exit 143 (or N) after D (default at once);
//	                                     unknownAfter: the runtime reports the instance in an
//	                                     unknown state D after its start
//	                                     (run lines add instances in order; the last repeats)
//	hook C postStart|preStop D [fail "message"] [times K]
//	                                     the hook takes D; it fails (the first K runs)
//	probe C startup|liveness|readiness fail|error [from T] [until T]
//	                                     the probe fails (or errors, which is not counted) in
//	                                     [from, until) (several lines add up)
//	pull C fail [Reason] [times K]       the first K pulls (default all) fail with Reason
//	                                     (default ErrImagePull)
//	create C fail [Reason] [times K]     the first K creates fail (default CreateContainerError)
//	setup fail "message" [times K]       the pod's setup fails (the first K times)
//	delete at T [grace S]                a delete request, with its grace period in seconds
//	image C IMAGE at T                   the spec is updated with C's new image
//	deadline S at T                      the spec is updated with activeDeadlineSeconds S
//	sandbox-lost at T                    the sandbox dies
//	sandbox noIP [times K]               the first K sandboxes (default all) come up without an IP
//	until T                              the end of virtual time (default 600s)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of the golden traces in testdata/")

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txt")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			header, want, ok := bytes.Cut(data, []byte("\n----\n"))
			if !ok {
				t.Fatalf("%s: no ---- line between the scenario and its trace", f)
			}
			sc, err := parseScenario(header)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			got := sc.play(t)
			if *rewrite {
				out := append(append(header, "\n----\n"...), got...)
				if err := os.WriteFile(f, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("%s: trace differs (-want +got); go test ./lifecycle -run Golden -rewrite takes the new one:\n%s", f, d)
			}
		})
	}
}

// TestGoldenFromTemplate plays every golden scenario on a machine made from a Template, beside a
// sibling machine of the same template: the trace is the golden one, and neither an image change
// of the first nor anything else reaches the template's spec or the sibling's.
func TestGoldenFromTemplate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			header, want, _ := bytes.Cut(data, []byte("\n----\n"))
			sc, err := parseScenario(header)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			tmpl, err := NewTemplate(sc.spec)
			if err != nil {
				t.Fatal(err)
			}
			pristine := sc.spec.Defaulted()
			ref := PodRef{Namespace: "default", Name: "pod", UID: "uid"}
			sibling := tmpl.New(PodRef{Namespace: "default", Name: "sibling"}, t0, Options{})
			d := newDriver(t, sc.spec)
			d.m = tmpl.New(ref, t0, Options{})
			if diff := cmp.Diff(string(want), sc.playOn(t, d)); diff != "" {
				t.Errorf("%s: trace from a template differs (-want +got):\n%s", f, diff)
			}
			if diff := cmp.Diff(pristine, *tmpl.Spec()); diff != "" {
				t.Errorf("the template's spec changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(pristine, *sibling.Spec()); diff != "" {
				t.Errorf("the sibling's spec changed (-before +after):\n%s", diff)
			}
		})
	}
}

// goldenScenario is a parsed testdata file.
type goldenScenario struct {
	spec    podlife.PodSpec
	runs    map[string][]run
	hooks   map[string]goldenHook // by "container/PostStart"
	probes  map[string][]window   // by "container/liveness"
	pulls   map[string]goldenFail // by container
	creates map[string]goldenFail // by container
	setup   goldenFail            // reason: the failure message
	noIP    int                   // how many sandboxes come up without an IP; -1: all
	events  []Event
	until   time.Duration
	updates map[*podlife.PodSpec]string // what each SpecUpdated changes, for its line
}

type goldenHook struct {
	took    time.Duration
	message string // non-empty: the hook fails
	times   int    // how many runs fail; 0: all
}

// window is when a probe fails, or errors on the agent's side (not counted); until 0: forever.
type window struct {
	from, until time.Duration
	errored     bool
}

type goldenFail struct {
	reason string
	times  int // 0: every pull
}

func parseScenario(header []byte) (*goldenScenario, error) {
	var doc struct {
		Spec   yaml.Node `yaml:"spec"`
		Script string    `yaml:"script"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(header))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var generic any
	if err := doc.Spec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	js, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	sc := &goldenScenario{runs: map[string][]run{}, hooks: map[string]goldenHook{}, probes: map[string][]window{},
		pulls: map[string]goldenFail{}, creates: map[string]goldenFail{}, until: 600 * time.Second, updates: map[*podlife.PodSpec]string{}}
	jd := json.NewDecoder(bytes.NewReader(js))
	jd.DisallowUnknownFields()
	if err := jd.Decode(&sc.spec); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	current := sc.spec
	for n, line := range strings.Split(doc.Script, "\n") {
		if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line[:i], `"`) {
			line = line[:i]
		}
		f, err := fields(line)
		if err != nil {
			return nil, fmt.Errorf("script line %d: %w", n+1, err)
		}
		if len(f) == 0 {
			continue
		}
		if err := sc.directive(f, &current); err != nil {
			return nil, fmt.Errorf("script line %d %q: %w", n+1, strings.TrimSpace(line), err)
		}
	}
	return sc, nil
}

// fields splits a line at blanks, keeping "quoted strings" whole (without their quotes).
func fields(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			return out, nil
		}
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			out = append(out, line[1:end+1])
			line = line[end+2:]
			continue
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		out = append(out, line[:end])
		line = line[end:]
	}
}

// options reads "key value" and "flag" words after a directive's fixed part.
type options struct {
	words []string
	err   error
}

func (o *options) next(what string) string {
	if len(o.words) == 0 {
		if o.err == nil {
			o.err = fmt.Errorf("%s: missing value", what)
		}
		return ""
	}
	w := o.words[0]
	o.words = o.words[1:]
	return w
}

func (o *options) duration(what string) time.Duration {
	s := o.next(what)
	d, err := time.ParseDuration(s)
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("%s: %w", what, err)
	}
	return d
}

func (o *options) int(what string) int {
	s := strings.TrimSuffix(o.next(what), "s")
	n, err := strconv.Atoi(s)
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("%s: %w", what, err)
	}
	return n
}

func (sc *goldenScenario) container(name string) error {
	for _, cs := range [][]podlife.Container{sc.spec.InitContainers, sc.spec.Containers} {
		for _, c := range cs {
			if c.Name == name {
				return nil
			}
		}
	}
	return fmt.Errorf("no container %q in the spec", name)
}

func (sc *goldenScenario) directive(f []string, current *podlife.PodSpec) error {
	o := &options{words: f[1:]}
	switch f[0] {
	case "run":
		name := o.next("container")
		r, times := run{}, 1
		switch w := o.next("for or forever"); w {
		case "for":
			r.For = o.duration("for")
			if o.next("exit") != "exit" {
				return fmt.Errorf("want exit after for")
			}
			r.Exit = int32(o.int("exit"))
		case "forever":
		default:
			return fmt.Errorf("want for or forever, not %q", w)
		}
		for len(o.words) > 0 && o.err == nil {
			switch w := o.next("option"); w {
			case "times":
				times = o.int("times")
			case "ignoreTerm":
				r.IgnoreTerm = true
			case "termDelay":
				r.TermDelay = o.duration("termDelay")
			case "termExit":
				code := int32(o.int("termExit"))
				r.TermExit = &code
			case "unknownAfter":
				r.UnknownAfter = o.duration("unknownAfter")
			default:
				return fmt.Errorf("unknown option %q", w)
			}
		}
		for i := 0; i < times; i++ {
			sc.runs[name] = append(sc.runs[name], r)
		}
		if o.err != nil {
			return o.err
		}
		return sc.container(name)
	case "hook":
		name := o.next("container")
		var h Hook
		switch w := o.next("hook"); w {
		case "postStart":
			h = PostStart
		case "preStop":
			h = PreStop
		default:
			return fmt.Errorf("want postStart or preStop, not %q", w)
		}
		g := goldenHook{took: o.duration("duration")}
		for len(o.words) > 0 && o.err == nil {
			switch w := o.next("option"); w {
			case "fail":
				g.message = o.next("fail message")
			case "times":
				g.times = o.int("times")
			default:
				return fmt.Errorf("unknown option %q", w)
			}
		}
		sc.hooks[name+"/"+h.String()] = g
		if o.err != nil {
			return o.err
		}
		return sc.container(name)
	case "probe":
		name := o.next("container")
		k, err := probeKind(o.next("kind"))
		if err != nil {
			return err
		}
		kind := k.String()
		var w window
		switch o.next("fail or error") {
		case "fail":
		case "error":
			w.errored = true
		default:
			return fmt.Errorf("want fail or error after the probe kind")
		}
		for len(o.words) > 0 && o.err == nil {
			switch k := o.next("option"); k {
			case "from":
				w.from = o.duration("from")
			case "until":
				w.until = o.duration("until")
			default:
				return fmt.Errorf("unknown option %q", k)
			}
		}
		sc.probes[name+"/"+kind] = append(sc.probes[name+"/"+kind], w)
		if o.err != nil {
			return o.err
		}
		return sc.container(name)
	case "pull", "create":
		name := o.next("container")
		if o.next("fail") != "fail" {
			return fmt.Errorf("want fail after the container")
		}
		g := goldenFail{reason: phase.ReasonErrImagePull}
		if f[0] == "create" {
			g.reason = phase.ReasonCreateContainerError
		}
		for len(o.words) > 0 && o.err == nil {
			switch w := o.next("option"); w {
			case "times":
				g.times = o.int("times")
			default:
				g.reason = w
			}
		}
		if f[0] == "create" {
			sc.creates[name] = g
		} else {
			sc.pulls[name] = g
		}
		if o.err != nil {
			return o.err
		}
		return sc.container(name)
	case "setup":
		if o.next("fail") != "fail" {
			return fmt.Errorf("want setup fail \"message\"")
		}
		sc.setup.reason = o.next("message")
		if len(o.words) > 0 {
			if o.next("times") != "times" {
				return fmt.Errorf("want times K")
			}
			sc.setup.times = o.int("times")
		}
		return o.err
	case "delete":
		if o.next("at") != "at" {
			return fmt.Errorf("want delete at T")
		}
		ev := Event{Type: DeleteRequested, At: t0.Add(o.duration("at"))}
		if len(o.words) > 0 {
			if o.next("grace") != "grace" {
				return fmt.Errorf("want grace S")
			}
			g := int64(o.int("grace"))
			ev.GracePeriodSeconds = &g
		}
		sc.events = append(sc.events, ev)
		return o.err
	case "image":
		name, image := o.next("container"), o.next("image")
		if o.next("at") != "at" {
			return fmt.Errorf("want image C IMAGE at T")
		}
		at := o.duration("at")
		next := *current
		next.InitContainers = append([]podlife.Container(nil), current.InitContainers...)
		next.Containers = append([]podlife.Container(nil), current.Containers...)
		found := false
		for _, cs := range [][]podlife.Container{next.InitContainers, next.Containers} {
			for i := range cs {
				if cs[i].Name == name {
					cs[i].Image, found = image, true
				}
			}
		}
		if !found {
			return fmt.Errorf("no container %q in the spec", name)
		}
		*current = next
		sc.updates[&next] = "image " + name + "=" + image
		sc.events = append(sc.events, Event{Type: SpecUpdated, At: t0.Add(at), Spec: &next})
		return o.err
	case "deadline":
		seconds := int64(o.int("seconds"))
		if o.next("at") != "at" {
			return fmt.Errorf("want deadline S at T")
		}
		at := o.duration("at")
		next := *current
		next.ActiveDeadlineSeconds = &seconds
		*current = next
		sc.updates[&next] = fmt.Sprintf("activeDeadlineSeconds=%d", seconds)
		sc.events = append(sc.events, Event{Type: SpecUpdated, At: t0.Add(at), Spec: &next})
		return o.err
	case "sandbox":
		if o.next("noIP") != "noIP" {
			return fmt.Errorf("want sandbox noIP [times K]")
		}
		sc.noIP = -1
		if len(o.words) > 0 {
			if o.next("times") != "times" {
				return fmt.Errorf("want times K")
			}
			sc.noIP = o.int("times")
		}
		return o.err
	case "sandbox-lost":
		if o.next("at") != "at" {
			return fmt.Errorf("want sandbox-lost at T")
		}
		sc.events = append(sc.events, Event{Type: SandboxLost, At: t0.Add(o.duration("at"))})
		return o.err
	case "until":
		sc.until = o.duration("until")
		return o.err
	}
	return fmt.Errorf("unknown directive %q", f[0])
}

func probeKind(s string) (probe.Kind, error) {
	for _, k := range probeKinds {
		if strings.EqualFold(k.String(), s) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown probe kind %q (startup, liveness, readiness)", s)
}

// play runs the scenario and returns its trace.
func (sc *goldenScenario) play(t *testing.T) string {
	return sc.playOn(t, newDriver(t, sc.spec))
}

// playOn plays the scenario on d, whose machine may come from New or from a Template.
func (sc *goldenScenario) playOn(t *testing.T, d *driver) string {
	for k, v := range sc.runs {
		d.runs[k] = v
	}
	hookRuns := map[string]int{}
	for k, h := range sc.hooks {
		d.hookFor[k] = h.took
	}
	d.hookOutcome = func(c string, h Hook) HookOutcome {
		key := c + "/" + h.String()
		g, ok := sc.hooks[key]
		hookRuns[key]++
		if !ok || g.message == "" || (g.times > 0 && hookRuns[key] > g.times) {
			return HookOutcome{}
		}
		return HookOutcome{Result: hooks.Failure, Message: g.message}
	}
	d.probes = func(c string, k probe.Kind, at time.Time) Outcome {
		for _, w := range sc.probes[c+"/"+k.String()] {
			s := at.Sub(t0)
			if s >= w.from && (w.until == 0 || s < w.until) {
				if w.errored {
					return probe.ErrorOutcome(fmt.Errorf("scripted error"))
				}
				return probe.FailureOutcome("scripted failure")
			}
		}
		return probe.SuccessOutcome("")
	}
	pulls := map[string]int{}
	d.pull = func(c, image string) (string, string) {
		g, ok := sc.pulls[c]
		pulls[c]++
		if !ok || (g.times > 0 && pulls[c] > g.times) {
			return "", ""
		}
		return g.reason, fmt.Sprintf("failed to pull image %q: not found", image)
	}
	creates := map[string]int{}
	d.create = func(c string) (string, string) {
		g, ok := sc.creates[c]
		creates[c]++
		if !ok || (g.times > 0 && creates[c] > g.times) {
			return "", ""
		}
		return g.reason, fmt.Sprintf("container %s: scripted %s", c, g.reason)
	}
	setups := 0
	d.setup = func() string {
		setups++
		if sc.setup.times > 0 && setups > sc.setup.times {
			return ""
		}
		return sc.setup.reason
	}
	sandboxes := 0
	d.noIP = func(int32) bool {
		sandboxes++
		return sc.noIP < 0 || sandboxes <= sc.noIP
	}
	var deletedAt *time.Time
	d.onEvent = func(ev Event) {
		var line string
		switch ev.Type {
		case ContainerExited, ContainerUnknown, ContainerStartFailed, ImagePullFailed, ContainerCreateFailed, HookResult,
			DeleteRequested, SandboxLost, SandboxFailed, SetupFailed:
			line = ev.String()
		case SandboxReady:
			if ev.IP == "" {
				line = ev.String() + " (no IP)"
			}
		case ProbeResult:
			if ev.Outcome.Result != probe.Success {
				line = ev.String()
			}
		case SpecUpdated:
			line = "SpecUpdated " + sc.updates[ev.Spec]
		}
		if ev.Type == DeleteRequested && deletedAt == nil {
			at := ev.At
			deletedAt = &at
		}
		if line != "" {
			d.log = append(d.log, d.at()+" <- "+line)
		}
	}
	lastPod := ""
	lastCtr := map[string]string{}
	d.status = func(st phase.PodStatus) []string {
		var out []string
		cols := phase.KubectlColumns(phase.ColumnsInput{Spec: d.m.Spec(), Status: &st, DeletionTimestamp: deletedAt, Now: d.now})
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
			pod += fmt.Sprintf(" | reason=%s %q", st.Reason, st.Message)
		}
		// "(5s ago)" changes with time alone: not a change of status.
		key := pod
		if i := strings.Index(cols.Restarts, " ("); i >= 0 {
			key = strings.Replace(pod, cols.Restarts, cols.Restarts[:i], 1)
		}
		if key != lastPod {
			out = append(out, pod)
			lastPod = key
		}
		for _, cs := range append(append([]phase.ContainerStatus(nil), st.InitContainerStatuses...), st.ContainerStatuses...) {
			l := containerLine(cs)
			if l != lastCtr[cs.Name] {
				out = append(out, "  "+cs.Name+" "+l)
				lastCtr[cs.Name] = l
			}
		}
		return out
	}
	d.runUntil(t0.Add(sc.until), sc.events...)
	return strings.Join(d.log, "\n") + "\n"
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
