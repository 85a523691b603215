package termination

import (
	"fmt"
	"time"

	"github.com/podlife/podlife"
)

// MaxGracePeriod is the longest grace period podlife represents; longer ones (the API allows any
// int64) are treated as this, which is forever for any practical purpose.
const MaxGracePeriod = 100 * 365 * 24 * time.Hour

// MinimumStopTimeout is the shortest stop timeout the runtime is ever given, so that a container
// always gets some time between its stop signal and SIGKILL (kubelet's
// minimumGracePeriodInSeconds in kuberuntime).
const MinimumStopTimeout = 2 * time.Second

// MinimumPodGracePeriod is the shortest grace period of a whole-pod stop: kubelet's pod worker
// raises anything lower, a forced delete (grace 0) included, to it.
const MinimumPodGracePeriod = time.Second

const maxGraceSeconds = int64(MaxGracePeriod / time.Second)

// Scope says whether a whole pod or one container is stopped; kubelet picks the grace
// differently for each.
type Scope int

// Scopes. The zero value is PodScope.
const (
	// PodScope: every container of the pod stops (deletion, eviction, node shutdown, active
	// deadline, or the pod reached a terminal phase). The grace is never below 1 s.
	PodScope Scope = iota
	// ContainerScope: one container is killed while the pod keeps running (startup or liveness
	// failure, postStart failure, changed image). The grace may be 0, which skips preStop.
	ContainerScope
)

// Source says where a grace period came from.
type Source string

// Grace period sources.
const (
	SourceDeleteRequest Source = "DeleteRequest" // the delete request's grace period
	SourceForcedDelete  Source = "ForcedDelete"  // a delete request with grace period 0
	SourcePodSpec       Source = "PodSpec"       // spec.terminationGracePeriodSeconds
	SourceDefault       Source = "Default"       // the spec leaves it nil: 30 s
	SourceProbe         Source = "Probe"         // the failed probe's terminationGracePeriodSeconds
	SourceAgentOverride Source = "AgentOverride" // the agent's own value (eviction, shutdown, ...)
)

// GraceRequest is what the grace period depends on. The zero value is a whole-pod stop of a pod
// that is not deleted and has the default spec: 30 s.
type GraceRequest struct {
	Scope Scope
	// SpecSeconds is the pod's spec.terminationGracePeriodSeconds; nil means 30.
	SpecSeconds *int64
	// Deleted says the pod has been deleted (it has a deletion timestamp).
	Deleted bool
	// DeleteSeconds is the delete request's grace period, only with Deleted; nil means the
	// spec's. 0 is a forced delete; a negative value counts as 1, as the API server stores it.
	DeleteSeconds *int64
	// ProbeSeconds is, for a ContainerScope kill caused by a startup or liveness probe failure,
	// that probe's terminationGracePeriodSeconds (nil: the probe sets none). It must be > 0.
	ProbeSeconds *int64
	// OverrideSeconds is the agent's own grace (eviction, node shutdown, active deadline); nil
	// means none. For a pod it applies when there is no shorter delete grace; for a container it
	// replaces every other value.
	OverrideSeconds *int64
}

// Grace is a chosen grace period.
type Grace struct {
	// Period is whole seconds, from 0 (ContainerScope only) to MaxGracePeriod.
	Period time.Duration
	// Source is where the value came from.
	Source Source
	// Raised says a whole-pod stop's value was below 1 s and was raised to MinimumPodGracePeriod.
	Raised bool
}

