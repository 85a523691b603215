package scenario_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/scenario"
)

// TestValidateOps: each rule of Validate on operations, each problem an *OpError naming the
// operation's place in Ops (not in time order), so that a file format maps it to its line.
func TestValidateOps(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		ops  []scenario.Op
		bad  []int // the indexes of the ops refused
		want string
	}{
		{"a play of every operation", []scenario.Op{scenario.Delete(90 * s), scenario.UpdateImage(5*s, "app", "busybox:2"),
			scenario.LoseSandbox(6 * s), scenario.AddImage(7*s, "busybox:3"), scenario.StopAgent(8 * s), scenario.StartAgent(9 * s),
			scenario.StoreDown(10 * s), scenario.StoreUp(11 * s), scenario.LoseNode(12 * s), scenario.NodeBack(13 * s),
			scenario.UpdateDeadline(14*s, 1), scenario.UpdateDeadline(15*s, podlife.MaxActiveDeadlineSeconds)}, nil, ""},
		{"after until", []scenario.Op{scenario.Delete(11 * time.Minute)}, []int{0}, "not within 0s and until 10m0s"},
		{"a negative grace", []scenario.Op{scenario.DeleteGrace(s, -1)}, []int{0}, "negative grace -1"},
		{"an image update of no container", []scenario.Op{scenario.UpdateImage(s, "web", "x")}, []int{0}, `no container "web" in the spec`},
		{"a deadline of 0", []scenario.Op{scenario.UpdateDeadline(s, 0)}, []int{0}, "activeDeadlineSeconds 0 is not from 1 to 2147483647"},
		{"a deadline past the API server's largest", []scenario.Op{scenario.UpdateDeadline(s, 1<<31)}, []int{0}, "activeDeadlineSeconds 2147483648 is not from 1"},
		{"the agent started twice", []scenario.Op{scenario.StartAgent(s)}, []int{0}, "the agent is already running"},
		{"the node lost twice, the second first in Ops", []scenario.Op{scenario.LoseNode(9 * s), scenario.LoseNode(5 * s)}, []int{0}, "the node is already lost"},
		{"the node back that was not lost", []scenario.Op{scenario.NodeBack(s)}, []int{0}, "the node is not lost"},
		{"the agent stopped while the node is lost", []scenario.Op{scenario.LoseNode(s), scenario.StopAgent(2 * s), scenario.NodeBack(3 * s)}, []int{1},
			"the node is lost (node-back starts its agent)"},
		{"the node lost while its agent is stopped", []scenario.Op{scenario.StopAgent(s), scenario.LoseNode(2 * s)}, []int{1}, "the agent is stopped"},
		{"the node lost in an outage", []scenario.Op{scenario.StoreDown(s), scenario.LoseNode(2 * s)}, []int{1}, "the store is down"},
		{"an outage while the node is lost", []scenario.Op{scenario.LoseNode(s), scenario.StoreDown(2 * s)}, []int{1}, "the node is lost (an outage then is not modelled)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := scenario.Scenario{Spec: podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1"}}}, Ops: tc.ops}
			err := sc.Validate()
			if tc.bad == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, scenario.ErrBadScenario)
			assert.ErrorContains(t, err, tc.want)
			var got []int
			for _, oe := range scenario.OpErrors(err) {
				got = append(got, oe.Index)
			}
			assert.Equal(t, tc.bad, got)
			var oe *scenario.OpError
			assert.True(t, errors.As(err, &oe))
		})
	}
}
