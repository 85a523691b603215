package simruntime

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/internal/strictjson"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// The JSON form of a PodScript, as a user writes it in a file (examples/podsim -script) or in a
// pod's annotation (lifecycle/kubenode): the fields of PodScript, Script, Run, Pull, HookScript
// and ProbeScript in lowerCamelCase, durations as Go duration strings ("500ms", "20s", "1m30s"),
// probes keyed by kind (startup, liveness, readiness). Every field may be left out. For example:
//
//	{
//	  "setupDelay": "1s",
//	  "containers": {
//	    "migrate": {"runs": [{"for": "3s"}]},
//	    "web": {
//	      "pull": {"delay": "2s"},
//	      "runs": [{"for": "20s", "exitCode": 1}, {"termDelay": "2s", "gracefulExit": true}],
//	      "preStop": {"took": "5s"},
//	      "probes": {"readiness": {"fail": true, "failFrom": "1m", "failUntil": "90s", "message": "db pool exhausted"}}
//	    }
//	  }
//	}
//
// A run with "times": N stands for N runs in a row that do the same. The types below are that
// form, for a program that holds a script inside a file of its own (podsim's YAML scenarios
// decode one in place, so that its problems get the file's lines): decode into a PodScriptJSON,
// then call its PodScript.

// PodScriptJSON is the JSON form of a PodScript.
type PodScriptJSON struct {
	SetupDelay       string                `json:"setupDelay,omitempty"`
	SetupFails       int                   `json:"setupFails,omitempty"`
	SetupFailMessage string                `json:"setupFailMessage,omitempty"`
	SandboxDelay     string                `json:"sandboxDelay,omitempty"`
	SandboxFails     int                   `json:"sandboxFails,omitempty"`
	SandboxNoIP      int                   `json:"sandboxNoIP,omitempty"`
	SandboxLostAt    string                `json:"sandboxLostAt,omitempty"`
	Containers       map[string]ScriptJSON `json:"containers,omitempty"`
}

// ScriptJSON is the JSON form of a Script.
type ScriptJSON struct {
	Runs             []RunJSON                  `json:"runs,omitempty"`
	Pull             *PullJSON                  `json:"pull,omitempty"`
	CreateFails      int                        `json:"createFails,omitempty"`
	CreateFailReason string                     `json:"createFailReason,omitempty"`
	PostStart        *HookJSON                  `json:"postStart,omitempty"`
	PreStop          *HookJSON                  `json:"preStop,omitempty"`
	Probes           map[string]ProbeScriptJSON `json:"probes,omitempty"`
}

// RunJSON is the JSON form of a Run.
type RunJSON struct {
	For        string `json:"for,omitempty"`
	ExitCode   int32  `json:"exitCode,omitempty"`
	OOM        bool   `json:"oom,omitempty"`
	IgnoreTerm bool   `json:"ignoreTerm,omitempty"`
	TermDelay  string `json:"termDelay,omitempty"`
	// GracefulExit: exit 0 on SIGTERM (after termDelay) instead of 143.
	GracefulExit bool   `json:"gracefulExit,omitempty"`
	StartFails   bool   `json:"startFails,omitempty"`
	UnknownAfter string `json:"unknownAfter,omitempty"`
	// Times repeats the run: that many instances in a row do the same (default 1, at most
	// MaxRunTimes).
	Times int `json:"times,omitempty"`
}

// MaxRunTimes bounds a run's times: a script says what instances do, it is no loop of its own.
const MaxRunTimes = 10000

// PullJSON is the JSON form of a Pull.
type PullJSON struct {
	Delay       string `json:"delay,omitempty"`
	Failures    int    `json:"failures,omitempty"`
	FailsAlways bool   `json:"failsAlways,omitempty"`
	FailUntil   string `json:"failUntil,omitempty"`
}

// HookJSON is the JSON form of a HookScript.
type HookJSON struct {
	Took     string `json:"took,omitempty"`
	Fail     bool   `json:"fail,omitempty"`
	Failures int    `json:"failures,omitempty"`
	Message  string `json:"message,omitempty"`
}

