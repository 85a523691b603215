package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// The JSON form of a simruntime.PodScript: the same fields in lowerCamelCase, durations as Go
// duration strings ("20s", "1m30s") and probe kinds by name. See the package doc for an example.

type podScriptJSON struct {
	SetupDelay       string                `json:"setupDelay,omitempty"`
	SetupFails       int                   `json:"setupFails,omitempty"`
	SetupFailMessage string                `json:"setupFailMessage,omitempty"`
	SandboxDelay     string                `json:"sandboxDelay,omitempty"`
	SandboxFails     int                   `json:"sandboxFails,omitempty"`
	SandboxNoIP      int                   `json:"sandboxNoIP,omitempty"`
	SandboxLostAt    string                `json:"sandboxLostAt,omitempty"`
	Containers       map[string]scriptJSON `json:"containers,omitempty"`
}

type scriptJSON struct {
	Runs             []runJSON                  `json:"runs,omitempty"`
	Pull             *pullJSON                  `json:"pull,omitempty"`
	CreateFails      int                        `json:"createFails,omitempty"`
	CreateFailReason string                     `json:"createFailReason,omitempty"`
	PostStart        *hookJSON                  `json:"postStart,omitempty"`
	PreStop          *hookJSON                  `json:"preStop,omitempty"`
	Probes           map[string]probeScriptJSON `json:"probes,omitempty"`
}

type runJSON struct {
	For        string `json:"for,omitempty"`
	ExitCode   int32  `json:"exitCode,omitempty"`
	OOM        bool   `json:"oom,omitempty"`
	IgnoreTerm bool   `json:"ignoreTerm,omitempty"`
	TermDelay  string `json:"termDelay,omitempty"`
	// GracefulExit: exit 0 on SIGTERM (after termDelay) instead of 143.
	GracefulExit bool   `json:"gracefulExit,omitempty"`
	StartFails   bool   `json:"startFails,omitempty"`
	UnknownAfter string `json:"unknownAfter,omitempty"`
	// Times repeats the run: that many instances in a row do the same (default 1).
	Times int `json:"times,omitempty"`
}

type pullJSON struct {
	Delay       string `json:"delay,omitempty"`
	Failures    int    `json:"failures,omitempty"`
	FailsAlways bool   `json:"failsAlways,omitempty"`
	FailUntil   string `json:"failUntil,omitempty"`
}

type hookJSON struct {
	Took     string `json:"took,omitempty"`
	Fail     bool   `json:"fail,omitempty"`
	Failures int    `json:"failures,omitempty"`
	Message  string `json:"message,omitempty"`
}

type probeScriptJSON struct {
	Fail      bool   `json:"fail,omitempty"`
	FailFrom  string `json:"failFrom,omitempty"`
	FailUntil string `json:"failUntil,omitempty"`
	Took      string `json:"took,omitempty"`
	Message   string `json:"message,omitempty"`
	// Windows are measured from the pod's start: {"from": "40s", "until": "60s", "error": true}.
	Windows []probeWindowJSON `json:"windows,omitempty"`
}

