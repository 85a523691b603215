package phase_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife/phase"
)

// TestHumanDuration checks every boundary of kubectl's short duration format
// (k8s.io/apimachinery/pkg/util/duration.HumanDuration), on both sides.
func TestHumanDuration(t *testing.T) {
	const (
		s   = time.Second
		m   = time.Minute
		h   = time.Hour
		day = 24 * h
		yr  = 365 * day
	)
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-2 * s, "<invalid>"},
		{-1999 * time.Millisecond, "0s"}, // int(-1.999) is -1: tolerated clock skew
		{-1 * s, "0s"},
		{-500 * time.Millisecond, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{s, "1s"},
		{59 * s, "59s"},
		{119 * s, "119s"},
		{2 * m, "2m"},
		{2*m + s, "2m1s"},
		{9*m + 59*s, "9m59s"},
		{10 * m, "10m"},
		{10*m + 30*s, "10m"},
		{179 * m, "179m"},
		{3 * h, "3h"},
		{3*h + 59*s, "3h"},
		{3*h + m, "3h1m"},
		{7*h + 59*m, "7h59m"},
		{8 * h, "8h"},
		{8*h + 30*m, "8h"},
		{47 * h, "47h"},
		{48 * h, "2d"},
		{2*day + h, "2d1h"},
		{7*day + 23*h, "7d23h"},
		{8 * day, "8d"},
		{8*day + h, "8d"},
		{2*yr - day, "729d"},
		{2 * yr, "2y"},
		{2*yr + day, "2y1d"},
		{8*yr - day, "7y364d"},
		{8 * yr, "8y"},
		{100*yr + 100*day, "100y"},
	}
	for _, tc := range cases {
		t.Run(tc.d.String()+"="+tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, phase.HumanDuration(tc.d))
		})
	}
}
