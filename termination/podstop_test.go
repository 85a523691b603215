package termination_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/termination"
)

func app(name string, preStop bool) termination.Member {
	return termination.Member{Name: name, HasPreStop: preStop}
}

func sidecar(name string, order int, preStop bool) termination.Member {
	return termination.Member{Name: name, Kind: termination.SidecarContainer, Order: order, HasPreStop: preStop}
}

func TestPodStop(t *testing.T) {
	tests := []struct {
		name    string
		members []termination.Member
		grace   time.Duration
		steps   []step
		want    []string
	}{
		{"every preStop (sidecars' too) starts at once",
			[]termination.Member{app("web", true), sidecar("proxy", 0, true)}, s(30), nil,
			[]string{"0s RunPreStop web", "0s RunPreStop proxy"}},
		{"app containers get their stop signal in parallel",
			[]termination.Member{app("a", false), app("b", false)}, s(30), nil,
			[]string{"0s SendStopSignal a timeout=30s", "0s SendStopSignal b timeout=30s"}},
		{"each app container's stop signal waits only for its own preStop",
			[]termination.Member{app("a", true), app("b", false)}, s(30), []step{hookDone("a", s(3))},
			[]string{"0s RunPreStop a", "0s SendStopSignal b timeout=30s", "3s SendStopSignal a timeout=27s"}},
		{"sidecars stop after app containers in reverse order, the wait deducted from their grace",
			[]termination.Member{app("a", false), sidecar("s1", 0, false), sidecar("s2", 1, false)}, s(30),
			[]step{exit("a", s(4)), exit("s2", s(6)), tick(s(60))},
			[]string{"0s SendStopSignal a timeout=30s", "4s SendStopSignal s2 timeout=26s",
				"6s SendStopSignal s1 timeout=24s", "30s Kill s1"}},
		{"a sidecar's wait is deducted in whole seconds",
			[]termination.Member{app("a", false), sidecar("s", 0, false)}, s(30),
			[]step{exit("a", ms(4500)), tick(ms(30500))},
			[]string{"0s SendStopSignal a timeout=30s", "4.5s SendStopSignal s timeout=26s", "30.5s Kill s"}},
		{"a sidecar waits for every app container",
			[]termination.Member{app("a", false), app("b", false), sidecar("s", 0, false)}, s(30),
			[]step{exit("a", s(1)), exit("b", s(8))},
			[]string{"0s SendStopSignal a timeout=30s", "0s SendStopSignal b timeout=30s", "8s SendStopSignal s timeout=22s"}},
		{"sidecar's grace runs out waiting: stop signal at grace with the 2 s floor",
			[]termination.Member{app("a", false), sidecar("s1", 0, false), sidecar("s2", 1, false)}, s(30),
			[]step{tick(s(32))},
			[]string{"0s SendStopSignal a timeout=30s", "30s SendStopSignal s1 timeout=2s",
				"30s SendStopSignal s2 timeout=2s", "30s Kill a", "32s Kill s1", "32s Kill s2"}},
		{"sidecar preStop of 0.9 s and apps that never exit: SIGKILL at grace + 2.9 s (upstream truncation)",
			[]termination.Member{app("a", false), sidecar("s", 0, true)}, s(30),
			[]step{hookDone("s", ms(900)), tick(ms(32900))},
			[]string{"0s RunPreStop s", "0s SendStopSignal a timeout=30s", "30s Kill a",
				"30.9s SendStopSignal s timeout=2s", "32.9s Kill s"}},
		{"a sidecar's own preStop comes first, then its turn",
			[]termination.Member{app("a", false), sidecar("s", 0, true)}, s(30),
			[]step{exit("a", s(1)), hookDone("s", s(3))},
			[]string{"0s RunPreStop s", "0s SendStopSignal a timeout=30s", "3s SendStopSignal s timeout=27s"}},
		{"an app container that exited during its preStop holds sidecars until the hook returns",
			[]termination.Member{app("a", true), sidecar("s", 0, false)}, s(30),
			[]step{exit("a", s(2)), hookDone("a", s(5))},
			[]string{"0s RunPreStop a", "5s SendStopSignal s timeout=25s"}},
		{"a sidecar that is not running breaks the chain: kubelet waits only for the nearest later sidecar",
			[]termination.Member{app("a", false), sidecar("s1", 0, false),
				{Name: "s2", Kind: termination.SidecarContainer, Order: 1, Exited: true}, sidecar("s3", 2, false)}, s(30),
			[]step{exit("a", s(1))},
			[]string{"0s SendStopSignal a timeout=30s", "1s SendStopSignal s1 timeout=29s", "1s SendStopSignal s3 timeout=29s"}},
		{"a sidecar exiting on its own at the very start still holds earlier sidecars until its own turn",
			[]termination.Member{sidecar("s0", 0, false), sidecar("s1", 1, false), sidecar("s2", 2, false)}, s(1),
			[]step{exit("s1", 0), tick(s(1))},
			[]string{"0s SendStopSignal s2 timeout=2s", "1s SendStopSignal s0 timeout=2s"}},
		{"sidecar order follows Order, not the member list",
			[]termination.Member{sidecar("late", 5, false), app("a", false), sidecar("early", 1, false)}, s(30),
			[]step{exit("a", s(1)), exit("late", s(2))},
			[]string{"0s SendStopSignal a timeout=30s", "1s SendStopSignal late timeout=29s", "2s SendStopSignal early timeout=28s"}},
		{"regular init containers stop at once and hold no sidecar",
			[]termination.Member{{Name: "init", Kind: termination.InitContainer}, sidecar("s", 0, false)}, s(30), nil,
			[]string{"0s SendStopSignal init timeout=30s", "0s SendStopSignal s timeout=30s"}},
		{"grace 0: no preStop, no sidecar wait, the 2 s floor",
			[]termination.Member{app("a", true), sidecar("s", 0, true)}, 0, []step{tick(s(2))},
			[]string{"0s SendStopSignal a timeout=2s", "0s SendStopSignal s timeout=2s", "2s Kill a", "2s Kill s"}},
		{"members already exited get no actions",
			[]termination.Member{{Name: "gone", HasPreStop: true, Exited: true}, app("a", false)}, s(5), []step{tick(s(5))},
			[]string{"0s SendStopSignal a timeout=5s", "5s Kill a"}},
		{"second delete shortens: app SIGKILL and sidecar wait end sooner",
			[]termination.Member{app("a", false), sidecar("s", 0, false)}, s(30),
			[]step{shorten(s(10), s(5)), tick(s(17))},
			[]string{"0s SendStopSignal a timeout=30s", "15s SendStopSignal s timeout=2s", "15s Kill a", "17s Kill s"}},
		{"second delete with a longer grace is ignored",
			[]termination.Member{app("a", false), sidecar("s", 0, false)}, s(30),
			[]step{shorten(s(45), s(5)), tick(s(32))},
			[]string{"0s SendStopSignal a timeout=30s", "30s SendStopSignal s timeout=2s", "30s Kill a", "32s Kill s"}},
		{"shorten restarts a running preStop's wait from the second delete",
			[]termination.Member{app("a", true)}, s(30),
			[]step{shorten(s(4), s(10)), tick(s(16))},
			[]string{"0s RunPreStop a", "14s SendStopSignal a timeout=2s", "16s Kill a"}},
		{"a container exited during its preStop is done once the stop restarts",
			[]termination.Member{app("a", true), sidecar("s", 0, false)}, s(30),
			[]step{exit("a", s(2)), shorten(s(20), s(6))},
			[]string{"0s RunPreStop a", "6s SendStopSignal s timeout=20s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := runPod(t, tc.members, tc.grace, tc.steps)
			require.Empty(t, cmp.Diff(tc.want, got))
		})
	}
}

