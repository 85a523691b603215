package restart

import (
	"fmt"
	"time"
)

// Waiting reasons of an image pull, as phase.ReasonErrImagePull and phase.ReasonImagePullBackOff
// (not imported: phase builds on this package).
const (
	reasonErrImagePull     = "ErrImagePull"
	reasonImagePullBackOff = "ImagePullBackOff"
)

// PullBackoff is kubelet's image-pull back-off entry for one pod and one image (the key is pod
// UID and image, pkg/kubelet/images/image_manager.go): after a failed pull, no new pull is tried
// until the window measured from that failure has passed. It is a small value: keep one per pod
// and image and replace it with what Failed returns.
//
// A successful pull leaves the entry as it is, as upstream does: a later failure within
// ResetAfter of the previous one doubles the window.
//
// The zero PullBackoff has no failure recorded: the pull may be tried at once.
type PullBackoff struct {
	// Backoff is the window after the last failure; 0 means no failure recorded.
	Backoff time.Duration `json:"backoff,omitempty"`
	// LastFailure is when the last pull failed.
	LastFailure time.Time `json:"lastFailure,omitzero"`
}

// Failed is the entry after a pull failed at now (kubelet's backOff.Next): a window of b.Initial
// for the first failure or one more than b.ResetAfter after the previous failure, otherwise the
// window doubled, capped at b.Max.
func (s PullBackoff) Failed(b Backoff, now time.Time) PullBackoff {
	if s.Backoff <= 0 || b.expired(now, s.LastFailure) {
		return PullBackoff{Backoff: b.first(), LastFailure: now}
	}
	return PullBackoff{Backoff: b.next(s.Backoff), LastFailure: now}
}

// InBackOff reports whether at now a pull must not be tried yet (kubelet's
// IsInBackOffSinceUpdate): a failure is recorded, it is no more than b.ResetAfter old, and now is
// inside its window.
func (s PullBackoff) InBackOff(b Backoff, now time.Time) bool {
	if s.Backoff <= 0 || b.expired(now, s.LastFailure) {
		return false
	}
	return now.Sub(s.LastFailure) < s.Backoff
}

// NextAttempt is the earliest time a new pull may be tried: the last failure plus its window (the
// zero time when no failure is recorded).
func (s PullBackoff) NextAttempt() time.Time {
	if s.Backoff <= 0 {
		return time.Time{}
	}
	return s.LastFailure.Add(s.Backoff)
}

// WaitingReason is the container's waiting reason at now for its image pull: "" when no failure
// is recorded; ErrImagePull at the failed attempt itself (now not after LastFailure);
// ImagePullBackOff after it, while the back-off runs and until the next attempt's result is
// recorded. A failed next attempt (Failed) shows ErrImagePull again, so the status cycles
// ErrImagePull, ImagePullBackOff, ErrImagePull, ...
func (s PullBackoff) WaitingReason(now time.Time) string {
	switch {
	case s.Backoff <= 0:
		return ""
	case now.After(s.LastFailure):
		return reasonImagePullBackOff
	}
	return reasonErrImagePull
}

// ImagePullBackOffMessage is kubelet's message (waiting message and BackOff event) while an image
// pull is held back.
func ImagePullBackOffMessage(image string) string {
	return fmt.Sprintf("Back-off pulling image %q", image)
}
