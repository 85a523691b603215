package lifecycle_test

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/podlifetest"
)

// TestMachineInvariants plays generated scenarios (podlifetest's generators: every kind of
// container, probe, hook, policy and rule; scripts of exits, kills, unknown states, failed
// starts, pulls and creates, sandboxes without an IP or lost; deletes, image updates, agent
// restarts, store outages) on the Sim and checks podlifetest's invariants on every play, replay
// included; the machine's insides at every Ready (lifecycle.ReadyChecker); and two rules of
// its own: nothing is created in a sandbox that has no IP, and no pod is Succeeded or Failed
// while all its containers restart in place. RunSim fails on any refused event but a stale one.
func TestMachineInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{}).Draw(rt, "scenario")
		var check *lifecycle.ReadyChecker
		var problem string
		tl, err := podlifetest.RunSim(sc, podlifetest.SimOptions{
			NewMachine: func(ref lifecycle.PodRef, spec podlife.PodSpec, now time.Time) (*lifecycle.Machine, error) {
				check = &lifecycle.ReadyChecker{}
				return lifecycle.New(ref, spec, now, lifecycle.Options{})
			},
			OnReady: func(m *lifecycle.Machine, now time.Time, rd lifecycle.Ready) {
				if err := check.Check(m, rd); err != nil && problem == "" {
					problem = fmt.Sprintf("%s: %v", now.Sub(podlifetest.Epoch()), err)
				}
			},
		})
		if err != nil {
			rt.Fatalf("%v\n%s", err, tl.Trace())
		}
		if problem != "" {
			rt.Fatalf("%s\n%s", problem, tl.Trace())
		}
		podlifetest.CheckT(rt, tl)
		noIP := map[string]bool{}
		for _, s := range tl.Steps {
			if ev := s.Input; ev != nil && ev.Type == lifecycle.SandboxReady && ev.IP == "" {
				noIP[ev.SandboxID] = true
			}
			for _, a := range s.Actions {
				if a.Type == lifecycle.CreateContainer && noIP[a.SandboxID] && !sc.Spec.HostNetwork {
					rt.Fatalf("%s: %s created in sandbox %s, which has no IP\n%s", s.At, a.Container, a.SandboxID, tl.Trace())
				}
			}
			if st := s.Status; st != nil && st.Phase.IsTerminal() && phase.IsConditionTrue(st.Conditions, phase.AllContainersRestarting) && !deleted(tl, s.At) {
				rt.Fatalf("%s: phase %s while all containers restart in place\n%s", s.At, st.Phase, tl.Trace())
			}
		}
	})
}

// deleted reports whether the pod was being deleted at at.
func deleted(tl *podlifetest.Timeline, at time.Duration) bool {
	for _, s := range tl.Steps {
		if s.At <= at && s.Input != nil && s.Input.Type == lifecycle.DeleteRequested {
			return true
		}
	}
	return false
}