func TestPodStopDeadlineAndPlans(t *testing.T) {
	members := []termination.Member{app("a", true), sidecar("s", 0, false)}
	ps, _, err := termination.NewPodStop(members, s(30), t0)
	require.NoError(t, err)
	require.Equal(t, t0, ps.Start())
	require.Equal(t, s(30), ps.Grace())

	d, ok := ps.Deadline()
	require.True(t, ok)
	require.Equal(t, t0.Add(s(30)), d, "app preStop timeout and sidecar grace both end at 30 s")

	_, err = ps.PreStopDone("a", t0.Add(s(2)))
	require.NoError(t, err)
	d, _ = ps.Deadline()
	require.Equal(t, t0.Add(s(30)), d, "app SIGKILL at 2 s + 28 s, sidecar grace at 30 s")

	_, err = ps.Exited("a", t0.Add(s(3)))
	require.NoError(t, err)
	plans := ps.Plans()
	require.Len(t, plans, 2)
	require.True(t, plans[0].Exited)
	require.Equal(t, t0.Add(s(3)), plans[0].ExitedAt)
	require.True(t, plans[1].StopSignalSent)
	require.Equal(t, t0.Add(s(3)), plans[1].StopSignalAt)
	require.Equal(t, s(27), plans[1].StopTimeout)
	require.Equal(t, t0.Add(s(30)), plans[1].KillAt)
	require.False(t, ps.Done())

	p, ok := ps.Plan("s")
	require.True(t, ok)
	require.Equal(t, plans[1], p)
	_, ok = ps.Plan("nope")
	require.False(t, ok)

	_, err = ps.Exited("s", t0.Add(s(4)))
	require.NoError(t, err)
	_, err = ps.Exited("s", t0.Add(s(5)))
	require.NoError(t, err, "a second exit report is ignored")
	_, ok = ps.Deadline()
	require.False(t, ok)
	require.True(t, ps.Done())
	p, _ = ps.Plan("s")
	require.Equal(t, t0.Add(s(4)), p.ExitedAt)
	require.True(t, p.KillAt.IsZero(), "no SIGKILL once exited")
}

