package restart_test

import (
	"testing"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/restart"
)

func BenchmarkDecide(b *testing.B) {
	c := withPolicy(podlife.RestartNever,
		rule(podlife.RuleRestart, podlife.ExitCodeIn, 1, 2, 3),
		rule(podlife.RuleRestartAllContainers, podlife.ExitCodeNotIn, 0))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = restart.Decide(podlife.RestartAlways, c, int32(i%8))
	}
}

func BenchmarkCrashLoopRestart(b *testing.B) {
	bo := restart.CrashLoopBackoff()
	var st restart.CrashLoop
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		finished := now.Add(time.Second)
		now = st.NextStart(bo, finished)
		st = st.Restarted(bo, finished, now)
	}
}

func BenchmarkDefaultPullPolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = restart.DefaultPullPolicy("registry.example.com:5000/team/app:1.2.3")
	}
}
