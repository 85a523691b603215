package termination_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/termination"
)

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		grace   time.Duration
		preStop bool
		steps   []step
		want    []string
	}{
		{"no preStop: stop signal at once with timeout = grace, SIGKILL when it runs out",
			s(30), false, []step{tick(s(30))},
			[]string{"0s SendStopSignal c timeout=30s", "30s Kill c"}},
		{"2 s floor applies without preStop",
			s(1), false, []step{tick(s(2))},
			[]string{"0s SendStopSignal c timeout=2s", "2s Kill c"}},
		{"preStop starts at once; stop signal when it returns, whole seconds spent deducted",
			s(30), true, []step{hookDone("c", ms(5700)), tick(ms(30700))},
			[]string{"0s RunPreStop c", "5.7s SendStopSignal c timeout=25s", "30.7s Kill c"}},
		{"preStop still running when grace runs out: SIGTERM at grace, SIGKILL 2 s later",
			s(30), true, []step{tick(s(30)), tick(s(32))},
			[]string{"0s RunPreStop c", "30s SendStopSignal c timeout=2s", "32s Kill c"}},
		{"2 s floor after a preStop that left less than 2 s",
			s(30), true, []step{hookDone("c", ms(29500)), tick(ms(31500))},
			[]string{"0s RunPreStop c", "29.5s SendStopSignal c timeout=2s", "31.5s Kill c"}},
		{"grace 0 skips preStop; the 2 s floor applies",
			0, true, []step{tick(s(2))},
			[]string{"0s SendStopSignal c timeout=2s", "2s Kill c"}},
		{"exit after the stop signal: no SIGKILL",
			s(30), false, []step{exit("c", s(3)), tick(s(60))},
			[]string{"0s SendStopSignal c timeout=30s"}},
		{"exit during preStop: no stop signal",
			s(30), true, []step{exit("c", s(2)), tick(s(60))},
			[]string{"0s RunPreStop c"}},
		{"preStop returning after the grace ran out changes nothing",
			s(10), true, []step{tick(s(10)), hookDone("c", s(11)), tick(s(12))},
			[]string{"0s RunPreStop c", "10s SendStopSignal c timeout=2s", "12s Kill c"}},
		{"a late tick reports each action at its due time",
			s(5), true, []step{tick(s(100))},
			[]string{"0s RunPreStop c", "5s SendStopSignal c timeout=2s", "7s Kill c"}},
		{"second delete shortens: SIGKILL at the earlier of old and new plan",
			s(30), false, []step{shorten(s(10), s(5)), tick(s(15))},
			[]string{"0s SendStopSignal c timeout=30s", "15s Kill c"}},
		{"a longer second delete is ignored",
			s(30), false, []step{shorten(s(60), s(5)), tick(s(30))},
			[]string{"0s SendStopSignal c timeout=30s", "30s Kill c"}},
		{"shorten while preStop runs: the hook is waited for at most the new grace from then",
			s(30), true, []step{shorten(s(5), s(10)), tick(s(17))},
			[]string{"0s RunPreStop c", "15s SendStopSignal c timeout=2s", "17s Kill c"}},
		{"shorten after preStop returned: the stop restarts with the new grace from then",
			s(30), true, []step{hookDone("c", s(20)), shorten(s(3), s(21)), tick(s(24))},
			[]string{"0s RunPreStop c", "20s SendStopSignal c timeout=10s", "24s Kill c"}},
		{"shorten that would end later than the running stop changes nothing",
			s(30), false, []step{shorten(s(20), s(29)), tick(s(30))},
			[]string{"0s SendStopSignal c timeout=30s", "30s Kill c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := runStop(t, tc.grace, tc.preStop, tc.steps)
			require.Empty(t, cmp.Diff(tc.want, got))
		})
	}
}

