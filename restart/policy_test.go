package restart_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/restart"
)

func policy(p podlife.RestartPolicy) *podlife.RestartPolicy { return &p }

func rule(action podlife.RestartRuleAction, op podlife.ExitCodeOperator, codes ...int32) podlife.RestartRule {
	return podlife.RestartRule{Action: action, ExitCodes: &podlife.ExitCodesRequirement{Operator: op, Values: codes}}
}

func withPolicy(p podlife.RestartPolicy, rules ...podlife.RestartRule) *podlife.Container {
	return &podlife.Container{Name: "c", RestartPolicy: policy(p), RestartPolicyRules: rules}
}

func TestDecide(t *testing.T) {
	plain := &podlife.Container{Name: "c"}
	tests := []struct {
		name     string
		pod      podlife.RestartPolicy
		c        *podlife.Container
		exitCode int32
		want     restart.Decision
	}{
		{"pod Always restarts a container that exited 0", podlife.RestartAlways, plain, 0, restart.Restart},
		{"pod Always restarts a container that failed", podlife.RestartAlways, plain, 1, restart.Restart},
		{"empty pod policy means Always", "", plain, 0, restart.Restart},
		{"unknown pod policy means Always (upstream default case)", "Sometimes", plain, 0, restart.Restart},
		{"pod OnFailure: exit 0 stays stopped", podlife.RestartOnFailure, plain, 0, restart.Stay},
		{"pod OnFailure: a non-zero exit restarts", podlife.RestartOnFailure, plain, 137, restart.Restart},
		{"pod OnFailure: a negative exit code is a failure", podlife.RestartOnFailure, plain, -1, restart.Restart},
		{"pod Never: a failure stays stopped", podlife.RestartNever, plain, 1, restart.Stay},
		{"nil container: the pod policy decides", podlife.RestartNever, nil, 1, restart.Stay},
		{"container policy Never overrides pod Always", podlife.RestartAlways, withPolicy(podlife.RestartNever), 1, restart.Stay},
		{"container policy Always overrides pod Never", podlife.RestartNever, withPolicy(podlife.RestartAlways), 0, restart.Restart},
		{"container policy OnFailure: exit 0 stays even under pod Always", podlife.RestartAlways, withPolicy(podlife.RestartOnFailure), 0, restart.Stay},
		{"container policy OnFailure: a failure restarts under pod Never", podlife.RestartNever, withPolicy(podlife.RestartOnFailure), 2, restart.Restart},
		{"a sidecar (policy Always) restarts whatever its exit code", podlife.RestartNever, withPolicy(podlife.RestartAlways), 0, restart.Restart},
		{"rule In matching: action Restart wins over container Never", podlife.RestartNever,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestart, podlife.ExitCodeIn, 42, 50)), 42, restart.Restart},
		{"rule NotIn matching: action Restart", podlife.RestartNever,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestart, podlife.ExitCodeNotIn, 0, 1)), 99, restart.Restart},
		{"rule In not matching: the container policy decides", podlife.RestartAlways,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestart, podlife.ExitCodeIn, 10, 20)), 30, restart.Stay},
		{"rule NotIn not matching (code listed): the container policy decides", podlife.RestartAlways,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestart, podlife.ExitCodeNotIn, 10, 20)), 10, restart.Stay},
		{"rule action RestartAllContainers matching: restart the whole pod in place", podlife.RestartNever,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 42)), 42, restart.RestartAll},
		{"first matching rule wins: RestartAllContainers before Restart", podlife.RestartNever,
			withPolicy(podlife.RestartNever,
				rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 42),
				rule(podlife.RuleRestart, podlife.ExitCodeNotIn, 0)), 42, restart.RestartAll},
		{"first matching rule wins: Restart before RestartAllContainers", podlife.RestartNever,
			withPolicy(podlife.RestartNever,
				rule(podlife.RuleRestart, podlife.ExitCodeNotIn, 0),
				rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 42)), 42, restart.Restart},
		{"a later rule decides when the earlier ones do not match", podlife.RestartNever,
			withPolicy(podlife.RestartNever,
				rule(podlife.RuleRestart, podlife.ExitCodeIn, 1),
				rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 2)), 2, restart.RestartAll},
		{"rules need an explicit container restartPolicy: ignored without one", podlife.RestartNever,
			&podlife.Container{Name: "c", RestartPolicyRules: []podlife.RestartRule{rule(podlife.RuleRestart, podlife.ExitCodeIn, 1)}}, 1, restart.Stay},
		{"a rule without exitCodes never matches", podlife.RestartNever,
			withPolicy(podlife.RestartNever, podlife.RestartRule{Action: podlife.RuleRestart}), 1, restart.Stay},
		{"a rule with an unknown operator never matches; the next rule is tried", podlife.RestartNever,
			withPolicy(podlife.RestartNever,
				rule(podlife.RuleRestartAllContainers, "Between", 1),
				rule(podlife.RuleRestart, podlife.ExitCodeIn, 1)), 1, restart.Restart},
		{"a first match with an unknown action falls back to the container policy; later rules are not tried", podlife.RestartAlways,
			withPolicy(podlife.RestartNever,
				rule("Ignore", podlife.ExitCodeIn, 1),
				rule(podlife.RuleRestart, podlife.ExitCodeIn, 1)), 1, restart.Stay},
		{"an unknown container policy falls back to the pod policy", podlife.RestartNever,
			withPolicy("Sometimes"), 1, restart.Stay},
		{"an empty container policy falls back to the pod policy (OnFailure, exit 0)", podlife.RestartOnFailure,
			withPolicy(""), 0, restart.Stay},
		{"an unknown container policy with an unknown pod policy means Always", "",
			withPolicy("Sometimes"), 0, restart.Restart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := restart.Decide(tt.pod, tt.c, tt.exitCode)
			assert.Equal(t, tt.want, got, "Decide = %v", got)
			assert.Equal(t, tt.want != restart.Stay, restart.WillRestart(tt.pod, tt.c, tt.exitCode), "WillRestart is Decide != Stay")
		})
	}
}

