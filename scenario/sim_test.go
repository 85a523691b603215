package scenario_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/scenario"
)

// TestOnStepSeesTheTimeline: OnStep sees every step the timeline keeps, in order, with the
// machine that runs the pod then (none while the node is lost, the restored one from the
// restore on); with Discard the timeline keeps none of them, and OnStep sees the same.
func TestOnStepSeesTheTimeline(t *testing.T) {
	sc := scenario.Scenario{
		Spec: podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}},
		Script: simruntime.PodScript{Containers: map[string]simruntime.Script{
			"app": {Runs: []simruntime.Run{{For: 5 * time.Second, ExitCode: 1}, {}}},
		}},
		Ops:   []scenario.Op{scenario.LoseNode(20 * time.Second), scenario.NodeBack(30 * time.Second), scenario.Delete(40 * time.Second)},
		Until: time.Minute,
	}
	type seen struct {
		step    scenario.Step
		machine *lifecycle.Machine
	}
	play := func(discard bool) ([]seen, *scenario.Timeline) {
		var out []seen
		tl, err := scenario.RunSim(sc, scenario.SimOptions{Discard: discard, OnStep: func(m *lifecycle.Machine, s *scenario.Step) {
			out = append(out, seen{*s, m})
		}})
		require.NoError(t, err)
		return out, tl
	}
	kept, tl := play(false)
	require.Len(t, kept, len(tl.Steps))
	var first, restored *lifecycle.Machine
	for i, s := range kept {
		assert.Equal(t, tl.Steps[i], s.step, "step %d", i)
		switch {
		case s.step.Writer != "":
			assert.Equal(t, lifecycle.SupervisorWriter, s.step.Writer)
			assert.Equal(t, phase.Unknown, s.step.Status.Phase)
			assert.Nil(t, s.machine, "no agent runs the pod of a lost node")
		case s.step.Restore != nil:
			restored = s.machine
		case s.step.At < 20*time.Second:
			first = s.machine
		case s.step.At > 30*time.Second:
			assert.Same(t, restored, s.machine, "after the restore, the restored machine")
		}
	}
	require.NotNil(t, first)
	require.NotNil(t, restored)
	assert.NotSame(t, first, restored)

	discarded, tl2 := play(true)
	assert.Empty(t, tl2.Steps)
	require.Len(t, discarded, len(kept))
	for i := range kept {
		assert.Equal(t, kept[i].step, discarded[i].step, "step %d", i)
	}
}
