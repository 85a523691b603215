package simruntime

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// timeline records a Sim's run as lines "<seconds> <pod> <what>".
type timeline struct {
	lines []string
}

type errorer interface {
	Errorf(format string, args ...any)
}

func (tl *timeline) attach(t errorer, s *Sim) {
	stamp := func(at time.Time, pod lifecycle.PodRef) string {
		return fmt.Sprintf("%7.1fs %s", at.Sub(t0).Seconds(), pod.Name)
	}
	s.OnReady = func(pod lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
		for _, a := range rd.Actions {
			tl.lines = append(tl.lines, stamp(now, pod)+" do "+a.String())
		}
		for _, r := range rd.Records {
			tl.lines = append(tl.lines, stamp(now, pod)+" record "+r.String())
		}
		if rd.Status != nil {
			tl.lines = append(tl.lines, stamp(now, pod)+" phase "+string(rd.Status.Phase))
		}
	}
	s.OnEvent = func(pod lifecycle.PodRef, ev lifecycle.Event) {
		if ev.Type != lifecycle.Tick {
			tl.lines = append(tl.lines, stamp(ev.At, pod)+" got "+ev.String())
		}
	}
	s.OnError = func(pod lifecycle.PodRef, ev lifecycle.Event, err error) {
		t.Errorf("%s: %s: %v", pod, ev, err)
	}
}

// grep returns the lines containing every word.
func (tl *timeline) grep(words ...string) []string {
	var out []string
	for _, l := range tl.lines {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// times returns the seconds column of lines.
func times(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.TrimSpace(strings.Fields(l)[0]))
	}
	return out
}

func execProbe(period int32) *podlife.Probe {
	return &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"check"}}}, PeriodSeconds: period}
}

func fullPod() podlife.PodSpec {
	always := podlife.RestartAlways
	return podlife.PodSpec{
		InitContainers: []podlife.Container{
			{Name: "init", Image: "busybox:1"},
			{Name: "proxy", Image: "envoy:1", RestartPolicy: &always, StartupProbe: execProbe(1)},
		},
		Containers: []podlife.Container{{Name: "app", Image: "app:1",
			ReadinessProbe: execProbe(5), LivenessProbe: execProbe(10),
			Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}}},
	}
}

func fullWorld() *World {
	crash := Run{For: time.Second, ExitCode: 1}
	return NewWorld(WorldOptions{Scripts: map[string]Script{
		"init":  {Runs: []Run{{For: 2 * time.Second}}},
		"proxy": {Runs: []Run{{TermDelay: time.Second}}, Probes: map[probe.Kind]ProbeScript{probe.Startup: {Fail: true, FailUntil: 2 * time.Second}}},
		"app":   {Runs: []Run{crash, crash, crash, crash, {IgnoreTerm: true}}, PreStop: HookScript{Took: 5 * time.Second}},
	}})
}

