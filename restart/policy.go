// Package restart decides whether an exited container restarts and when: the pod's restart
// policy, the container-level policy and exit-code rules (KEP-5307), and the deterministic
// back-off curves for crash loops and image pulls. It never reads a clock: every function that
// depends on time takes it as an argument.
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
// podPolicy (empty means Always). A container-level restartPolicy overrides the pod's; its rules
// are tried first, in order, and the first whose exit codes match decides. A sidecar restarts
// whatever its exit code; whether the pod is still running is the caller's to check.
func Decide(podPolicy podlife.RestartPolicy, c *podlife.Container, exitCode int32) Decision {
	if c.RestartPolicy != nil {
		for i := range c.RestartPolicyRules {
			r := &c.RestartPolicyRules[i]
			if r.ExitCodes == nil || !r.ExitCodes.Matches(exitCode) {
				continue
			}
			switch r.Action {
			case podlife.RuleRestart:
				return Restart
			case podlife.RuleRestartAllContainers:
				return RestartAll
			}
		}
		return byPolicy(*c.RestartPolicy, exitCode)
	}
	return byPolicy(podPolicy, exitCode)
}

// WillRestart is Decide != Stay.
func WillRestart(podPolicy podlife.RestartPolicy, c *podlife.Container, exitCode int32) bool {
	return Decide(podPolicy, c, exitCode) != Stay
}

// MayRestart reports whether some exit of c could restart it: false only when every exit code
// leaves it stopped (policy Never with no restarting rule).
func MayRestart(podPolicy podlife.RestartPolicy, c *podlife.Container) bool {
	p := podPolicy
	if c.RestartPolicy != nil {
		p = *c.RestartPolicy
		for _, r := range c.RestartPolicyRules {
			if r.Action == podlife.RuleRestart || r.Action == podlife.RuleRestartAllContainers {
				return true
			}
		}
	}
	return p != podlife.RestartNever
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
