package simruntime

import (
	"math"
	"time"
)

// A stamp is a time kept in 8 bytes rather than time.Time's 24, as the nanoseconds after a base
// time (the world's first): a million containers keep three each. It is exact: a time that
// base.Add would not give back whole (another location, a monotonic reading out of step with
// the wall clock, an instant centuries away) is no stamp (noStamp), and is kept whole instead.
type stamp int64

const (
	zeroStamp stamp = math.MinInt64     // the zero time
	noStamp   stamp = math.MinInt64 + 1 // a time kept whole elsewhere
)

// stampOf is t as a stamp after base, or noStamp.
func stampOf(base, t time.Time) stamp {
	if t.IsZero() {
		return zeroStamp
	}
	d := t.Sub(base)
	if d <= time.Duration(noStamp) || d == math.MaxInt64 || base.Add(d) != t {
		return noStamp
	}
	return stamp(d)
}

// time is the stamp's time; a noStamp's is not here.
func (s stamp) time(base time.Time) time.Time {
	if s == zeroStamp {
		return time.Time{}
	}
	return base.Add(time.Duration(s))
}
