package simruntime

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const s = time.Second

var web = lifecycle.PodRef{Namespace: "default", Name: "web"}

// do is World.Do with a copy of the result, which otherwise lives only until the next Do.
func do(w *World, now time.Time, ref lifecycle.PodRef, a lifecycle.Action) []lifecycle.Event {
	return slices.Clone(w.Do(now, ref, a))
}

// happen applies every event due by t, in order, and returns those that held.
func happen(w *World, evs []lifecycle.Event, t time.Time) []lifecycle.Event {
	var held []lifecycle.Event
	for _, ev := range evs {
		if !ev.At.After(t) && w.Happen(ev) {
			held = append(held, ev)
		}
	}
	return held
}

// sandboxUp sets up web and runs its sandbox at t0; it returns the sandbox ID.
func sandboxUp(t *testing.T, w *World) string {
	t.Helper()
	require.Equal(t, lifecycle.SetupDone, do(w, t0, web, lifecycle.Action{Type: lifecycle.SetupPod})[0].Type)
	evs := do(w, t0, web, lifecycle.Action{Type: lifecycle.RunSandbox})
	require.Equal(t, lifecycle.SandboxReady, evs[0].Type)
	require.True(t, w.Happen(evs[0]))
	return evs[0].SandboxID
}

// created creates instance attempt of name in sb at now and returns its ID.
func created(t *testing.T, w *World, now time.Time, sb, name string, attempt int32) string {
	t.Helper()
	evs := do(w, now, web, lifecycle.Action{Type: lifecycle.CreateContainer, Container: name, Attempt: attempt, SandboxID: sb})
	require.Len(t, evs, 1)
	require.Equal(t, lifecycle.ContainerCreated, evs[0].Type, evs[0].Message)
	return evs[0].ContainerID
}

func exited(id string, d time.Duration, code, signal int32, reason string) lifecycle.Event {
	return lifecycle.Event{Type: lifecycle.ContainerExited, At: at(d), ContainerID: id, ExitCode: code, Signal: signal, Reason: reason}
}

func TestWorldRuns(t *testing.T) {
	const id = "default/web/app/0"
	started := lifecycle.Event{Type: lifecycle.ContainerStarted, At: t0, ContainerID: id}
	cases := []struct {
		name    string
		script  Script
		attempt int32
		stopAt  time.Duration // when not 0, StopContainer then, after applying what came before
		timeout time.Duration
		want    []lifecycle.Event
	}{
		{"the zero run runs until stopped and exits on SIGTERM at once", Script{}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 10*s, 143, 15, phase.ReasonError)}},
		{"For and ExitCode give a natural exit", Script{Runs: []Run{{For: 5 * s, ExitCode: 2}}}, 0, 0, 0,
			[]lifecycle.Event{started, exited(id, 5*s, 2, 0, phase.ReasonError)}},
		{"exit 0 is Completed", Script{Runs: []Run{{For: 5 * s}}}, 0, 0, 0,
			[]lifecycle.Event{started, exited(id, 5*s, 0, 0, phase.ReasonCompleted)}},
		{"OOM exits 137 OOMKilled", Script{Runs: []Run{{For: 5 * s, ExitCode: 1, OOM: true}}}, 0, 0, 0,
			[]lifecycle.Event{started, exited(id, 5*s, 137, 9, phase.ReasonOOMKilled)}},
		{"TermDelay within the timeout exits 143", Script{Runs: []Run{{TermDelay: 4 * s}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 14*s, 143, 15, phase.ReasonError)}},
		{"GracefulExit exits 0 Completed on the stop signal", Script{Runs: []Run{{TermDelay: 4 * s, GracefulExit: true}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 14*s, 0, 0, phase.ReasonCompleted)}},
		{"GracefulExit too slow is still SIGKILLed at the timeout", Script{Runs: []Run{{TermDelay: 40 * s, GracefulExit: true}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 40*s, 137, 9, phase.ReasonError)}},
		{"TermDelay beyond the timeout is SIGKILLed at the timeout", Script{Runs: []Run{{TermDelay: 40 * s}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 40*s, 137, 9, phase.ReasonError)}},
		{"IgnoreTerm is SIGKILLed exactly at the timeout", Script{Runs: []Run{{IgnoreTerm: true}}}, 0, 10 * s, 2 * s,
			[]lifecycle.Event{started, exited(id, 12*s, 137, 9, phase.ReasonError)}},
		{"a stop after the natural exit does nothing", Script{Runs: []Run{{For: 5 * s, ExitCode: 1}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 5*s, 1, 0, phase.ReasonError)}},
		{"a stop before the natural exit schedules its own exit", Script{Runs: []Run{{For: 60 * s}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, exited(id, 60*s, 0, 0, phase.ReasonCompleted), exited(id, 10*s, 143, 15, phase.ReasonError)}},
		{"UnknownAfter reports an unknown state instead of the exit; the stop signal still acts", Script{Runs: []Run{{For: 60 * s, UnknownAfter: 5 * s}}}, 0, 10 * s, 30 * s,
			[]lifecycle.Event{started, {Type: lifecycle.ContainerUnknown, At: at(5 * s), ContainerID: id}, exited(id, 10*s, 143, 15, phase.ReasonError)}},
		{"UnknownAfter after the natural exit does nothing", Script{Runs: []Run{{For: 5 * s, UnknownAfter: 6 * s}}}, 0, 0, 0,
			[]lifecycle.Event{started, exited(id, 5*s, 0, 0, phase.ReasonCompleted)}},
		{"StartFails fails the start with 128", Script{Runs: []Run{{StartFails: true}}}, 0, 0, 0,
			[]lifecycle.Event{{Type: lifecycle.ContainerStartFailed, At: t0, ContainerID: id, ExitCode: 128, Reason: phase.ReasonStartError,
				Message: "failed to start containerd task: scripted start failure"}}},
		{"attempt i runs Runs[i] and the last repeats", Script{Runs: []Run{{For: s, ExitCode: 1}, {For: 2 * s, ExitCode: 2}}}, 5, 0, 0,
			[]lifecycle.Event{
				{Type: lifecycle.ContainerStarted, At: t0, ContainerID: "default/web/app/5"},
				exited("default/web/app/5", 2*s, 2, 0, phase.ReasonError)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": c.script}})
			sb := sandboxUp(t, w)
			cid := created(t, w, t0, sb, "app", c.attempt)
			got := do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: cid})
			if c.stopAt > 0 {
				happen(w, got, at(c.stopAt))
				got = append(got, do(w, at(c.stopAt), web, lifecycle.Action{Type: lifecycle.StopContainer, ContainerID: cid, Timeout: c.timeout})...)
			}
			assert.Empty(t, cmp.Diff(c.want, got))
		})
	}
}

