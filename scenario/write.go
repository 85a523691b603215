package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/probe"
)

// String is the operation as a scenario file's directive ("delete at 1m0s grace 30").
func (op Op) String() string {
	at := " at " + op.At.String()
	switch op.Kind {
	case OpDelete:
		if op.Grace != nil {
			return "delete" + at + " grace " + strconv.FormatInt(*op.Grace, 10)
		}
		return "delete" + at
	case OpUpdateImage:
		return "image " + op.Container + " " + op.Image + at
	case OpAddImage:
		return "image-present " + op.Image + at
	case OpUpdateDeadline:
		return "deadline " + strconv.FormatInt(op.Deadline, 10) + at
	}
	return op.Kind.String() + at
}

// Format writes the scenario as a scenario file's header (see ParseFile), which ParseScenario
// reads back.
func (sc Scenario) Format() string {
	var b strings.Builder
	b.WriteString("podlife-scenario: " + Version + "\n")
	if sc.Pod != (DefaultPod()) && sc.Pod.Name != "" {
		fmt.Fprintf(&b, "pod: {namespace: %s, name: %s, uid: %s}\n", yamlString(sc.Pod.Namespace), yamlString(sc.Pod.Name), yamlString(sc.Pod.UID))
	}
	if len(sc.Images) > 0 {
		var quoted []string
		for _, img := range sc.Images {
			quoted = append(quoted, yamlString(img))
		}
		b.WriteString("images: [" + strings.Join(quoted, ", ") + "]\n")
	}
	b.WriteString("spec:\n")
	b.WriteString(indent(specYAML(sc.Spec), "  "))
	lines := sc.scriptLines()
	if len(lines) > 0 {
		b.WriteString("script: |\n")
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

// GoString is Format, so that a rapid counterexample prints as a scenario file.
func (sc Scenario) GoString() string { return "\n" + sc.Format() }

func yamlString(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func indent(s, by string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(by + l)
		}
	}
	return b.String()
}

// specYAML is spec in block YAML with the API's field names, in the API's order.
func specYAML(spec podlife.PodSpec) string {
	js, err := json.Marshal(spec)
	if err != nil {
		return "{}\n"
	}
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return string(js) + "\n"
	}
	blockStyle(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return string(js) + "\n"
	}
	return b.String()
}

// blockStyle drops the flow and quoting styles JSON gave n, but where a plain scalar would read
// as another type ("true", "1" as strings).
func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!str" && !plainString(n.Value) {
			return // quoted, as it must be
		}
		n.Style = 0
		return
	}
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// plainString reports whether s written plain in YAML reads back as the string s.
func plainString(s string) bool {
	if s == "" || strings.ContainsAny(s, "\n\t") {
		return false
	}
	out, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
	if err != nil || strings.HasPrefix(string(out), "\"") || strings.HasPrefix(string(out), "'") {
		return false
	}
	var back any
	if yaml.Unmarshal(out, &back) != nil {
		return false
	}
	str, ok := back.(string)
	return ok && str == s
}

func dur(d time.Duration) string { return d.String() }

