package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

func TestTimesThatAreNoStampsStayWhole(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second).In(zone) }
	spec := podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1",
		Lifecycle:      &podlife.Lifecycle{PostStart: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"x"}}}},
		ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"x"}}}}}}}
	tmpl, err := NewTemplate(spec)
	require.NoError(t, err)
	own, err := New(PodRef{Namespace: "ns", Name: "a"}, spec, t0, Options{})
	require.NoError(t, err)
	for name, m := range map[string]*Machine{"template": tmpl.New(PodRef{Namespace: "ns", Name: "a"}, t0, Options{}), "new": own} {
		t.Run(name, func(t *testing.T) {
			var last phase.PodStatus
			step := func(ev Event) {
				t.Helper()
				require.NoError(t, m.Step(ev))
				if rd := m.Ready(); rd.Status != nil {
					last = m.Status() // rd.Status is lent until Advance; Status is the machine's copy
					assert.Equal(t, *rd.Status, last)
				}
				m.Advance()
			}
			m.Advance()
			step(Event{Type: SetupDone, At: at(1)})
			step(Event{Type: SandboxReady, At: at(2), SandboxID: "sb", IP: "10.0.0.1"})
			step(Event{Type: ImagePulled, At: at(3), Container: "app"})
			step(Event{Type: ContainerCreated, At: at(4), Container: "app", ContainerID: "c1"})
			step(Event{Type: ContainerStarted, At: at(5), ContainerID: "c1"})
			step(Event{Type: HookResult, At: at(7), ContainerID: "c1", Hook: PostStart})
			step(Event{Type: ProbeResult, At: at(8), ContainerID: "c1", Probe: probe.Readiness, Outcome: probe.SuccessOutcome("")})
			run := last.ContainerStatuses[0].State.Running
			require.NotNil(t, run)
			assert.True(t, run.StartedAt == at(5), "started at %v", run.StartedAt)
			c, ok := phase.FindCondition(last.Conditions, phase.PodReady)
			require.True(t, ok)
			assert.Equal(t, phase.ConditionTrue, c.Status)
			assert.True(t, c.LastTransitionTime == at(8), "ready since %v", c.LastTransitionTime)
			c, _ = phase.FindCondition(last.Conditions, phase.PodReadyToStartContainers)
			assert.True(t, c.LastTransitionTime == at(2), "sandbox ready since %v", c.LastTransitionTime)
		})
	}
}
