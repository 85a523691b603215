package probe_test

import (
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/probe"
)

// BenchmarkTrackerObserve is the hot path of an agent: ask for the next run, report its outcome.
func BenchmarkTrackerObserve(b *testing.B) {
	tr := probe.NewTracker(probe.Readiness, &podlife.Probe{PeriodSeconds: 1, FailureThreshold: 3}, "c1", t0)
	tr.MarkStarted(t0)
	outcomes := [...]probe.Outcome{probe.SuccessOutcome("ok"), probe.FailureOutcome("bad"), probe.FailureOutcome("bad"), probe.ErrorOutcome(nil)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at, ok := tr.NextRun()
		if !ok {
			b.Fatal("readiness stopped running")
		}
		tr.Observe(outcomes[i%len(outcomes)], at.Add(time.Millisecond))
	}
}

func BenchmarkTrackerNextRun(b *testing.B) {
	tr := probe.NewTracker(probe.Liveness, nil, "c1", t0)
	tr.MarkStarted(t0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := tr.NextRun(); !ok {
			b.Fatal("liveness stopped running")
		}
	}
}

func BenchmarkHTTPOutcome(b *testing.B) {
	replies := []probe.HTTPReply{{Status: 302, Location: "/a"}, {Status: 200, Body: "ok"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		probe.HTTPOutcome("10.0.0.1:8080", replies...)
	}
}
