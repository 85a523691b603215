package simruntime

import (
	"time"

	"github.com/podlife/podlife/probe"
)

// Run scripts one instance (attempt) of a container, from its start. The zero Run runs until it
// is stopped and exits 143 on the stop signal at once.
type Run struct {
	// For is how long the instance runs before it exits on its own with ExitCode; 0 means it
	// runs until stopped.
	For time.Duration
	// ExitCode of the natural exit after For (reason Completed for 0, Error otherwise).
	ExitCode int32
	// OOM makes the natural exit after For an OOM kill: exit 137, signal 9, reason OOMKilled.
	OOM bool
	// IgnoreTerm makes the instance ignore the stop signal: it is killed (137, signal 9) when
	// the stop timeout runs out.
	IgnoreTerm bool
	// TermDelay is how long the instance takes to exit (143, signal 15) after the stop signal.
	// When the stop timeout runs out first it is killed instead (137, signal 9).
	TermDelay time.Duration
	// GracefulExit makes the instance exit 0 (Completed) after TermDelay on the stop signal, as a
	// server that drains and quits, instead of 143.
	GracefulExit bool
	// StartFails makes StartContainer fail (RunContainerError, exit 128, reason StartError).
	StartFails bool
	// UnknownAfter, when not 0 and before a natural exit, puts the instance in an unknown state
	// (CRI's CONTAINER_UNKNOWN) that long after its start: the runtime no longer knows whether it
	// runs (ListContainers says Unknown, a ContainerUnknown event follows). It does not exit on
	// its own any more; the stop signal acts as on a running instance.
	UnknownAfter time.Duration
}

// Pull scripts image pulls. The zero Pull succeeds at once.
type Pull struct {
	// Delay is how long each pull takes, failed or not.
	Delay time.Duration
	// Failures is how many pulls fail (ErrImagePull) before the first success.
	Failures int
	// FailsAlways makes every pull fail.
	FailsAlways bool
	// FailUntil, when not 0, makes every pull that starts before this time fail, measured from
	// the pod's start in the world as ProbeWindow's times are: an image that a registry has only
	// from then on ("the image fails to pull until 40 s"). It adds up with Failures. A pull that
	// names no pod (Runtime.PullImage) has no pod to measure from and ignores it.
	FailUntil time.Duration
}

// HookScript scripts a lifecycle hook. The zero HookScript succeeds at once, or, for a sleep
// handler, after its seconds.
type HookScript struct {
	// Took is how long the hook runs; 0 means at once, or a sleep handler's seconds.
	Took time.Duration
	// Fail makes the hook fail when it returns.
	Fail bool
	// Failures, when not 0, makes only the first Failures runs of the hook fail (counted per pod
	// and container), as Fail does; the later ones succeed.
	Failures int
	// Message is what a failed handler reports (an exec's error, an HTTP request's); empty gives
	// "scripted hook failure". kubelet's message for the handler's kind wraps it.
	Message string
}

// fails reports whether run number n (from 1) of the hook fails.
func (h HookScript) fails(n int) bool {
	return (h.Fail && h.Failures <= 0) || (n > 0 && n <= h.Failures)
}

// counted reports whether the hook's runs must be counted to know which fail.
func (h HookScript) counted() bool { return h.Failures > 0 }

// ProbeScript scripts one kind of probe. The zero ProbeScript always succeeds at once.
//
// The failure window is measured from the container instance's start (its ContainerStarted
// time), not the pod's, so that every restarted instance goes through the same window: a
// liveness probe that fails from 20 s on kills every instance 20 s (plus the probe's period
// times its failure threshold) after it started.
type ProbeScript struct {
	// Fail turns failures on: runs between FailFrom and FailUntil fail.
	Fail bool
	// FailFrom is when, after the instance started, runs start failing.
	FailFrom time.Duration
	// FailUntil is when, after the instance started, runs succeed again; 0 means never.
	FailUntil time.Duration
	// Took is how long a run takes; a run longer than the probe's timeoutSeconds is a failure
	// reported when the timeout runs out.
	Took time.Duration
	// Message is the failure's text; empty gives "scripted failure".
	Message string
	// Windows add failures, or errors, at times measured from the pod's start in the world (its
	// first setup, which an agent asks for when the pod is bound), whatever instance runs then:
	// "the readiness probe fails from 40 s to 60 s". They add up with the window above.
	Windows []ProbeWindow
}