func TestWorldUnknownState(t *testing.T) {
	const id = "default/web/app/0"
	w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Runs: []Run{{UnknownAfter: 5 * s}}}}})
	sb := sandboxUp(t, w)
	cid := created(t, w, t0, sb, "app", 0)
	evs := do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: cid})
	require.Len(t, evs, 2)
	unknown := evs[1]
	require.Equal(t, lifecycle.ContainerUnknown, unknown.Type)
	info, _ := w.Container(id)
	assert.Equal(t, lifecycle.ContainerStateRunning, info.State, "running until the unknown state's time")
	require.True(t, w.Happen(unknown))
	info, _ = w.Container(id)
	assert.Equal(t, lifecycle.ContainerStateUnknown, info.State, "ListContainers reports it Unknown")
	assert.False(t, w.Happen(unknown), "applied once")
	probed := do(w, at(6*s), web, lifecycle.Action{Type: lifecycle.RunProbe, ContainerID: id, Probe: probe.Readiness})
	assert.Equal(t, probe.SuccessOutcome(""), probed[0].Outcome,
		"a container in an unknown state may run: its probes go as scripted")
	stop := do(w, at(7*s), web, lifecycle.Action{Type: lifecycle.StopContainer, ContainerID: id, Timeout: 30 * s})
	require.Len(t, stop, 1)
	assert.Equal(t, exited(id, 7*s, 143, 15, phase.ReasonError), stop[0])
	require.True(t, w.Happen(stop[0]))
	info, _ = w.Container(id)
	assert.Equal(t, lifecycle.ContainerStateExited, info.State)
}

