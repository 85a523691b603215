package restart

import (
	"errors"
	"fmt"
	"time"
)

// Backoff is an exponential back-off curve, kubelet's flowcontrol.Backoff without jitter: the
// first wait is Initial, each further one doubles, capped at Max, and the curve starts again when
// more than ResetAfter passed since its last step.
//
// The zero Backoff never waits: every restart or retry is immediate.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

// Kubelet's numbers (pkg/kubelet/kubelet.go, Kubernetes 1.34/1.35).
const (
	// DefaultInitial and DefaultMax are the crash-loop and image-pull curve: 10 s doubling to 300 s.
	DefaultInitial = 10 * time.Second
	DefaultMax     = 300 * time.Second
	// ReducedInitial and ReducedMax are the crash-loop curve with the feature gate
	// ReduceDefaultCrashLoopBackOffDecay (KEP-4603, alpha since 1.33): 1 s doubling to 60 s.
	ReducedInitial = 1 * time.Second
	ReducedMax     = 60 * time.Second
	// ResetAfter is when a curve starts again: a crash loop when a container exits more than 600 s
	// after it was last restarted (kubelet's HasExpiredFunc), an image pull 600 s after the last
	// failed pull (flowcontrol's default, twice the 300 s maximum).
	ResetAfter = 600 * time.Second
	// MinNodeMaxRestartPeriod and MaxNodeMaxRestartPeriod bound the kubelet setting
	// crashLoopBackOff.maxContainerRestartPeriod (KEP-4603/KEP-5593).
	MinNodeMaxRestartPeriod = 1 * time.Second
	MaxNodeMaxRestartPeriod = 300 * time.Second
)

// ErrInvalidBackoff is wrapped by every error about a back-off setting.
var ErrInvalidBackoff = errors.New("invalid back-off")

// CrashLoopBackoff is kubelet's default CrashLoopBackOff curve: 10 s, 20 s, 40 s ... 300 s, reset
// after 600 s.
func CrashLoopBackoff() Backoff {
	return Backoff{Initial: DefaultInitial, Max: DefaultMax, ResetAfter: ResetAfter}
}

// ReducedCrashLoopBackoff is the faster curve of the gate ReduceDefaultCrashLoopBackOffDecay: 1 s,
// 2 s, 4 s ... 60 s, reset after 600 s.
func ReducedCrashLoopBackoff() Backoff {
	return Backoff{Initial: ReducedInitial, Max: ReducedMax, ResetAfter: ResetAfter}
}

// NodeCrashLoopBackoff is the curve of a node whose kubelet sets
// crashLoopBackOff.maxContainerRestartPeriod (gate KubeletCrashLoopBackOffMax, beta and on in
// 1.35), as kubelet's newCrashLoopBackOff builds it: start from the default curve, or the reduced
// one when reducedDecay is on; the setting then replaces the maximum (even above the reduced 60 s)
// and, when it is below the initial delay, the initial delay too. The setting must be from 1 s to
// 300 s; anything else is an error wrapping ErrInvalidBackoff.
func NodeCrashLoopBackoff(maxContainerRestartPeriod time.Duration, reducedDecay bool) (Backoff, error) {
	if maxContainerRestartPeriod < MinNodeMaxRestartPeriod || maxContainerRestartPeriod > MaxNodeMaxRestartPeriod {
		return Backoff{}, fmt.Errorf("%w: crashLoopBackOff.maxContainerRestartPeriod is %gs, must be from %gs to %gs",
			ErrInvalidBackoff, maxContainerRestartPeriod.Seconds(), MinNodeMaxRestartPeriod.Seconds(), MaxNodeMaxRestartPeriod.Seconds())
	}
	b := CrashLoopBackoff()
	if reducedDecay {
		b = ReducedCrashLoopBackoff()
	}
	b.Max = maxContainerRestartPeriod
	b.Initial = min(b.Initial, b.Max)
	return b, nil
}

// ImagePullBackoff is kubelet's image-pull back-off, per pod and image: 10 s doubling to 300 s,
// reset 600 s after the last failure. Node crash-loop settings do not change it.
func ImagePullBackoff() Backoff {
	return Backoff{Initial: DefaultInitial, Max: DefaultMax, ResetAfter: ResetAfter}
}

// Validate reports a curve that cannot be meant: a negative duration, or Max below Initial.
func (b Backoff) Validate() error {
	switch {
	case b.Initial < 0 || b.Max < 0 || b.ResetAfter < 0:
		return fmt.Errorf("%w: durations must not be negative (initial %v, max %v, resetAfter %v)",
			ErrInvalidBackoff, b.Initial, b.Max, b.ResetAfter)
	case b.Max < b.Initial:
		return fmt.Errorf("%w: max %v is below initial %v", ErrInvalidBackoff, b.Max, b.Initial)
	}
	return nil
}

// Delay is the wait before the restart that follows the exits-th exit in a row, counting exits
// since the curve last started (1 is the first exit, which restarts at once): 0, Initial,
// 2*Initial, ... Max. It is not the container's restartCount, which keeps counting across resets.
// exits below 1 give 0.
func (b Backoff) Delay(exits int) time.Duration {
	if exits <= 1 {
		return 0
	}
	d := b.first()
	for i := 2; i < exits; i++ {
		n := b.next(d)
		if n == d {
			break // at the cap: no need to count further
		}
		d = n
	}
	return d
}

// first is the window of a new entry (flowcontrol's initEntryUnsafe), never negative.
func (b Backoff) first() time.Duration { return max(b.Initial, 0) }

// next is flowcontrol's step, min(2*d, Max), without overflowing and never negative.
func (b Backoff) next(d time.Duration) time.Duration {
	if d > b.Max/2 {
		return max(b.Max, 0)
	}
	return 2 * d
}

// expired is flowcontrol's hasExpired: more than ResetAfter between the last step and t.
func (b Backoff) expired(t, last time.Time) bool { return t.Sub(last) > b.ResetAfter }
