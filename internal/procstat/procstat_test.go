package procstat

import (
	"testing"
	"time"
)

func TestTheProcessHasUsedSomething(t *testing.T) {
	start := CPUTime()
	deadline := time.Now().Add(50 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	if n == 0 || CPUTime() <= start {
		t.Fatalf("CPU time did not grow: %s, then %s", start, CPUTime())
	}
	if RSS() < 1<<20 || MaxRSS() < RSS()/2 {
		t.Fatalf("RSS %d, MaxRSS %d: a Go test process holds more than 1 MiB", RSS(), MaxRSS())
	}
}
