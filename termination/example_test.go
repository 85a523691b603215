package termination_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife/termination"
)

// A deleted pod with an app container and two sidecars: every preStop starts at once, the app
// gets its stop signal when its hook returns, the sidecars only after it exited, the last
// declared first, each with what is left of the grace.
func ExamplePodStop() {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	grace, _ := termination.GracePeriod(termination.GraceRequest{Deleted: true}) // spec default
	members := []termination.Member{
		{Name: "web", HasPreStop: true},
		{Name: "log-shipper", Kind: termination.SidecarContainer, Order: 0},
		{Name: "mesh-proxy", Kind: termination.SidecarContainer, Order: 1, HasPreStop: true},
	}
	show := func(actions []termination.Action, _ error) {
		for _, a := range actions {
			fmt.Printf("%4v %v\n", a.At.Sub(start), a)
		}
	}

	ps, actions, err := termination.NewPodStop(members, grace.Period, start)
	show(actions, err)
	show(ps.PreStopDone("mesh-proxy", start.Add(1*time.Second))) // waits for web
	show(ps.PreStopDone("web", start.Add(5*time.Second)))
	show(ps.Exited("web", start.Add(7*time.Second)))
	show(ps.Exited("mesh-proxy", start.Add(8*time.Second)))
	deadline, _ := ps.Deadline() // log-shipper ignores its stop signal
	show(ps.Tick(deadline))
	show(ps.Exited("log-shipper", deadline))
	fmt.Println("done:", ps.Done())
	// Output:
	//   0s RunPreStop web
	//   0s RunPreStop mesh-proxy
	//   5s SendStopSignal web timeout=25s
	//   7s SendStopSignal mesh-proxy timeout=23s
	//   8s SendStopSignal log-shipper timeout=22s
	//  30s Kill log-shipper
	// done: true
}

// A container killed for failing its liveness probe, whose probe sets its own grace period.
func ExampleStop() {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	spec, probe := int64(30), int64(10)
	grace, _ := termination.GracePeriod(termination.GraceRequest{
		Scope: termination.ContainerScope, SpecSeconds: &spec, ProbeSeconds: &probe,
	})
	fmt.Println("grace:", grace.Period, grace.Source)

	st, actions, _ := termination.NewStop("app", grace.Period, true, start)
	fmt.Println(actions)
	deadline, _ := st.Deadline() // the hook hangs
	actions, _ = st.Tick(deadline)
	fmt.Println(actions)
	kill, _ := st.KillAt()
	fmt.Println("SIGKILL at", kill.Sub(start))
	// Output:
	// grace: 10s Probe
	// [RunPreStop app]
	// [SendStopSignal app timeout=2s]
	// SIGKILL at 12s
}

// A forced delete removes the pod object at once; the agent still stops its containers, with 1 s.
func ExampleGracePeriod() {
	zero := int64(0)
	g, _ := termination.GracePeriod(termination.GraceRequest{Deleted: true, DeleteSeconds: &zero})
	fmt.Println(g.Period, g.Source, g.Raised)
	// Output: 1s ForcedDelete true
}
