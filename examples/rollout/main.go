// Command rollout is a small rolling-update controller on top of podlife's Agent: a node agent
// (lifecycle.Agent) runs pods on the simulated runtime (simruntime.Runtime) from an in-memory
// store (memstore), podlifetest's Rig in one call, and the controller, a scheduler's side of it, binds and deletes pods with a
// lifecycle.Client and reads the statuses the agent reports. It deploys revision v1 of a web
// server and rolls it to v2, within maxSurge and maxUnavailable as a Deployment's rolling update
// does, waiting for each new pod's Ready condition, and prints its timeline:
//
//	TIME    AVAILABLE  PODS  OLD  NEW  EVENT
//	0s      0/3        1     0    1    bound web-v1-0
//	...
//
// AVAILABLE counts the Ready pods not being deleted, PODS every pod bound whose record is still
// in the store (terminating ones too); OLD and NEW split PODS by revision.
//
// Time is real: the simulated web server becomes Ready one second after it starts (its
// readiness probe, run every second, fails at first) and exits half a second after SIGTERM, so
// a rollout of three replicas takes a few seconds. The test runs the same in a testing/synctest
// bubble, in virtual time.
//
// Usage:
//
//	go run ./examples/rollout [-replicas 3] [-max-surge 1] [-max-unavailable 0]
//
// The exit code is 0 for a finished rollout, 2 for bad flags, 1 when the rollout fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/podlifetest"
	"github.com/podlife/podlife/probe"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// node is the name of the one node.
const node = "node-1"

// run is the command: it parses args, rolls v1 out and then v2, and prints the timeline.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s Strategy
	fs.IntVar(&s.Replicas, "replicas", 3, "how many pods the deployment runs")
	fs.IntVar(&s.MaxSurge, "max-surge", 1, "how many pods above replicas may exist during the update")
	fs.IntVar(&s.MaxUnavailable, "max-unavailable", 0, "how many pods below replicas may be unavailable during the update")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rollout: unexpected argument %q: rollout takes only flags\n", fs.Arg(0))
		return exitUsage
	}
	if err := s.Validate(); err != nil {
		fmt.Fprintln(stderr, "rollout:", err)
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "rollout: -timeout %s: want a positive duration\n", *timeout)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	n, err := startNode(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "rollout:", err)
		return exitFailure
	}
	err = demo(ctx, n, s, stdout)
	cancel()
	n.Stop()
	if err != nil {
		fmt.Fprintln(stderr, "rollout:", err)
		return exitFailure
	}
	return exitOK
}

// world is the simulated node: the web server becomes Ready a second after it starts and exits
// (0) half a second after SIGTERM.
func world() simruntime.WorldOptions {
	return simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
		"web": {
			Runs:   []simruntime.Run{{TermDelay: 500 * time.Millisecond, GracefulExit: true}},
			Probes: map[probe.Kind]simruntime.ProbeScript{probe.Readiness: {Fail: true, FailUntil: time.Second, Message: "warming up"}},
		},
	}}
}

// startNode runs a node (podlifetest's Rig: an agent on the simulated runtime and an in-memory
// store) until ctx ends or Stop.
func startNode(ctx context.Context) (*podlifetest.Rig, error) {
	return podlifetest.NewRig(ctx, podlifetest.RigOptions{Node: node, World: world()})
}

// webSpec is revision image of the web server: a readiness probe every second and 5 s of grace.
func webSpec(image string) podlife.PodSpec {
	grace := int64(5)
	return podlife.PodSpec{
		TerminationGracePeriodSeconds: &grace,
		Containers: []podlife.Container{{Name: "web", Image: image,
			ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"/ready"}}},
				PeriodSeconds: 1}}},
	}
}

// demo deploys v1 and rolls it to v2 on n, printing the timeline to w.
func demo(ctx context.Context, n *podlifetest.Rig, s Strategy, w io.Writer) error {
	start := time.Now()
	fmt.Fprintf(w, "Deployment web on %s: %d replicas, maxSurge %d, maxUnavailable %d; v1 is web:1, v2 is web:2.\n\n",
		node, s.Replicas, s.MaxSurge, s.MaxUnavailable)
	fmt.Fprintf(w, "%-7s %-10s %-5s %-4s %-4s %s\n", "TIME", "AVAILABLE", "PODS", "OLD", "NEW", "EVENT")
	c := &Controller{Client: n.Client, Node: node, Name: "web", Strategy: s,
		OnEvent: func(ev Event) {
			fmt.Fprintf(w, "%-7s %-10s %-5d %-4d %-4d %s\n", ev.At.Sub(start).Round(time.Millisecond),
				fmt.Sprintf("%d/%d", ev.Available, s.Replicas), ev.Pods, ev.Old, ev.New, ev.What)
		}}
	if err := c.Rollout(ctx, "v1", webSpec("registry.example/web:1")); err != nil {
		return err
	}
	return c.Rollout(ctx, "v2", webSpec("registry.example/web:2"))
}
