// Package stamp keeps a time in 8 bytes rather than time.Time's 24, for the many times a
// machine or a simulated world holds.
package stamp

import (
	"math"
	"time"
)

// A Stamp is a time as the nanoseconds after a base time (a machine's start, a world's first
// time). It is exact: a time that base.Add would not give back whole (another location, a
// monotonic reading out of step with the wall clock, an instant centuries away) is None, and its
// holder keeps it whole instead.
type Stamp int64

const (
	Zero Stamp = math.MinInt64     // the zero time
	None Stamp = math.MinInt64 + 1 // a time kept whole elsewhere
)

// Of is t as a stamp after base, or None.
func Of(base, t time.Time) Stamp {
	if t.IsZero() {
		return Zero
	}
	d := t.Sub(base)
	if d <= time.Duration(None) || d == math.MaxInt64 || base.Add(d) != t {
		return None
	}
	return Stamp(d)
}

// Time is the stamp's time; None's is not here.
func (s Stamp) Time(base time.Time) time.Time {
	if s == Zero {
		return time.Time{}
	}
	return base.Add(time.Duration(s))
}