// ProbeWindow is a time, measured from the pod's start, when a probe fails or errors.
type ProbeWindow struct {
	// From and Until bound the window [From, Until); Until 0 means for ever.
	From, Until time.Duration
	// Error makes the probe error on the agent's side (probe.ErrorOutcome: kubelet throws the
	// result away, counting neither a failure nor a success) instead of failing.
	Error bool
	// Message is the failure's or error's text; empty gives "scripted failure" or "scripted
	// error".
	Message string
}

func (w ProbeWindow) holds(sincePod time.Duration) bool {
	return sincePod >= w.From && (w.Until <= 0 || sincePod < w.Until)
}

// Script scripts one container: what each instance does, and how its pulls, creates, hooks and
// probes go. The zero Script is a container that pulls, is created and starts at once and runs
// until it is stopped.
type Script struct {
	// Runs scripts the instances in order: Runs[i] is attempt i; the last one repeats. Empty
	// means Run{} for every instance.
	Runs []Run
	// Pull scripts this container's pulls (counted per pod and container). The zero Pull falls
	// back to WorldOptions.ImagePulls for the image. A pull happens only when the pull policy
	// asks for one: an image present is not pulled under IfNotPresent.
	Pull Pull
	// CreateFails is how many creates of this container in a pod fail before the first success.
	CreateFails int
	// CreateFailReason is the waiting reason of a failed create: CreateContainerError (the
	// default) or CreateContainerConfigError.
	CreateFailReason string
	// PostStart and PreStop script the hooks, when the container has them.
	PostStart, PreStop HookScript
	// Probes scripts the probes by kind; a kind not in the map always succeeds at once.
	Probes map[probe.Kind]ProbeScript
}

// PodScript scripts what happens to a pod before its containers and to its sandbox. The zero
// PodScript sets up and runs the sandbox at once and never loses it.
type PodScript struct {
	// SetupDelay is how long each setup (volumes, secrets) takes, failed or not.
	SetupDelay time.Duration
	// SetupFails is how many setups fail (FailedMount) before the first success.
	SetupFails int
	// SetupFailMessage is a failed setup's message; empty gives "MountVolume.SetUp failed:
	// scripted setup failure N".
	SetupFailMessage string
	// SandboxDelay is how long RunSandbox takes, failed or not.
	SandboxDelay time.Duration
	// SandboxFails is how many RunSandbox calls fail before the first success.
	SandboxFails int
	// SandboxNoIP is how many of the sandboxes that come up (after the failed ones) are ready
	// without an IP, which kubelet takes for a broken sandbox (podSandboxChanged) and replaces.
	SandboxNoIP int
	// SandboxLostAt, when not 0, loses the pod's first sandbox that long after it became ready.
	// Later sandboxes are kept, so that a pod recovers once.
	SandboxLostAt time.Duration
	// Containers overrides the scripts by container name, for this pod only (see World.ScriptPod).
	Containers map[string]Script
}

// WorldOptions configure a World. The zero value is a node where everything succeeds at once
// and containers run until stopped.
type WorldOptions struct {
	// Default is the script of a container that has no script by pod or by name.
	Default Script
	// Scripts are the scripts by container name, for every pod.
	Scripts map[string]Script
	// Pod is the pod script of every pod without its own (see World.ScriptPod); its Containers
	// are ignored (use Scripts).
	Pod PodScript
	// Images are present on the node from the start.
	Images []string
	// ImagePulls scripts pulls by image, counted per image: for a container whose Script.Pull
	// is zero, and for pulls that name no pod (Runtime.PullImage).
	ImagePulls map[string]Pull
}

// run is the script of instance attempt.
func (s *Script) run(attempt int32) Run {
	if s == nil || len(s.Runs) == 0 {
		return Run{}
	}
	i := int(attempt)
	if i < 0 {
		i = 0
	}
	return s.Runs[min(i, len(s.Runs)-1)]
}

func (p Pull) isZero() bool { return p == Pull{} }

// fails reports whether pull number n (from 1) fails.
func (p Pull) fails(n int) bool { return p.FailsAlways || (n > 0 && n <= p.Failures) }

// failing reports whether a probe run at age (since the instance started) fails.
func (p ProbeScript) failing(age time.Duration) bool {
	return p.Fail && age >= p.FailFrom && (p.FailUntil <= 0 || age < p.FailUntil)
}

func nonNegative(d time.Duration) time.Duration { return max(d, 0) }