// TestSimPodLifecycle runs one pod with an init container, a sidecar with a startup probe and
// an app with probes and a preStop hook through a crash loop to its deletion.
func TestSimPodLifecycle(t *testing.T) {
	s := NewSim(fullWorld(), t0)
	var tl timeline
	tl.attach(t, s)
	m, err := s.AddPod(web, fullPod(), lifecycle.Options{})
	require.NoError(t, err)

	s.RunUntil(at(30 * time.Second))
	app := m.Status().ContainerStatuses[0]
	require.NotNil(t, app.State.Waiting, "between crashes, from the second on")
	assert.Equal(t, phase.ReasonCrashLoopBackOff, app.State.Waiting.Reason)

	s.RunUntil(at(180 * time.Second))
	st := m.Status()
	assert.Equal(t, phase.Running, st.Phase)
	assert.True(t, phase.IsConditionTrue(st.Conditions, phase.PodReady), "the last instance passed its readiness probe")
	require.NoError(t, s.At(s.Now(), web, lifecycle.Event{Type: lifecycle.DeleteRequested}))
	s.Run()

	assert.Equal(t, []string{"0.0s"}, times(tl.grep("do StartContainer container=init")))
	assert.Equal(t, []string{"2.0s"}, times(tl.grep("do StartContainer container=proxy")), "the sidecar starts once init exited 0")
	assert.Equal(t, []string{"2.0s", "3.0s", "4.0s"}, times(tl.grep("do RunProbe container=proxy", "probe=Startup")))
	// the app waits for the sidecar's startup probe; then crashes after 1 s each time: the
	// first restart is immediate, then 10 s, 20 s, 40 s after each finishedAt
	assert.Equal(t, []string{"4.0s", "5.0s", "16.0s", "37.0s", "78.0s"}, times(tl.grep("do StartContainer container=app")))
	assert.Equal(t, []string{"5.0s", "6.0s", "17.0s", "38.0s"}, times(tl.grep("got ContainerExited id=default/web/app/", "exit=1 ")))
	assert.Len(t, tl.grep("record Warning BackOff container=app"), 3)

	// deletion at 180 s with the default grace of 30 s: preStop (5 s), then SIGTERM with the
	// 25 s left, which the app ignores: SIGKILL exactly at the grace
	assert.Equal(t, []string{"  180.0s web do RunHook container=app id=default/web/app/4 hook=PreStop timeout=30s"}, tl.grep("hook=PreStop timeout"))
	assert.Equal(t, []string{"  185.0s web do StopContainer container=app id=default/web/app/4 timeout=25s"}, tl.grep("do StopContainer container=app"))
	assert.Equal(t, []string{"  210.0s web got ContainerExited id=default/web/app/4 exit=137 signal=9 reason=Error"}, tl.grep("got ContainerExited id=default/web/app/4"))
	// the sidecar gets its stop signal when its grace ran out, with the 2 s floor, and exits
	// 1 s later
	assert.Equal(t, []string{"  210.0s web do StopContainer container=proxy id=default/web/proxy/0 timeout=2s"}, tl.grep("do StopContainer container=proxy"))
	assert.Equal(t, []string{"211.0s"}, times(tl.grep("got ContainerExited id=default/web/proxy/0 exit=143")))
	assert.Equal(t, []string{"211.0s"}, times(tl.grep("do StopSandbox")))

	require.True(t, m.Stopped())
	st = m.Status()
	assert.Equal(t, phase.Failed, st.Phase, "a deleted pod whose app was killed with 137")
	app = st.ContainerStatuses[0]
	assert.Equal(t, int32(4), app.RestartCount)
	require.NotNil(t, app.State.Terminated)
	assert.Equal(t, at(210*time.Second), app.State.Terminated.FinishedAt)
	assert.Equal(t, int32(9), app.State.Terminated.Signal)
	assert.Equal(t, 0, s.Live())
	assert.Equal(t, 0, s.World().Pods(), "a stopped pod is forgotten")
	assert.Zero(t, s.Stats().Errors)
}

