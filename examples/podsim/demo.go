package main

import (
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/probe"
)

// demoRef is the built-in demo pod; a -spec pod is called userPodName instead.
var demoRef = lifecycle.PodRef{Namespace: "default", Name: "shop", UID: "7f3e2a"}

const userPodName = "podsim"

// demoSpec is the built-in demo pod: a regular init container that migrates a database, a
// log-shipping sidecar with a startup probe, and a web server with startup, liveness and
// readiness probes and a preStop hook that lets load balancers drain it.
func demoSpec() podlife.PodSpec {
	always := podlife.RestartAlways
	grace := int64(30)
	exec := func(cmd ...string) podlife.ProbeHandler {
		return podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: cmd}}
	}
	return podlife.PodSpec{
		RestartPolicy:                 podlife.RestartAlways,
		TerminationGracePeriodSeconds: &grace,
		InitContainers: []podlife.Container{
			{
				Name:    "migrate",
				Image:   "registry.example.com/shop/migrate:1.4.2",
				Command: []string{"/migrate", "up"},
			},
			{
				Name:          "log-shipper",
				Image:         "fluent/fluent-bit:3.1",
				RestartPolicy: &always,
				StartupProbe: &podlife.Probe{ProbeHandler: exec("test", "-S", "/run/fluent-bit.sock"),
					PeriodSeconds: 2, FailureThreshold: 10},
			},
		},
		Containers: []podlife.Container{{
			Name:  "web",
			Image: "registry.example.com/shop/web:1.4.2",
			Ports: []podlife.Port{{Name: "http", ContainerPort: 8080}},
			StartupProbe: &podlife.Probe{ProbeHandler: exec("/bin/healthcheck", "startup"),
				PeriodSeconds: 2, FailureThreshold: 15},
			LivenessProbe: &podlife.Probe{ProbeHandler: exec("/bin/healthcheck", "live"),
				PeriodSeconds: 10},
			ReadinessProbe: &podlife.Probe{ProbeHandler: exec("/bin/healthcheck", "ready"),
				PeriodSeconds: 5},
			Lifecycle: &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 5}}},
		}},
	}
}

// demoScript is what the simulated node does with the demo pod: migrate takes 3 s; the sidecar's
// socket appears 4 s after it starts (two startup probe failures); web exits 1 after 20 s three
// times (its database is not up yet), so the crash-loop back-off of 0 s, 10 s and 20 s shows,
// then keeps running; from 60 s to 90 s into that instance its readiness probe fails; on the stop
// signal web takes 2 s to drain and exit 0, the sidecar 1 s: the deleted pod ends Succeeded.
func demoScript() simruntime.PodScript {
	crash := simruntime.Run{For: 20 * time.Second, ExitCode: 1}
	return simruntime.PodScript{Containers: map[string]simruntime.Script{
		"migrate": {Runs: []simruntime.Run{{For: 3 * time.Second}}},
		"log-shipper": {
			Runs: []simruntime.Run{{TermDelay: time.Second, GracefulExit: true}},
			Probes: map[probe.Kind]simruntime.ProbeScript{
				probe.Startup: {Fail: true, FailUntil: 4 * time.Second, Message: "no socket yet"},
			},
		},
		"web": {
			Runs: []simruntime.Run{crash, crash, crash, {TermDelay: 2 * time.Second, GracefulExit: true}},
			Probes: map[probe.Kind]simruntime.ProbeScript{
				probe.Readiness: {Fail: true, FailFrom: 60 * time.Second, FailUntil: 90 * time.Second,
					Message: "db pool exhausted"},
			},
		},
	}}
}

// Demo defaults, which are also the flags' defaults.
const (
	demoDeleteAt = 5 * time.Minute
	demoUntil    = 15 * time.Minute
	// maxUntil bounds -until, so that a typo cannot run for hours of real time.
	maxUntil = 24 * time.Hour
)