func TestWorldPulls(t *testing.T) {
	type pull struct {
		at     time.Duration
		policy podlife.PullPolicy
		want   lifecycle.Event // Container "app" and Image "busybox:1" are filled in
	}
	ok := func(d time.Duration) lifecycle.Event { return lifecycle.Event{Type: lifecycle.ImagePulled, At: at(d)} }
	failed := func(d time.Duration) lifecycle.Event {
		return lifecycle.Event{Type: lifecycle.ImagePullFailed, At: at(d), Reason: phase.ReasonErrImagePull,
			Message: `failed to pull and unpack image "busybox:1": scripted pull failure`}
	}
	cases := []struct {
		name   string
		script Pull
		images map[string]Pull
		ref    lifecycle.PodRef // zero: a pull that names no pod, as Runtime.PullImage
		pulls  []pull
	}{
		{"the zero pull succeeds at once", Pull{}, nil, web, []pull{{0, podlife.PullAlways, ok(0)}}},
		{"Delay makes the pull take that long", Pull{Delay: 3 * s}, nil, web, []pull{{0, podlife.PullAlways, ok(3 * s)}}},
		{"the first Failures pulls fail", Pull{Failures: 2, Delay: s}, nil, web, []pull{
			{0, podlife.PullAlways, failed(s)}, {10 * s, podlife.PullAlways, failed(11 * s)}, {30 * s, podlife.PullAlways, ok(31 * s)}}},
		{"FailsAlways fails every pull", Pull{FailsAlways: true}, nil, web, []pull{
			{0, podlife.PullAlways, failed(0)}, {10 * s, podlife.PullAlways, failed(10 * s)}}},
		{"IfNotPresent pulls once; the image is present only after the pull completed", Pull{Delay: 5 * s}, nil, web, []pull{
			{0, podlife.PullIfNotPresent, ok(5 * s)}, {2 * s, podlife.PullIfNotPresent, ok(7 * s)}, {5 * s, podlife.PullIfNotPresent, ok(5 * s)}}},
		{"Always pulls a present image again", Pull{Delay: 5 * s}, nil, web, []pull{
			{0, podlife.PullAlways, ok(5 * s)}, {10 * s, podlife.PullAlways, ok(15 * s)}}},
		{"Never with a missing image fails at once", Pull{}, nil, web, []pull{{0, podlife.PullNever, lifecycle.Event{Type: lifecycle.ImagePullFailed, At: t0,
			Reason: phase.ReasonErrImageNeverPull, Message: `Container image "busybox:1" is not present with pull policy of Never`}}}},
		{"Never with a pulled image succeeds", Pull{}, nil, web, []pull{{0, podlife.PullAlways, ok(0)}, {s, podlife.PullNever, ok(s)}}},
		{"image-level scripts apply to a container without its own", Pull{}, map[string]Pull{"busybox:1": {Failures: 1}}, web, []pull{
			{0, podlife.PullAlways, failed(0)}, {s, podlife.PullAlways, ok(s)}}},
		{"image-level scripts apply to pulls that name no pod", Pull{Failures: 5}, map[string]Pull{"busybox:1": {Delay: 2 * s}}, lifecycle.PodRef{}, []pull{
			{0, podlife.PullAlways, ok(2 * s)}}},
		{"FailUntil fails the pulls that start before it", Pull{FailUntil: 40 * s, Delay: s}, nil, web, []pull{
			{0, podlife.PullAlways, failed(s)}, {20 * s, podlife.PullAlways, failed(21 * s)}, {40 * s, podlife.PullAlways, ok(41 * s)}}},
		{"FailUntil counts from the pod's start in the world, its first action", Pull{FailUntil: 40 * s}, nil, web, []pull{
			{10 * s, podlife.PullAlways, failed(10 * s)}, {49 * s, podlife.PullAlways, failed(49 * s)}, {50 * s, podlife.PullAlways, ok(50 * s)}}},
		{"FailUntil adds up with Failures", Pull{FailUntil: 10 * s, Failures: 3}, nil, web, []pull{
			{0, podlife.PullAlways, failed(0)}, {20 * s, podlife.PullAlways, failed(20 * s)}, {30 * s, podlife.PullAlways, failed(30 * s)},
			{40 * s, podlife.PullAlways, ok(40 * s)}}},
		{"an image-level FailUntil counts from the pod's start", Pull{}, map[string]Pull{"busybox:1": {FailUntil: 5 * s}}, web, []pull{
			{0, podlife.PullAlways, failed(0)}, {5 * s, podlife.PullAlways, ok(5 * s)}}},
		{"a pull that names no pod has no start to count FailUntil from", Pull{}, map[string]Pull{"busybox:1": {FailUntil: time.Hour}}, lifecycle.PodRef{}, []pull{
			{0, podlife.PullAlways, ok(0)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Pull: c.script}}, ImagePulls: c.images})
			for i, p := range c.pulls {
				want := p.want
				want.Container = "app"
				got := do(w, at(p.at), c.ref, lifecycle.Action{Type: lifecycle.PullImage, Container: "app", Image: "busybox:1", PullPolicy: p.policy})
				assert.Empty(t, cmp.Diff([]lifecycle.Event{want}, got), "pull %d", i)
				happen(w, got, got[0].At)
			}
		})
	}
	t.Run("images listed in the options are present from the start", func(t *testing.T) {
		w := NewWorld(WorldOptions{Images: []string{"pause:3"}})
		assert.True(t, w.ImagePresent("pause:3", t0))
		got := do(w, t0, web, lifecycle.Action{Type: lifecycle.PullImage, Container: "app", Image: "pause:3", PullPolicy: podlife.PullNever})
		assert.Equal(t, lifecycle.ImagePulled, got[0].Type)
	})
	t.Run("an empty image is an invalid name", func(t *testing.T) {
		got := do(NewWorld(WorldOptions{}), t0, web, lifecycle.Action{Type: lifecycle.PullImage, Container: "app"})
		assert.Equal(t, phase.ReasonInvalidImageName, got[0].Reason)
	})
}