func TestSimScenarios(t *testing.T) {
	const sec = time.Second
	simple := func(c podlife.Container) podlife.PodSpec { return podlife.PodSpec{Containers: []podlife.Container{c}} }
	cases := []struct {
		name  string
		spec  podlife.PodSpec
		opts  WorldOptions
		until time.Duration
		check func(t *testing.T, tl *timeline, m *lifecycle.Machine)
	}{
		{"image pull back-off: 10 s, 20 s, 40 s after each failed pull, then success", simple(podlife.Container{Name: "app", Image: "app:1"}),
			WorldOptions{Scripts: map[string]Script{"app": {Pull: Pull{Failures: 3, Delay: sec}}}}, 80 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"0.0s", "11.0s", "32.0s", "73.0s"}, times(tl.grep("do PullImage")))
				assert.Len(t, tl.grep("record Warning Failed container=app", "scripted pull failure"), 3)
				assert.Equal(t, []string{"74.0s"}, times(tl.grep("do StartContainer")))
				assert.Equal(t, phase.Running, m.Status().Phase)
			}},
		{"a liveness failure kills through preStop and restarts", simple(podlife.Container{Name: "app", Image: "app:1", LivenessProbe: execProbe(5),
			Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}}),
			WorldOptions{Scripts: map[string]Script{"app": {Probes: map[probe.Kind]ProbeScript{probe.Liveness: {Fail: true, FailFrom: 20 * sec}}, PreStop: HookScript{Took: 2 * sec}}}}, 40 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"30.0s"}, times(tl.grep("record Normal Killing container=app")), "failures at 20, 25, 30 s")
				assert.Equal(t, []string{"32.0s"}, times(tl.grep("do StopContainer")), "after the 2 s preStop")
				assert.Equal(t, []string{"0.0s", "32.0s"}, times(tl.grep("do StartContainer")), "the first restart is immediate")
			}},
		{"a failed postStart kills the container and restarts it with crash back-off", simple(podlife.Container{Name: "app", Image: "app:1",
			Lifecycle: &podlife.Lifecycle{PostStart: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"init"}}}}}),
			WorldOptions{Scripts: map[string]Script{"app": {PostStart: HookScript{Took: 3 * sec, Fail: true}}}}, 10 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"3.0s", "6.0s"}, times(tl.grep("record Warning FailedPostStartHook")))
				assert.Equal(t, []string{"3.0s", "6.0s"}, times(tl.grep("do StopContainer")), "the container is killed")
				assert.Equal(t, []string{"0.0s", "3.0s"}, times(tl.grep("do StartContainer")), "then 16 s")
				cs := m.Status().ContainerStatuses[0]
				require.NotNil(t, cs.State.Waiting)
				assert.Equal(t, phase.ReasonCrashLoopBackOff, cs.State.Waiting.Reason)
				assert.False(t, cs.Ready)
			}},
		{"a lost sandbox: everything is stopped, a new sandbox runs init again", podlife.PodSpec{
			InitContainers: []podlife.Container{{Name: "init", Image: "busybox:1"}},
			Containers:     []podlife.Container{{Name: "app", Image: "app:1"}}},
			WorldOptions{Pod: PodScript{SandboxLostAt: 20 * sec}, Scripts: map[string]Script{"init": {Runs: []Run{{For: sec}}}}}, 60 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"0.0s", "20.0s"}, times(tl.grep("do RunSandbox")))
				assert.Equal(t, []string{"0.0s", "20.0s"}, times(tl.grep("do StartContainer container=init")))
				assert.Len(t, tl.grep("do StopSandbox sandbox=default/web/sb-0"), 1)
				sbs := tl.grep("got SandboxReady")
				require.Len(t, sbs, 2)
				assert.Contains(t, sbs[1], "sandbox=default/web/sb-1")
				assert.Equal(t, phase.Running, m.Status().Phase)
			}},
		{"a container in an unknown state is killed and replaced by a new instance, even under Never", podlife.PodSpec{RestartPolicy: podlife.RestartNever,
			Containers: []podlife.Container{{Name: "app", Image: "app:1"}, {Name: "web", Image: "web:1"}}},
			WorldOptions{Scripts: map[string]Script{"app": {Runs: []Run{{UnknownAfter: 10 * sec, TermDelay: 2 * sec}, {}}}}}, 30 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"10.0s"}, times(tl.grep("got ContainerUnknown id=default/web/app/0")))
				assert.Equal(t, []string{"10.0s"}, times(tl.grep(`record Normal Killing container=app "Container is in \"unknown\" state, try killing it before restart"`)))
				assert.Equal(t, []string{"10.0s"}, times(tl.grep("do StopContainer container=app id=default/web/app/0")))
				assert.Equal(t, []string{"12.0s"}, times(tl.grep("do CreateContainer container=app attempt=1")), "a new instance once the old one exited")
				cs := m.Status().ContainerStatuses[0]
				require.NotNil(t, cs.State.Running)
				assert.Equal(t, int32(1), cs.RestartCount)
				assert.Equal(t, phase.Running, m.Status().Phase)
			}},
		{"a sandbox without an IP is replaced: SandboxChanged, attempt + 1", podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1"}}},
			WorldOptions{Pod: PodScript{SandboxNoIP: 1}}, 30 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"0.0s", "0.0s"}, times(tl.grep("do RunSandbox")))
				assert.Len(t, tl.grep("do RunSandbox attempt=1"), 1)
				assert.Len(t, tl.grep("record Normal SandboxChanged"), 1)
				assert.Len(t, tl.grep("do StopSandbox sandbox=default/web/sb-0 reason=SandboxChanged"), 1)
				assert.Equal(t, []string{"0.0s"}, times(tl.grep("do StartContainer")), "nothing starts in the sandbox without an IP")
				assert.NotEmpty(t, m.Status().PodIP)
				assert.Equal(t, phase.Running, m.Status().Phase)
			}},
		{"a job under Never ends Succeeded and is retired", podlife.PodSpec{RestartPolicy: podlife.RestartNever,
			Containers: []podlife.Container{{Name: "job", Image: "busybox:1"}}},
			WorldOptions{Default: Script{Runs: []Run{{For: 5 * sec}}}}, time.Hour,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.True(t, m.Stopped())
				assert.Equal(t, phase.Succeeded, m.Status().Phase)
				assert.Equal(t, []string{"5.0s"}, times(tl.grep("do StopSandbox")))
			}},
		{"setup failures are retried every 10 s", simple(podlife.Container{Name: "app", Image: "app:1"}),
			WorldOptions{Pod: PodScript{SetupFails: 2, SetupDelay: sec}}, 30 * sec,
			func(t *testing.T, tl *timeline, m *lifecycle.Machine) {
				assert.Equal(t, []string{"0.0s", "11.0s", "22.0s"}, times(tl.grep("do SetupPod")))
				assert.Equal(t, []string{"23.0s"}, times(tl.grep("do RunSandbox")))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewSim(NewWorld(c.opts), t0)
			var tl timeline
			tl.attach(t, s)
			m, err := s.AddPod(web, c.spec, lifecycle.Options{})
			require.NoError(t, err)
			s.RunUntil(at(c.until))
			c.check(t, &tl, m)
		})
	}
}