func TestMayRestart(t *testing.T) {
	plain := &podlife.Container{Name: "c"}
	tests := []struct {
		name string
		pod  podlife.RestartPolicy
		c    *podlife.Container
		want bool
	}{
		{"pod Never without a container policy never restarts", podlife.RestartNever, plain, false},
		{"nil container: pod Never never restarts", podlife.RestartNever, nil, false},
		{"pod OnFailure may restart", podlife.RestartOnFailure, plain, true},
		{"empty pod policy (Always) may restart", "", plain, true},
		{"container Never never restarts, even under pod Always", podlife.RestartAlways, withPolicy(podlife.RestartNever), false},
		{"container Never with a Restart rule may restart", podlife.RestartNever,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestart, podlife.ExitCodeIn, 42)), true},
		{"container Never with a RestartAllContainers rule may restart", podlife.RestartNever,
			withPolicy(podlife.RestartNever, rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 42)), true},
		{"a Restart rule counts whatever its exit codes (upstream IsContainerRestartable)", podlife.RestartNever,
			withPolicy(podlife.RestartNever, podlife.RestartRule{Action: podlife.RuleRestart}), true},
		{"container Never with only rules of unknown actions never restarts", podlife.RestartNever,
			withPolicy(podlife.RestartNever, rule("Ignore", podlife.ExitCodeIn, 1)), false},
		{"container OnFailure under pod Never may restart", podlife.RestartNever, withPolicy(podlife.RestartOnFailure), true},
		{"a container policy that is set but not Never counts as restartable (upstream)", podlife.RestartNever, withPolicy("Sometimes"), true},
		{"rules without a container policy are ignored", podlife.RestartNever,
			&podlife.Container{RestartPolicyRules: []podlife.RestartRule{rule(podlife.RuleRestart, podlife.ExitCodeIn, 1)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, restart.MayRestart(tt.pod, tt.c))
		})
	}
}

func TestDecisionString(t *testing.T) {
	assert.Equal(t, "Stay", restart.Stay.String())
	assert.Equal(t, "Restart", restart.Restart.String())
	assert.Equal(t, "RestartAllContainers", restart.RestartAll.String())
	assert.Equal(t, "Stay", restart.Decision(42).String(), "unknown decisions read as Stay")
}

func drawPolicy(t *rapid.T, label string) podlife.RestartPolicy {
	return rapid.SampledFrom([]podlife.RestartPolicy{"", "Bogus", podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, label)
}

func drawContainer(t *rapid.T) *podlife.Container {
	c := &podlife.Container{Name: "c"}
	if rapid.Bool().Draw(t, "hasPolicy") {
		c.RestartPolicy = policy(drawPolicy(t, "containerPolicy"))
	}
	n := rapid.IntRange(0, 3).Draw(t, "rules")
	for i := 0; i < n; i++ {
		r := podlife.RestartRule{Action: rapid.SampledFrom([]podlife.RestartRuleAction{
			podlife.RuleRestart, podlife.RuleRestartAllContainers, "Unknown"}).Draw(t, "action")}
		if rapid.IntRange(0, 5).Draw(t, "hasExitCodes") > 0 {
			r.ExitCodes = &podlife.ExitCodesRequirement{
				Operator: rapid.SampledFrom([]podlife.ExitCodeOperator{podlife.ExitCodeIn, podlife.ExitCodeNotIn, "Odd"}).Draw(t, "op"),
				Values:   rapid.SliceOfN(rapid.Int32Range(-2, 5), 0, 4).Draw(t, "values"),
			}
		}
		c.RestartPolicyRules = append(c.RestartPolicyRules, r)
	}
	return c
}

// Property: MayRestart false means no exit code restarts the container.
func TestMayRestartFalseMeansNeverRestarts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pod := drawPolicy(t, "podPolicy")
		c := drawContainer(t)
		if restart.MayRestart(pod, c) {
			return
		}
		for code := int32(-2); code <= 5; code++ {
			require.Equal(t, restart.Stay, restart.Decide(pod, c, code), "MayRestart is false but exit %d restarts", code)
		}
	})
}

// Property: without a container policy the rules are ignored and only the pod policy decides.
func TestDecideIgnoresRulesWithoutContainerPolicy(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pod := drawPolicy(t, "podPolicy")
		c := drawContainer(t)
		c.RestartPolicy = nil
		code := rapid.Int32Range(-2, 5).Draw(t, "code")
		require.Equal(t, restart.Decide(pod, nil, code), restart.Decide(pod, c, code))
	})
}