// scriptLines are the scenario's directives.
func (sc Scenario) scriptLines() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	times := func(n int) string {
		if n >= always {
			return ""
		}
		return " times " + strconv.Itoa(n)
	}
	var names []string
	for _, list := range [][]podlife.Container{sc.Spec.InitContainers, sc.Spec.Containers} {
		for _, c := range list {
			names = append(names, c.Name)
		}
	}
	for name := range sc.Script.Containers {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		s, ok := sc.Script.Containers[name]
		if !ok {
			continue
		}
		for i := 0; i < len(s.Runs); {
			j := i + 1
			for j < len(s.Runs) && s.Runs[j] == s.Runs[i] {
				j++
			}
			add("run %s %s", name, runText(s.Runs[i], j-i))
			i = j
		}
		for _, h := range []struct {
			name string
			hs   simruntime.HookScript
		}{{"postStart", s.PostStart}, {"preStop", s.PreStop}} {
			if h.hs == (simruntime.HookScript{}) {
				continue
			}
			l := fmt.Sprintf("hook %s %s %s", name, h.name, dur(h.hs.Took))
			if h.hs.Fail || h.hs.Failures > 0 {
				l += " fail"
				if h.hs.Message != "" {
					l += " " + strconv.Quote(h.hs.Message)
				}
			}
			if h.hs.Failures > 0 {
				l += " times " + strconv.Itoa(h.hs.Failures)
			}
			out = append(out, l)
		}
		for _, k := range []probe.Kind{probe.Startup, probe.Liveness, probe.Readiness} {
			ps, ok := s.Probes[k]
			if !ok {
				continue
			}
			kind := strings.ToLower(k.String())
			if ps.Fail {
				l := fmt.Sprintf("probe %s %s fail after %s", name, kind, dur(ps.FailFrom))
				if ps.FailUntil > 0 {
					l += " until " + dur(ps.FailUntil)
				}
				if ps.Message != "" {
					l += " message " + strconv.Quote(ps.Message)
				}
				out = append(out, l)
			}
			for _, w := range ps.Windows {
				what := "fail"
				if w.Error {
					what = "error"
				}
				l := fmt.Sprintf("probe %s %s %s", name, kind, what)
				if w.From > 0 {
					l += " from " + dur(w.From)
				}
				if w.Until > 0 {
					l += " until " + dur(w.Until)
				}
				if w.Message != "" {
					l += " message " + strconv.Quote(w.Message)
				}
				out = append(out, l)
			}
			if ps.Took > 0 {
				add("probe %s %s took %s", name, kind, dur(ps.Took))
			}
		}
		if p := s.Pull; p != (simruntime.Pull{}) {
			l := "pull " + name
			switch {
			case p.FailsAlways:
				l += " fail" // every pull fails: FailUntil adds nothing
			case p.Failures > 0 || p.FailUntil > 0:
				l += " fail"
				if p.Failures > 0 {
					l += " times " + strconv.Itoa(p.Failures)
				}
				if p.FailUntil > 0 {
					l += " until " + dur(p.FailUntil)
				}
			}
			if p.Delay > 0 {
				l += " delay " + dur(p.Delay)
			}
			out = append(out, l)
		}
		if s.CreateFails > 0 {
			l := "create " + name + " fail"
			if s.CreateFailReason != "" {
				l += " " + s.CreateFailReason
			}
			out = append(out, l+times(s.CreateFails))
		}
	}
	ps := sc.Script
	if ps.SetupFails > 0 {
		l := "setup fail"
		if ps.SetupFailMessage != "" {
			l += " " + strconv.Quote(ps.SetupFailMessage)
		}
		out = append(out, l+times(ps.SetupFails))
	}
	if ps.SetupDelay > 0 {
		add("setup delay %s", dur(ps.SetupDelay))
	}
	if ps.SandboxFails > 0 {
		add("sandbox fail%s", times(ps.SandboxFails))
	}
	if ps.SandboxNoIP > 0 {
		add("sandbox noIP%s", times(ps.SandboxNoIP))
	}
	if ps.SandboxDelay > 0 {
		add("sandbox delay %s", dur(ps.SandboxDelay))
	}
	if ps.SandboxLostAt > 0 {
		add("sandbox lost after %s", dur(ps.SandboxLostAt))
	}
	for _, op := range sc.SortedOps() {
		out = append(out, op.String())
	}
	if sc.Until > 0 {
		add("until %s", dur(sc.Until))
	}
	return out
}

func runText(r simruntime.Run, n int) string {
	var b strings.Builder
	if r.For > 0 {
		fmt.Fprintf(&b, "for %s exit %d", dur(r.For), r.ExitCode)
	} else {
		b.WriteString("forever")
	}
	if n > 1 {
		fmt.Fprintf(&b, " times %d", n)
	}
	if r.IgnoreTerm {
		b.WriteString(" ignoreTerm")
	}
	if r.TermDelay > 0 {
		b.WriteString(" termDelay " + dur(r.TermDelay))
	}
	if r.GracefulExit {
		b.WriteString(" gracefulExit")
	}
	if r.OOM {
		b.WriteString(" oom")
	}
	if r.StartFails {
		b.WriteString(" startFails")
	}
	if r.UnknownAfter > 0 {
		b.WriteString(" unknownAfter " + dur(r.UnknownAfter))
	}
	return b.String()
}