func TestStopDeadlines(t *testing.T) {
	st, _, err := termination.NewStop("c", s(30), true, t0)
	require.NoError(t, err)

	d, ok := st.Deadline()
	require.True(t, ok)
	require.Equal(t, t0.Add(s(30)), d, "preStop is waited for at most the grace")
	_, known := st.StopSignalAt()
	require.False(t, known, "stop signal time unknown while preStop runs")
	_, known = st.KillAt()
	require.False(t, known, "SIGKILL time unknown while preStop runs")
	require.Equal(t, t0.Add(s(30)), st.Plan().StopSignalAt, "planned stop signal if the hook never returns")

	_, err = st.PreStopDone(t0.Add(ms(4200)))
	require.NoError(t, err)
	at, known := st.StopSignalAt()
	require.True(t, known)
	require.Equal(t, t0.Add(ms(4200)), at)
	kill, known := st.KillAt()
	require.True(t, known)
	require.Equal(t, t0.Add(ms(4200)+s(26)), kill, "30 s minus 4 whole seconds")
	d, _ = st.Deadline()
	require.Equal(t, kill, d)
	require.Equal(t, s(26), st.Plan().StopTimeout)
	require.Equal(t, s(30), st.Grace())

	_, err = st.Exited(t0.Add(s(10)))
	require.NoError(t, err)
	_, ok = st.Deadline()
	require.False(t, ok, "nothing left to do after the exit")
	_, known = st.KillAt()
	require.False(t, known, "no SIGKILL for a container that exited first")
	require.True(t, st.Done())
	require.True(t, st.Plan().Exited)
	require.Equal(t, t0.Add(s(10)), st.Plan().ExitedAt)
}

func TestStopKilledReportsKillTime(t *testing.T) {
	st, _, err := termination.NewStop("c", s(3), false, t0)
	require.NoError(t, err)
	_, err = st.Tick(t0.Add(s(3)))
	require.NoError(t, err)
	_, err = st.Exited(t0.Add(s(4)))
	require.NoError(t, err)
	kill, known := st.KillAt()
	require.True(t, known)
	require.Equal(t, t0.Add(s(3)), kill)
	require.True(t, st.Plan().KillSent)
}

func TestStopErrors(t *testing.T) {
	var zero termination.Stop
	_, err := zero.Tick(t0)
	require.ErrorIs(t, err, termination.ErrNotStarted)
	_, err = zero.Exited(t0)
	require.ErrorIs(t, err, termination.ErrNotStarted)
	_, err = zero.PreStopDone(t0)
	require.ErrorIs(t, err, termination.ErrNotStarted)
	_, _, err = zero.Shorten(s(1), t0)
	require.ErrorIs(t, err, termination.ErrNotStarted)
	_, ok := zero.Deadline()
	require.False(t, ok)
	require.False(t, zero.Done())
	require.Equal(t, termination.ContainerPlan{}, zero.Plan())

	for _, g := range []time.Duration{-time.Second, 1500 * time.Millisecond, termination.MaxGracePeriod + time.Second} {
		_, _, err = termination.NewStop("c", g, false, t0)
		require.ErrorIs(t, err, termination.ErrInvalidGrace, "grace %v", g)
	}

	st, _, err := termination.NewStop("c", s(30), false, t0)
	require.NoError(t, err)
	_, err = st.PreStopDone(t0.Add(s(1)))
	require.ErrorIs(t, err, termination.ErrNoPreStop)
	_, err = st.Tick(t0.Add(s(5)))
	require.NoError(t, err)
	_, err = st.Tick(t0.Add(s(4)))
	require.ErrorIs(t, err, termination.ErrTimeWentBackwards)
	_, _, err = st.Shorten(-time.Second, t0.Add(s(6)))
	require.ErrorIs(t, err, termination.ErrInvalidGrace)
	_, _, err = st.Shorten(time.Second, t0.Add(s(1)))
	require.ErrorIs(t, err, termination.ErrTimeWentBackwards)
}
