// Package procstat reads what the process has used so far: CPU time and resident memory, for the
// programs that measure podlife (examples/scale, cmd/podlife-node).
package procstat

import (
	"os"
	"strconv"
	"strings"
)

// RSS is the process's resident set now, in bytes, from /proc/self/statm (Linux); where that
// cannot be read it is MaxRSS.
func RSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return MaxRSS()
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return MaxRSS()
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return MaxRSS()
	}
	return pages * uint64(os.Getpagesize())
}
