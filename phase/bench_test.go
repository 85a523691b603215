package phase_test

import (
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// benchPod is a running pod with 1 init container, 1 sidecar and 3 app containers.
func benchPod() (*podlife.PodSpec, []phase.ContainerStatus, []phase.ContainerStatus) {
	s := spec(always, inits(app("migrate"), sidecar("proxy")), app("web"), app("worker"), withPolicy(app("cron"), onFailure, ruleOn(podlife.RuleRestart, 42)))
	init := statuses(ready(exited("migrate", 0)), readyRunning("proxy"))
	apps := statuses(readyRunning("web"), restarted(readyRunning("worker"), 2, t0.Add(-time.Minute)), waitingAfter("cron", 42))
	return s, init, apps
}

func BenchmarkCompute(b *testing.B) {
	s, init, apps := benchPod()
	b.ReportAllocs()
	var p phase.Phase
	for b.Loop() {
		p = phase.Compute(s, init, apps, false)
	}
	if p != phase.Running {
		b.Fatalf("phase %s", p)
	}
}

func BenchmarkConditions(b *testing.B) {
	s, init, apps := benchPod()
	in := phase.ConditionInput{Spec: s, InitStatuses: init, Statuses: apps, Phase: phase.Running, SandboxReady: true}
	prev := phase.Conditions(in, nil, t0)
	b.ReportAllocs()
	for b.Loop() {
		prev = phase.Conditions(in, prev, t0)
	}
}

func BenchmarkKubectlColumns(b *testing.B) {
	s, init, apps := benchPod()
	in := phase.ColumnsInput{Spec: s, Status: &phase.PodStatus{Phase: phase.Running, InitContainerStatuses: init, ContainerStatuses: apps}, Now: t0}
	b.ReportAllocs()
	for b.Loop() {
		_ = phase.KubectlColumns(in)
	}
}
