package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/probe"
)

// Version is the scenario file format's version, the value of the "podlife-scenario:" line
// every file starts with (after its comments).
const Version = "v1"

// A scenario file is a YAML header, a line "----" and the expected trace:
//
//	# what the scenario shows (comments are kept when the trace is rewritten)
//	podlife-scenario: v1
//	pod: {namespace: default, name: web, uid: web-1}   # optional; DefaultPod otherwise
//	images: [busybox:1]                                # present on the node from the start
//	spec:                                              # a pod spec, the API's field names
//	  containers:
//	  - name: app
//	    image: busybox:1
//	script: |                                          # the runtime's scripts and the operations
//	  run app for 1s exit 1
//	  delete at 60s grace 30
//	  until 200s
//	----
//	   0s SetupPod
//	   ...
//
// Script directives, one a line (D a Go duration, T a time from the pod's binding at 0s, K a
// count, "..." a quoted text; # starts a comment):
//
//	run C for D exit N [times K] [options]   K instances (default 1) run D, then exit N
//	run C forever [times K] [options]        instances that run until stopped
//	    options: ignoreTerm | termDelay D | gracefulExit | oom | startFails | unknownAfter D
//	                                         (runs add instances in order; the last repeats)
//	hook C postStart|preStop D [fail ["..."]] [times K]
//	                                         the hook takes D; it fails (its first K runs)
//	probe C startup|liveness|readiness fail|error [from T] [until T] [message "..."]
//	                                         the probe fails, or errors (not counted), from T
//	                                         until T after the pod's binding (lines add up)
//	probe C KIND fail after D [until D] [message "..."]
//	                                         the probe fails D after each instance's start
//	probe C KIND took D                      each run of the probe takes D
//	pull C [fail [times K] [until T]] [delay D]
//	                                         pulls of C's image fail (the first K; those that
//	                                         start before T after the pod's start), take D
//	create C fail [CreateContainerConfigError] [times K]
//	setup fail ["..."] [times K]             the pod's setup fails (the first K times)
//	setup delay D | sandbox delay D          each setup, each sandbox takes D
//	sandbox fail [times K] | sandbox noIP [times K]
//	                                         sandboxes fail, or come up without an IP
//	sandbox lost after D                     the first sandbox dies D after it is ready
//	delete at T [grace S]                    lifecycle.Client.Delete (grace 0: forced)
//	image C IMAGE at T                       C's image changes (lifecycle.Client.UpdateSpec)
//	deadline S at T                          activeDeadlineSeconds becomes S (Client.UpdateSpec,
//	                                         which refuses a raised or removed one)
//	sandbox-lost at T                        the sandbox dies
//	image-present IMAGE at T                 the image is on the node from T
//	agent-stop at T | agent-start at T       the agent stops; a new one starts and recovers
//	store-down at T | store-up at T          a store outage
//	node-lost at T | node-back at T          the node lost (its agent stops, its lease goes: the
//	                                         Supervisor marks the pod Unknown), and back (a new
//	                                         agent recovers the pod)
//	until T                                  the end (default 600s)
//
// An operation at T comes after everything the pod does at T: a client acting at T sees the pod
// as it is at the end of that instant.
//
// The trace has a line per input that carries the script's information ("<- ContainerExited
// id=app/0 exit=1": exits, failures, hook results, failed and errored probes, operations), per
// record ("event Warning BackOff ..."), per action, and per change of status: the pod line
//
//	12s status Running | CrashLoopBackOff 0/1 2 (0s ago) | PodReadyToStartContainers,Initialized
//
// (phase | kubectl's STATUS READY RESTARTS | the True conditions but PodScheduled, then
// | reason=R "message" when the pod's status has a reason, as DeadlineExceeded) and a line per
// container whose status changed: its state, "ready", restartCount, last state and waiting
// message. IDs are the pod's own: "app/0" is container app's instance 0, "sb-1" sandbox 1. A
// change of "(5s ago)" alone is no change. Lines "--" are operations on the agent, the store and
// the node, a restarted agent's recovery, and a status another writer put in the store ("--
// supervisor writes the pod's status", then its status lines).

// File is a parsed scenario file.
type File struct {
	Scenario Scenario
	// Header is the text before the "----" line, as read.
	Header []byte
	// Trace is the text after it: the expected trace, "" when the file has none yet.
	Trace string
}

// header is the YAML part of a scenario file.
type header struct {
	Version string            `yaml:"podlife-scenario"`
	Pod     *lifecycle.PodRef `yaml:"pod"`
	Images  []string          `yaml:"images"`
	Spec    yaml.Node         `yaml:"spec"`
	Script  yaml.Node         `yaml:"script"`
}