// many adds pods of several kinds to s.
func many(t require.TestingT, s *Sim, n int) []lifecycle.PodRef {
	never := podlife.RestartNever
	var refs []lifecycle.PodRef
	for i := range n {
		ref := lifecycle.PodRef{Namespace: "default", Name: fmt.Sprintf("pod-%03d", i), UID: fmt.Sprint(i)}
		spec := fullPod()
		switch i % 3 {
		case 1:
			spec = podlife.PodSpec{RestartPolicy: never, Containers: []podlife.Container{{Name: "job", Image: "busybox:1"}}}
		case 2:
			spec = podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1", ReadinessProbe: execProbe(3)}, {Name: "log", Image: "log:1"}}}
		}
		_, err := s.AddPod(ref, spec, lifecycle.Options{})
		require.NoError(t, err)
		refs = append(refs, ref)
	}
	return refs
}

func manyWorld() *World {
	w := fullWorld()
	w.byName["job"] = &Script{Runs: []Run{{For: 7 * time.Second}}, Pull: Pull{Delay: 2 * time.Second}}
	w.byName["log"] = &Script{Runs: []Run{{For: 30 * time.Second, ExitCode: 2}, {TermDelay: 3 * time.Second}}}
	return w
}

// run runs many pods for ten minutes, deletes them all and runs to the end; it returns the
// timeline.
func runMany(t require.TestingT, e errorer, n int) []string {
	s := NewSim(manyWorld(), t0)
	var tl timeline
	tl.attach(e, s)
	refs := many(t, s, n)
	s.RunUntil(at(10 * time.Minute))
	for i, ref := range refs {
		if err := s.At(s.Now().Add(time.Duration(i)*time.Second), ref, lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
			require.ErrorIs(t, err, ErrUnknownPod, "only finished jobs are gone")
		}
	}
	s.Run()
	require.Equal(t, 0, s.Live())
	return tl.lines
}

func TestSimReproducible(t *testing.T) {
	a := runMany(t, t, 12)
	b := runMany(t, t, 12)
	require.Greater(t, len(a), 1000)
	assert.Empty(t, cmp.Diff(a, b), "the same scripts give the same timeline, byte for byte")
}