type probeWindowJSON struct {
	From    string `json:"from,omitempty"`
	Until   string `json:"until,omitempty"`
	Error   bool   `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

// maxTimes bounds a run's times: a script says what instances do, not a loop of its own.
const maxTimes = 10000

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

// fieldErrors collects problems, each naming its JSON field path.
type fieldErrors []fieldProblem

type fieldProblem struct{ path, msg string }

func (e *fieldErrors) add(path, format string, args ...any) {
	*e = append(*e, fieldProblem{path, fmt.Sprintf(format, args...)})
}

// err is the problems on one line, for a -script file (whose errors name JSON paths).
func (e fieldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	parts := make([]string, len(e))
	for i, p := range e {
		parts[i] = p.path + ": " + p.msg
	}
	return errors.New(strings.Join(parts, "; "))
}

// under is the problems as field errors under root (a scenario file's "script"), for
// kube.YAMLDocument.Errors to give their lines.
func (e fieldErrors) under(root string) field.ErrorList {
	out := make(field.ErrorList, len(e))
	for i, p := range e {
		out[i] = &field.Error{Type: field.ErrorTypeInvalid, Field: root + "." + p.path, BadValue: field.OmitValueType{}, Detail: p.msg}
	}
	return out
}

// decodeStrict reads exactly one JSON value into v, refusing unknown fields and trailing data.
// Its errors say where in the file the problem is (line:column), since encoding/json's field
// paths leave out map keys and array indexes, and its unknown-field errors have none.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: unexpected data after the JSON value", position(data, dec.InputOffset()))
	}
	return nil
}

// jsonError rewrites encoding/json's errors to name the place and, where it can, the field.
func jsonError(data []byte, offset int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty file, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of file")
	case errors.As(err, &syn):
		return fmt.Errorf("%s: invalid JSON: %v", position(data, syn.Offset), syn)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("%s: field %s: want %s, got JSON %s", position(data, typ.Offset), typ.Field,
			jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: want a JSON object, got JSON %s", position(data, typ.Offset), typ.Value)
	}
	return fmt.Errorf("%s: %s", position(data, offset), strings.TrimPrefix(err.Error(), "json: "))
}

// position is "line L, column C" (both from 1) of the last byte encoding/json read before it
// stopped, offset bytes into data.
func position(data []byte, offset int64) string {
	offset = min(max(offset, 1), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before[:len(before)-1], []byte("\n")) + 1
	col := len(before) - (bytes.LastIndexByte(before[:len(before)-1], '\n') + 1)
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonType names a Go kind as the JSON a user should write.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int32", "int64", "uint8":
		return "an integer"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return kind
}

// parseScript reads a -script file's contents and checks it against the pod's spec.
func parseScript(data []byte, spec *podlife.PodSpec) (simruntime.PodScript, error) {
	var js podScriptJSON
	if err := decodeStrict(data, &js); err != nil {
		return simruntime.PodScript{}, err
	}
	return js.toPodScript(spec)
}

func (js *podScriptJSON) toPodScript(spec *podlife.PodSpec) (simruntime.PodScript, error) {
	ps, errs := js.convert(spec)
	if err := errs.err(); err != nil {
		return simruntime.PodScript{}, err
	}
	return ps, nil
}

// convert is toPodScript with each problem apart, by its path.
func (js *podScriptJSON) convert(spec *podlife.PodSpec) (simruntime.PodScript, fieldErrors) {
	var errs fieldErrors
	ps := simruntime.PodScript{
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
			ps.Containers = map[string]simruntime.Script{}
		}
		ps.Containers[name] = s.toScript(path, c, &errs)
	}
	return ps, errs
}

func (s *scriptJSON) toScript(path string, c *podlife.Container, errs *fieldErrors) simruntime.Script {
	out := simruntime.Script{
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
		run := simruntime.Run{
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
		case r.Times < 0 || r.Times > maxTimes:
			errs.add(rp+".times", "%d is not from 1 to %d", r.Times, maxTimes)
		case r.Times > 0:
			times = r.Times
		}
		for range times {
			out.Runs = append(out.Runs, run)
		}
	}
	if s.Pull != nil {
		out.Pull = simruntime.Pull{
			Delay:       errs.duration(path+".pull.delay", s.Pull.Delay),
			Failures:    errs.count(path+".pull.failures", s.Pull.Failures),
			FailsAlways: s.Pull.FailsAlways,
			FailUntil:   errs.duration(path+".pull.failUntil", s.Pull.FailUntil),
		}
	}
	hook := func(name string, h *hookJSON, has bool) simruntime.HookScript {
		if h == nil {
			return simruntime.HookScript{}
		}
		if !has {
			errs.add(path+"."+name, "container %s has no %s hook (lifecycle.%s)", c.Name, name, name)
		}
		return simruntime.HookScript{Took: errs.duration(path+"."+name+".took", h.Took), Fail: h.Fail,
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
		ps := simruntime.ProbeScript{
			Fail:      p.Fail,
			FailFrom:  errs.duration(pp+".failFrom", p.FailFrom),
			FailUntil: errs.duration(pp+".failUntil", p.FailUntil),
			Took:      errs.duration(pp+".took", p.Took),
			Message:   p.Message,
		}
		for i, w := range p.Windows {
			wp := fmt.Sprintf("%s.windows[%d]", pp, i)
			win := simruntime.ProbeWindow{From: errs.duration(wp+".from", w.From), Until: errs.duration(wp+".until", w.Until),
				Error: w.Error, Message: w.Message}
			if win.Until > 0 && win.Until <= win.From {
				errs.add(wp+".until", "%s is not after from %s", fmtDur(win.Until), fmtDur(win.From))
			}
			ps.Windows = append(ps.Windows, win)
		}
		if !p.Fail && (p.FailFrom != "" || p.FailUntil != "" || p.Message != "") {
			errs.add(pp, "failFrom, failUntil and message need \"fail\": true")
		}
		if ps.FailUntil > 0 && ps.FailUntil <= ps.FailFrom {
			errs.add(pp+".failUntil", "%s is not after failFrom %s", fmtDur(ps.FailUntil), fmtDur(ps.FailFrom))
		}
		if out.Probes == nil {
			out.Probes = map[probe.Kind]simruntime.ProbeScript{}
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

// scriptToJSON is the JSON form of ps, as parseScript reads it.
func scriptToJSON(ps simruntime.PodScript) podScriptJSON {
	js := podScriptJSON{
		SetupDelay:       jsonDur(ps.SetupDelay),
		SetupFails:       ps.SetupFails,
		SetupFailMessage: ps.SetupFailMessage,
		SandboxDelay:     jsonDur(ps.SandboxDelay),
		SandboxFails:     ps.SandboxFails,
		SandboxNoIP:      ps.SandboxNoIP,
		SandboxLostAt:    jsonDur(ps.SandboxLostAt),
	}
	for name, s := range ps.Containers {
		cs := scriptJSON{CreateFails: s.CreateFails, CreateFailReason: s.CreateFailReason}
		for _, r := range s.Runs {
			cs.Runs = append(cs.Runs, runJSON{For: jsonDur(r.For), ExitCode: r.ExitCode, OOM: r.OOM,
				IgnoreTerm: r.IgnoreTerm, TermDelay: jsonDur(r.TermDelay), GracefulExit: r.GracefulExit, StartFails: r.StartFails,
				UnknownAfter: jsonDur(r.UnknownAfter)})
		}
		if s.Pull != (simruntime.Pull{}) {
			cs.Pull = &pullJSON{Delay: jsonDur(s.Pull.Delay), Failures: s.Pull.Failures, FailsAlways: s.Pull.FailsAlways,
				FailUntil: jsonDur(s.Pull.FailUntil)}
		}
		hook := func(h simruntime.HookScript) *hookJSON {
			if h == (simruntime.HookScript{}) {
				return nil
			}
			return &hookJSON{Took: jsonDur(h.Took), Fail: h.Fail, Failures: h.Failures, Message: h.Message}
		}
		cs.PostStart, cs.PreStop = hook(s.PostStart), hook(s.PreStop)
		for kind, p := range s.Probes {
			if cs.Probes == nil {
				cs.Probes = map[string]probeScriptJSON{}
			}
			pj := probeScriptJSON{Fail: p.Fail, FailFrom: jsonDur(p.FailFrom),
				FailUntil: jsonDur(p.FailUntil), Took: jsonDur(p.Took), Message: p.Message}
			for _, w := range p.Windows {
				pj.Windows = append(pj.Windows, probeWindowJSON{From: jsonDur(w.From), Until: jsonDur(w.Until), Error: w.Error, Message: w.Message})
			}
			cs.Probes[probeKindName(kind)] = pj
		}
		if js.Containers == nil {
			js.Containers = map[string]scriptJSON{}
		}
		js.Containers[name] = cs
	}
	return js
}

func jsonDur(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmtDur(d)
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

// parseSpec reads a -spec file: a podlife.PodSpec as JSON, which must be valid.
func parseSpec(data []byte) (podlife.PodSpec, error) {
	var spec podlife.PodSpec
	if err := decodeStrict(data, &spec); err != nil {
		return podlife.PodSpec{}, err
	}
	if err := spec.Validate(); err != nil {
		return podlife.PodSpec{}, err
	}
	return spec, nil
}