func TestWorldCreates(t *testing.T) {
	cases := []struct {
		name   string
		script Script
		want   []string // the reason of each of three creates, "" for created
	}{
		{"creates succeed by default", Script{}, []string{"", "", ""}},
		{"the first CreateFails fail with CreateContainerError", Script{CreateFails: 2}, []string{phase.ReasonCreateContainerError, phase.ReasonCreateContainerError, ""}},
		{"CreateFailReason sets the reason", Script{CreateFails: 1, CreateFailReason: phase.ReasonCreateContainerConfigError},
			[]string{phase.ReasonCreateContainerConfigError, "", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": c.script}})
			sb := sandboxUp(t, w)
			var got []string
			for i := range 3 {
				ev := do(w, at(time.Duration(i)*10*s), web, lifecycle.Action{Type: lifecycle.CreateContainer, Container: "app", Attempt: int32(i), SandboxID: sb})[0]
				if ev.Type == lifecycle.ContainerCreated {
					assert.Equal(t, "default/web/app/"+string(rune('0'+i)), ev.ContainerID)
				}
				got = append(got, ev.Reason)
			}
			assert.Equal(t, c.want, got)
		})
	}
	t.Run("the same name and attempt again is the same container", func(t *testing.T) {
		w := NewWorld(WorldOptions{})
		sb := sandboxUp(t, w)
		a := created(t, w, t0, sb, "app", 0)
		assert.Equal(t, a, created(t, w, at(s), sb, "app", 0))
		assert.Len(t, w.Containers(), 1)
	})
	t.Run("a crash loop keeps the newest dead instance only", func(t *testing.T) {
		w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Runs: []Run{{For: s, ExitCode: 1}}}}})
		sb := sandboxUp(t, w)
		now := t0
		for i := range int32(10) {
			id := created(t, w, now, sb, "app", i)
			evs := do(w, now, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
			now = now.Add(s)
			require.Len(t, happen(w, evs, now), 2)
		}
		var ids []string
		for _, c := range w.Containers() {
			ids = append(ids, c.ID)
		}
		assert.Equal(t, []string{"default/web/app/8", "default/web/app/9"}, ids[:2], "the latest GC kept attempt 8 beside 9")
		assert.Len(t, ids, 2)
	})
}

func TestWorldHooks(t *testing.T) {
	exec := &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}
	sleep := &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 7}}
	cases := []struct {
		name    string
		script  Script
		hook    lifecycle.Hook
		handler *podlife.LifecycleHandler
		timeout time.Duration
		wantAt  time.Duration
		wantMsg string // empty for a success
	}{
		{"a hook succeeds at once by default", Script{}, lifecycle.PostStart, exec, 0, 0, ""},
		{"Took delays the result", Script{PostStart: HookScript{Took: 30 * s}}, lifecycle.PostStart, exec, 0, 30 * s, ""},
		{"Fail fails it with kubelet's message", Script{PreStop: HookScript{Took: 2 * s, Fail: true}}, lifecycle.PreStop, exec, 30 * s, 2 * s,
			`Exec lifecycle hook ([drain]) for Container "app" in Pod "web_default()" failed - error: scripted hook failure, message: ""`},
		{"a sleep handler takes its seconds", Script{}, lifecycle.PreStop, sleep, 30 * s, 7 * s, ""},
		{"Took overrides a sleep's seconds", Script{PreStop: HookScript{Took: s}}, lifecycle.PreStop, sleep, 30 * s, s, ""},
		{"a hook longer than its timeout fails at the timeout", Script{PreStop: HookScript{Took: time.Minute}}, lifecycle.PreStop, exec, 30 * s, 30 * s,
			`Exec lifecycle hook ([drain]) for Container "app" in Pod "web_default()" failed - error: PreStop hook did not finish within 30s, message: ""`},
		{"an interrupted sleep says so", Script{}, lifecycle.PreStop, sleep, 5 * s, 5 * s,
			`Sleep lifecycle hook (7) for Container "app" in Pod "web_default()" failed - error: container terminated before sleep hook finished`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": c.script}})
			id := created(t, w, t0, sandboxUp(t, w), "app", 0)
			happen(w, do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id}), t0)
			got := do(w, t0, web, lifecycle.Action{Type: lifecycle.RunHook, Container: "app", ContainerID: id, Hook: c.hook, Handler: c.handler, Timeout: c.timeout})
			require.Len(t, got, 1)
			want := lifecycle.Event{Type: lifecycle.HookResult, At: at(c.wantAt), Container: "app", ContainerID: id, Hook: c.hook}
			if c.wantMsg != "" {
				want.HookOutcome = hooks.Outcome{Result: hooks.Failure, Message: c.wantMsg}
			}
			assert.Empty(t, cmp.Diff(want, got[0]))
		})
	}
}

