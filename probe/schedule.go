package probe

import "time"

// advance moves the tracker's clock to now unless it is already later, skips ticks that are now
// in the past, and returns the tracker's clock. Time never goes backwards inside a tracker.
func (t *Tracker) advance(now time.Time) time.Time {
	if !t.live {
		return now
	}
	if now.After(t.latest) {
		t.latest = now
	}
	if t.due.Before(t.latest) {
		t.due = t.tickAtOrAfter(t.latest)
	}
	return t.latest
}

// scheduleAfterRun sets the next tick after a run launched for tick slot finished at now. A run
// finished before its tick (the caller ran it early) counts from now. A run that lasted past the
// next tick is followed by one at once, like the single tick a Go ticker buffers.
func (t *Tracker) scheduleAfterRun(slot, now time.Time) {
	if now.Before(slot) {
		slot = now
	}
	next := t.tickAfter(slot)
	if next.Before(now) {
		next = now
	}
	t.due = next
}

// tickAtOrAfter is the first tick of the grid at or after at.
func (t *Tracker) tickAtOrAfter(at time.Time) time.Time {
	if !at.After(t.anchor) {
		return t.anchor
	}
	p := t.spec.Period // at least 1 s: EffectiveSpec never gives less
	d := at.Sub(t.anchor)
	off := d / p * p
	tick := t.anchor.Add(off)
	if off != d {
		tick = tick.Add(p)
	}
	return notBefore(tick, at)
}

// tickAfter is the first tick of the grid strictly after at.
func (t *Tracker) tickAfter(at time.Time) time.Time {
	if at.Before(t.anchor) {
		return t.anchor
	}
	p := t.spec.Period // at least 1 s: EffectiveSpec never gives less
	d := at.Sub(t.anchor)
	return notBefore(t.anchor.Add(d/p*p).Add(p), at)
}

// notBefore guards against Duration saturation for times centuries apart.
func notBefore(tick, at time.Time) time.Time {
	if tick.Before(at) {
		return at
	}
	return tick
}