// TestSimReproducibleProperty draws a script and a deletion time, runs the pod twice and
// compares the timelines; time never goes backwards in them.
func TestSimReproducibleProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		d := func(label string, max int) time.Duration {
			return time.Duration(rapid.IntRange(0, max).Draw(rt, label)) * time.Second
		}
		var runs []Run
		for i := range rapid.IntRange(1, 4).Draw(rt, "runs") {
			runs = append(runs, Run{For: d(fmt.Sprint("for", i), 40), ExitCode: int32(rapid.IntRange(0, 2).Draw(rt, fmt.Sprint("exit", i))),
				OOM: rapid.Bool().Draw(rt, fmt.Sprint("oom", i)), IgnoreTerm: rapid.Bool().Draw(rt, fmt.Sprint("ignore", i)),
				TermDelay: d(fmt.Sprint("term", i), 40), StartFails: rapid.IntRange(0, 9).Draw(rt, fmt.Sprint("startfails", i)) == 0})
		}
		script := Script{Runs: runs, Pull: Pull{Delay: d("pull", 5), Failures: rapid.IntRange(0, 2).Draw(rt, "pullFailures")},
			CreateFails: rapid.IntRange(0, 2).Draw(rt, "createFails"),
			PostStart:   HookScript{Took: d("postStart", 5), Fail: rapid.IntRange(0, 4).Draw(rt, "postStartFails") == 0},
			PreStop:     HookScript{Took: d("preStop", 40)},
			Probes: map[probe.Kind]ProbeScript{
				probe.Liveness:  {Fail: rapid.Bool().Draw(rt, "liveFails"), FailFrom: d("liveFrom", 60), Took: d("liveTook", 2)},
				probe.Readiness: {Fail: rapid.Bool().Draw(rt, "readyFails"), FailFrom: d("readyFrom", 30), FailUntil: d("readyUntil", 90)},
			}}
		pod := PodScript{SetupDelay: d("setup", 3), SandboxDelay: d("sandbox", 3), SandboxLostAt: d("lost", 200)}
		grace := int64(rapid.IntRange(0, 40).Draw(rt, "grace"))
		deleteAt := d("delete", 600)
		spec := podlife.PodSpec{TerminationGracePeriodSeconds: &grace, Containers: []podlife.Container{{Name: "app", Image: "app:1",
			LivenessProbe: execProbe(5), ReadinessProbe: execProbe(3),
			Lifecycle: &podlife.Lifecycle{
				PostStart: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"init"}}},
				PreStop:   &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}}}}}
		once := func() []string {
			w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": script}, Pod: pod})
			s := NewSim(w, t0)
			var tl timeline
			tl.attach(rt, s)
			m, err := s.AddPod(web, spec, lifecycle.Options{})
			if err != nil {
				rt.Fatal(err)
			}
			s.RunUntil(at(deleteAt))
			if err := s.At(s.Now(), web, lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
				rt.Fatal(err)
			}
			s.RunUntil(at(deleteAt + time.Hour))
			if !m.Stopped() {
				rt.Fatalf("pod not stopped an hour after its deletion; last lines:\n%s", strings.Join(tl.lines[max(0, len(tl.lines)-20):], "\n"))
			}
			return tl.lines
		}
		a, b := once(), once()
		if diff := cmp.Diff(a, b); diff != "" {
			rt.Fatalf("two runs differ:\n%s", diff)
		}
		last := -1.0
		for _, l := range a {
			var sec float64
			if _, err := fmt.Sscanf(strings.TrimSpace(l), "%fs", &sec); err != nil {
				rt.Fatalf("bad line %q", l)
			}
			if sec < last {
				rt.Fatalf("time went backwards at %q", l)
			}
			last = sec
		}
	})
}

