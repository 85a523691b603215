package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/lifecycle/simruntime"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs (testdata/, examples/scenarios/*.txt) from the current behaviour")

// runCmd runs the command as main would and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// golden compares got with testdata/name, or rewrites it under -rewrite.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenAt(t, filepath.Join("testdata", name), got)
}

// The whole demo output, so that any change of behaviour shows as a diff.
func TestDemoGolden(t *testing.T) {
	code, stdout, stderr := runCmd(t)
	require.Equal(t, exitOK, code, stderr)
	require.Empty(t, stderr)
	golden(t, "demo.txt", stdout)
}

func TestDemoIsDeterministic(t *testing.T) {
	_, first, _ := runCmd(t)
	for range 3 {
		_, again, _ := runCmd(t)
		require.Equal(t, first, again)
	}
}

// demoRows simulates the demo pod as the command does without flags.
func demoRows(t *testing.T) *result {
	t.Helper()
	opts, err := parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	sc, err := load(opts)
	require.NoError(t, err)
	res, err := simulate(sc)
	require.NoError(t, err)
	return res
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// find is the first row at or after from whose event starts with prefix.
func find(t *testing.T, rows []row, from time.Duration, prefix string) row {
	t.Helper()
	for _, r := range rows {
		if r.At >= from && strings.HasPrefix(r.Event, prefix) {
			return r
		}
	}
	t.Fatalf("no row from %s with an event starting %q", fmtDur(from), prefix)
	return row{}
}

func rowsWith(rows []row, prefix string) []row {
	var out []row
	for _, r := range rows {
		if strings.HasPrefix(r.Event, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func TestDemoStartup(t *testing.T) {
	rows := demoRows(t).rows
	first := rows[0]
	assert.Equal(t, row{At: 0, Phase: "Pending", Status: "Init:0/2", Ready: "0/2", Restarts: "0", Event: "pod bound to the node"}, first)

	// migrate runs 3 s; then the sidecar starts, and the next step waits for its startup probe.
	done := find(t, rows, 0, "migrate exited 0 (Completed)")
	assert.Equal(t, sec(3), done.At)
	assert.Equal(t, "Init:1/2", done.Status)
	failures := rowsWith(rows, "Warning Unhealthy log-shipper: Startup probe failed")
	require.Len(t, failures, 2)
	assert.Equal(t, []time.Duration{sec(3), sec(5)}, []time.Duration{failures[0].At, failures[1].At})
	started := find(t, rows, 0, "log-shipper startup probe: success")
	assert.Equal(t, sec(7), started.At)
	assert.Equal(t, "PodInitializing", started.Status, "started sidecar: past Init:i/M, app not yet created")
	assert.Equal(t, "1/2", started.Ready, "a started sidecar without a readiness probe counts as ready")

	web := find(t, rows, 0, "Started web")
	assert.Equal(t, sec(7), web.At, "web starts only once the sidecar is started")
	assert.Equal(t, "Running", string(web.Phase))
	ready := find(t, rows, 0, "web readiness probe: success")
	assert.Equal(t, sec(7), ready.At)
	assert.Equal(t, "2/2", ready.Ready)
}

// The crash loop: web exits 1 after 20 s three times; the first restart is immediate, then the
// back-off is 10 s and 20 s, each from the exit.
func TestDemoCrashLoopBackOff(t *testing.T) {
	rows := demoRows(t).rows
	exits := rowsWith(rows, "web exited 1 (Error)")
	require.Len(t, exits, 3)
	assert.Equal(t, []time.Duration{sec(27), sec(47), sec(77)}, []time.Duration{exits[0].At, exits[1].At, exits[2].At})
	assert.Equal(t, "Error", exits[0].Status, "after the first crash the status stays Terminated: the restart is immediate")
	assert.Equal(t, "CrashLoopBackOff", exits[1].Status)
	assert.Equal(t, "CrashLoopBackOff", exits[2].Status)

	starts := rowsWith(rows, "Started web")
	require.Len(t, starts, 4)
	var backoffs []time.Duration
	for i, e := range exits {
		backoffs = append(backoffs, starts[i+1].At-e.At)
	}
	assert.Equal(t, []time.Duration{0, sec(10), sec(20)}, backoffs)

	warnings := rowsWith(rows, "Warning BackOff web: Back-off restarting failed container web in pod shop_default(7f3e2a)")
	require.Len(t, warnings, 2, "no BackOff event for the immediate first restart")
	assert.Equal(t, sec(47), warnings[0].At)
	assert.Equal(t, sec(77), warnings[1].At)

	for i, want := range []string{"0", "1 (0s ago)", "2 (10s ago)", "3 (20s ago)"} {
		assert.Equal(t, want, starts[i].Restarts, "start %d", i)
		assert.Equal(t, "Running", starts[i].Status, "start %d", i)
	}
	assert.Equal(t, "1 (10s ago)", find(t, rows, sec(57), "Pulled web").Restarts, "kubectl's age of the last termination")
}

// The readiness probe fails from 60 s to 90 s into the running instance (started 1m37s): after
// three failures (period 5 s) READY drops to 1/2, one success brings it back.
func TestDemoReadinessFlips(t *testing.T) {
	rows := demoRows(t).rows
	unhealthy := rowsWith(rows, "Warning Unhealthy web: Readiness probe failed: db pool exhausted")
	require.Len(t, unhealthy, 6)
	assert.Equal(t, sec(157), unhealthy[0].At)
	assert.Equal(t, "2/2", unhealthy[0].Ready)
	assert.Equal(t, "2/2", unhealthy[1].Ready)
	assert.Equal(t, sec(167), unhealthy[2].At)
	assert.Equal(t, "1/2", unhealthy[2].Ready, "the third failure reaches failureThreshold")
	assert.Equal(t, "Running", unhealthy[2].Status, "readiness never kills")

	back := find(t, rows, sec(167), "web readiness probe: success")
	assert.Equal(t, sec(187), back.At)
	assert.Equal(t, "2/2", back.Ready)
	for _, r := range rows {
		if r.At > sec(97) && r.At < sec(300) {
			assert.NotContains(t, r.Event, "exited", "nothing exits between the last crash and the deletion")
		}
	}
}

// The deletion at 5m with the spec's 30 s: Terminating at once, Killing for both, preStop (sleep
// 5 s), then SIGTERM to web with the 25 s left, web exits 2 s later, and only then the sidecar's
// SIGTERM, with what is left of its grace; then the terminal phase.
func TestDemoDeletion(t *testing.T) {
	res := demoRows(t)
	rows := res.rows
	del := find(t, rows, 0, "DeleteRequested")
	assert.Equal(t, row{At: sec(300), Phase: "Running", Status: "Terminating", Ready: "2/2", Restarts: "3 (3m43s ago)",
		Event: "DeleteRequested: grace 30s (the spec's terminationGracePeriodSeconds)"}, del)

	for _, want := range []struct {
		at    float64
		event string
	}{
		{300, "Killing log-shipper: Stopping container log-shipper"},
		{300, "Killing web: Stopping container web"},
		{300, "web preStop hook: sleep 5s"},
		{305, "stop web: SIGTERM now, SIGKILL after 25s"},
		{307, "web exited 0 (Completed)"},
		{307, "stop log-shipper: SIGTERM now, SIGKILL after 23s"},
		{308, "log-shipper exited 0 (Completed)"},
		{308, "sandbox stopped"},
	} {
		r := find(t, rows, sec(300), want.event)
		assert.Equal(t, sec(want.at), r.At, want.event)
	}
	stopWeb := find(t, rows, sec(300), "stop web")
	stopSidecar := find(t, rows, sec(300), "stop log-shipper")
	webExit := find(t, rows, sec(300), "web exited")
	assert.Less(t, stopWeb.At, stopSidecar.At, "the sidecar is stopped last")
	assert.LessOrEqual(t, webExit.At, stopSidecar.At, "the sidecar's signal waits for the app container")

	var i int
	for i = range rows {
		if rows[i].At >= sec(300) {
			break
		}
	}
	last := rows[len(rows)-1]
	for _, r := range rows[i : len(rows)-1] {
		if r.Phase != last.Phase {
			assert.Equal(t, "Terminating", r.Status, "%s %s", fmtDur(r.At), r.Event)
		}
	}
	assert.Equal(t, "1/2", webExit.Ready, "web is no longer ready once it exited")
	assert.Equal(t, row{At: sec(308), Phase: "Succeeded", Status: "Completed", Ready: "0/2", Restarts: "3 (3m51s ago)", Event: "sandbox stopped"}, last,
		"a deleted pod ends in a terminal phase by its exit codes: both drained and exited 0")
	assert.True(t, res.stopped)
	assert.Equal(t, sec(308), res.end)
}

func TestDemoOutputReads(t *testing.T) {
	_, out, _ := runCmd(t)
	lines := strings.Split(out, "\n")
	require.Equal(t, "Pod default/shop (the built-in demo pod) on simruntime's simulated node, in virtual time.", lines[0])
	header := lines[2]
	require.Regexp(t, `^TIME +PHASE +STATUS +READY +RESTARTS +EVENT$`, header)
	col := func(name string) int { return strings.Index(header, name) }
	// Aligned: every row has its cells start under the header's.
	n := 0
	for _, l := range lines[3:] {
		if l == "" {
			break
		}
		n++
		for _, c := range []string{"PHASE", "STATUS", "READY", "RESTARTS", "EVENT"} {
			require.NotEqual(t, ' ', rune(l[col(c)]), "%q: column %s", l, c)
			require.Equal(t, ' ', rune(l[col(c)-1]), "%q: column %s", l, c)
		}
	}
	require.Equal(t, len(demoRows(t).rows), n)
	require.Contains(t, out, "\n1m17s  Running    CrashLoopBackOff  1/2    2 (0s ago)     web exited 1 (Error)\n")
	require.Contains(t, out, "\n5m     Running    Terminating       2/2    3 (3m43s ago)  DeleteRequested")
	require.True(t, strings.HasSuffix(out, "\nThe pod stopped at 5m8s in phase Succeeded; nothing more will happen to it.\n"), out)
}

func TestGraceFlag(t *testing.T) {
	code, out, stderr := runCmd(t, "-grace", "3")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "DeleteRequested: grace 3s\n")
	// preStop gets at most the grace; the stop signal then has the 2 s floor.
	require.Regexp(t, `\n5m3s +Running +Terminating .* stop web: SIGTERM now, SIGKILL after 2s\n`, out)

	code, out, stderr = runCmd(t, "-delete-at", "0", "-until", "4m")
	require.Equal(t, exitOK, code, stderr)
	require.NotContains(t, out, "DeleteRequested")
	require.NotContains(t, out, "Terminating")
	require.True(t, strings.HasSuffix(out, "\nVirtual time ran out at 4m (-until) with the pod in phase Running.\n"), out)
}

// The demo's spec and script, as JSON files (testdata/demo-spec.json, demo-script.json), give
// the demo's timeline through -spec and -script; and they read back as what they were made of.
func TestSpecAndScriptRoundTrip(t *testing.T) {
	specJSON, err := json.MarshalIndent(demoSpec(), "", "  ")
	require.NoError(t, err)
	scriptJSON, err := simruntime.FormatPodScript(demoScript())
	require.NoError(t, err)
	golden(t, "demo-spec.json", string(specJSON)+"\n")
	golden(t, "demo-script.json", string(scriptJSON)+"\n")

	spec, err := parseSpec(specJSON)
	require.NoError(t, err)
	require.Equal(t, demoSpec(), spec)
	ps, err := parseScript(scriptJSON, &spec)
	require.NoError(t, err)
	require.Equal(t, demoScript(), ps)

	_, want, _ := runCmd(t)
	code, got, stderr := runCmd(t, "-spec", "testdata/demo-spec.json", "-script", "testdata/demo-script.json")
	require.Equal(t, exitOK, code, stderr)
	_, wantBody, _ := strings.Cut(want, "\n")
	intro, gotBody, _ := strings.Cut(got, "\n")
	require.Equal(t, "Pod default/podsim (spec testdata/demo-spec.json, script testdata/demo-script.json) on simruntime's simulated node, in virtual time.", intro)
	require.Equal(t, strings.ReplaceAll(wantBody, "shop_default", "podsim_default"), gotBody)

	// -script alone scripts the demo pod.
	code, got, stderr = runCmd(t, "-script", "testdata/demo-script.json")
	require.Equal(t, exitOK, code, stderr)
	_, gotBody, _ = strings.Cut(got, "\n")
	require.Equal(t, wantBody, gotBody)
}

// A user's own pod: the OOM example of the package doc.
func TestUserScenario(t *testing.T) {
	code, out, stderr := runCmd(t, "-spec", "testdata/oom-spec.json", "-script", "testdata/oom-script.json", "-delete-at", "0", "-until", "10m")
	require.Equal(t, exitOK, code, stderr)
	require.Empty(t, stderr)
	for _, want := range []string{
		"\n0s     Pending    ContainerCreating  0/1    0             pod bound to the node\n",
		"\n4s     Running    Running            1/1    0             Started report: Started container report\n",
		"\n49s    Running    OOMKilled          0/1    0             report exited 137 (OOMKilled)\n",
		"\n1m34s  Running    CrashLoopBackOff   0/1    1 (0s ago)    report exited 137 (OOMKilled)\n",
		"\n1m44s  Running    Running            1/1    2 (10s ago)   Started report: Started container report\n",
		"\n3m14s  Succeeded  Completed          0/1    2 (100s ago)  report exited 0 (Completed)\n",
		"\nThe pod stopped at 3m14s in phase Succeeded; nothing more will happen to it.\n",
	} {
		require.Contains(t, out, want)
	}

	// Without a script the containers run until stopped.
	code, out, stderr = runCmd(t, "-spec", "testdata/oom-spec.json", "-delete-at", "1m", "-grace", "0")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "no script: containers run until stopped")
	require.Contains(t, out, "DeleteRequested: grace 0s\n")
	require.Contains(t, out, "stop report: SIGTERM now, SIGKILL after 2s\n", "a forced delete still has the 2 s floor")
	require.Contains(t, out, "in phase Failed")
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.json")
	for _, tc := range []struct {
		name  string
		flags []string
		// spec and script, when set, are written to spec.json and script.json and passed
		// with -spec and -script.
		spec, script string
		want         string
	}{
		{name: "unknown flag", flags: []string{"-nope"}, want: "flag provided but not defined: -nope"},
		{name: "bad duration", flags: []string{"-until", "soon"}, want: `invalid value "soon" for flag -until`},
		{name: "argument", flags: []string{"extra"}, want: `unexpected argument "extra": podsim takes only flags`},
		{name: "until zero", flags: []string{"-until", "0"}, want: "-until 0s: want a positive duration"},
		{name: "until too long", flags: []string{"-until", "25h"}, want: "-until 25h: at most 24h"},
		{name: "delete negative", flags: []string{"-delete-at", "-1s"}, want: "-delete-at -1s: want 0 (never) or a positive duration"},
		{name: "delete after until", flags: []string{"-delete-at", "20m"}, want: "-delete-at 20m is after -until 15m"},
		{name: "grace below -1", flags: []string{"-grace", "-2"}, want: "-grace -2: want -1 (the spec's) or a number of seconds from 0"},
		{name: "grace without delete", flags: []string{"-grace", "5", "-delete-at", "0"}, want: "-grace 5 needs a deletion"},
		{name: "svg over input", flags: []string{"-spec", "a.json", "-svg", "a.json"}, want: "-svg a.json would overwrite an input file"},
		{name: "missing spec", flags: []string{"-spec", missing}, want: "-spec: open " + missing + ": no such file or directory"},
		{name: "missing script", flags: []string{"-script", missing}, want: "-script: open " + missing},

		{name: "spec not JSON", spec: "containers: []", want: "spec.json: line 1, column 1: invalid JSON: invalid character 'c'"},
		{name: "spec empty", spec: " ", want: "spec.json: empty input, want a JSON object"},
		{name: "spec unknown field", spec: `{"containerz": []}`, want: `spec.json: line 1, column 18: unknown field "containerz"`},
		{name: "spec wrong type", spec: "{\n  \"containers\": {}\n}", want: "spec.json: line 2, column 17: field containers: want an array, got JSON object"},
		{name: "spec trailing data", spec: `{"containers": [{"name": "a", "image": "b"}]} {}`, want: "unexpected data after the JSON value"},
		{name: "spec invalid", spec: `{"containers": [{"name": "app"}]}`, want: "spec.json: spec.containers[0].image: Required value"},

		{name: "script unknown container", script: `{"containers": {"webb": {}}}`,
			want: `script.json: containers.webb: the pod has no container "webb" (it has migrate, log-shipper, web)`},
		{name: "script bad duration", script: `{"containers": {"web": {"runs": [{"for": "20"}]}}}`,
			want: `containers.web.runs[0].for: "20" is not a duration (write e.g. "20s", "1m30s")`},
		{name: "script negative duration", script: `{"setupDelay": "-1s"}`, want: "setupDelay: -1s is negative"},
		{name: "script wrong type", script: `{"containers": {"web": {"runs": [{"exitCode": "1"}]}}}`,
			want: "line 1, column 49: field containers.runs.exitCode: want an integer, got JSON string"},
		{name: "script unknown field", script: `{"containers": {"web": {"runs": [{"fro": "1s"}]}}}`, want: `unknown field "fro"`},
		{name: "script exit code range", script: `{"containers": {"web": {"runs": [{"for": "1s", "exitCode": 300}]}}}`,
			want: "containers.web.runs[0].exitCode: 300 is not from 0 to 255"},
		{name: "script exit without for", script: `{"containers": {"web": {"runs": [{"exitCode": 1}]}}}`,
			want: `containers.web.runs[0]: exitCode and oom need "for"`},
		{name: "script probe kind", script: `{"containers": {"web": {"probes": {"ready": {}}}}}`,
			want: `containers.web.probes.ready: unknown probe kind "ready" (want startup, liveness or readiness)`},
		{name: "script missing probe", script: `{"containers": {"log-shipper": {"probes": {"liveness": {"fail": true}}}}}`,
			want: "containers.log-shipper.probes.liveness: container log-shipper has no livenessProbe"},
		{name: "script probe window", script: `{"containers": {"web": {"probes": {"readiness": {"fail": true, "failFrom": "1m", "failUntil": "30s"}}}}}`,
			want: "containers.web.probes.readiness.failUntil: 30s is not after failFrom 1m"},
		{name: "script probe window without fail", script: `{"containers": {"web": {"probes": {"readiness": {"failFrom": "1m"}}}}}`,
			want: `containers.web.probes.readiness: failFrom, failUntil and message need "fail": true`},
		{name: "script missing hook", script: `{"containers": {"web": {"postStart": {"fail": true}}}}`,
			want: "containers.web.postStart: container web has no postStart hook"},
		{name: "script create reason", script: `{"containers": {"web": {"createFails": 1, "createFailReason": "Oops"}}}`,
			want: `containers.web.createFailReason: "Oops" is not CreateContainerError or CreateContainerConfigError`},
		{name: "script several problems", script: `{"sandboxFails": -1, "containers": {"nope": {}}}`,
			want: `sandboxFails: -1 is negative; containers.nope: the pod has no container "nope"`},
		{name: "script checked against -spec", spec: `{"containers": [{"name": "app", "image": "busybox:1.36"}]}`, script: `{"containers": {"web": {}}}`,
			want: `containers.web: the pod has no container "web" (it has app)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.flags
			if tc.spec != "" {
				args = append(args, "-spec", writeFile(t, dir, "spec.json", tc.spec))
			}
			if tc.script != "" {
				args = append(args, "-script", writeFile(t, dir, "script.json", tc.script))
			}
			code, stdout, stderr := runCmd(t, args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "podsim: ")
			assert.Contains(t, stderr, tc.want)
			assert.Contains(t, stderr, "Run 'go run ./examples/podsim -h' for the flags.")
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, stderr := runCmd(t, "-h")
	require.Equal(t, exitOK, code)
	require.Empty(t, stdout)
	for _, flag := range []string{"-svg FILE", "-spec FILE", "-script FILE", "-delete-at duration", "-grace SECONDS", "-until duration"} {
		require.Contains(t, stderr, flag)
	}
}

func TestSVGWriteFailureIsARuntimeError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "x.svg")
	code, stdout, stderr := runCmd(t, "-svg", path)
	require.Equal(t, exitFailure, code)
	require.NotEmpty(t, stdout, "the timeline is printed before the picture is written")
	require.Contains(t, stderr, "podsim: -svg: open "+path)
	require.NotContains(t, stderr, "-h' for the flags")
}

func TestReportExitCodes(t *testing.T) {
	var b bytes.Buffer
	assert.Equal(t, exitFailure, report(&b, errors.New("simulation: at 5m the machine refused ...")))
	assert.Equal(t, "podsim: simulation: at 5m the machine refused ...\n", b.String())
	b.Reset()
	assert.Equal(t, exitUsage, report(&b, fmt.Errorf("-spec x.json: %w", usagef("bad"))))
	assert.Contains(t, b.String(), "-h' for the flags")
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", sec(7): "7s", sec(72): "1m12s", sec(300): "5m", sec(3723): "1h2m3s", time.Hour: "1h",
		sec(3605): "1h0m5s", 1500 * time.Millisecond: "1.5s", -sec(3): "-3s",
	} {
		assert.Equal(t, want, fmtDur(d))
		back, err := time.ParseDuration(want)
		require.NoError(t, err)
		assert.Equal(t, d, back)
	}
}