func TestPodStopDeadlineWakesForAFinishingHook(t *testing.T) {
	// The app exited during its preStop; the sidecar's turn comes when that hook times out.
	ps, _, err := termination.NewPodStop([]termination.Member{app("a", true), sidecar("s", 0, true)}, s(30), t0)
	require.NoError(t, err)
	_, err = ps.Exited("a", t0.Add(s(1)))
	require.NoError(t, err)
	_, err = ps.PreStopDone("s", t0.Add(s(2)))
	require.NoError(t, err)
	d, ok := ps.Deadline()
	require.True(t, ok)
	require.Equal(t, t0.Add(s(30)), d)
	actions, err := ps.Tick(d)
	require.NoError(t, err)
	require.Equal(t, []string{"30s SendStopSignal s timeout=2s"}, trace(actions))
}

func TestPodStopRepeatedEvents(t *testing.T) {
	ps, _, err := termination.NewPodStop([]termination.Member{app("a", true)}, s(30), t0)
	require.NoError(t, err)
	actions, err := ps.PreStopDone("a", t0.Add(s(1)))
	require.NoError(t, err)
	require.Equal(t, []string{"1s SendStopSignal a timeout=29s"}, trace(actions))
	actions, err = ps.PreStopDone("a", t0.Add(s(2)))
	require.NoError(t, err)
	require.Empty(t, actions, "a second preStop report is ignored")
	p, _ := ps.Plan("a")
	require.Equal(t, t0.Add(s(30)), p.KillAt)
}

