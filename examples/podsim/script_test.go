package main

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/probe"
	"github.com/stretchr/testify/require"
)

// jsonFields are the JSON names of a struct's fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

// lowerCamel is a Go field name as the -script JSON spells it: OOM -> oom, FailFrom -> failFrom.
func lowerCamel(s string) string {
	if strings.ToUpper(s) == s {
		return strings.ToLower(s)
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Every knob of simruntime's scripts can be set from -script: when simruntime grows a field,
// this fails until the JSON form has it too. The JSON form's own conveniences are named here.
func TestScriptJSONCoversSimruntime(t *testing.T) {
	extra := map[string][]string{"Run": {"times"}}
	for _, pair := range []struct{ sim, js any }{
		{simruntime.PodScript{}, podScriptJSON{}},
		{simruntime.Script{}, scriptJSON{}},
		{simruntime.Run{}, runJSON{}},
		{simruntime.Pull{}, pullJSON{}},
		{simruntime.HookScript{}, hookJSON{}},
		{simruntime.ProbeScript{}, probeScriptJSON{}},
	} {
		st := reflect.TypeOf(pair.sim)
		var want []string
		for f := range st.Fields() {
			if f.IsExported() {
				want = append(want, lowerCamel(f.Name))
			}
		}
		want = append(want, extra[st.Name()]...)
		got := jsonFields(reflect.TypeOf(pair.js))
		require.ElementsMatch(t, want, got, "simruntime.%s", st.Name())
	}
}

// Every field set, to JSON and back.
func TestScriptRoundTripEveryField(t *testing.T) {
	spec := podlife.PodSpec{Containers: []podlife.Container{{
		Name: "app", Image: "busybox:1.36",
		StartupProbe:   &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}},
		LivenessProbe:  &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}},
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}},
		Lifecycle: &podlife.Lifecycle{
			PostStart: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}},
			PreStop:   &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 3}},
		},
	}}}
	require.NoError(t, spec.Validate())
	ps := simruntime.PodScript{
		SetupDelay: time.Second, SetupFails: 1, SetupFailMessage: "no volume", SandboxDelay: 2 * time.Second, SandboxFails: 2, SandboxNoIP: 1, SandboxLostAt: time.Minute,
		Containers: map[string]simruntime.Script{"app": {
			Runs: []simruntime.Run{
				{For: 1500 * time.Millisecond, ExitCode: 3, StartFails: true},
				{For: time.Hour, OOM: true},
				{IgnoreTerm: true, TermDelay: 90 * time.Second, UnknownAfter: 5 * time.Minute},
			},
			Pull:             simruntime.Pull{Delay: time.Second, Failures: 2, FailsAlways: true, FailUntil: 40 * time.Second},
			CreateFails:      1,
			CreateFailReason: "CreateContainerConfigError",
			PostStart:        simruntime.HookScript{Took: time.Second, Fail: true, Failures: 2, Message: "refused"},
			PreStop:          simruntime.HookScript{Took: 2 * time.Second},
			Probes: map[probe.Kind]simruntime.ProbeScript{
				probe.Startup:  {Fail: true, FailUntil: 10 * time.Second},
				probe.Liveness: {Fail: true, FailFrom: time.Minute, Message: "dead"},
				probe.Readiness: {Took: 2 * time.Second, Windows: []simruntime.ProbeWindow{
					{From: 40 * time.Second, Until: time.Minute, Error: true, Message: "no route"}, {From: 2 * time.Minute}}},
			},
		}},
	}
	data, err := json.Marshal(scriptToJSON(ps))
	require.NoError(t, err)
	back, err := parseScript(data, &spec)
	require.NoError(t, err)
	require.Equal(t, ps, back)
	require.Contains(t, string(data), `"for":"1.5s"`)
	require.Contains(t, string(data), `"termDelay":"1m30s"`)

	// The empty script is the zero PodScript.
	empty, err := parseScript([]byte(`{}`), &spec)
	require.NoError(t, err)
	require.Equal(t, simruntime.PodScript{}, empty)
}

// The -script example in the package doc is valid for the demo pod.
func TestDocExampleScriptParses(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	doc := string(src)
	start := strings.Index(doc, "//\t{\n")
	end := strings.Index(doc, "\n//\t}\n")
	require.True(t, start >= 0 && end > start, "the package doc has an indented JSON example")
	var lines []string
	for _, l := range strings.Split(doc[start:end+len("\n//\t}")], "\n") {
		lines = append(lines, strings.TrimPrefix(l, "//\t"))
	}
	spec := demoSpec()
	ps, err := parseScript([]byte(strings.Join(lines, "\n")), &spec)
	require.NoError(t, err)
	require.Equal(t, 20*time.Second, ps.Containers["web"].Runs[0].For)
	require.Equal(t, 90*time.Second, ps.Containers["web"].Probes[probe.Readiness].FailUntil)
}
