package stamp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestStampIsExactOrNone(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	mono := time.Now()
	cases := []struct {
		name  string
		base  time.Time
		t     time.Time
		stamp bool
	}{
		{"after the base", t0, t0.Add(90 * time.Second), true},
		{"before the base", t0, t0.Add(-time.Hour), true},
		{"the zero time", t0, time.Time{}, true},
		{"another location", t0, t0.Add(time.Second).In(zone), false},
		{"monotonic base, time without", mono, mono.Add(time.Second).Round(0), false},
		{"both monotonic", mono, mono.Add(time.Second), true},
		{"centuries away", t0, time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Of(c.base, c.t)
			if !c.stamp {
				assert.Equal(t, None, s)
				return
			}
			require.NotEqual(t, None, s)
			assert.True(t, s.Time(c.base) == c.t, "%v gives back %v", c.t, s.Time(c.base)) // all of it: location, monotonic
		})
	}
}

// TestTimesThatAreNoStampsStayWhole drives a machine bound in UTC with events from another
// location: lastTransitionTimes and the start kept for a postStart hook are no stamps then, and
// must come out exactly as they went in.
