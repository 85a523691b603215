package termination

import "time"

// Stop is the graceful stop of one container killed on its own (kubelet's killContainer without
// a termination ordering): a failed startup or liveness probe, a failed postStart hook, a
// changed image. Its preStop hook starts at once unless the grace is 0; the stop signal goes out
// when the hook returns or the grace runs out, with timeout max(grace - whole seconds the hook
// took, 2 s); SIGKILL follows when that timeout runs out. So the stop signal comes at the latest
// at start + grace and SIGKILL at the latest at start + grace + 2 s.
//
// The zero Stop is not started: it is not Done, has no Deadline, and its events fail with
// ErrNotStarted.
type Stop struct {
	pod PodStop
}

// NewStop begins stopping the named container at now with the grace period (whole seconds, 0
// to MaxGracePeriod) and returns the actions due at once.
func NewStop(name string, grace time.Duration, hasPreStop bool, now time.Time) (*Stop, []Action, error) {
	pod, out, err := NewPodStop([]Member{{Name: name, HasPreStop: hasPreStop}}, grace, now)
	if err != nil {
		return nil, nil, err
	}
	return &Stop{pod: *pod}, out, nil
}

// PreStopDone records that the preStop hook returned at now (ErrNoPreStop if none was started).
func (s *Stop) PreStopDone(now time.Time) ([]Action, error) {
	if len(s.pod.members) == 0 {
		return nil, ErrNotStarted
	}
	return s.pod.PreStopDone(s.pod.members[0].Name, now)
}

// Exited records that the container exited at now; nothing more is due after it.
func (s *Stop) Exited(now time.Time) ([]Action, error) {
	if len(s.pod.members) == 0 {
		return nil, ErrNotStarted
	}
	return s.pod.Exited(s.pod.members[0].Name, now)
}

// Tick reports the actions due at or before now.
func (s *Stop) Tick(now time.Time) ([]Action, error) {
	if len(s.pod.members) == 0 {
		return nil, ErrNotStarted
	}
	return s.pod.Tick(now)
}

// Shorten applies a shorter grace period from now, as PodStop.Shorten; a longer or equal one
// is ignored.
func (s *Stop) Shorten(grace time.Duration, now time.Time) (shortened bool, actions []Action, err error) {
	if len(s.pod.members) == 0 {
		return false, nil, ErrNotStarted
	}
	return s.pod.Shorten(grace, now)
}

// Deadline is the next time Tick may have something to do; false when nothing is left but to
// wait for the container to exit.
func (s *Stop) Deadline() (time.Time, bool) { return s.pod.Deadline() }

// Done reports whether the container exited.
func (s *Stop) Done() bool { return len(s.pod.members) > 0 && s.pod.Done() }

// Grace is the grace period in force.
func (s *Stop) Grace() time.Duration { return s.pod.Grace() }

// StopSignalAt is when the stop signal went out; false until it did (and for good when the
// container exited first).
func (s *Stop) StopSignalAt() (time.Time, bool) {
	p := s.Plan()
	return p.StopSignalAt, p.StopSignalSent
}

// KillAt is when SIGKILL is due or went out, known once the stop signal went out (only a
// Shorten can still move it, earlier); false before that and when the container exited first.
func (s *Stop) KillAt() (time.Time, bool) {
	p := s.Plan()
	return p.KillAt, p.StopSignalSent && !p.KillAt.IsZero()
}

// Plan is the container's stop as known at the last event.
func (s *Stop) Plan() ContainerPlan {
	if len(s.pod.members) == 0 {
		return ContainerPlan{}
	}
	return s.pod.plan(&s.pod.members[0])
}