func TestWorldProbes(t *testing.T) {
	spec := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"check"}}}, TimeoutSeconds: 2}
	window := ProbeScript{Fail: true, FailFrom: 10 * s, FailUntil: 20 * s}
	cases := []struct {
		name   string
		script ProbeScript
		runAt  time.Duration // since the instance started (at 5 s)
		want   probe.Outcome
		wantAt time.Duration // result time since the run
	}{
		{"probes succeed by default", ProbeScript{}, 0, probe.SuccessOutcome(""), 0},
		{"before the failure window", window, 9 * s, probe.SuccessOutcome(""), 0},
		{"in the failure window, measured from the instance's start", window, 10 * s, probe.FailureOutcome("scripted failure"), 0},
		{"after the failure window", window, 20 * s, probe.SuccessOutcome(""), 0},
		{"FailUntil 0 fails for ever", ProbeScript{Fail: true, Message: "HTTP 500"}, time.Hour, probe.FailureOutcome("HTTP 500"), 0},
		{"Took delays the result", ProbeScript{Took: 1500 * time.Millisecond}, 0, probe.SuccessOutcome(""), 1500 * time.Millisecond},
		{"a run longer than timeoutSeconds fails at the timeout", ProbeScript{Took: 5 * s}, 0, probe.ExecOutcome(0, true, ""), 2 * s},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Probes: map[probe.Kind]ProbeScript{probe.Liveness: c.script}}}})
			id := created(t, w, t0, sandboxUp(t, w), "app", 0)
			happen(w, do(w, at(5*s), web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id}), at(5*s))
			runAt := at(5*s + c.runAt)
			got := do(w, runAt, web, lifecycle.Action{Type: lifecycle.RunProbe, Container: "app", ContainerID: id, Probe: probe.Liveness, ProbeSpec: spec})
			want := lifecycle.Event{Type: lifecycle.ProbeResult, At: runAt.Add(c.wantAt), Container: "app", ContainerID: id, Probe: probe.Liveness, Outcome: c.want}
			assert.Empty(t, cmp.Diff([]lifecycle.Event{want}, got))
		})
	}
	t.Run("another kind is not affected", func(t *testing.T) {
		w := NewWorld(WorldOptions{Default: Script{Probes: map[probe.Kind]ProbeScript{probe.Liveness: {Fail: true}}}})
		id := created(t, w, t0, sandboxUp(t, w), "app", 0)
		happen(w, do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id}), t0)
		got := do(w, t0, web, lifecycle.Action{Type: lifecycle.RunProbe, ContainerID: id, Probe: probe.Readiness, ProbeSpec: spec})
		assert.Equal(t, probe.Success, got[0].Outcome.Result)
	})
}

func TestWorldPodScript(t *testing.T) {
	type step struct {
		at   time.Duration
		a    lifecycle.Action
		want lifecycle.EventType
		wAt  time.Duration
	}
	setup := lifecycle.Action{Type: lifecycle.SetupPod}
	run := func(n int32) lifecycle.Action { return lifecycle.Action{Type: lifecycle.RunSandbox, Attempt: n} }
	cases := []struct {
		name  string
		ps    PodScript
		steps []step
	}{
		{"setup and sandbox succeed at once by default", PodScript{}, []step{
			{0, setup, lifecycle.SetupDone, 0}, {0, run(0), lifecycle.SandboxReady, 0}}},
		{"SetupDelay and SandboxDelay", PodScript{SetupDelay: 2 * s, SandboxDelay: 3 * s}, []step{
			{0, setup, lifecycle.SetupDone, 2 * s}, {2 * s, run(0), lifecycle.SandboxReady, 5 * s}}},
		{"SetupFails fails the first setups", PodScript{SetupFails: 2, SetupDelay: s}, []step{
			{0, setup, lifecycle.SetupFailed, s}, {11 * s, setup, lifecycle.SetupFailed, 12 * s}, {22 * s, setup, lifecycle.SetupDone, 23 * s}}},
		{"SandboxFails fails the first sandboxes", PodScript{SandboxFails: 1}, []step{
			{0, setup, lifecycle.SetupDone, 0}, {0, run(0), lifecycle.SandboxFailed, 0}, {10 * s, run(0), lifecycle.SandboxReady, 10 * s}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{})
			w.ScriptPod(web, c.ps)
			for i, st := range c.steps {
				got := do(w, at(st.at), web, st.a)
				require.NotEmpty(t, got, "step %d", i)
				assert.Equal(t, st.want, got[0].Type, "step %d", i)
				assert.Equal(t, at(st.wAt), got[0].At, "step %d", i)
				happen(w, got, got[0].At)
			}
		})
	}
	t.Run("SandboxLostAt loses the first sandbox only, counted from its start", func(t *testing.T) {
		w := NewWorld(WorldOptions{Pod: PodScript{SandboxDelay: s, SandboxLostAt: 20 * s}})
		got := do(w, t0, web, run(0))
		require.Len(t, got, 2)
		assert.Equal(t, lifecycle.Event{Type: lifecycle.SandboxLost, At: at(21 * s), SandboxID: "default/web/sb-0"}, got[1])
		require.Len(t, happen(w, got, at(21*s)), 2)
		si, ok := w.Sandbox("default/web/sb-0")
		require.True(t, ok)
		assert.False(t, si.Ready, "a lost sandbox is not ready")
		w.Do(at(25*s), web, lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: "default/web/sb-0"})
		assert.Len(t, do(w, at(25*s), web, run(1)), 1, "the next sandbox is kept")
	})
	t.Run("sandbox IDs and IPs are derived from the pod", func(t *testing.T) {
		a := do(NewWorld(WorldOptions{}), t0, lifecycle.PodRef{Namespace: "ns", Name: "p", UID: "u1"}, run(2))[0]
		b := do(NewWorld(WorldOptions{}), at(time.Hour), lifecycle.PodRef{Namespace: "ns", Name: "p", UID: "u1"}, run(2))[0]
		assert.Equal(t, "ns/p/u1/sb-2", a.SandboxID)
		assert.Equal(t, a.IP, b.IP)
		assert.Regexp(t, `^10\.\d+\.\d+\.\d+$`, a.IP)
	})
}