// ProbeScriptJSON is the JSON form of a ProbeScript.
type ProbeScriptJSON struct {
	Fail      bool   `json:"fail,omitempty"`
	FailFrom  string `json:"failFrom,omitempty"`
	FailUntil string `json:"failUntil,omitempty"`
	Took      string `json:"took,omitempty"`
	Message   string `json:"message,omitempty"`
	// Windows are measured from the pod's start: {"from": "40s", "until": "60s", "error": true}.
	Windows []ProbeWindowJSON `json:"windows,omitempty"`
}

// ProbeWindowJSON is the JSON form of a ProbeWindow.
type ProbeWindowJSON struct {
	From    string `json:"from,omitempty"`
	Until   string `json:"until,omitempty"`
	Error   bool   `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

// probeKindNames are the JSON names of the probe kinds, as the spec's field prefixes.
var probeKindNames = map[string]probe.Kind{
	"startup":   probe.Startup,
	"liveness":  probe.Liveness,
	"readiness": probe.Readiness,
}

func probeKindName(k probe.Kind) string {
	for name, kind := range probeKindNames {
		if kind == k {
			return name
		}
	}
	return k.String()
}

// ParsePodScript reads the JSON form of a PodScript (see above) and checks it against the pod's
// spec. Unknown fields, containers the pod does not have, probes or hooks a container does not
// have, negative durations and counts are errors, all at once, each naming its JSON field path
// (containers.web.runs[0].for) in ScriptErrors; a JSON error says its line and column.
func ParsePodScript(data []byte, spec *podlife.PodSpec) (PodScript, error) {
	var js PodScriptJSON
	if err := strictjson.Decode(data, &js); err != nil {
		return PodScript{}, err
	}
	return js.PodScript(spec)
}

// FormatPodScript is the JSON form of ps, indented, as ParsePodScript reads it back.
func FormatPodScript(ps PodScript) ([]byte, error) {
	return json.MarshalIndent(scriptToJSON(ps), "", "  ")
}

// ScriptError is one problem of a script's JSON form.
type ScriptError struct {
	// Path is the JSON field path of the problem, as containers.web.runs[0].for.
	Path string
	// Detail says what is wrong.
	Detail string
}

func (e ScriptError) Error() string { return e.Path + ": " + e.Detail }

// ScriptErrors are every problem of a script's JSON form, in the order they were found; as an
// error (ParsePodScript's, PodScriptJSON.PodScript's) they read on one line.
type ScriptErrors []ScriptError

func (e ScriptErrors) Error() string {
	parts := make([]string, len(e))
	for i, p := range e {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// fieldErrors collects problems, each naming its JSON field path.
type fieldErrors ScriptErrors

func (e *fieldErrors) add(path, format string, args ...any) {
	*e = append(*e, ScriptError{Path: path, Detail: fmt.Sprintf(format, args...)})
}

// PodScript is js checked against the pod's spec, as ParsePodScript checks it; its problems
// are ScriptErrors.
func (js *PodScriptJSON) PodScript(spec *podlife.PodSpec) (PodScript, error) {
	var errs fieldErrors
	ps := PodScript{
		SetupDelay:       errs.duration("setupDelay", js.SetupDelay),
		SetupFails:       errs.count("setupFails", js.SetupFails),
		SetupFailMessage: js.SetupFailMessage,
		SandboxDelay:     errs.duration("sandboxDelay", js.SandboxDelay),
		SandboxFails:     errs.count("sandboxFails", js.SandboxFails),
		SandboxNoIP:      errs.count("sandboxNoIP", js.SandboxNoIP),
		SandboxLostAt:    errs.duration("sandboxLostAt", js.SandboxLostAt),
	}
	for _, name := range sortedKeys(js.Containers) {
		path := "containers." + name
		c := findContainer(spec, name)
		if c == nil {
			errs.add(path, "the pod has no container %q (it has %s)", name, strings.Join(containerNames(spec), ", "))
			continue
		}
		s := js.Containers[name]
		if ps.Containers == nil {
			ps.Containers = map[string]Script{}
		}
		ps.Containers[name] = s.toScript(path, c, &errs)
	}
	if len(errs) > 0 {
		return PodScript{}, ScriptErrors(errs)
	}
	return ps, nil
}

func (s *ScriptJSON) toScript(path string, c *podlife.Container, errs *fieldErrors) Script {
	out := Script{
		CreateFails:      errs.count(path+".createFails", s.CreateFails),
		CreateFailReason: s.CreateFailReason,
	}
	switch s.CreateFailReason {
	case "", phase.ReasonCreateContainerError, phase.ReasonCreateContainerConfigError:
	default:
		errs.add(path+".createFailReason", "%q is not %s or %s", s.CreateFailReason,
			phase.ReasonCreateContainerError, phase.ReasonCreateContainerConfigError)
	}
	for i, r := range s.Runs {
		rp := fmt.Sprintf("%s.runs[%d]", path, i)
		run := Run{
			For:          errs.duration(rp+".for", r.For),
			ExitCode:     r.ExitCode,
			OOM:          r.OOM,
			IgnoreTerm:   r.IgnoreTerm,
			TermDelay:    errs.duration(rp+".termDelay", r.TermDelay),
			GracefulExit: r.GracefulExit,
			StartFails:   r.StartFails,
			UnknownAfter: errs.duration(rp+".unknownAfter", r.UnknownAfter),
		}
		if r.ExitCode < 0 || r.ExitCode > 255 {
			errs.add(rp+".exitCode", "%d is not from 0 to 255", r.ExitCode)
		}
		if r.For == "" && (r.ExitCode != 0 || r.OOM) {
			errs.add(rp, "exitCode and oom need \"for\" (a run without it runs until it is stopped)")
		}
		if r.OOM && r.ExitCode != 0 {
			errs.add(rp+".exitCode", "an oom exit is always 137; leave exitCode out")
		}
		times := 1
		switch {
		case r.Times < 0 || r.Times > MaxRunTimes:
			errs.add(rp+".times", "%d is not from 1 to %d", r.Times, MaxRunTimes)
		case r.Times > 0:
			times = r.Times
		}
		for range times {
			out.Runs = append(out.Runs, run)
		}
	}
	if s.Pull != nil {
		out.Pull = Pull{
			Delay:       errs.duration(path+".pull.delay", s.Pull.Delay),
			Failures:    errs.count(path+".pull.failures", s.Pull.Failures),
			FailsAlways: s.Pull.FailsAlways,
			FailUntil:   errs.duration(path+".pull.failUntil", s.Pull.FailUntil),
		}
	}
	hook := func(name string, h *HookJSON, has bool) HookScript {
		if h == nil {
			return HookScript{}
		}
		if !has {
			errs.add(path+"."+name, "container %s has no %s hook (lifecycle.%s)", c.Name, name, name)
		}
		return HookScript{Took: errs.duration(path+"."+name+".took", h.Took), Fail: h.Fail,
			Failures: errs.count(path+"."+name+".failures", h.Failures), Message: h.Message}
	}
	out.PostStart = hook("postStart", s.PostStart, c.Lifecycle != nil && c.Lifecycle.PostStart != nil)
	out.PreStop = hook("preStop", s.PreStop, c.Lifecycle != nil && c.Lifecycle.PreStop != nil)
	for _, name := range sortedKeys(s.Probes) {
		pp := path + ".probes." + name
		kind, ok := probeKindNames[name]
		if !ok {
			errs.add(pp, "unknown probe kind %q (want startup, liveness or readiness)", name)
			continue
		}
		if probe.For(c, kind) == nil {
			errs.add(pp, "container %s has no %sProbe", c.Name, name)
		}
		p := s.Probes[name]
		ps := ProbeScript{
			Fail:      p.Fail,
			FailFrom:  errs.duration(pp+".failFrom", p.FailFrom),
			FailUntil: errs.duration(pp+".failUntil", p.FailUntil),
			Took:      errs.duration(pp+".took", p.Took),
			Message:   p.Message,
		}
		for i, w := range p.Windows {
			wp := fmt.Sprintf("%s.windows[%d]", pp, i)
			win := ProbeWindow{From: errs.duration(wp+".from", w.From), Until: errs.duration(wp+".until", w.Until),
				Error: w.Error, Message: w.Message}
			if win.Until > 0 && win.Until <= win.From {
				errs.add(wp+".until", "%s is not after from %s", jsonDur(win.Until), jsonDur(win.From))
			}
			ps.Windows = append(ps.Windows, win)
		}
		if !p.Fail && (p.FailFrom != "" || p.FailUntil != "" || p.Message != "") {
			errs.add(pp, "failFrom, failUntil and message need \"fail\": true")
		}
		if ps.FailUntil > 0 && ps.FailUntil <= ps.FailFrom {
			errs.add(pp+".failUntil", "%s is not after failFrom %s", jsonDur(ps.FailUntil), jsonDur(ps.FailFrom))
		}
		if out.Probes == nil {
			out.Probes = map[probe.Kind]ProbeScript{}
		}
		out.Probes[kind] = ps
	}
	return out
}

// duration parses a Go duration ("" is 0), which may not be negative.
func (e *fieldErrors) duration(path, s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		e.add(path, "%q is not a duration (write e.g. \"20s\", \"1m30s\")", s)
	case d < 0:
		e.add(path, "%s is negative", s)
	}
	return max(d, 0)
}

func (e *fieldErrors) count(path string, n int) int {
	if n < 0 {
		e.add(path, "%d is negative", n)
		return 0
	}
	return n
}

// scriptToJSON is the JSON form of ps, as ParsePodScript reads it.
func scriptToJSON(ps PodScript) PodScriptJSON {
	js := PodScriptJSON{
		SetupDelay:       jsonDur(ps.SetupDelay),
		SetupFails:       ps.SetupFails,
		SetupFailMessage: ps.SetupFailMessage,
		SandboxDelay:     jsonDur(ps.SandboxDelay),
		SandboxFails:     ps.SandboxFails,
		SandboxNoIP:      ps.SandboxNoIP,
		SandboxLostAt:    jsonDur(ps.SandboxLostAt),
	}
	for name, s := range ps.Containers {
		cs := ScriptJSON{CreateFails: s.CreateFails, CreateFailReason: s.CreateFailReason}
		for _, r := range s.Runs {
			cs.Runs = append(cs.Runs, RunJSON{For: jsonDur(r.For), ExitCode: r.ExitCode, OOM: r.OOM,
				IgnoreTerm: r.IgnoreTerm, TermDelay: jsonDur(r.TermDelay), GracefulExit: r.GracefulExit, StartFails: r.StartFails,
				UnknownAfter: jsonDur(r.UnknownAfter)})
		}
		if s.Pull != (Pull{}) {
			cs.Pull = &PullJSON{Delay: jsonDur(s.Pull.Delay), Failures: s.Pull.Failures, FailsAlways: s.Pull.FailsAlways,
				FailUntil: jsonDur(s.Pull.FailUntil)}
		}
		hook := func(h HookScript) *HookJSON {
			if h == (HookScript{}) {
				return nil
			}
			return &HookJSON{Took: jsonDur(h.Took), Fail: h.Fail, Failures: h.Failures, Message: h.Message}
		}
		cs.PostStart, cs.PreStop = hook(s.PostStart), hook(s.PreStop)
		for kind, p := range s.Probes {
			if cs.Probes == nil {
				cs.Probes = map[string]ProbeScriptJSON{}
			}
			pj := ProbeScriptJSON{Fail: p.Fail, FailFrom: jsonDur(p.FailFrom),
				FailUntil: jsonDur(p.FailUntil), Took: jsonDur(p.Took), Message: p.Message}
			for _, w := range p.Windows {
				pj.Windows = append(pj.Windows, ProbeWindowJSON{From: jsonDur(w.From), Until: jsonDur(w.Until), Error: w.Error, Message: w.Message})
			}
			cs.Probes[probeKindName(kind)] = pj
		}
		if js.Containers == nil {
			js.Containers = map[string]ScriptJSON{}
		}
		js.Containers[name] = cs
	}
	return js
}

// jsonDur is d as a Go duration string without zero units ("1m", not "1m0s"); "" for 0.
func jsonDur(d time.Duration) string {
	if d == 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// findContainer finds an init, sidecar or app container by name.
func findContainer(spec *podlife.PodSpec, name string) *podlife.Container {
	for _, list := range [][]podlife.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func containerNames(spec *podlife.PodSpec) []string {
	var names []string
	for _, list := range [][]podlife.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			names = append(names, list[i].Name)
		}
	}
	return names
}