func TestPodStopRejects(t *testing.T) {
	tests := []struct {
		name    string
		members []termination.Member
		field   string
	}{
		{"a name is required", []termination.Member{{}}, "members[0].name"},
		{"names are unique", []termination.Member{app("a", false), app("a", false)}, "members[1].name"},
		{"sidecar orders are unique", []termination.Member{sidecar("x", 1, false), sidecar("y", 1, false)}, "members[1].order"},
		{"kind must be known", []termination.Member{{Name: "a", Kind: 9}}, "members[0].kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := termination.NewPodStop(tc.members, s(30), t0)
			require.ErrorIs(t, err, podlife.ErrInvalid)
			var list podlife.ErrorList
			require.ErrorAs(t, err, &list)
			require.Equal(t, tc.field, list[0].Field)
		})
	}
	_, _, err := termination.NewPodStop(nil, -time.Second, t0)
	require.ErrorIs(t, err, termination.ErrInvalidGrace)

	ps, _, err := termination.NewPodStop([]termination.Member{app("a", false)}, s(30), t0)
	require.NoError(t, err)
	_, err = ps.Exited("b", t0)
	require.ErrorIs(t, err, termination.ErrUnknownContainer)
	_, err = ps.PreStopDone("a", t0)
	require.ErrorIs(t, err, termination.ErrNoPreStop)
	_, err = ps.Tick(t0.Add(-time.Second))
	require.ErrorIs(t, err, termination.ErrTimeWentBackwards)
	_, err = ps.Exited("a", t0.Add(-time.Second))
	require.ErrorIs(t, err, termination.ErrTimeWentBackwards)
}

func TestZeroPodStop(t *testing.T) {
	var ps termination.PodStop
	actions, err := ps.Tick(t0)
	require.NoError(t, err)
	require.Empty(t, actions)
	_, ok := ps.Deadline()
	require.False(t, ok)
	require.True(t, ps.Done())
	require.Zero(t, ps.Grace())
	shortened, _, err := ps.Shorten(s(1), t0)
	require.NoError(t, err)
	require.False(t, shortened)
	_, err = ps.Exited("a", t0)
	require.ErrorIs(t, err, termination.ErrUnknownContainer)
	require.Empty(t, ps.Plans())
}

func TestActionString(t *testing.T) {
	require.Equal(t, "RunPreStop web", termination.Action{Kind: termination.RunPreStop, Container: "web"}.String())
	require.Equal(t, "Kill web", termination.Action{Kind: termination.Kill, Container: "web"}.String())
	require.Equal(t, "ActionKind(0) web", termination.Action{Container: "web"}.String())
}

func TestPodStopShortenKeepsTheEarlierKill(t *testing.T) {
	// The app exited during its preStop, so under the running stop the sidecar's turn comes when
	// that hook times out at 5 s: stop signal at 5 s, SIGKILL at 7 s. The restarted stop at 3.5 s
	// sees the app as gone: stop signal at once with timeout 4 s, which alone would kill at 7.5 s.
	// SIGKILL stays at 7 s: shortening never makes anything later.
	ps, all := runPod(t, []termination.Member{app("a", true), sidecar("s", 0, false)}, s(5),
		[]step{exit("a", s(1)), shorten(s(4), ms(3500))})
	require.Equal(t, []string{"0s RunPreStop a", "3.5s SendStopSignal s timeout=4s"}, all)
	p, _ := ps.Plan("s")
	require.Equal(t, t0.Add(s(7)), p.KillAt)
	actions, err := ps.Tick(t0.Add(s(7)))
	require.NoError(t, err)
	require.Equal(t, []string{"7s Kill s"}, trace(actions))
}

func TestPodStopPreStopDoneRejectsBadEvents(t *testing.T) {
	ps, _, err := termination.NewPodStop([]termination.Member{app("a", true)}, s(30), t0)
	require.NoError(t, err)
	_, err = ps.PreStopDone("b", t0.Add(s(1)))
	require.ErrorIs(t, err, termination.ErrUnknownContainer)
	_, err = ps.Tick(t0.Add(s(2)))
	require.NoError(t, err)
	_, err = ps.PreStopDone("a", t0.Add(s(1)))
	require.ErrorIs(t, err, termination.ErrTimeWentBackwards)
	p, _ := ps.Plan("a")
	require.False(t, p.StopSignalSent, "a rejected event changes nothing")
}