func TestWorldScriptPrecedence(t *testing.T) {
	other := lifecycle.PodRef{Namespace: "default", Name: "other"}
	w := NewWorld(WorldOptions{
		Default: Script{Runs: []Run{{For: s}}},
		Scripts: map[string]Script{"app": {Runs: []Run{{For: 2 * s}}}},
	})
	w.Script(web, "app", Script{Runs: []Run{{For: 3 * s}}})
	exitAfter := func(ref lifecycle.PodRef, name string) time.Duration {
		t.Helper()
		sb := do(w, t0, ref, lifecycle.Action{Type: lifecycle.RunSandbox})[0]
		require.True(t, w.Happen(sb))
		id := do(w, t0, ref, lifecycle.Action{Type: lifecycle.CreateContainer, Container: name, SandboxID: sb.SandboxID})[0].ContainerID
		evs := do(w, t0, ref, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
		require.Len(t, evs, 2)
		return evs[1].At.Sub(t0)
	}
	assert.Equal(t, 3*s, exitAfter(web, "app"), "the pod's own script first")
	assert.Equal(t, 2*s, exitAfter(other, "app"), "then the script by container name")
	assert.Equal(t, s, exitAfter(other, "side"), "then the default")
}

func TestWorldBadInput(t *testing.T) {
	w := NewWorld(WorldOptions{})
	sb := sandboxUp(t, w)
	cases := []struct {
		name string
		a    lifecycle.Action
		want []lifecycle.EventType
	}{
		{"start of an unknown container fails", lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: "default/web/app/9"}, []lifecycle.EventType{lifecycle.ContainerStartFailed}},
		{"start of a malformed ID fails", lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: "nonsense"}, []lifecycle.EventType{lifecycle.ContainerStartFailed}},
		{"a hook in an unknown container fails", lifecycle.Action{Type: lifecycle.RunHook, ContainerID: "x/y"}, []lifecycle.EventType{lifecycle.HookResult}},
		{"a probe of an unknown container errors", lifecycle.Action{Type: lifecycle.RunProbe, ContainerID: ""}, []lifecycle.EventType{lifecycle.ProbeResult}},
		{"a create in an unknown sandbox fails", lifecycle.Action{Type: lifecycle.CreateContainer, Container: "app", SandboxID: "default/web/sb-7"}, []lifecycle.EventType{lifecycle.ContainerCreateFailed}},
		{"a create without a name fails", lifecycle.Action{Type: lifecycle.CreateContainer, SandboxID: sb}, []lifecycle.EventType{lifecycle.ContainerCreateFailed}},
		{"a stop of an unknown container is ignored", lifecycle.Action{Type: lifecycle.StopContainer, ContainerID: "default/web/app/9"}, nil},
		{"a remove of an unknown container is ignored", lifecycle.Action{Type: lifecycle.RemoveContainer, ContainerID: "??"}, nil},
		{"a stop of an unknown sandbox is ignored", lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: "nope"}, nil},
		{"an unknown action type is ignored", lifecycle.Action{Type: 99}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []lifecycle.EventType
			for _, ev := range do(w, t0, web, c.a) {
				got = append(got, ev.Type)
				if ev.Type == lifecycle.ProbeResult {
					assert.Equal(t, probe.Unknown, ev.Outcome.Result, "not counted")
				}
				if ev.Type == lifecycle.HookResult {
					assert.True(t, ev.HookOutcome.Failed())
				}
			}
			assert.Equal(t, c.want, got)
		})
	}
	_, ok := w.Sandbox(sb)
	assert.True(t, ok, "bad input changed nothing")
}

