// Package restart decides whether an exited container restarts and when: the pod's restart
// policy, the container-level policy and exit-code rules (KEP-5307, KEP-5532), and the
// deterministic back-off curves for crash loops (CrashLoop) and image pulls (PullBackoff), with
// the image pull policy they go with. It never reads a clock: every function that depends on time
// takes it as an argument, and the per-container state is a small value the caller keeps.
package restart

import "github.com/podlife/podlife"

// Decision is what happens to a container after it exited.
type Decision int

// Decisions. RestartAll restarts every container of the pod in place (KEP-5532).
const (
	Stay Decision = iota
	Restart
	RestartAll
)

// String gives "Stay", "Restart" or "RestartAllContainers".
func (d Decision) String() string {
	switch d {
	case Restart:
		return "Restart"
	case RestartAll:
		return "RestartAllContainers"
	}
	return "Stay"
}

// Decide says what happens to container c after it exited with exitCode, under pod policy
// podPolicy (empty, or any unknown value, means Always), as kubelet's podutil.ContainerShouldRestart
// and ShouldAllContainersRestart decide it (Kubernetes 1.34/1.35).
//
// A container-level restartPolicy overrides the pod's. Its rules are consulted only then: the
// first rule whose exit codes match decides (Restart, or RestartAll for RestartAllContainers); a
// first match with an unknown action, or no match, leaves it to the container's policy. A
// container policy other than Always, OnFailure or Never falls back to the pod's. Rules without
// exitCodes, or with an unknown operator, never match. A sidecar (policy Always) restarts whatever
// its exit code; whether the pod is still running is the caller's to check. A nil c is a
// container without a policy of its own.
func Decide(podPolicy podlife.RestartPolicy, c *podlife.Container, exitCode int32) Decision {
	if c == nil || c.RestartPolicy == nil {
		return byPolicy(podPolicy, exitCode)
	}
	if r := firstMatchingRule(c.RestartPolicyRules, exitCode); r != nil {
		switch r.Action {
		case podlife.RuleRestart:
			return Restart
		case podlife.RuleRestartAllContainers:
			return RestartAll
		}
	}
	switch p := *c.RestartPolicy; p {
	case podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever:
		return byPolicy(p, exitCode)
	}
	return byPolicy(podPolicy, exitCode)
}

// WillRestart is Decide != Stay.
func WillRestart(podPolicy podlife.RestartPolicy, c *podlife.Container, exitCode int32) bool {
	return Decide(podPolicy, c, exitCode) != Stay
}

// MayRestart reports whether some exit of c could restart it, as kubelet's
// podutil.IsContainerRestartable, counting RestartAllContainers rules too. It errs towards true:
// false only when every exit code leaves c stopped (Decide is Stay for all of them), that is the
// effective policy is Never and no rule restarts. Like upstream, a rule counts whatever its exit
// codes, and a container policy that is set but not Never counts as restartable.
func MayRestart(podPolicy podlife.RestartPolicy, c *podlife.Container) bool {
	if c == nil || c.RestartPolicy == nil {
		return podPolicy != podlife.RestartNever
	}
	for _, r := range c.RestartPolicyRules {
		if r.Action == podlife.RuleRestart || r.Action == podlife.RuleRestartAllContainers {
			return true
		}
	}
	return *c.RestartPolicy != podlife.RestartNever
}

// firstMatchingRule is kubelet's findMatchingContainerRestartRule: the first rule whose exit codes
// match, whatever its action, or nil.
func firstMatchingRule(rules []podlife.RestartRule, exitCode int32) *podlife.RestartRule {
	for i := range rules {
		r := &rules[i]
		if r.ExitCodes != nil && r.ExitCodes.Matches(exitCode) {
			return r
		}
	}
	return nil
}

func byPolicy(p podlife.RestartPolicy, exitCode int32) Decision {
	switch p {
	case podlife.RestartNever:
		return Stay
	case podlife.RestartOnFailure:
		if exitCode != 0 {
			return Restart
		}
		return Stay
	}
	return Restart // Always, and the empty default
}
