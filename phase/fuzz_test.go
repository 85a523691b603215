package phase_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// byteSource hands out the fuzzer's bytes one at a time, then zeros.
type byteSource struct {
	data []byte
}

func (b *byteSource) next() byte {
	if len(b.data) == 0 {
		return 0
	}
	v := b.data[0]
	b.data = b.data[1:]
	return v
}

func (b *byteSource) pick(n int) int { return int(b.next()) % n }

// decodePod builds a spec and statuses from arbitrary bytes. Names come from a small alphabet,
// so duplicates, names missing from the spec and statuses for unknown names all occur.
func decodePod(data []byte) (*podlife.PodSpec, []phase.ContainerStatus, []phase.ContainerStatus, bool) {
	b := &byteSource{data: data}
	pols := []podlife.RestartPolicy{"", podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever, "x"}
	name := func() string { return fmt.Sprintf("c%d", b.pick(6)) }
	container := func() podlife.Container {
		c := podlife.Container{Name: name()}
		switch b.pick(4) {
		case 1, 2:
			c.RestartPolicy = policy(pols[b.pick(len(pols))])
		}
		for n := b.pick(3); n > 0; n-- {
			r := podlife.RestartRule{Action: []podlife.RestartRuleAction{podlife.RuleRestart, podlife.RuleRestartAllContainers, ""}[b.pick(3)]}
			if b.pick(3) > 0 {
				r.ExitCodes = &podlife.ExitCodesRequirement{Operator: []podlife.ExitCodeOperator{podlife.ExitCodeIn, podlife.ExitCodeNotIn, ""}[b.pick(3)], Values: []int32{int32(b.pick(3))}}
			}
			c.RestartPolicyRules = append(c.RestartPolicyRules, r)
		}
		return c
	}
	terminated := func() *phase.TerminatedState {
		return &phase.TerminatedState{ExitCode: int32(int8(b.next())), Signal: int32(b.pick(10)), Reason: reasons[b.pick(len(reasons))],
			FinishedAt: t0.Add(-time.Duration(b.next()) * time.Minute)}
	}
	status := func() phase.ContainerStatus {
		s := phase.ContainerStatus{Name: name(), Ready: b.pick(2) == 1, RestartCount: int32(b.pick(4))}
		switch b.pick(3) {
		case 1:
			s.Started = yes()
		case 2:
			s.Started = no()
		}
		switch b.pick(5) {
		case 1:
			s.State.Waiting = &phase.WaitingState{Reason: reasons[b.pick(len(reasons))]}
		case 2:
			s.State.Running = &phase.RunningState{StartedAt: t0}
		case 3:
			s.State.Terminated = terminated()
		case 4: // more than one state set: invalid, must not panic
			s.State.Waiting = &phase.WaitingState{}
			s.State.Terminated = terminated()
		}
		if b.pick(2) == 1 {
			s.LastTerminationState.Terminated = terminated()
		}
		return s
	}
	var spec *podlife.PodSpec
	if b.pick(8) != 0 {
		spec = &podlife.PodSpec{RestartPolicy: pols[b.pick(len(pols))]}
		for n := b.pick(4); n > 0; n-- {
			spec.InitContainers = append(spec.InitContainers, container())
		}
		for n := b.pick(4); n > 0; n-- {
			spec.Containers = append(spec.Containers, container())
		}
		if b.pick(2) == 1 {
			spec.ReadinessGates = []string{"g"}
		}
	}
	var init, apps []phase.ContainerStatus
	for n := b.pick(5); n > 0; n-- {
		init = append(init, status())
	}
	for n := b.pick(5); n > 0; n-- {
		apps = append(apps, status())
	}
	return spec, init, apps, b.pick(2) == 1
}

func FuzzCompute(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		{1},
		{1, 3, 1, 0, 0, 1, 1, 0, 0, 0, 2, 1, 2, 0, 2, 1},
		{7, 1, 2, 4, 1, 3, 0, 2, 1, 1, 3, 200, 9, 2, 10, 1, 1},
		{5, 2, 3, 3, 1, 1, 2, 0, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 0, 0, 1},
		[]byte("the quick brown fox jumps over the lazy dog, twice over"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, init, apps, terminal := decodePod(data)
		got := phase.Compute(spec, init, apps, terminal)
		switch got {
		case phase.Pending, phase.Running, phase.Succeeded, phase.Failed:
		default:
			t.Fatalf("phase %q", got)
		}
		if again := phase.Compute(spec, init, apps, terminal); again != got {
			t.Fatalf("not deterministic: %s then %s", got, again)
		}
		conds := phase.Conditions(phase.ConditionInput{Spec: spec, InitStatuses: init, Statuses: apps, Phase: got}, nil, t0)
		if len(conds) < 5 {
			t.Fatalf("kubelet's conditions missing: %v", conds)
		}
		c := phase.KubectlColumns(phase.ColumnsInput{Spec: spec, Status: &phase.PodStatus{Phase: got, Conditions: conds, InitContainerStatuses: init, ContainerStatuses: apps}, Now: t0})
		if c.Ready == "" || c.Restarts == "" {
			t.Fatalf("empty columns %+v", c)
		}
	})
}
