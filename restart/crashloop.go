package restart

import (
	"fmt"
	"time"
)

// CrashLoop is one container's place on its CrashLoopBackOff curve: kubelet's entry in its
// crash-loop flowcontrol.Backoff, which doBackOff (pkg/kubelet/kuberuntime/kuberuntime_manager.go)
// consults before restarting an exited container. It is a small value: keep one per container in
// the machine's status and replace it with what Restarted returns.
//
// Kubelet keys the entry by pod UID, container name and the hash of the container's spec, so a
// container whose spec changed (a new image) starts a fresh curve: use the zero CrashLoop then.
// No restart count is an input: the curve advances only when kubelet restarts the container and
// starts again after a reset, while restartCount keeps counting.
//
// The zero CrashLoop has no entry: the next exit restarts at once.
type CrashLoop struct {
	// Backoff is the wait that applies to the next exit; 0 means no entry yet.
	Backoff time.Duration `json:"backoff,omitempty"`
	// LastRestart is when the container was last restarted (the entry's lastUpdate).
	LastRestart time.Time `json:"lastRestart,omitzero"`
}

// Delay is the wait between the exit at finishedAt and the next start: 0 for the first exit (no
// entry) and for an exit more than b.ResetAfter after the last restart (the container ran long
// enough); otherwise the current window.
func (s CrashLoop) Delay(b Backoff, finishedAt time.Time) time.Duration {
	if s.Backoff <= 0 || b.expired(finishedAt, s.LastRestart) {
		return 0
	}
	return s.Backoff
}

// NextStart is the earliest time the container that exited at finishedAt may start again:
// finishedAt plus Delay. The back-off is measured from the exit, not from when it was noticed.
func (s CrashLoop) NextStart(b Backoff, finishedAt time.Time) time.Time {
	return finishedAt.Add(s.Delay(b, finishedAt))
}

// InBackOff reports whether at now the container that exited at finishedAt must still wait (its
// waiting reason is then CrashLoopBackOff): now is before NextStart.
func (s CrashLoop) InBackOff(b Backoff, finishedAt, now time.Time) bool {
	return now.Before(s.NextStart(b, finishedAt))
}

// Restarted is the entry after the container that exited at finishedAt is restarted at now
// (kubelet's backOff.Next): a new entry with b.Initial when there was none, when the exit came
// more than b.ResetAfter after the last restart, or when now is more than b.ResetAfter after it
// (kubelet's housekeeping forgets such entries); otherwise the window doubles, capped at b.Max.
// Call it only for restarts that NextStart allowed.
func (s CrashLoop) Restarted(b Backoff, finishedAt, now time.Time) CrashLoop {
	if s.Backoff <= 0 || b.expired(finishedAt, s.LastRestart) || b.expired(now, s.LastRestart) {
		return CrashLoop{Backoff: b.first(), LastRestart: now}
	}
	return CrashLoop{Backoff: b.next(s.Backoff), LastRestart: now}
}

// CrashLoopBackOffMessage is the waiting message kubelet shows with reason CrashLoopBackOff, for
// example "back-off 20s restarting failed container=app pod=web_default(uid)". pod is kubelet's
// format.Pod: name_namespace(uid).
func CrashLoopBackOffMessage(delay time.Duration, container, pod string) string {
	return fmt.Sprintf("back-off %v restarting failed container=%s pod=%s", delay, container, pod)
}

// CrashLoopBackOffEvent is the message of the Warning event BackOff kubelet records each time it
// holds a restart back.
func CrashLoopBackOffEvent(container, pod string) string {
	return fmt.Sprintf("Back-off restarting failed container %s in pod %s", container, pod)
}