// traceLine is the line between a scenario file's header and its trace.
const traceLine = "----"

// Bytes is the file with trace as its trace: its header as read, the "----" line, then trace.
func (f *File) Bytes(trace string) []byte {
	out := make([]byte, 0, len(f.Header)+len(traceLine)+2+len(trace))
	out = append(append(out, f.Header...), "\n"+traceLine+"\n"...)
	return append(out, trace...)
}

// ParseFile reads a scenario file. Errors name the line they are on.
func ParseFile(data []byte) (*File, error) {
	head, trace, found := bytes.Cut(data, []byte("\n"+traceLine+"\n"))
	if !found {
		head, found = bytes.CutSuffix(data, []byte("\n"+traceLine))
	}
	if !found { // no trace yet: the header is the whole file, but for its last line break
		head = bytes.TrimSuffix(data, []byte("\n"))
	}
	f := &File{Header: head}
	if found {
		f.Trace = string(trace)
	}
	sc, err := ParseScenario(head)
	if err != nil {
		return nil, err
	}
	f.Scenario = *sc
	return f, nil
}

// ParseScenario reads a scenario file's header: the scenario without the expected trace.
func ParseScenario(data []byte) (*Scenario, error) {
	var h header
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	switch h.Version {
	case Version:
	case "":
		return nil, fmt.Errorf("scenario: no %q line (want podlife-scenario: %s)", "podlife-scenario", Version)
	default:
		return nil, fmt.Errorf("scenario: format %q: this podlife reads %s", h.Version, Version)
	}
	sc := &Scenario{Images: h.Images}
	if h.Pod != nil {
		sc.Pod = *h.Pod
	}
	if h.Spec.Kind == 0 {
		return nil, errors.New("scenario: no spec")
	}
	var generic any
	if err := h.Spec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("scenario: spec (line %d): %w", h.Spec.Line, err)
	}
	js, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("scenario: spec (line %d): %w", h.Spec.Line, err)
	}
	jd := json.NewDecoder(bytes.NewReader(js))
	jd.DisallowUnknownFields()
	if err := jd.Decode(&sc.Spec); err != nil {
		return nil, fmt.Errorf("scenario: spec (line %d): %w", h.Spec.Line, err)
	}
	p := &scriptParser{sc: sc, spec: sc.Spec}
	first := h.Script.Line
	if h.Script.Style == yaml.LiteralStyle || h.Script.Style == yaml.FoldedStyle {
		first++ // the text starts on the line after "script: |"
	}
	for n, line := range strings.Split(h.Script.Value, "\n") {
		if err := p.line(line); err != nil {
			return nil, fmt.Errorf("scenario: line %d %q: %w", first+n, strings.TrimSpace(line), err)
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// always is a count that means "every time" in a script (FailsAlways, every setup, ...).
const always = math.MaxInt32

type scriptParser struct {
	sc   *Scenario
	spec podlife.PodSpec // the spec as updated by the image lines so far
}

// script is the scenario's script of container name, made on first use.
func (p *scriptParser) script(name string) (simruntime.Script, error) {
	if _, ok := p.sc.Spec.ContainerByName(name); !ok {
		return simruntime.Script{}, fmt.Errorf("no container %q in the spec", name)
	}
	return p.sc.Script.Containers[name], nil
}

func (p *scriptParser) setScript(name string, s simruntime.Script) {
	if p.sc.Script.Containers == nil {
		p.sc.Script.Containers = map[string]simruntime.Script{}
	}
	p.sc.Script.Containers[name] = s
}

func (p *scriptParser) line(line string) error {
	if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line[:i], `"`) {
		line = line[:i]
	}
	f, err := fields(line)
	if err != nil || len(f) == 0 {
		return err
	}
	o := &words{list: f[1:]}
	err = p.directive(f[0], o)
	if err == nil {
		err = o.err
	}
	if err == nil && len(o.list) > 0 {
		err = fmt.Errorf("unexpected %q", strings.Join(o.list, " "))
	}
	return err
}

func (p *scriptParser) directive(name string, o *words) error {
	sc := p.sc
	switch name {
	case "run":
		return p.run(o)
	case "hook":
		c := o.next("container")
		s, err := p.script(c)
		if err != nil {
			return err
		}
		var h *simruntime.HookScript
		switch w := o.next("postStart or preStop"); w {
		case "postStart":
			h = &s.PostStart
		case "preStop":
			h = &s.PreStop
		default:
			return fmt.Errorf("want postStart or preStop, not %q", w)
		}
		h.Took = o.duration("duration")
		for o.more() {
			switch w := o.next("option"); w {
			case "fail":
				h.Fail = true
				if o.more() && !o.isKeyword("times") {
					h.Message = o.next("message")
				}
			case "times":
				h.Failures = o.int("times")
				h.Fail = false
			default:
				return fmt.Errorf("unknown option %q", w)
			}
		}
		p.setScript(c, s)
	case "probe":
		return p.probe(o)
	case "pull":
		c := o.next("container")
		s, err := p.script(c)
		if err != nil {
			return err
		}
		for o.more() {
			switch w := o.next("option"); w {
			case "fail":
				s.Pull.FailsAlways = true
				if o.isKeyword("times") {
					o.next("times")
					s.Pull.FailsAlways, s.Pull.Failures = false, o.int("times")
				}
				if o.isKeyword("until") {
					o.next("until")
					s.Pull.FailsAlways, s.Pull.FailUntil = false, o.duration("until")
				}
			case "delay":
				s.Pull.Delay = o.duration("delay")
			default:
				return fmt.Errorf("unknown option %q", w)
			}
		}
		p.setScript(c, s)
	case "create":
		c := o.next("container")
		s, err := p.script(c)
		if err != nil {
			return err
		}
		if o.next("fail") != "fail" {
			return errors.New("want create C fail")
		}
		s.CreateFails = always
		for o.more() {
			switch w := o.next("option"); w {
			case "times":
				s.CreateFails = o.int("times")
			case "CreateContainerConfigError", "CreateContainerError":
				s.CreateFailReason = w
			default:
				return fmt.Errorf("unknown option %q", w)
			}
		}
		p.setScript(c, s)
	case "setup":
		switch w := o.next("fail or delay"); w {
		case "fail":
			sc.Script.SetupFails = always
			if o.more() && !o.isKeyword("times") {
				sc.Script.SetupFailMessage = o.next("message")
			}
			if o.isKeyword("times") {
				o.next("times")
				sc.Script.SetupFails = o.int("times")
			}
		case "delay":
			sc.Script.SetupDelay = o.duration("delay")
		default:
			return fmt.Errorf("want setup fail or setup delay, not %q", w)
		}
	case "sandbox":
		switch w := o.next("fail, noIP, delay or lost"); w {
		case "fail", "noIP":
			n := always
			if o.isKeyword("times") {
				o.next("times")
				n = o.int("times")
			}
			if w == "fail" {
				sc.Script.SandboxFails = n
			} else {
				sc.Script.SandboxNoIP = n
			}
		case "delay":
			sc.Script.SandboxDelay = o.duration("delay")
		case "lost":
			if o.next("after") != "after" {
				return errors.New("want sandbox lost after D")
			}
			sc.Script.SandboxLostAt = o.duration("after")
		default:
			return fmt.Errorf("want sandbox fail, noIP, delay or lost, not %q", w)
		}
	case "delete":
		op := Delete(o.at())
		if o.isKeyword("grace") {
			o.next("grace")
			g := int64(o.int("grace"))
			op.Grace = &g
		}
		sc.Ops = append(sc.Ops, op)
	case "image":
		c, image := o.next("container"), o.next("image")
		if _, err := p.script(c); err != nil {
			return err
		}
		sc.Ops = append(sc.Ops, UpdateImage(o.at(), c, image))
	case "deadline":
		seconds := int64(o.int("seconds"))
		sc.Ops = append(sc.Ops, UpdateDeadline(o.at(), seconds))
	case "sandbox-lost":
		sc.Ops = append(sc.Ops, LoseSandbox(o.at()))
	case "image-present":
		image := o.next("image")
		sc.Ops = append(sc.Ops, AddImage(o.at(), image))
	case "agent-stop":
		sc.Ops = append(sc.Ops, StopAgent(o.at()))
	case "agent-start":
		sc.Ops = append(sc.Ops, StartAgent(o.at()))
	case "store-down":
		sc.Ops = append(sc.Ops, StoreDown(o.at()))
	case "store-up":
		sc.Ops = append(sc.Ops, StoreUp(o.at()))
	case "node-lost":
		sc.Ops = append(sc.Ops, LoseNode(o.at()))
	case "node-back":
		sc.Ops = append(sc.Ops, NodeBack(o.at()))
	case "until":
		sc.Until = o.duration("until")
	default:
		return fmt.Errorf("unknown directive %q", name)
	}
	return nil
}

func (p *scriptParser) run(o *words) error {
	c := o.next("container")
	s, err := p.script(c)
	if err != nil {
		return err
	}
	r, times := simruntime.Run{}, 1
	switch w := o.next("for or forever"); w {
	case "for":
		r.For = o.duration("for")
		if o.next("exit") != "exit" {
			return errors.New("want exit N after for D")
		}
		r.ExitCode = int32(o.int("exit"))
	case "forever":
	default:
		return fmt.Errorf("want for or forever, not %q", w)
	}
	for o.more() && o.err == nil {
		switch w := o.next("option"); w {
		case "times":
			times = o.int("times")
		case "ignoreTerm":
			r.IgnoreTerm = true
		case "termDelay":
			r.TermDelay = o.duration("termDelay")
		case "gracefulExit":
			r.GracefulExit = true
		case "oom":
			r.OOM = true
		case "startFails":
			r.StartFails = true
		case "unknownAfter":
			r.UnknownAfter = o.duration("unknownAfter")
		default:
			return fmt.Errorf("unknown option %q", w)
		}
	}
	for range times {
		s.Runs = append(s.Runs, r)
	}
	p.setScript(c, s)
	return nil
}

func (p *scriptParser) probe(o *words) error {
	c := o.next("container")
	s, err := p.script(c)
	if err != nil {
		return err
	}
	kind, err := probeKind(o.next("kind"))
	if err != nil {
		return err
	}
	ps := s.Probes[kind]
	switch w := o.next("fail, error or took"); w {
	case "took":
		ps.Took = o.duration("took")
	case "fail", "error":
		if w == "fail" && o.isKeyword("after") {
			o.next("after")
			ps.Fail, ps.FailFrom = true, o.duration("after")
			for o.more() {
				switch k := o.next("option"); k {
				case "until":
					ps.FailUntil = o.duration("until")
				case "message":
					ps.Message = o.next("message")
				default:
					return fmt.Errorf("unknown option %q", k)
				}
			}
			break
		}
		win := simruntime.ProbeWindow{Error: w == "error"}
		for o.more() {
			switch k := o.next("option"); k {
			case "from":
				win.From = o.duration("from")
			case "until":
				win.Until = o.duration("until")
			case "message":
				win.Message = o.next("message")
			default:
				return fmt.Errorf("unknown option %q", k)
			}
		}
		ps.Windows = append(ps.Windows, win)
	default:
		return fmt.Errorf("want fail, error or took, not %q", w)
	}
	if s.Probes == nil {
		s.Probes = map[probe.Kind]simruntime.ProbeScript{}
	}
	s.Probes[kind] = ps
	p.setScript(c, s)
	return nil
}

func probeKind(s string) (probe.Kind, error) {
	for _, k := range []probe.Kind{probe.Startup, probe.Liveness, probe.Readiness} {
		if strings.EqualFold(k.String(), s) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown probe kind %q (startup, liveness, readiness)", s)
}

// fields splits a line at blanks, keeping "quoted strings" whole (Go's quoting).
func fields(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			return out, nil
		}
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("bad quoted text: %w", err)
			}
			s, _ := strconv.Unquote(q)
			out = append(out, s)
			line = line[len(q):]
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

// words reads a directive's words after its name.
type words struct {
	list []string
	err  error
}

func (o *words) more() bool { return len(o.list) > 0 && o.err == nil }

func (o *words) isKeyword(w string) bool { return len(o.list) > 0 && o.list[0] == w }

func (o *words) next(what string) string {
	if len(o.list) == 0 {
		if o.err == nil {
			o.err = fmt.Errorf("%s: missing", what)
		}
		return ""
	}
	w := o.list[0]
	o.list = o.list[1:]
	return w
}

func (o *words) duration(what string) time.Duration {
	s := o.next(what)
	d, err := time.ParseDuration(s)
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("%s: %q is not a duration (write e.g. 20s, 1m30s)", what, s)
	}
	return d
}

func (o *words) int(what string) int {
	s := o.next(what)
	n, err := strconv.Atoi(strings.TrimSuffix(s, "s"))
	if (err != nil || n < 0) && o.err == nil {
		o.err = fmt.Errorf("%s: %q is not a count", what, s)
	}
	return n
}

// at reads "at T".
func (o *words) at() time.Duration {
	if w := o.next("at"); w != "at" && o.err == nil {
		o.err = fmt.Errorf("want at T, not %q", w)
	}
	return o.duration("at")
}