func TestSimErrors(t *testing.T) {
	s := NewSim(NewWorld(WorldOptions{}), t0)
	var reported []error
	s.OnError = func(_ lifecycle.PodRef, _ lifecycle.Event, err error) { reported = append(reported, err) }
	m, err := s.AddPod(web, podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1"}}}, lifecycle.Options{})
	require.NoError(t, err)
	s.RunUntil(at(time.Second))

	assert.Error(t, s.Add(m), "a pod is added once")
	assert.Error(t, s.Add(nil))
	_, err = s.AddPod(lifecycle.PodRef{Name: "bad"}, podlife.PodSpec{}, lifecycle.Options{})
	assert.ErrorIs(t, err, podlife.ErrInvalid)
	assert.ErrorIs(t, s.At(at(2*time.Second), lifecycle.PodRef{Name: "nope"}, lifecycle.Event{Type: lifecycle.DeleteRequested}), ErrUnknownPod)
	assert.Error(t, s.At(t0, web, lifecycle.Event{Type: lifecycle.DeleteRequested}), "before now")

	require.NoError(t, s.At(at(2*time.Second), web, lifecycle.Event{Type: lifecycle.SetupDone}))   // stale: dropped silently
	require.NoError(t, s.At(at(3*time.Second), web, lifecycle.Event{Type: lifecycle.SpecUpdated})) // bad: reported
	s.RunUntil(at(10 * time.Second))
	require.Len(t, reported, 1)
	assert.True(t, errors.Is(reported[0], lifecycle.ErrBadEvent), "%v", reported[0])
	st := s.Stats()
	assert.Equal(t, uint64(1), st.Stale)
	assert.Equal(t, uint64(1), st.Errors)
	assert.Equal(t, at(10*time.Second), s.Now())
}

// TestSimQueue checks the queue (a radix heap, superseded ticks left in it until they come up)
// against a plain model: items come out in (time, insertion) order, each pod has at most one
// live tick, at its latest deadline, and a superseded tick is never taken for a live one.
func TestSimQueue(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := NewSim(NewWorld(WorldOptions{}), t0)
		const pods = 4
		for range pods {
			s.pods = append(s.pods, simPod{})
		}
		type key struct {
			at  int64
			seq uint64
		}
		ticks := map[int32]key{}
		events := map[int32]key{} // by slab slot
		var last key
		take := func() {
			it := s.next()
			k := key{it.at, it.seq}
			if k.at < last.at || (k.at == last.at && k.seq < last.seq) {
				rt.Fatalf("took %v after %v", k, last)
			}
			last = k
			s.now = s.start.Add(time.Duration(it.at))
			if it.slot != slotTick {
				if events[it.slot] != k {
					rt.Fatalf("event %v is not %v", k, events[it.slot])
				}
				delete(events, it.slot)
				return
			}
			live := s.pods[it.pod].tickSeq == it.seq
			if want, ok := ticks[it.pod]; live != (ok && want == k) {
				rt.Fatalf("tick %v of pod %d: live %v, the model's %v (%v)", k, it.pod, live, want, ok)
			}
			if live {
				delete(ticks, it.pod)
				s.pods[it.pod].tickSeq = 0
			}
		}
		for range rapid.IntRange(1, 300).Draw(rt, "ops") {
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				// Few distinct times: many items share one, and their insertion order must hold.
				ev := lifecycle.Event{At: s.now.Add(time.Duration(rapid.IntRange(0, 6).Draw(rt, "at")) * time.Second)}
				s.schedule(int32(rapid.IntRange(0, pods-1).Draw(rt, "pod")), ev)
				if n := len(s.freeE); n > 0 {
					rt.Fatal("no slot is freed here")
				}
				events[int32(len(s.slab)-1)] = key{s.since(ev.At), s.seq}
			case 1:
				pod := int32(rapid.IntRange(0, pods-1).Draw(rt, "pod"))
				var dl time.Time
				if n := rapid.IntRange(0, 8).Draw(rt, "deadline"); n > 0 {
					dl = s.now.Add(time.Duration(n) * time.Second)
				}
				before := s.seq
				s.setTick(pod, dl)
				switch {
				case dl.IsZero():
					delete(ticks, pod)
				case s.seq != before:
					ticks[pod] = key{s.since(dl), s.seq}
				}
			case 2:
				if _, ok := s.peek(); ok {
					take()
				}
			}
			if s.q.len() < len(ticks)+len(events) {
				rt.Fatalf("the queue holds %d items, the model %d live ones", s.q.len(), len(ticks)+len(events))
			}
		}
		for s.q.len() > 0 {
			take()
		}
		if len(ticks)+len(events) > 0 {
			rt.Fatalf("the queue is empty, the model holds %v and %v", ticks, events)
		}
	})
}

// TestSimTickTimesAreExact: a tick comes at its machine's deadline exactly, location and all,
// also when start plus a duration would not give that time back.
func TestSimTickTimesAreExact(t *testing.T) {
	s := NewSim(NewWorld(WorldOptions{}), t0)
	s.pods = append(s.pods, simPod{}, simPod{})
	zone := time.FixedZone("X", 7200)
	plain, zoned := t0.Add(3*time.Second), t0.Add(5*time.Second).In(zone)
	s.setTick(0, plain)
	s.setTick(1, zoned)
	require.Len(t, s.wholeTicks, 1, "only the zoned deadline is kept whole")
	for _, want := range []time.Time{plain, zoned} {
		it := s.next()
		got := s.tickTime(it)
		assert.True(t, got == want, "tick at %v, want %v", got, want)
	}
	assert.Empty(t, s.wholeTicks, "a delivered tick's whole time is forgotten")
}