func TestHappen(t *testing.T) {
	type step struct {
		at time.Duration
		a  lifecycle.Action // performed at at, after applying what came due
	}
	cases := []struct {
		name   string
		script Script
		steps  []step
		// held lists the events that held, in time order, as "Type@seconds".
		held []string
	}{
		{"a natural exit of a container already stopped is dropped", Script{Runs: []Run{{For: 60 * s}}},
			[]step{{10 * s, lifecycle.Action{Type: lifecycle.StopContainer, Timeout: 30 * s}}},
			[]string{"ContainerStarted@0", "ContainerExited@10"}},
		{"a stop exit after a natural exit is dropped", Script{Runs: []Run{{For: 12 * s, TermDelay: 5 * s}}},
			[]step{{10 * s, lifecycle.Action{Type: lifecycle.StopContainer, Timeout: 30 * s}}},
			[]string{"ContainerStarted@0", "ContainerExited@12"}},
		{"a shorter second stop supersedes the first stop's exit", Script{Runs: []Run{{IgnoreTerm: true}}},
			[]step{{10 * s, lifecycle.Action{Type: lifecycle.StopContainer, Timeout: 30 * s}}, {15 * s, lifecycle.Action{Type: lifecycle.StopContainer, Timeout: 2 * s}}},
			[]string{"ContainerStarted@0", "ContainerExited@17"}},
		{"a longer second stop does not delay the exit", Script{Runs: []Run{{TermDelay: 5 * s}}},
			[]step{{10 * s, lifecycle.Action{Type: lifecycle.StopContainer, Timeout: 30 * s}}, {12 * s, lifecycle.Action{Type: lifecycle.StopContainer, Timeout: 60 * s}}},
			[]string{"ContainerStarted@0", "ContainerExited@15"}},
		{"a probe result after its container exited is dropped", Script{Runs: []Run{{For: 10 * s}}, Probes: map[probe.Kind]ProbeScript{probe.Readiness: {Took: 5 * s}}},
			[]step{{9 * s, lifecycle.Action{Type: lifecycle.RunProbe, Probe: probe.Readiness, ProbeSpec: &podlife.Probe{TimeoutSeconds: 10}}}},
			[]string{"ContainerStarted@0", "ContainerExited@10"}},
		{"a postStart result after its container exited is dropped", Script{Runs: []Run{{For: 10 * s}}, PostStart: HookScript{Took: 20 * s}},
			[]step{{5 * s, lifecycle.Action{Type: lifecycle.RunHook, Hook: lifecycle.PostStart}}},
			[]string{"ContainerStarted@0", "ContainerExited@10"}},
		{"a preStop result after its container exited holds: the machine decides (a sleep outlives it)", Script{Runs: []Run{{For: 10 * s}}, PreStop: HookScript{Took: 20 * s}},
			[]step{{5 * s, lifecycle.Action{Type: lifecycle.RunHook, Hook: lifecycle.PreStop}}},
			[]string{"ContainerStarted@0", "ContainerExited@10", "HookResult@25"}},
		{"every exit of a container removed with its sandbox is dropped", Script{Runs: []Run{{For: 60 * s}}},
			[]step{{10 * s, lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: "default/web/sb-0"}}},
			[]string{"ContainerStarted@0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": c.script}})
			id := created(t, w, t0, sandboxUp(t, w), "app", 0)
			pending := do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
			var held []string
			deliver := func(until time.Time) {
				slices.SortStableFunc(pending, func(a, b lifecycle.Event) int { return a.At.Compare(b.At) })
				for len(pending) > 0 && !pending[0].At.After(until) {
					ev := pending[0]
					pending = pending[1:]
					if w.Happen(ev) {
						held = append(held, ev.Type.String()+"@"+strconv.Itoa(int(ev.At.Sub(t0)/s)))
					}
				}
			}
			for _, st := range c.steps {
				deliver(at(st.at))
				st.a.ContainerID = id
				pending = append(pending, do(w, at(st.at), web, st.a)...)
			}
			deliver(at(time.Hour))
			assert.Equal(t, c.held, held)
		})
	}
	t.Run("a sandbox loss after the sandbox was stopped is dropped", func(t *testing.T) {
		w := NewWorld(WorldOptions{Pod: PodScript{SandboxLostAt: 30 * s}})
		evs := do(w, t0, web, lifecycle.Action{Type: lifecycle.RunSandbox})
		require.True(t, w.Happen(evs[0]))
		w.Do(at(10*s), web, lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: evs[0].SandboxID})
		assert.False(t, w.Happen(evs[1]))
	})
	t.Run("a sandbox stopped while it was created never becomes ready", func(t *testing.T) {
		w := NewWorld(WorldOptions{Pod: PodScript{SandboxDelay: 5 * s}})
		evs := do(w, t0, web, lifecycle.Action{Type: lifecycle.RunSandbox})
		w.Do(at(s), web, lifecycle.Action{Type: lifecycle.StopSandbox}) // the machine has no ID yet
		assert.False(t, w.Happen(evs[0]))
		assert.Empty(t, w.Sandboxes())
	})
	t.Run("an exit of an earlier instance with the same ID is dropped", func(t *testing.T) {
		// The sandbox went away with a container in it, and a new sandbox created the same
		// name and attempt again: the first instance's scheduled exit is not the new one's.
		w := NewWorld(WorldOptions{Default: Script{Runs: []Run{{For: 60 * s}}}})
		id := created(t, w, t0, sandboxUp(t, w), "app", 0)
		old := do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
		w.Do(at(10*s), web, lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: "default/web/sb-0"})
		sb := do(w, at(20*s), web, lifecycle.Action{Type: lifecycle.RunSandbox, Attempt: 1})[0]
		require.True(t, w.Happen(sb))
		require.Equal(t, id, created(t, w, at(20*s), sb.SandboxID, "app", 0))
		evs := do(w, at(20*s), web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
		assert.False(t, w.Happen(old[1]), "the old instance's exit at 60 s")
		assert.True(t, w.Happen(evs[1]), "the new instance's exit at 80 s")
	})
	t.Run("a natural exit holds once", func(t *testing.T) {
		w := NewWorld(WorldOptions{Default: Script{Runs: []Run{{For: s, ExitCode: 3}}}})
		id := created(t, w, t0, sandboxUp(t, w), "app", 0)
		evs := do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
		require.True(t, w.Happen(evs[1]))
		assert.False(t, w.Happen(evs[1]), "a duplicate")
		ci, ok := w.Container(id)
		require.True(t, ok)
		assert.Equal(t, lifecycle.ContainerInfo{ID: id, SandboxID: "default/web/sb-0", Pod: web, Name: "app", State: lifecycle.ContainerStateExited,
			CreatedAt: t0, StartedAt: t0, FinishedAt: at(s), ExitCode: 3, Reason: phase.ReasonError}, ci)
		assert.Empty(t, do(w, at(2*s), web, lifecycle.Action{Type: lifecycle.StopContainer, ContainerID: id, Timeout: 30 * s}), "stopping an exited container is a no-op")
	})
}

