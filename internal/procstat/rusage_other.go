//go:build !unix

package procstat

import "time"

// CPUTime is unknown here: getrusage is a Unix call.
func CPUTime() time.Duration { return 0 }

// MaxRSS is unknown here.
func MaxRSS() uint64 { return 0 }
