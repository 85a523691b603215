package probe_test

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

// A liveness probe with the default failureThreshold of 3: the container answers once, then
// fails three times in a row, and the third failure kills it. The tracker then holds until the
// next container instance.
func ExampleTracker() {
	started := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	spec := &podlife.Probe{InitialDelaySeconds: 5, PeriodSeconds: 10}
	liveness := probe.NewTracker(probe.Liveness, spec, "containerd://a1", started)
	liveness.MarkStarted(started) // no startup probe: started as soon as it runs

	exitCodes := []int{0, 1, 1, 1}
	for _, code := range exitCodes {
		at, ok := liveness.NextRun()
		if !ok {
			break
		}
		eff := liveness.Observe(probe.ExecOutcome(code, false, "redis-cli ping"), at)
		fmt.Printf("+%v exit %d: %v kill=%v\n", at.Sub(started), code, eff.Result, eff.Kill)
	}
	_, ok := liveness.NextRun()
	fmt.Println("probing after the kill:", ok)

	liveness.Reset("containerd://b2", started.Add(40*time.Second))
	fmt.Println("new container starts at:", liveness.Result())
	// Output:
	// +5s exit 0: Success kill=false
	// +15s exit 1: Success kill=false
	// +25s exit 1: Success kill=false
	// +35s exit 1: Failure kill=true
	// probing after the kill: false
	// new container starts at: Success
}

// Interpreting what an HTTP probe saw: a same-host redirect is followed, a redirect to another
// host is a success with a warning event, a 500 is a failure.
func ExampleHTTPOutcome() {
	show := func(o probe.Outcome) { fmt.Printf("%v warning=%v %q\n", o.Result, o.Warning, o.Message) }
	show(probe.HTTPOutcome("10.1.2.3:8080",
		probe.HTTPReply{Status: 302, Location: "/healthz/"},
		probe.HTTPReply{Status: 200, Body: "ok"}))
	show(probe.HTTPOutcome("10.1.2.3:8080",
		probe.HTTPReply{Status: 302, Location: "https://sso.example.com/", Body: "Found"}))
	show(probe.HTTPOutcome("10.1.2.3:8080", probe.HTTPReply{Status: 500, Body: "boom"}))
	// Output:
	// Success warning=false "ok"
	// Success warning=true "Probe terminated redirects, Response body: Found"
	// Failure warning=false "HTTP probe failed with statuscode: 500"
}

// A named port resolves through the container's ports; an unknown name is an agent-side error
// that the tracker does not count.
func ExampleResolvePort() {
	ports := []podlife.Port{{Name: "metrics", ContainerPort: 9100}}
	n, err := probe.ResolvePort(podlife.PortName("metrics"), ports)
	fmt.Println(n, err)
	_, err = probe.ResolvePort(podlife.PortName("web"), ports)
	fmt.Println(probe.ErrorOutcome(err).Counted(), err)
	// Output:
	// 9100 <nil>
	// false port "web": port not found
}

func ExampleEffectiveSpec() {
	s := probe.EffectiveSpec(&podlife.Probe{PeriodSeconds: 5})
	fmt.Println(s.InitialDelay, s.Period, s.Timeout, s.SuccessThreshold, s.FailureThreshold)
	// Output: 0s 5s 1s 1 3
}
