package simruntime

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
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

// lowerCamel is a Go field name as the JSON form spells it: OOM -> oom, FailFrom -> failFrom.
func lowerCamel(s string) string {
	if strings.ToUpper(s) == s {
		return strings.ToLower(s)
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Every knob of the scripts can be set from the JSON form: when a script grows a field, this
// fails until the JSON form has it too. The JSON form's own conveniences are named here.
func TestScriptJSONCoversScripts(t *testing.T) {
	extra := map[string][]string{"Run": {"times"}}
	for _, pair := range []struct{ sim, js any }{
		{PodScript{}, PodScriptJSON{}},
		{Script{}, ScriptJSON{}},
		{Run{}, RunJSON{}},
		{Pull{}, PullJSON{}},
		{HookScript{}, HookJSON{}},
		{ProbeScript{}, ProbeScriptJSON{}},
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

func scriptSpec() podlife.PodSpec {
	exec := podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}
	return podlife.PodSpec{Containers: []podlife.Container{{
		Name: "app", Image: "busybox:1.36",
		StartupProbe:   &podlife.Probe{ProbeHandler: exec},
		LivenessProbe:  &podlife.Probe{ProbeHandler: exec},
		ReadinessProbe: &podlife.Probe{ProbeHandler: exec},
		Lifecycle: &podlife.Lifecycle{
			PostStart: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}},
			PreStop:   &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 3}},
		},
	}}}
}

// Every field set, to JSON and back.
func TestScriptJSONRoundTripEveryField(t *testing.T) {
	spec := scriptSpec()
	require.NoError(t, spec.Validate())
	ps := PodScript{
		SetupDelay: time.Second, SetupFails: 1, SetupFailMessage: "no volume", SandboxDelay: 2 * time.Second, SandboxFails: 2, SandboxNoIP: 1, SandboxLostAt: time.Minute,
		Containers: map[string]Script{"app": {
			Runs: []Run{
				{For: 1500 * time.Millisecond, ExitCode: 3, StartFails: true},
				{For: time.Hour, OOM: true},
				{IgnoreTerm: true, TermDelay: 90 * time.Second, UnknownAfter: 5 * time.Minute},
			},
			Pull:             Pull{Delay: time.Second, Failures: 2, FailsAlways: true, FailUntil: 40 * time.Second},
			CreateFails:      1,
			CreateFailReason: "CreateContainerConfigError",
			PostStart:        HookScript{Took: time.Second, Fail: true, Failures: 2, Message: "refused"},
			PreStop:          HookScript{Took: 2 * time.Second},
			Probes: map[probe.Kind]ProbeScript{
				probe.Startup:  {Fail: true, FailUntil: 10 * time.Second},
				probe.Liveness: {Fail: true, FailFrom: time.Minute, Message: "dead"},
				probe.Readiness: {Took: 2 * time.Second, Windows: []ProbeWindow{
					{From: 40 * time.Second, Until: time.Minute, Error: true, Message: "no route"}, {From: 2 * time.Minute}}},
			},
		}},
	}
	data, err := FormatPodScript(ps)
	require.NoError(t, err)
	back, err := ParsePodScript(data, &spec)
	require.NoError(t, err)
	require.Equal(t, ps, back)
	compact, err := json.Marshal(scriptToJSON(ps))
	require.NoError(t, err)
	for _, want := range []string{`"for":"1.5s"`, `"termDelay":"1m30s"`, `"sandboxLostAt":"1m"`, `"for":"1h"`, `"unknownAfter":"5m"`} {
		require.Contains(t, string(compact), want)
	}

	// The empty script is the zero PodScript.
	empty, err := ParsePodScript([]byte(`{}`), &spec)
	require.NoError(t, err)
	require.Equal(t, PodScript{}, empty)
}

// Every problem is reported at once, each with its JSON path; JSON errors say where they are.
func TestParsePodScriptErrors(t *testing.T) {
	spec := scriptSpec()
	for _, tc := range []struct{ name, script, want string }{
		{"unknown container", `{"containers": {"web": {}}}`, `containers.web: the pod has no container "web" (it has app)`},
		{"bad duration", `{"setupDelay": "soon"}`, `setupDelay: "soon" is not a duration`},
		{"negative count", `{"sandboxFails": -1}`, `sandboxFails: -1 is negative`},
		{"run times negative", `{"containers": {"app": {"runs": [{"for": "1s", "times": -1}]}}}`, `containers.app.runs[0].times: -1 is not from 1 to 10000`},
		{"run times too many", `{"containers": {"app": {"runs": [{}, {"times": 10001}]}}}`, `containers.app.runs[1].times: 10001 is not from 1 to 10000`},
		{"pull failUntil not a duration", `{"containers": {"app": {"pull": {"failUntil": "40"}}}}`, `containers.app.pull.failUntil: "40" is not a duration`},
		{"exit code needs for", `{"containers": {"app": {"runs": [{"exitCode": 1}]}}}`, `containers.app.runs[0]: exitCode and oom need "for"`},
		{"window ends before it starts", `{"containers": {"app": {"probes": {"readiness": {"windows": [{"from": "1m", "until": "30s"}]}}}}}`,
			`containers.app.probes.readiness.windows[0].until: 30s is not after from 1m`},
		{"negative hook failures", `{"containers": {"app": {"postStart": {"failures": -1}}}}`, `containers.app.postStart.failures: -1 is negative`},
		{"unknown probe kind", `{"containers": {"app": {"probes": {"ready": {}}}}}`, `containers.app.probes.ready: unknown probe kind "ready"`},
		{"unknown field", `{"setupDelays": "1s"}`, `line 1, column 21: unknown field "setupDelays"`},
		{"trailing data", `{} {}`, `line 1, column 4: unexpected data after the JSON value`},
		{"empty", ` `, `empty input, want a JSON object`},
		{"two problems", `{"setupDelay": "-1s", "containers": {"app": {"createFailReason": "Nope"}}}`,
			`setupDelay: -1s is negative; containers.app.createFailReason: "Nope" is not CreateContainerError or CreateContainerConfigError`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePodScript([]byte(tc.script), &spec)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// A run's times stands for that many runs in a row; a program that decodes the JSON form itself
// gets every problem apart, with its path.
func TestPodScriptJSON(t *testing.T) {
	spec := scriptSpec()
	js := PodScriptJSON{Containers: map[string]ScriptJSON{"app": {Runs: []RunJSON{{For: "1s", ExitCode: 1, Times: 3}, {}}}}}
	ps, err := js.PodScript(&spec)
	require.NoError(t, err)
	crash := Run{For: time.Second, ExitCode: 1}
	require.Equal(t, []Run{crash, crash, crash, {}}, ps.Containers["app"].Runs)

	js = PodScriptJSON{SetupDelay: "-1s", Containers: map[string]ScriptJSON{"app": {Pull: &PullJSON{FailUntil: "soon"}}}}
	_, err = js.PodScript(&spec)
	var errs ScriptErrors
	require.ErrorAs(t, err, &errs)
	require.Equal(t, ScriptErrors{
		{Path: "setupDelay", Detail: "-1s is negative"},
		{Path: "containers.app.pull.failUntil", Detail: `"soon" is not a duration (write e.g. "20s", "1m30s")`},
	}, errs)
}
