package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCmd runs the command as main would and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// The lives the scenario scripts, in events. A web pod: setup, sandbox, the init container's
// pull, create, start and exit, the app's pull, create and start, its first readiness run
// (10); a Tick and a readiness result every 10 s from 2 s until the deletion at 90 s (8 times,
// 16); the deletion and the app's exit one second after SIGTERM (2). A flaky pod's app exits 1 at
// 32 s and is restarted at once (the exit, pull, create, start and first readiness run of the
// new instance: 5 more), and its probe grid starts over, one run fewer before the deletion.
const (
	webEvents   = 28
	flakyEvents = webEvents + 5 - 2
)

func TestScaleRunCountsEveryPodAndEvent(t *testing.T) {
	cfg := defaultConfig()
	cfg.pods = 1000
	rep, err := simulate(cfg)
	require.NoError(t, err)
	assert.Equal(t, 1000, rep.Pods)
	assert.Equal(t, 100, rep.Crashing, "10% of the pods, spread evenly")
	assert.Equal(t, 1000, rep.Succeeded+rep.Failed, "every pod is terminal")
	assert.Equal(t, 1000, rep.Succeeded, "the app exits 0 on SIGTERM, so a deleted pod succeeded")
	assert.Equal(t, int64(100), rep.Restarts, "each flaky pod restarted once, the others never")
	assert.Equal(t, uint64(900*webEvents+100*flakyEvents), rep.Events)
	assert.Zero(t, rep.Stale+rep.Superseded)
	assert.Equal(t, time.Minute, rep.IdleAt, "the idle moment is the end of the binding window")
	assert.Equal(t, 1000, rep.IdleLive, "every pod is alive then")
	assert.Greater(t, rep.IdleReady, 950, "all but those bound in the last 2 s (still in their init container) are Ready")
	assert.Greater(t, rep.BytesPerIdlePod, 0.0)
	assert.Greater(t, rep.Wall, time.Duration(0))
	assert.Equal(t, 60*time.Second*999/1000+90*time.Second+time.Second, rep.Virtual,
		"the last pod is bound at 59.94 s, deleted 90 s later and gone a second after")
}

func TestScaleRunWithoutCrashesOrWindow(t *testing.T) {
	rep, err := simulate(config{pods: 200, window: 0, lifetime: time.Minute, crash: 0})
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Crashing)
	assert.Equal(t, int64(0), rep.Restarts)
	assert.Equal(t, 200, rep.Succeeded)
	assert.Equal(t, time.Duration(0), rep.IdleAt, "bound all at once: measured at once")
}

func TestScaleReport(t *testing.T) {
	code, stdout, stderr := runCmd(t, "-pods", "300")
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stderr, "no progress bar when stderr is not a terminal")
	for _, field := range []string{"pods", "machine", "virtual time", "wall time", "cpu time", "events", "events per second",
		"allocations", "peak heap in use", "idle moment", "bytes per idle pod", "terminal pods", "restarts", "dropped events"} {
		found := false
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(line, field+"  ") {
				found = true
			}
		}
		assert.True(t, found, "no %q line in\n%s", field, stdout)
	}
	assert.Contains(t, stdout, "300 (30 crash once)")
	assert.Contains(t, stdout, "300 (300 Succeeded, 0 Failed)")

	code, _, stderr = runCmd(t, "-pods", "50", "-progress")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "100%", "the progress bar ends full")
	assert.Contains(t, stderr, "50/50 pods bound")
}

func TestScaleBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"-pods", "0"}, "-pods 0: want 1 to"},
		{[]string{"-pods", "many"}, "invalid value"},
		{[]string{"-crash", "1.5"}, "-crash 1.5: want a fraction from 0 to 1"},
		{[]string{"-crash", "NaN"}, "want a fraction"},
		{[]string{"-lifetime", "0"}, "-lifetime 0s: want a positive duration"},
		{[]string{"-window", "-1s"}, "-window -1s"},
		{[]string{"-window", "25h"}, "at most 24h"},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, c.args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, c.msg)
		})
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		assert.Equal(t, want, count(n))
	}
}
