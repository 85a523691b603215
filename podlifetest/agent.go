package podlifetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/scenario"
)

// RunAgent plays sc on a lifecycle.Agent, as a node runs a pod: the agent on a memstore and a
// simruntime.Runtime in a testing/synctest bubble (virtual time from Epoch, so a ten-minute
// scenario takes milliseconds), the operations through a lifecycle.Client, the store and the
// runtime; a lost node through a lifecycle.Supervisor on the store (RigOptions.Supervise). It returns the pod's timeline: every Ready of the agent's machines (AgentConfig.Observe)
// and the runtime's own events; the events the machines were stepped with stay inside the agent.
// It calls synctest.Test, so t must not be in a bubble already; call it from a rapid property
// with the test's own t.
func RunAgent(t *testing.T, sc Scenario) *Timeline {
	t.Helper()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
		return nil
	}
	var tl *Timeline
	synctest.Test(t, func(t *testing.T) { tl = playAgent(t, sc) })
	return tl
}

func playAgent(t *testing.T, sc Scenario) *Timeline {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ref, start := sc.Ref(), time.Now()
	tl := NewTimeline(ref, sc.Spec, start)
	var mu sync.Mutex
	tooLong, restarted := false, false
	var client lifecycle.Client
	supervise := slices.ContainsFunc(sc.Ops, func(op Op) bool { return op.Kind == OpLoseNode })
	rig, err := NewRig(ctx, RigOptions{World: simruntime.WorldOptions{Images: sc.Images}, Supervise: supervise,
		Observe: func(pod lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
			if pod != ref {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if restarted {
				// A restarted agent's first Ready of the pod: its machine was restored from the
				// status in the store, which the agent writes only after this.
				restarted = false
				var in RestoreInput
				if rec, err := client.Status(ctx, Node, ref); err == nil {
					in.Status = rec.Status
				}
				tl.AddRestore(now, in)
			}
			tl.AddReady(now, rd)
			if len(tl.Steps) > MaxSteps && !tooLong {
				tooLong = true
				cancel() // the agent stops; the play runs out its time
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	client = rig.Client
	rig.Runtime.With(func(w *simruntime.World) { w.ScriptPod(ref, sc.Script) })
	evctx, stopEvents := context.WithCancel(ctx)
	events, _ := rig.Runtime.Events(evctx)
	var watching sync.WaitGroup
	watching.Go(func() {
		for ev := range events {
			if ev.Container.Pod != ref && ev.Sandbox.Pod != ref {
				continue
			}
			mu.Lock()
			tl.AddRuntime(time.Now(), ev)
			mu.Unlock()
		}
	})
	synctest.Wait() // the agent is up and watching
	if _, err := rig.Client.Bind(ctx, rig.Node, ref, sc.Spec); err != nil {
		t.Fatal(err)
	}
	spec := sc.Spec
	for _, op := range sc.SortedOps() {
		time.Sleep(time.Until(start.Add(op.At)))
		synctest.Wait()
		mu.Lock()
		tl.AddOp(time.Now(), op)
		mu.Unlock()
		switch op.Kind {
		case OpDelete:
			_ = rig.Client.Delete(ctx, rig.Node, ref, op.Grace, time.Now())
		case OpUpdateImage, OpUpdateDeadline:
			next, _ := scenario.SpecAfter(spec, op)
			if rig.Client.UpdateSpec(ctx, rig.Node, ref, next) == nil {
				spec = next
			}
		case OpLoseSandbox:
			rig.Runtime.LoseSandbox(ref)
		case OpAddImage:
			rig.Runtime.AddImage(op.Image)
		case OpStopAgent:
			rig.StopAgent()
		case OpStartAgent, OpNodeBack:
			mu.Lock()
			restarted = true
			mu.Unlock()
			if err := rig.StartAgent(); err != nil {
				t.Errorf("at %s: %v", op.At, err)
			}
		case OpLoseNode:
			if err := rig.LoseNode(); err != nil {
				t.Errorf("at %s: %v", op.At, err)
			}
			synctest.Wait() // the supervisor saw the lease go
			if rec, err := client.Status(ctx, Node, ref); err == nil && rec.Writer != "" {
				mu.Lock()
				tl.AddWritten(time.Now(), rec.Status, rec.Writer)
				mu.Unlock()
			}
		case OpStoreDown:
			rig.Store.SetUnavailable(true)
		case OpStoreUp:
			rig.Store.SetUnavailable(false)
		}
		synctest.Wait()
	}
	time.Sleep(time.Until(start.Add(sc.End())))
	synctest.Wait()
	rig.Stop()
	stopEvents()
	watching.Wait()
	mu.Lock()
	defer mu.Unlock()
	if tooLong {
		t.Errorf("%v\n%s", ErrTooLong, sc.Format())
	}
	return tl
}