func TestWorldForget(t *testing.T) {
	w := NewWorld(WorldOptions{})
	w.Script(web, "app", Script{Runs: []Run{{For: 7 * s}}})
	sb := sandboxUp(t, w)
	created(t, w, t0, sb, "app", 0)
	require.Equal(t, 1, w.Pods())
	w.Do(t0, web, lifecycle.Action{Type: lifecycle.StopSandbox, SandboxID: sb})
	assert.Empty(t, w.Containers(), "stopping a sandbox drops its containers")
	w.Forget(web)
	assert.Equal(t, 0, w.Pods())
	// the script set for the pod is kept for a pod of the same name
	id := created(t, w, t0, sandboxUp(t, w), "app", 0)
	evs := do(w, t0, web, lifecycle.Action{Type: lifecycle.StartContainer, ContainerID: id})
	assert.Equal(t, at(7*s), evs[1].At)
}

// TestWorldDeterministic drives two worlds with the same scripts through the same Sim run and
// compares every event the machines were fed, IDs and times included.
func TestWorldDeterministic(t *testing.T) {
	run := func() []lifecycle.Event {
		s := NewSim(manyWorld(), t0)
		var evs []lifecycle.Event
		s.OnEvent = func(_ lifecycle.PodRef, ev lifecycle.Event) { evs = append(evs, ev) }
		many(t, s, 3)
		s.RunUntil(at(5 * time.Minute))
		return evs
	}
	a, b := run(), run()
	require.Greater(t, len(a), 200)
	if !cmp.Equal(a, b) {
		t.Errorf("two runs differ:\n%s", cmp.Diff(a, b))
	}
	other := NewWorld(WorldOptions{})
	assert.False(t, cmp.Equal(a, func() []lifecycle.Event {
		s := NewSim(other, t0)
		var evs []lifecycle.Event
		s.OnEvent = func(_ lifecycle.PodRef, ev lifecycle.Event) { evs = append(evs, ev) }
		many(t, s, 3)
		s.RunUntil(at(5 * time.Minute))
		return evs
	}()), "other scripts give other events: the comparison can fail")
}
