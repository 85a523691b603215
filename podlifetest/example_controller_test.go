package podlifetest_test

// This file is a test as a user of podlife writes one: a small controller of their own, tested
// against pods that live by kubelet's rules (podlifetest's Rig), with podlifetest's generators
// and invariants.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/podlifetest"
	"github.com/podlife/podlife/probe"
)

// Restarter replaces a pod that has been Running but not Ready for After: it deletes it and binds
// a new pod (a new UID) of the same name and spec, as a StatefulSet controller would.
type Restarter struct {
	Client lifecycle.Client
	Node   string
	After  time.Duration

	mu       sync.Mutex
	since    map[string]time.Time // name -> since when the pod is Running and not Ready
	Restarts []Restart
}

// Restart is one pod the Restarter replaced, and when.
type Restart struct {
	Pod lifecycle.PodRef
	At  time.Time
}

// Run follows the statuses of the pod holding pod's name until ctx ends: every status the agent
// writes comes through the store's watch, so a short Ready between two not Ready ones is seen.
func (r *Restarter) Run(ctx context.Context, pod lifecycle.PodRef) error {
	r.since = map[string]time.Time{}
	prefix := r.Client.Keys.Statuses(r.Node)
	_, rev, err := r.Client.Store.List(ctx, prefix)
	if err != nil {
		return err
	}
	changes := r.Client.Store.Watch(ctx, prefix, rev+1)
	var fire <-chan time.Time
	var current lifecycle.PodRef // the pod the not Ready time is counted for
	for {
		select {
		case <-ctx.Done():
			return nil
		case resp, ok := <-changes:
			if !ok || resp.Err != nil {
				return resp.Err
			}
			for _, ev := range resp.Events {
				rec, err := lifecycle.DecodeStatus(ev.KV.Value)
				if ev.Type != lifecycle.WatchPut || err != nil || rec.Pod.Name != pod.Name {
					continue
				}
				notReady := rec.Status.Phase == phase.Running && !phase.IsConditionTrue(rec.Status.Conditions, phase.PodReady)
				r.mu.Lock()
				_, counting := r.since[pod.Name]
				switch {
				case !notReady:
					delete(r.since, pod.Name)
					fire = nil
				case !counting || rec.Pod != current:
					r.since[pod.Name], current = time.Now(), rec.Pod
					fire = time.After(r.After)
				}
				r.mu.Unlock()
			}
		case <-fire:
			fire = nil
			r.mu.Lock()
			delete(r.since, pod.Name)
			r.Restarts = append(r.Restarts, Restart{Pod: current, At: time.Now()})
			r.mu.Unlock()
			if err := r.replace(ctx, current); err != nil {
				return err
			}
		}
	}
}

func (r *Restarter) replace(ctx context.Context, pod lifecycle.PodRef) error {
	rec, _, err := r.Client.Pod(ctx, r.Node, pod)
	if err != nil {
		return err
	}
	zero := int64(0)
	if err := r.Client.Delete(ctx, r.Node, pod, &zero, time.Now()); err != nil {
		return err
	}
	_, err = r.Client.Bind(ctx, r.Node, lifecycle.PodRef{Namespace: pod.Namespace, Name: pod.Name}, rec.Spec)
	return err
}

// TestRestarterReplacesOnlyPodsLongNotReady: for any pod podlifetest draws, with a readiness
// probe that fails over a drawn window, the Restarter replaces the pod only once it was not
// Ready for 30 s (the probe's period later at most), and every pod's timeline keeps podlife's
// invariants.
func TestRestarterReplacesOnlyPodsLongNotReady(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		spec := podlifetest.Spec(podlifetest.SpecOptions{MaxInitContainers: 1, MaxContainers: 2}).Draw(rt, "spec")
		spec.RestartPolicy, spec.ReadinessGates = podlife.RestartAlways, nil
		spec.Containers[0].ReadinessProbe = &podlife.Probe{PeriodSeconds: 5, ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"ready"}}}}
		script := podlifetest.Script(spec, podlifetest.ScriptOptions{Agent: true}).Draw(rt, "script")
		from := time.Duration(rapid.IntRange(10, 100).Draw(rt, "notReadyFrom")) * time.Second
		length := time.Duration(rapid.IntRange(1, 60).Draw(rt, "notReadyFor")) * time.Second
		app := script.Containers[spec.Containers[0].Name]
		app.Probes = map[probe.Kind]simruntime.ProbeScript{probe.Readiness: {Windows: []simruntime.ProbeWindow{{From: from, Until: from + length}}}}
		if script.Containers == nil {
			script.Containers = map[string]simruntime.Script{}
		}
		script.Containers[spec.Containers[0].Name] = app

		// rapid's T fails a case by unwinding its own goroutine: inside the bubble, the test only
		// notes what is wrong, and reports it once the bubble is over.
		var problem string
		synctest.Test(t, func(t *testing.T) {
			timelines := map[lifecycle.PodRef]*podlifetest.Timeline{}
			var mu sync.Mutex
			start := time.Now()
			rig := podlifetest.StartRig(t, podlifetest.RigOptions{
				World: simruntime.WorldOptions{Images: podlifetest.Images(), Scripts: script.Containers},
				Observe: func(pod lifecycle.PodRef, now time.Time, rd lifecycle.Ready) {
					mu.Lock()
					defer mu.Unlock()
					if timelines[pod] == nil {
						timelines[pod] = podlifetest.NewTimeline(pod, spec, start)
					}
					timelines[pod].AddReady(now, rd)
				}})
			web := lifecycle.PodRef{Namespace: "default", Name: "web"}
			synctest.Wait()
			if _, err := rig.Client.Bind(t.Context(), rig.Node, web, spec); err != nil {
				problem = err.Error()
				return
			}
			r := &Restarter{Client: rig.Client, Node: rig.Node, After: 30 * time.Second}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx, web) }()
			time.Sleep(200 * time.Second)
			synctest.Wait()
			cancel()
			if err := <-done; err != nil {
				problem = err.Error()
				return
			}
			mu.Lock()
			defer mu.Unlock()
			// Every pod the Restarter replaced had been Running and not Ready for 30 s, as the
			// statuses its agent settled on say.
			for _, re := range r.Restarts {
				at := re.At.Sub(start)
				if tl := timelines[re.Pod]; tl == nil || notReadyFor(tl, at) < 30*time.Second {
					problem = fmt.Sprintf("%s replaced at %s after less than 30 s not Ready (%s):\n%s", re.Pod, at, notReadyFor(tl, at), tl.Trace())
					return
				}
			}
			for _, tl := range timelines {
				if vs := podlifetest.Check(tl); len(vs) > 0 {
					problem = fmt.Sprintf("%s: %v\n%s", tl.Pod, vs, tl.Trace())
					return
				}
			}
		})
		if problem != "" {
			rt.Fatal(problem)
		}
	})
}

// notReadyFor is how long before at the pod had been Running and not Ready without a break, in
// the statuses that ended their instants: the ones the Restarter is sure to see through the store
// (a Pending that a Running followed at the same instant may never be written).
func notReadyFor(tl *podlifetest.Timeline, at time.Duration) time.Duration {
	since := time.Duration(-1)
	for _, s := range tl.Settled() {
		if s.At >= at {
			break
		}
		notReady := s.Status.Phase == phase.Running && !phase.IsConditionTrue(s.Status.Conditions, phase.PodReady)
		switch {
		case notReady && since < 0:
			since = s.At
		case !notReady:
			since = -1
		}
	}
	if since < 0 {
		return 0
	}
	return at - since
}
