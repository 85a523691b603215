package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws the run's progress on one line of w (a terminal), at most ten times a
// second.
type progressBar struct {
	w     io.Writer
	pods  int
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, pods int) *progressBar {
	now := time.Now()
	return &progressBar{w: w, pods: pods, start: now}
}

const barWidth = 30

func (p *progressBar) update(virtual, end time.Duration, bound int, events uint64) {
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && virtual < end {
		return
	}
	p.last = now
	frac := 1.0
	if end > 0 {
		frac = min(max(float64(virtual)/float64(end), 0), 1)
	}
	full := int(frac * barWidth)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  virtual %s of %s  %s/%s pods bound  %s events  %s",
		strings.Repeat("=", full), strings.Repeat(" ", barWidth-full), 100*frac,
		virtual.Round(time.Second), end.Round(time.Second), count(int64(bound)), count(int64(p.pods)),
		count(int64(events)), now.Sub(p.start).Round(100*time.Millisecond))
}

func (p *progressBar) done() { fmt.Fprintln(p.w) }
