package termination_test

import (
	"testing"
	"time"

	"github.com/podlife/podlife/termination"
)

var benchMembers = []termination.Member{
	{Name: "web", HasPreStop: true},
	{Name: "worker", HasPreStop: true},
	{Name: "cron"},
	{Name: "log-shipper", Kind: termination.SidecarContainer, Order: 0},
	{Name: "mesh-proxy", Kind: termination.SidecarContainer, Order: 1, HasPreStop: true},
	{Name: "metrics", Kind: termination.SidecarContainer, Order: 2},
}

// BenchmarkPodStop runs a whole six-container stop: hooks return, apps exit, sidecars exit in
// turn, one sidecar is killed.
func BenchmarkPodStop(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ps, _, err := termination.NewPodStop(benchMembers, 30*time.Second, t0)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = ps.PreStopDone("web", t0.Add(2*time.Second))
		_, _ = ps.PreStopDone("worker", t0.Add(3*time.Second))
		_, _ = ps.PreStopDone("mesh-proxy", t0.Add(3*time.Second))
		_, _ = ps.Exited("cron", t0.Add(4*time.Second))
		_, _ = ps.Exited("web", t0.Add(5*time.Second))
		_, _ = ps.Exited("worker", t0.Add(6*time.Second))
		_, _ = ps.Exited("metrics", t0.Add(7*time.Second))
		_, _ = ps.Exited("mesh-proxy", t0.Add(8*time.Second))
		for d, ok := ps.Deadline(); ok; d, ok = ps.Deadline() {
			_, _ = ps.Tick(d)
		}
		_, _ = ps.Exited("log-shipper", t0.Add(31*time.Second))
		if !ps.Done() {
			b.Fatal("not done")
		}
	}
}

// BenchmarkPodStopTick is a tick with nothing due, the common case of an agent's loop.
func BenchmarkPodStopTick(b *testing.B) {
	ps, _, err := termination.NewPodStop(benchMembers, 30*time.Second, t0)
	if err != nil {
		b.Fatal(err)
	}
	now := t0.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ps.Tick(now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGracePeriod(b *testing.B) {
	spec, del := int64(30), int64(10)
	r := termination.GraceRequest{SpecSeconds: &spec, Deleted: true, DeleteSeconds: &del}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := termination.GracePeriod(r); err != nil {
			b.Fatal(err)
		}
	}
}
