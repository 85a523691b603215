package podlifetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/podlifetest"
)

// RunAgent plays a scenario on an Agent in a testing/synctest bubble, inside a test: Compare
// holds it to the Sim's play.
func ExampleRunAgent() {
	var t *testing.T // your test's
	sc := podlifetest.Scenario{Spec: podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}},
		Ops: []podlifetest.Op{podlifetest.StopAgent(10 * time.Second), podlifetest.StartAgent(20 * time.Second)}}
	agent := podlifetest.RunAgent(t, sc)
	sim, _ := podlifetest.RunSim(sc, podlifetest.SimOptions{})
	if d := podlifetest.Compare(sim, agent); d != "" {
		t.Fatal(d)
	}
}

// Check runs the invariants on a timeline your own code produced: here a status sequence where
// a restart count went down.
func ExampleCheck() {
	t0 := podlifetest.Epoch()
	tl := podlifetest.NewTimeline(podlifetest.DefaultPod(), podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}}, t0)
	for i, n := range []int32{0, 2, 1} {
		tl.AddStatus(t0.Add(time.Duration(i)*time.Second), phase.PodStatus{Phase: phase.Running,
			ContainerStatuses: []phase.ContainerStatus{{Name: "app", RestartCount: n, State: phase.State{Running: &phase.RunningState{StartedAt: t0}}}}})
	}
	for _, v := range podlifetest.Check(tl) {
		fmt.Println(v)
	}
	// Output:
	// 2s: RestartCountsNeverFall: app restartCount fell from 2 to 1
}

// The generators draw for rapid; Example shows one draw.
func ExampleSpec() {
	spec := podlifetest.Spec(podlifetest.SpecOptions{MaxInitContainers: 1, MaxContainers: 1}).Example(1)
	fmt.Println(spec.Validate() == nil, len(spec.Containers))
	// Output: true 1
}

// Scenarios draws whole scenarios; a property plays them and checks the invariants.
func ExampleScenarios() {
	var t *testing.T // your test's
	rapid.Check(t, func(rt *rapid.T) {
		sc := podlifetest.Scenarios(podlifetest.ScenarioOptions{}).Draw(rt, "scenario")
		tl, err := podlifetest.RunSim(sc, podlifetest.SimOptions{})
		if err != nil {
			rt.Fatal(err)
		}
		podlifetest.CheckT(rt, tl)
	})
}

// RunFiles plays your own scenario files; a flag of your test rewrites their traces.
func ExampleRunFiles() {
	var t *testing.T // your test's
	rewrite := false // flag.Bool("rewrite", false, "rewrite the traces in testdata/")
	podlifetest.RunFiles(t, "testdata/*.txt", podlifetest.FileOptions{Rewrite: rewrite, Invariants: true})
}

// A node for a controller's test: bind a pod through the Client and read what the agent
// reports. In a test, StartRig inside synctest.Test gives virtual time; here time is real, and
// the simulated runtime answers at once.
func ExampleNewRig() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rig, err := podlifetest.NewRig(ctx, podlifetest.RigOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rig.Stop()
	web, err := rig.Client.Bind(ctx, rig.Node, lifecycle.PodRef{Namespace: "default", Name: "web"},
		podlife.PodSpec{Containers: []podlife.Container{{Name: "web", Image: "nginx:1.25"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for ctx.Err() == nil {
		if st, err := rig.Client.Status(ctx, rig.Node, web); err == nil && st.Status.Phase == phase.Running {
			fmt.Println(web.Name, st.Status.Phase)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: web Running
}

// A rig with a supervisor loses its node: the pod shows Unknown, reason NodeLost, until a new
// agent recovers it and reports its true status over the supervisor's.
func ExampleRig_LoseNode() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rig, err := podlifetest.NewRig(ctx, podlifetest.RigOptions{Supervise: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rig.Stop()
	web, err := rig.Client.Bind(ctx, rig.Node, lifecycle.PodRef{Namespace: "default", Name: "web"},
		podlife.PodSpec{Containers: []podlife.Container{{Name: "web", Image: "nginx:1.25"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	await := func(ok func(lifecycle.StatusRecord) bool) {
		for ctx.Err() == nil {
			if st, err := rig.Client.Status(ctx, rig.Node, web); err == nil && ok(st) {
				fmt.Println(strings.TrimSpace(fmt.Sprint(st.Status.Phase, " ", st.Status.Reason, " ", st.Writer)))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	await(func(st lifecycle.StatusRecord) bool { return st.Status.Phase == phase.Running })
	if err := rig.LoseNode(); err != nil {
		fmt.Println(err)
		return
	}
	await(func(st lifecycle.StatusRecord) bool { return st.Status.Phase == phase.Unknown })
	if err := rig.StartAgent(); err != nil {
		fmt.Println(err)
		return
	}
	await(func(st lifecycle.StatusRecord) bool { return st.Status.Phase == phase.Running && st.Writer == "" })
	// Output:
	// Running
	// Unknown NodeLost supervisor
	// Running
}