// GracePeriod picks the grace period of a stop as kubelet does.
//
// PodScope follows the pod worker (calculateEffectiveGracePeriod) for a pod's first stop: the
// deletion grace (the delete request's, else the spec's) if the pod is deleted; the override
// if there is none or the override is shorter; else the spec's; then at least 1 s. A later,
// shorter value goes to PodStop.Shorten, which ignores longer ones.
//
// ContainerScope follows killContainer (setTerminationGracePeriod): the deletion grace if the
// pod is deleted, else the probe's if set, else the spec's; an override replaces the result. It
// is not raised, so 0 is possible: then preStop is skipped and the 2 s stop floor applies.
//
// Negative spec, probe or override values, a probe value that is 0 or given for a PodScope
// stop, and DeleteSeconds without Deleted are errors matching podlife.ErrInvalid.
func GracePeriod(r GraceRequest) (Grace, error) {
	if err := r.validate(); err != nil {
		return Grace{}, fmt.Errorf("termination: grace period: %w", err)
	}
	spec, specSource := podlife.DefaultGracePeriodSeconds, SourceDefault
	if r.SpecSeconds != nil {
		spec, specSource = *r.SpecSeconds, SourcePodSpec
	}
	var seconds int64
	var source Source
	if r.Scope == ContainerScope {
		seconds, source = containerGrace(r, spec, specSource)
	} else {
		seconds, source = podGrace(r, spec, specSource)
	}
	g := Grace{Source: source}
	if r.Scope == PodScope && seconds < 1 {
		seconds, g.Raised = 1, true
	}
	g.Period = time.Duration(min(seconds, maxGraceSeconds)) * time.Second
	return g, nil
}

// deletionGrace is what the API server stores as deletionGracePeriodSeconds.
func deletionGrace(r GraceRequest, spec int64, specSource Source) (int64, Source) {
	switch {
	case r.DeleteSeconds == nil:
		return spec, specSource
	case *r.DeleteSeconds < 0:
		return 1, SourceDeleteRequest
	case *r.DeleteSeconds == 0:
		return 0, SourceForcedDelete
	}
	return *r.DeleteSeconds, SourceDeleteRequest
}

// podGrace mirrors calculateEffectiveGracePeriod with no earlier value, including its use of 0
// as "unset": after a forced delete, an override given in the same update wins even if longer.
func podGrace(r GraceRequest, spec int64, specSource Source) (int64, Source) {
	seconds, source, overridden := int64(0), Source(""), false
	if r.Deleted {
		seconds, source = deletionGrace(r, spec, specSource)
		overridden = true
	}
	if o := r.OverrideSeconds; o != nil && (seconds == 0 || *o < seconds) {
		seconds, source, overridden = *o, SourceAgentOverride, true
	}
	if !overridden {
		seconds, source = spec, specSource
	}
	return seconds, source
}

func containerGrace(r GraceRequest, spec int64, specSource Source) (int64, Source) {
	if r.OverrideSeconds != nil {
		return *r.OverrideSeconds, SourceAgentOverride
	}
	switch {
	case r.Deleted:
		return deletionGrace(r, spec, specSource)
	case r.ProbeSeconds != nil:
		return *r.ProbeSeconds, SourceProbe
	}
	return spec, specSource
}

func (r GraceRequest) validate() error {
	var errs podlife.ErrorList
	if r.Scope != PodScope && r.Scope != ContainerScope {
		errs = append(errs, podlife.Invalid("scope", int(r.Scope), "must be PodScope or ContainerScope"))
	}
	if r.SpecSeconds != nil && *r.SpecSeconds < 0 {
		errs = append(errs, podlife.Invalid("spec.terminationGracePeriodSeconds",
			*r.SpecSeconds, "must be greater than or equal to 0"))
	}
	if r.DeleteSeconds != nil && !r.Deleted {
		errs = append(errs, podlife.Forbidden("deleteOptions.gracePeriodSeconds", "only for a deleted pod"))
	}
	const probe = podlife.Path("probe.terminationGracePeriodSeconds")
	if r.ProbeSeconds != nil {
		switch {
		case r.Scope == PodScope:
			errs = append(errs, podlife.Forbidden(probe, "applies only to a ContainerScope kill"))
		case *r.ProbeSeconds <= 0:
			errs = append(errs, podlife.Invalid(probe, *r.ProbeSeconds, "must be greater than 0"))
		}
	}
	if r.OverrideSeconds != nil && *r.OverrideSeconds < 0 {
		errs = append(errs, podlife.Invalid("override.gracePeriodSeconds", *r.OverrideSeconds,
			"must be greater than or equal to 0"))
	}
	return errs.AsError()
}
