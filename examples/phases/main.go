// Command phases walks one pod (an init container and an app container that crashes twice and
// then completes under restartPolicy OnFailure) through its life with podlife's pure core, and
// prints each step the way `kubectl get pods` would show it.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/restart"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "phases:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	spec := podlife.PodSpec{
		RestartPolicy:  podlife.RestartOnFailure,
		InitContainers: []podlife.Container{{Name: "migrate", Image: "busybox:1.36"}},
		Containers:     []podlife.Container{{Name: "worker", Image: "busybox:1.36"}},
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	initSt, appSt := phase.InitialStatuses(&spec)
	backoff := restart.CrashLoopBackoff()
	var crash restart.CrashLoop

	fmt.Fprintf(w, "%-6s %-10s %-18s %-6s %-14s %s\n", "TIME", "PHASE", "STATUS", "READY", "RESTARTS", "WHAT HAPPENED")
	show := func(now time.Time, what string) {
		st := phase.PodStatus{InitContainerStatuses: initSt, ContainerStatuses: appSt}
		st.Phase = phase.Compute(&spec, initSt, appSt, false)
		st.Conditions = phase.Conditions(phase.ConditionInput{Spec: &spec, InitStatuses: initSt, Statuses: appSt,
			Phase: st.Phase, SandboxReady: true}, nil, now)
		cols := phase.KubectlColumns(phase.ColumnsInput{Spec: &spec, Status: &st, Now: now})
		fmt.Fprintf(w, "%-6s %-10s %-18s %-6s %-14s %s\n", now.Sub(t0), st.Phase, cols.Status, cols.Ready, cols.Restarts, what)
	}
	exit := func(s phase.ContainerStatus, code int32, from, to int) phase.ContainerStatus {
		reason := phase.ReasonCompleted
		if code != 0 {
			reason = phase.ReasonError
		}
		return phase.Exited(s, phase.TerminatedState{ExitCode: code, Reason: reason, StartedAt: at(from), FinishedAt: at(to)})
	}

	show(at(0), "pod bound to the node; nothing runs yet")
	initSt[0] = phase.RunningAgain(initSt[0], at(1), 0)
	show(at(1), "init container migrate running")
	initSt[0] = exit(initSt[0], 0, 1, 4)
	show(at(4), "migrate exited 0; the app container may start")
	attempt := int32(0)
	started := at(5)
	appSt[0] = phase.RunningAgain(appSt[0], started, attempt)
	appSt[0] = withStartedReady(appSt[0])
	show(at(5), "worker running")
	for i, finished := range []int{8, 12} {
		appSt[0] = exit(appSt[0], 1, int(started.Sub(t0)/time.Second), finished)
		next := crash.NextStart(backoff, at(finished))
		if delay := next.Sub(at(finished)); delay > 0 {
			appSt[0] = phase.BackingOff(appSt[0], fmt.Sprintf("back-off %v restarting failed container=worker", delay))
			show(at(finished), fmt.Sprintf("worker exited 1 (crash %d); OnFailure restarts it after %v", i+1, delay))
		} else {
			show(at(finished), fmt.Sprintf("worker exited 1 (crash %d); OnFailure restarts it at once", i+1))
		}
		crash = crash.Restarted(backoff, at(finished), next)
		attempt++
		started = next
		appSt[0] = withStartedReady(phase.RunningAgain(appSt[0], started, attempt))
		show(started, fmt.Sprintf("worker running again (restart %d)", attempt))
	}
	appSt[0] = exit(appSt[0], 0, int(started.Sub(t0)/time.Second), 60)
	show(at(60), "worker exited 0: nothing restarts under OnFailure")
	show(at(360), "five minutes later the phase is still Succeeded: terminal phases absorb")
	return nil
}

func withStartedReady(s phase.ContainerStatus) phase.ContainerStatus {
	t := true
	s.Started, s.Ready = &t, true
	return s
}