// TestSimDetach: a detached pod goes on in the world (its container exits there, a pull under way
// completes) while no machine sees it; a machine added again for it, restored from what the world
// has, gets the exits still to come and none of the answers its predecessor was waiting for, as
// an agent restarted on a runtime does.
func TestSimDetach(t *testing.T) {
	w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Pull: Pull{Delay: 10 * time.Second},
		Runs: []Run{{For: 30 * time.Second, ExitCode: 1}}}}})
	s := NewSim(w, t0)
	var tl timeline
	tl.attach(t, s)
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1", ImagePullPolicy: podlife.PullAlways}}}
	m, err := s.AddPod(web, spec, lifecycle.Options{})
	require.NoError(t, err)
	s.RunUntil(at(5 * time.Second)) // the pull, asked at 0 s, completes at 10 s
	st, cp := m.Status(), m.Checkpoint()
	old, err := s.Detach(web)
	require.NoError(t, err)
	assert.Same(t, m, old)
	assert.Equal(t, 0, s.Live())
	_, err = s.Detach(web)
	assert.ErrorIs(t, err, ErrUnknownPod, "detached once")

	s.RunUntil(at(7 * time.Second))
	obs := lifecycle.Observed{Sandboxes: w.Sandboxes(), Containers: w.Containers()}
	m2, err := lifecycle.Restore(web, spec, st, cp, obs, s.Now(), lifecycle.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Add(m2))
	s.RunUntil(at(60 * time.Second))
	assert.Equal(t, []string{"0.0s", "7.0s", "47.0s"}, times(tl.grep("do PullImage")), "the restored machine pulls again")
	assert.Equal(t, []string{"17.0s", "57.0s"}, times(tl.grep("do CreateContainer")),
		"the first pull's answer at 10 s went to no machine")
	assert.Equal(t, []string{"47.0s"}, times(tl.grep("got ContainerExited")), "the runtime's own events reach the new machine")
	assert.Equal(t, int32(1), m2.Status().ContainerStatuses[0].RestartCount)
}

// TestSimDetachedPodLivesInTheWorld: while detached, a pod's container exits in the world, and a
// sandbox lost then is lost there: the restored machine sees both, as a restarted agent would.
func TestSimDetachedPodLivesInTheWorld(t *testing.T) {
	w := NewWorld(WorldOptions{Scripts: map[string]Script{"app": {Runs: []Run{{For: 20 * time.Second}, {}}}}})
	s := NewSim(w, t0)
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "app:1"}, {Name: "side", Image: "side:1"}}}
	m, err := s.AddPod(web, spec, lifecycle.Options{})
	require.NoError(t, err)
	s.RunUntil(at(10 * time.Second))
	_, err = s.Detach(web)
	require.NoError(t, err)
	s.RunUntil(at(30 * time.Second))
	c, ok := w.Container("default/web/app/0")
	require.True(t, ok)
	assert.Equal(t, lifecycle.ContainerStateExited, c.State, "the exit happened in the world")
	lost, ok := w.LoseSandbox(s.Now(), web)
	require.True(t, ok)
	require.NoError(t, s.At(s.Now(), web, lost))
	s.RunUntil(at(31 * time.Second))
	sb, _ := w.Sandbox("default/web/sb-0")
	assert.False(t, sb.Ready, "lost while detached")
	m2, err := lifecycle.Restore(web, spec, m.Status(), m.Checkpoint(), lifecycle.Observed{Sandboxes: w.Sandboxes(), Containers: w.Containers()},
		s.Now(), lifecycle.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Add(m2))
	s.RunUntil(at(60 * time.Second))
	st := m2.Status()
	assert.Equal(t, phase.Running, st.Phase)
	assert.NotNil(t, st.ContainerStatuses[0].State.Running, "app runs again in a new sandbox")
	_, ok = w.Sandbox("default/web/sb-1")
	assert.True(t, ok, "a new sandbox")
}
