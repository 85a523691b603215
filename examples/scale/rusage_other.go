//go:build !unix

package main

import "time"

// cpuTime is unknown here: getrusage is a Unix call.
func cpuTime() time.Duration { return 0 }

// maxRSS is unknown here.
func maxRSS() uint64 { return 0 }
