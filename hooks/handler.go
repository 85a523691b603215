package hooks

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/podlife/podlife"
)

// Kind is the action a lifecycle handler runs. The zero Kind is None: no handler set.
type Kind uint8

// Handler kinds. tcpSocket, deprecated and not in podlife's spec, is not one.
const (
	None Kind = iota
	Exec
	HTTPGet
	Sleep
)

// String gives the handler's field name: "exec", "httpGet" or "sleep", and "none".
func (k Kind) String() string {
	switch k {
	case Exec:
		return "exec"
	case HTTPGet:
		return "httpGet"
	case Sleep:
		return "sleep"
	}
	return "none"
}

// Errors of KindOf.
var (
	ErrNoHandler        = errors.New("no handler type set")
	ErrMultipleHandlers = errors.New("more than one handler type set")
)

// KindOf says which action h runs. A nil h, or one with nothing set, is an error wrapping
// ErrNoHandler; two or more set is an error wrapping ErrMultipleHandlers that names them. Both
// come with None. (Kubelet itself, given two, runs the first of exec, httpGet, sleep; validation
// never lets that happen.)
func KindOf(h *podlife.LifecycleHandler) (Kind, error) {
	set, n := setKinds(h)
	switch n {
	case 0:
		return None, ErrNoHandler
	case 1:
		return set[0], nil
	}
	names := make([]string, n)
	for i, k := range set[:n] {
		names[i] = k.String()
	}
	return None, fmt.Errorf("%w: %s", ErrMultipleHandlers, strings.Join(names, ", "))
}

// setKinds lists the n kinds set in h, in kubelet's order (exec, httpGet, sleep).
func setKinds(h *podlife.LifecycleHandler) (set [3]Kind, n int) {
	if h == nil {
		return set, 0
	}
	for _, k := range [...]struct {
		kind Kind
		on   bool
	}{{Exec, h.Exec != nil}, {HTTPGet, h.HTTPGet != nil}, {Sleep, h.Sleep != nil}} {
		if k.on {
			set[n] = k.kind
			n++
		}
	}
	return set, n
}

// SleepDuration is how long a sleep handler pauses: its seconds. A nil action or a negative value
// (which validation rejects) is 0, a sleep that returns at once. Seconds beyond what a
// time.Duration holds (about 292 years) give the longest Duration rather than overflowing.
func SleepDuration(a *podlife.SleepAction) time.Duration {
	if a == nil || a.Seconds <= 0 {
		return 0
	}
	if a.Seconds > int64(math.MaxInt64/time.Second) {
		return math.MaxInt64
	}
	return time.Duration(a.Seconds) * time.Second
}
