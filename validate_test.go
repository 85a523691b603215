package podlife_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
)

func ptr[T any](v T) *T { return &v }

func app(name string) podlife.Container { return podlife.Container{Name: name, Image: "nginx:1.25"} }

// baseSpec is the smallest valid spec; each table row breaks (or stretches) one rule of it.
func baseSpec() podlife.PodSpec { return podlife.PodSpec{Containers: []podlife.Container{app("app")}} }

func execProbe() *podlife.Probe {
	return &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}}
}

func execHook() *podlife.LifecycleHandler {
	return &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}
}

func sidecar(name string) podlife.Container {
	c := app(name)
	c.RestartPolicy = ptr(podlife.RestartAlways)
	return c
}

func rule(action podlife.RestartRuleAction, op podlife.ExitCodeOperator, values ...int32) podlife.RestartRule {
	return podlife.RestartRule{Action: action, ExitCodes: &podlife.ExitCodesRequirement{Operator: op, Values: values}}
}

func rules(n int) []podlife.RestartRule {
	out := make([]podlife.RestartRule, n)
	for i := range out {
		out[i] = rule(podlife.RuleRestart, podlife.ExitCodeIn, 42)
	}
	return out
}

// fieldErr is what a row asserts of each error: its exact path and type.
type fieldErr struct {
	Field string
	Type  podlife.ErrorType
}

func fe(field string, typ podlife.ErrorType) fieldErr { return fieldErr{field, typ} }

const (
	required     = podlife.ErrorRequired
	invalid      = podlife.ErrorInvalid
	duplicate    = podlife.ErrorDuplicate
	notSupported = podlife.ErrorNotSupported
	forbidden    = podlife.ErrorForbidden
	tooMany      = podlife.ErrorTooMany
)

type validationCase struct {
	rule  string                // the rule checked, quoted or paraphrased from upstream
	gates *podlife.FeatureGates // nil means DefaultFeatureGates
	edit  func(s *podlife.PodSpec)
	want  []fieldErr // nil means the spec is valid
}

var (
	rulesOnly = podlife.FeatureGates{ContainerRestartRules: true}
	noGates   = podlife.FeatureGates{}
)

func podCases() []validationCase {
	return []validationCase{
		{rule: "a pod needs at least one container", edit: func(s *podlife.PodSpec) { s.Containers = nil },
			want: []fieldErr{fe("spec.containers", required)}},
		{rule: "pod restartPolicy is Always, OnFailure or Never", edit: func(s *podlife.PodSpec) { s.RestartPolicy = "Sometimes" },
			want: []fieldErr{fe("spec.restartPolicy", notSupported)}},
		{rule: "an empty pod restartPolicy means Always", edit: func(s *podlife.PodSpec) { s.RestartPolicy = "" }},
		{rule: "terminationGracePeriodSeconds must be >= 0", edit: func(s *podlife.PodSpec) { s.TerminationGracePeriodSeconds = ptr[int64](-1) },
			want: []fieldErr{fe("spec.terminationGracePeriodSeconds", invalid)}},
		{rule: "terminationGracePeriodSeconds 0 stops at once and is valid", edit: func(s *podlife.PodSpec) { s.TerminationGracePeriodSeconds = ptr[int64](0) }},
		{rule: "activeDeadlineSeconds is at least 1", edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](0) },
			want: []fieldErr{fe("spec.activeDeadlineSeconds", invalid)}},
		{rule: "activeDeadlineSeconds is at most MaxInt32", edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](podlife.MaxActiveDeadlineSeconds + 1) },
			want: []fieldErr{fe("spec.activeDeadlineSeconds", invalid)}},
		{rule: "activeDeadlineSeconds 1 is valid", edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](1) }},
		{rule: "activeDeadlineSeconds MaxInt32 is valid", edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](podlife.MaxActiveDeadlineSeconds) }},
		{rule: "a readiness gate is a qualified name", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{"example.com/ready", "bad gate!"} },
			want: []fieldErr{fe("spec.readinessGates[1]", invalid)}},
		{rule: "a readiness gate has at most one '/'", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{"a/b/c"} },
			want: []fieldErr{fe("spec.readinessGates[0]", invalid)}},
		{rule: "a readiness gate prefix is a DNS subdomain", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{"Example.com/ready"} },
			want: []fieldErr{fe("spec.readinessGates[0]", invalid)}},
		{rule: "a readiness gate name part is at most 63 characters", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{strings.Repeat("r", 64)} },
			want: []fieldErr{fe("spec.readinessGates[0]", invalid)}},
		{rule: "an empty readiness gate is invalid twice (empty, and not a name)", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{""} },
			want: []fieldErr{fe("spec.readinessGates[0]", invalid), fe("spec.readinessGates[0]", invalid)}},
		{rule: "a readiness gate prefix must be non-empty", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{"/ready"} },
			want: []fieldErr{fe("spec.readinessGates[0]", invalid)}},
		// podlife's own limit (the API server has none): see MaxContainers.
		{rule: "a pod may have MaxContainers containers", edit: func(s *podlife.PodSpec) { s.Containers = apps(podlife.MaxContainers) }},
		{rule: "a pod may not have more than MaxContainers containers", edit: func(s *podlife.PodSpec) { s.Containers = apps(podlife.MaxContainers + 1) },
			want: []fieldErr{fe("spec.containers", tooMany)}},
		{rule: "init containers count towards MaxContainers", edit: func(s *podlife.PodSpec) {
			s.InitContainers = inits(podlife.MaxContainers / 2)
			s.Containers = apps(podlife.MaxContainers/2 + 1)
		}, want: []fieldErr{fe("spec.containers", tooMany)}},
		{rule: "too many init containers alone are reported on initContainers", edit: func(s *podlife.PodSpec) { s.InitContainers = inits(podlife.MaxContainers + 1) },
			want: []fieldErr{fe("spec.initContainers", tooMany)}},
	}
}

// apps and inits are n valid app or init containers, named by position.
func apps(n int) []podlife.Container {
	out := make([]podlife.Container, n)
	for i := range out {
		out[i] = app(fmt.Sprintf("app-%d", i))
	}
	return out
}

func inits(n int) []podlife.Container {
	out := make([]podlife.Container, n)
	for i := range out {
		out[i] = app(fmt.Sprintf("init-%d", i))
	}
	return out
}

func containerCases() []validationCase {
	return []validationCase{
		{rule: "container name is required", edit: func(s *podlife.PodSpec) { s.Containers[0].Name = "" },
			want: []fieldErr{fe("spec.containers[0].name", required)}},
		{rule: "container name is a DNS-1123 label", edit: func(s *podlife.PodSpec) { s.Containers[0].Name = "App_1" },
			want: []fieldErr{fe("spec.containers[0].name", invalid)}},
		{rule: "container name may not end with '-'", edit: func(s *podlife.PodSpec) { s.Containers[0].Name = "app-" },
			want: []fieldErr{fe("spec.containers[0].name", invalid)}},
		{rule: "container name is at most 63 characters", edit: func(s *podlife.PodSpec) { s.Containers[0].Name = strings.Repeat("a", 64) },
			want: []fieldErr{fe("spec.containers[0].name", invalid)}},
		{rule: "container name of 63 characters is fine", edit: func(s *podlife.PodSpec) { s.Containers[0].Name = strings.Repeat("a", 63) }},
		{rule: "names are unique among app containers", edit: func(s *podlife.PodSpec) { s.Containers = append(s.Containers, app("app")) },
			want: []fieldErr{fe("spec.containers[1].name", duplicate)}},
		{rule: "names are unique across init and app containers (reported on the init container)",
			edit: func(s *podlife.PodSpec) { s.InitContainers = []podlife.Container{app("app")} },
			want: []fieldErr{fe("spec.initContainers[0].name", duplicate)}},
		{rule: "names are unique among init containers and sidecars",
			edit: func(s *podlife.PodSpec) { s.InitContainers = []podlife.Container{app("setup"), sidecar("setup")} },
			want: []fieldErr{fe("spec.initContainers[1].name", duplicate)}},
		{rule: "image is required", edit: func(s *podlife.PodSpec) { s.Containers[0].Image = "" },
			want: []fieldErr{fe("spec.containers[0].image", required)}},
		{rule: "image must not have leading or trailing whitespace", edit: func(s *podlife.PodSpec) { s.Containers[0].Image = "nginx " },
			want: []fieldErr{fe("spec.containers[0].image", invalid)}},
		{rule: "imagePullPolicy is Always, IfNotPresent or Never", edit: func(s *podlife.PodSpec) { s.Containers[0].ImagePullPolicy = "Sometimes" },
			want: []fieldErr{fe("spec.containers[0].imagePullPolicy", notSupported)}},
		{rule: "an empty imagePullPolicy is defaulted from the image", edit: func(s *podlife.PodSpec) { s.Containers[0].ImagePullPolicy = "" }},
		{rule: "env name is required", edit: func(s *podlife.PodSpec) { s.Containers[0].Env = []podlife.EnvVar{{Value: "x"}} },
			want: []fieldErr{fe("spec.containers[0].env[0].name", required)}},
		{rule: "env name is printable ASCII other than '='", edit: func(s *podlife.PodSpec) { s.Containers[0].Env = []podlife.EnvVar{{Name: "A=B"}} },
			want: []fieldErr{fe("spec.containers[0].env[0].name", invalid)}},
		{rule: "env names may be relaxed (dots, dashes, leading digits)", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "1.my-var"}}
		}},
		{rule: "secretKeyRef key is required", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A", SecretKeyRef: &podlife.KeyRef{Name: "creds"}}}
		}, want: []fieldErr{fe("spec.containers[0].env[0].secretKeyRef.key", required)}},
		{rule: "secretKeyRef name is a DNS subdomain (empty is invalid, as upstream)", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A", SecretKeyRef: &podlife.KeyRef{Key: "password"}}}
		}, want: []fieldErr{fe("spec.containers[0].env[0].secretKeyRef.name", invalid)}},
		{rule: "configMapKeyRef key is alphanumerics, '-', '_' or '.'", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A", ConfigMapKeyRef: &podlife.KeyRef{Name: "cfg", Key: "bad key"}}}
		}, want: []fieldErr{fe("spec.containers[0].env[0].configMapKeyRef.key", invalid)}},
		{rule: "configMapKeyRef key may not be '..'", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A", ConfigMapKeyRef: &podlife.KeyRef{Name: "cfg", Key: ".."}}}
		}, want: []fieldErr{fe("spec.containers[0].env[0].configMapKeyRef.key", invalid)}},
		{rule: "a value may not be given with a key ref", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A", Value: "x", SecretKeyRef: &podlife.KeyRef{Name: "creds", Key: "k"}}}
		}, want: []fieldErr{fe("spec.containers[0].env[0].value", invalid)}},
		{rule: "secretKeyRef and configMapKeyRef are not both set", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A",
				SecretKeyRef: &podlife.KeyRef{Name: "creds", Key: "k"}, ConfigMapKeyRef: &podlife.KeyRef{Name: "cfg", Key: "k"}}}
		}, want: []fieldErr{fe("spec.containers[0].env[0].configMapKeyRef", invalid)}},
		{rule: "containerPort is required", edit: func(s *podlife.PodSpec) { s.Containers[0].Ports = []podlife.Port{{Name: "http"}} },
			want: []fieldErr{fe("spec.containers[0].ports[0].containerPort", required)}},
		{rule: "containerPort is 1 to 65535", edit: func(s *podlife.PodSpec) { s.Containers[0].Ports = []podlife.Port{{ContainerPort: 70000}} },
			want: []fieldErr{fe("spec.containers[0].ports[0].containerPort", invalid)}},
		{rule: "port name must not contain consecutive hyphens", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Ports = []podlife.Port{{Name: "web--port", ContainerPort: 80}}
		}, want: []fieldErr{fe("spec.containers[0].ports[0].name", invalid)}},
		{rule: "port name is at most 15 characters", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Ports = []podlife.Port{{Name: "a-very-long-port-name", ContainerPort: 80}}
		}, want: []fieldErr{fe("spec.containers[0].ports[0].name", invalid)}},
		{rule: "port name needs a letter", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Ports = []podlife.Port{{Name: "8080", ContainerPort: 80}}
		}, want: []fieldErr{fe("spec.containers[0].ports[0].name", invalid)}},
		{rule: "port names are unique within a container", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Ports = []podlife.Port{{Name: "http", ContainerPort: 80}, {Name: "http", ContainerPort: 81}}
		}, want: []fieldErr{fe("spec.containers[0].ports[1].name", duplicate)}},
		{rule: "port protocol is TCP, UDP or SCTP", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Ports = []podlife.Port{{ContainerPort: 80, Protocol: "ICMP"}}
		}, want: []fieldErr{fe("spec.containers[0].ports[0].protocol", notSupported)}},
	}
}

func restartCases() []validationCase {
	return []validationCase{
		{rule: "init restartPolicy Always makes a sidecar", edit: func(s *podlife.PodSpec) { s.InitContainers = []podlife.Container{sidecar("proxy")} }},
		{rule: "init restartPolicy Never or OnFailure (ContainerRestartRules)", edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{app("a"), app("b")}
			s.InitContainers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.InitContainers[1].RestartPolicy = ptr(podlife.RestartOnFailure)
		}},
		{rule: "init restartPolicy is Always, Never or OnFailure", edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{app("init")}
			s.InitContainers[0].RestartPolicy = ptr[podlife.RestartPolicy]("Sometimes")
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicy", notSupported)}},
		{rule: "without ContainerRestartRules an init restartPolicy may only be Always", gates: &noGates, edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{app("init"), sidecar("proxy")}
			s.InitContainers[0].RestartPolicy = ptr(podlife.RestartNever)
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicy", notSupported)}},
		{rule: "app restartPolicy Always, OnFailure or Never is allowed (1.34+)", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartOnFailure)
		}},
		{rule: "app restartPolicy is Always, Never or OnFailure", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr[podlife.RestartPolicy]("Sometimes")
		}, want: []fieldErr{fe("spec.containers[0].restartPolicy", notSupported)}},
		{rule: "without ContainerRestartRules an app restartPolicy 'may not be set for non-init containers'", gates: &noGates,
			edit: func(s *podlife.PodSpec) { s.Containers[0].RestartPolicy = ptr(podlife.RestartNever) },
			want: []fieldErr{fe("spec.containers[0].restartPolicy", forbidden)}},
		{rule: "without ContainerRestartRules rules may not be set", gates: &noGates, edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{app("init")}
			s.InitContainers[0].RestartPolicyRules = rules(1)
			s.Containers[0].RestartPolicyRules = rules(1)
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicyRules", forbidden), fe("spec.containers[0].restartPolicyRules", forbidden)}},
		{rule: "rules need an explicit restartPolicy on an app container", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicyRules = rules(1)
		}, want: []fieldErr{fe("spec.containers[0].restartPolicy", required)}},
		{rule: "rules need an explicit restartPolicy on an init container", edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{app("init")}
			s.InitContainers[0].RestartPolicyRules = rules(1)
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicy", required)}},
		{rule: "rules on a sidecar are forbidden without RestartAllContainersOnContainerExits", gates: &rulesOnly, edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{sidecar("proxy")}
			s.InitContainers[0].RestartPolicyRules = rules(1)
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicyRules", forbidden)}},
		{rule: "rules on a sidecar are allowed with RestartAllContainersOnContainerExits", edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{sidecar("proxy")}
			s.InitContainers[0].RestartPolicyRules = []podlife.RestartRule{rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 1)}
		}},
		{rule: "rules on a sidecar are still checked", edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{sidecar("proxy")}
			s.InitContainers[0].RestartPolicyRules = []podlife.RestartRule{{Action: podlife.RuleRestart}}
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicyRules[0].exitCodes", required)}},
		{rule: "rules are allowed on a container whose restartPolicy is Always", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartAlways)
			s.Containers[0].RestartPolicyRules = rules(2)
		}},
		{rule: "rule action is Restart or RestartAllContainers", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.Containers[0].RestartPolicyRules = []podlife.RestartRule{rule("Stop", podlife.ExitCodeIn, 1)}
		}, want: []fieldErr{fe("spec.containers[0].restartPolicyRules[0].action", notSupported)}},
		{rule: "action RestartAllContainers needs RestartAllContainersOnContainerExits", gates: &rulesOnly, edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.Containers[0].RestartPolicyRules = []podlife.RestartRule{rule(podlife.RuleRestartAllContainers, podlife.ExitCodeIn, 1)}
		}, want: []fieldErr{fe("spec.containers[0].restartPolicyRules[0].action", notSupported)}},
		{rule: "rule exitCodes are required", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.Containers[0].RestartPolicyRules = []podlife.RestartRule{{Action: podlife.RuleRestart}}
		}, want: []fieldErr{fe("spec.containers[0].restartPolicyRules[0].exitCodes", required)}},
		{rule: "rule operator is In or NotIn", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.Containers[0].RestartPolicyRules = []podlife.RestartRule{rule(podlife.RuleRestart, "Equals", 1)}
		}, want: []fieldErr{fe("spec.containers[0].restartPolicyRules[0].exitCodes.operator", notSupported)}},
		{rule: "a rule lists at most 255 exit codes", edit: func(s *podlife.PodSpec) {
			s.InitContainers = []podlife.Container{app("init")}
			s.InitContainers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.InitContainers[0].RestartPolicyRules = rules(3)
			s.InitContainers[0].RestartPolicyRules[2].ExitCodes.Values = make([]int32, 256)
		}, want: []fieldErr{fe("spec.initContainers[0].restartPolicyRules[2].exitCodes.values", tooMany)}},
		{rule: "255 exit codes are fine, duplicates too (upstream does not check uniqueness)", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.Containers[0].RestartPolicyRules = []podlife.RestartRule{rule(podlife.RuleRestart, podlife.ExitCodeNotIn, make([]int32, 255)...)}
		}},
		{rule: "a container has at most 20 rules", edit: func(s *podlife.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
			s.Containers[0].RestartPolicyRules = rules(21)
		}, want: []fieldErr{fe("spec.containers[0].restartPolicyRules", tooMany)}},
	}
}

func probeCases() []validationCase {
	withLiveness := func(edit func(p *podlife.Probe)) func(s *podlife.PodSpec) {
		return func(s *podlife.PodSpec) {
			s.Containers = append(s.Containers, app("web"))
			s.Containers[1].LivenessProbe = execProbe()
			edit(s.Containers[1].LivenessProbe)
		}
	}
	const live = "spec.containers[1].livenessProbe"
	return []validationCase{
		{rule: "a probe needs a handler", edit: withLiveness(func(p *podlife.Probe) { p.Exec = nil }),
			want: []fieldErr{fe(live, required)}},
		{rule: "a probe has at most one handler", edit: withLiveness(func(p *podlife.Probe) {
			p.TCPSocket = &podlife.TCPSocketAction{Port: podlife.PortNumber(80)}
			p.GRPC = &podlife.GRPCAction{Port: 9090}
		}), want: []fieldErr{fe(live+".tcpSocket", forbidden), fe(live+".grpc", forbidden)}},
		{rule: "initialDelaySeconds >= 0", edit: withLiveness(func(p *podlife.Probe) { p.InitialDelaySeconds = -1 }),
			want: []fieldErr{fe(live+".initialDelaySeconds", invalid)}},
		{rule: "timeoutSeconds >= 0", edit: withLiveness(func(p *podlife.Probe) { p.TimeoutSeconds = -1 }),
			want: []fieldErr{fe(live+".timeoutSeconds", invalid)}},
		{rule: "periodSeconds >= 0", edit: withLiveness(func(p *podlife.Probe) { p.PeriodSeconds = -1 }),
			want: []fieldErr{fe(live+".periodSeconds", invalid)}},
		{rule: "failureThreshold >= 0", edit: withLiveness(func(p *podlife.Probe) { p.FailureThreshold = -1 }),
			want: []fieldErr{fe(live+".failureThreshold", invalid)}},
		{rule: "liveness successThreshold must be 1", edit: withLiveness(func(p *podlife.Probe) { p.SuccessThreshold = 2 }),
			want: []fieldErr{fe(live+".successThreshold", invalid)}},
		{rule: "a negative successThreshold is negative and not 1", edit: withLiveness(func(p *podlife.Probe) { p.SuccessThreshold = -1 }),
			want: []fieldErr{fe(live+".successThreshold", invalid), fe(live+".successThreshold", invalid)}},
		{rule: "startup successThreshold must be 1", edit: func(s *podlife.PodSpec) {
			s.Containers[0].StartupProbe = execProbe()
			s.Containers[0].StartupProbe.SuccessThreshold = 3
		}, want: []fieldErr{fe("spec.containers[0].startupProbe.successThreshold", invalid)}},
		{rule: "readiness successThreshold may be above 1", edit: func(s *podlife.PodSpec) {
			s.Containers[0].ReadinessProbe = execProbe()
			s.Containers[0].ReadinessProbe.SuccessThreshold = 3
		}},
		{rule: "readiness successThreshold >= 0", edit: func(s *podlife.PodSpec) {
			s.Containers[0].ReadinessProbe = execProbe()
			s.Containers[0].ReadinessProbe.SuccessThreshold = -3
		}, want: []fieldErr{fe("spec.containers[0].readinessProbe.successThreshold", invalid)}},
		{rule: "probe terminationGracePeriodSeconds must be > 0", edit: withLiveness(func(p *podlife.Probe) {
			p.TerminationGracePeriodSeconds = ptr[int64](0)
		}), want: []fieldErr{fe(live+".terminationGracePeriodSeconds", invalid)}},
		{rule: "probe terminationGracePeriodSeconds may exceed the pod's", edit: withLiveness(func(p *podlife.Probe) {
			p.TerminationGracePeriodSeconds = ptr[int64](3600)
		})},
		{rule: "readiness probe terminationGracePeriodSeconds 'must not be set for readinessProbes'", edit: func(s *podlife.PodSpec) {
			s.Containers[0].ReadinessProbe = execProbe()
			s.Containers[0].ReadinessProbe.TerminationGracePeriodSeconds = ptr[int64](5)
		}, want: []fieldErr{fe("spec.containers[0].readinessProbe.terminationGracePeriodSeconds", invalid)}},
		{rule: "regular init containers may not have probes or lifecycle hooks", edit: func(s *podlife.PodSpec) {
			c := app("init")
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = execProbe(), execProbe(), execProbe()
			c.Lifecycle = &podlife.Lifecycle{PreStop: execHook()}
			s.InitContainers = []podlife.Container{c}
		}, want: []fieldErr{fe("spec.initContainers[0].startupProbe", forbidden), fe("spec.initContainers[0].livenessProbe", forbidden),
			fe("spec.initContainers[0].readinessProbe", forbidden), fe("spec.initContainers[0].lifecycle", forbidden)}},
		{rule: "sidecars may have probes and hooks", edit: func(s *podlife.PodSpec) {
			c := sidecar("proxy")
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = execProbe(), execProbe(), execProbe()
			c.Lifecycle = &podlife.Lifecycle{PostStart: execHook(), PreStop: execHook()}
			s.InitContainers = []podlife.Container{c}
		}},
		{rule: "sidecar probes are validated", edit: func(s *podlife.PodSpec) {
			c := sidecar("proxy")
			c.LivenessProbe = execProbe()
			c.LivenessProbe.PeriodSeconds = -5
			s.InitContainers = []podlife.Container{c}
		}, want: []fieldErr{fe("spec.initContainers[0].livenessProbe.periodSeconds", invalid)}},
		{rule: "exec command is required", edit: withLiveness(func(p *podlife.Probe) { p.Exec.Command = nil }),
			want: []fieldErr{fe(live+".exec.command", required)}},
		{rule: "HTTP port number is 1 to 65535", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.HTTPGet = nil, &podlife.HTTPGetAction{}
		}), want: []fieldErr{fe(live+".httpGet.port", invalid)}},
		{rule: "HTTP port may name a port the container does not declare (upstream does not check)", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.HTTPGet = nil, &podlife.HTTPGetAction{Port: podlife.PortName("metrics")}
		})},
		{rule: "HTTP port name is an IANA service name", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.HTTPGet = nil, &podlife.HTTPGetAction{Port: podlife.PortName("-metrics")}
		}), want: []fieldErr{fe(live+".httpGet.port", invalid)}},
		{rule: "a port is a number or a name, not both", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.HTTPGet = nil, &podlife.HTTPGetAction{Port: podlife.PortRef{Number: 80, Name: "http"}}
		}), want: []fieldErr{fe(live+".httpGet.port", invalid)}},
		{rule: "HTTP scheme is HTTP or HTTPS", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.HTTPGet = nil, &podlife.HTTPGetAction{Port: podlife.PortNumber(80), Scheme: "FTP"}
		}), want: []fieldErr{fe(live+".httpGet.scheme", notSupported)}},
		{rule: "HTTP header names are alphanumerics and '-'", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.HTTPGet = nil, &podlife.HTTPGetAction{Port: podlife.PortNumber(80), Scheme: podlife.URISchemeHTTPS,
				HTTPHeaders: []podlife.HTTPHeader{{Name: "X-Ok", Value: "1"}, {Name: "Bad Header"}, {Name: ""}}}
		}), want: []fieldErr{fe(live+".httpGet.httpHeaders[1].name", invalid), fe(live+".httpGet.httpHeaders[2].name", invalid)}},
		{rule: "TCP port number is 1 to 65535", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.TCPSocket = nil, &podlife.TCPSocketAction{Port: podlife.PortNumber(70000)}
		}), want: []fieldErr{fe(live+".tcpSocket.port", invalid)}},
		{rule: "gRPC port is 1 to 65535", edit: withLiveness(func(p *podlife.Probe) {
			p.Exec, p.GRPC = nil, &podlife.GRPCAction{}
		}), want: []fieldErr{fe(live+".grpc.port", invalid)}},
	}
}

func hookCases() []validationCase {
	withHooks := func(post, pre *podlife.LifecycleHandler) func(s *podlife.PodSpec) {
		return func(s *podlife.PodSpec) {
			s.Containers[0].Lifecycle = &podlife.Lifecycle{PostStart: post, PreStop: pre}
		}
	}
	sleep := func(n int64) *podlife.LifecycleHandler {
		return &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: n}}
	}
	const lc = "spec.containers[0].lifecycle"
	return []validationCase{
		{rule: "an empty lifecycle is valid", edit: withHooks(nil, nil)},
		{rule: "a hook needs an action", edit: withHooks(nil, &podlife.LifecycleHandler{}),
			want: []fieldErr{fe(lc+".preStop", required)}},
		{rule: "a hook has exactly one action", edit: withHooks(&podlife.LifecycleHandler{
			Exec: &podlife.ExecAction{Command: []string{"true"}}, HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(80)},
		}, nil), want: []fieldErr{fe(lc+".postStart.httpGet", forbidden)}},
		{rule: "a hook's HTTP action is validated", edit: withHooks(&podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{}}, nil),
			want: []fieldErr{fe(lc+".postStart.httpGet.port", invalid)}},
		{rule: "sleep 0 is allowed (PodLifecycleSleepActionAllowZero, GA in 1.34)", edit: withHooks(nil, sleep(0))},
		{rule: "sleep seconds are non-negative", edit: withHooks(nil, sleep(-1)),
			want: []fieldErr{fe(lc+".preStop.sleep.seconds", invalid)}},
		{rule: "sleep seconds are at most the default grace period (30)", edit: withHooks(sleep(31), sleep(30)),
			want: []fieldErr{fe(lc+".postStart.sleep.seconds", invalid)}},
		{rule: "sleep seconds are at most the pod's terminationGracePeriodSeconds", edit: func(s *podlife.PodSpec) {
			s.TerminationGracePeriodSeconds = ptr[int64](60)
			withHooks(sleep(45), sleep(61))(s)
		}, want: []fieldErr{fe(lc+".preStop.sleep.seconds", invalid)}},
	}
}

func volumeCases() []validationCase {
	return []validationCase{
		{rule: "volume name is required", edit: func(s *podlife.PodSpec) { s.Volumes = []podlife.Volume{{Source: podlife.VolumeEmptyDir}} },
			want: []fieldErr{fe("spec.volumes[0].name", required)}},
		{rule: "volume name is a DNS-1123 label", edit: func(s *podlife.PodSpec) { s.Volumes = []podlife.Volume{{Name: "Data"}} },
			want: []fieldErr{fe("spec.volumes[0].name", invalid)}},
		{rule: "volume names are unique", edit: func(s *podlife.PodSpec) { s.Volumes = []podlife.Volume{{Name: "data"}, {Name: "data"}} },
			want: []fieldErr{fe("spec.volumes[1].name", duplicate)}},
		{rule: "only a valid volume claims its name (as upstream)", edit: func(s *podlife.PodSpec) {
			s.Volumes = []podlife.Volume{{Name: "data", Source: "nfs"}, {Name: "data"}}
		}, want: []fieldErr{fe("spec.volumes[0].source", notSupported)}},
		{rule: "an empty volume source is an emptyDir", edit: func(s *podlife.PodSpec) { s.Volumes = []podlife.Volume{{Name: "scratch"}} }},
		{rule: "secret volume names its secret", edit: func(s *podlife.PodSpec) {
			s.Volumes = []podlife.Volume{{Name: "creds", Source: podlife.VolumeSecret}}
		}, want: []fieldErr{fe("spec.volumes[0].ref", required)}},
		{rule: "configMap volume names its config map", edit: func(s *podlife.PodSpec) {
			s.Volumes = []podlife.Volume{{Name: "cfg", Source: podlife.VolumeConfigMap}}
		}, want: []fieldErr{fe("spec.volumes[0].ref", required)}},
		{rule: "hostPath volume gives a path", edit: func(s *podlife.PodSpec) {
			s.Volumes = []podlife.Volume{{Name: "host", Source: podlife.VolumeHostPath}}
		}, want: []fieldErr{fe("spec.volumes[0].ref", required)}},
		{rule: "hostPath must not contain '..'", edit: func(s *podlife.PodSpec) {
			s.Volumes = []podlife.Volume{{Name: "host", Source: podlife.VolumeHostPath, Ref: "/var/../etc"}}
		}, want: []fieldErr{fe("spec.volumes[0].ref", invalid)}},
		{rule: "every volume kind with its ref is valid", edit: func(s *podlife.PodSpec) {
			s.Volumes = []podlife.Volume{{Name: "a", Source: podlife.VolumeEmptyDir}, {Name: "b", Source: podlife.VolumeHostPath, Ref: "/var/log"},
				{Name: "c", Source: podlife.VolumeSecret, Ref: "creds", Optional: true}, {Name: "d", Source: podlife.VolumeConfigMap, Ref: "cfg"}}
		}},
	}
}

// nameCases pin the character rules of the name checks, one row per rule.
func nameCases() []validationCase {
	keyRef := func(name, key string) func(s *podlife.PodSpec) {
		return func(s *podlife.PodSpec) {
			s.Containers[0].Env = []podlife.EnvVar{{Name: "A", ConfigMapKeyRef: &podlife.KeyRef{Name: name, Key: key}}}
		}
	}
	const ref = "spec.containers[0].env[0].configMapKeyRef"
	return []validationCase{
		{rule: "a DNS label has only lower-case alphanumerics and '-' inside", edit: func(s *podlife.PodSpec) { s.Containers[0].Name = "a_b" },
			want: []fieldErr{fe("spec.containers[0].name", invalid)}},
		{rule: "a DNS subdomain is at most 253 characters", edit: keyRef(strings.Repeat("a.", 127), "k"),
			want: []fieldErr{fe(ref+".name", invalid), fe(ref+".name", invalid)}},
		{rule: "a DNS subdomain is dot-separated labels", edit: keyRef("app..config", "k"),
			want: []fieldErr{fe(ref+".name", invalid)}},
		{rule: "a qualified name has only alphanumerics, '-', '_' and '.' inside", edit: func(s *podlife.PodSpec) { s.ReadinessGates = []string{"a b"} },
			want: []fieldErr{fe("spec.readinessGates[0]", invalid)}},
		{rule: "a port name has only lower-case alphanumerics and '-'", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Ports = []podlife.Port{{Name: "web_1", ContainerPort: 80}}
		}, want: []fieldErr{fe("spec.containers[0].ports[0].name", invalid)}},
		{rule: "a config key may not be '.'", edit: keyRef("cfg", "."), want: []fieldErr{fe(ref+".key", invalid)}},
		{rule: "a config key may not start with '..'", edit: keyRef("cfg", "..x"), want: []fieldErr{fe(ref+".key", invalid)}},
		{rule: "a config key is at most 253 characters", edit: keyRef("cfg", strings.Repeat("k", 254)), want: []fieldErr{fe(ref+".key", invalid)}},
		{rule: "a config key may have upper case, '_' and '.'", edit: keyRef("cfg", "My_Key.v1")},
	}
}

func TestValidateRules(t *testing.T) {
	groups := map[string][]validationCase{
		"name": nameCases(),
		"pod":  podCases(), "container": containerCases(), "restart": restartCases(),
		"probe": probeCases(), "hook": hookCases(), "volume": volumeCases(),
	}
	for group, cases := range groups {
		for _, tc := range cases {
			t.Run(group+"/"+tc.rule, func(t *testing.T) {
				s := baseSpec()
				tc.edit(&s)
				gates := podlife.DefaultFeatureGates()
				if tc.gates != nil {
					gates = *tc.gates
				}
				err := s.ValidateWith(gates)
				if tc.want == nil {
					require.NoError(t, err)
					return
				}
				require.Error(t, err)
				require.ErrorIs(t, err, podlife.ErrInvalid)
				var list podlife.ErrorList
				require.ErrorAs(t, err, &list)
				got := make([]fieldErr, len(list))
				for i, e := range list {
					got[i] = fieldErr{e.Field, e.Type}
					require.NotEmpty(t, e.Error())
				}
				require.Empty(t, cmp.Diff(tc.want, got), "errors:\n%v", err)
				var first *podlife.FieldError
				require.ErrorAs(t, err, &first)
				require.Equal(t, tc.want[0].Field, first.Field)
			})
		}
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	s := baseSpec()
	s.RestartPolicy = "Sometimes"                          // 1
	s.Containers[0].Image = ""                             // 2
	s.Containers = append(s.Containers, app("app"))        // 3: duplicate name
	s.Containers[1].LivenessProbe = execProbe()            //
	s.Containers[1].LivenessProbe.PeriodSeconds = -1       // 4
	s.Volumes = []podlife.Volume{{Name: "x", Source: "?"}} // 5

	err := s.Validate()
	var list podlife.ErrorList
	require.ErrorAs(t, err, &list)
	require.Len(t, list, 5, "errors:\n%v", err)
	require.ErrorIs(t, err, podlife.ErrInvalid)
	require.Equal(t, []string{
		"spec.containers[0].image",
		"spec.containers[1].name",
		"spec.containers[1].livenessProbe.periodSeconds",
		"spec.restartPolicy",
		"spec.volumes[0].source",
	}, fields(list))
	require.Len(t, strings.Split(err.Error(), "\n"), 5)
}

func fields(list podlife.ErrorList) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Field
	}
	return out
}

func TestValidateNilAndEmptySpec(t *testing.T) {
	var nilSpec *podlife.PodSpec
	for name, s := range map[string]*podlife.PodSpec{"nil": nilSpec, "empty": {}} {
		t.Run(name, func(t *testing.T) {
			var list podlife.ErrorList
			require.ErrorAs(t, s.Validate(), &list)
			require.Equal(t, []string{"spec.containers"}, fields(list))
		})
	}
}

func TestValidateErrorText(t *testing.T) {
	s := baseSpec()
	s.Containers[0].Name = "App"
	s.Containers[0].ImagePullPolicy = "Sometimes"
	err := s.Validate()
	require.EqualError(t, err,
		`spec.containers[0].name: Invalid value: "App": a lowercase RFC 1123 label must consist of lower case `+
			`alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')`+"\n"+
			`spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`)
}

func TestValidateAcceptsAFullSpec(t *testing.T) {
	s := fullSpec()
	require.NoError(t, s.Validate())
	d := s.Defaulted()
	require.NoError(t, d.Validate())
}

// fullSpec uses every field podlife has, validly.
func fullSpec() podlife.PodSpec {
	readiness := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{HTTPGet: &podlife.HTTPGetAction{
		Path: "/ready", Port: podlife.PortName("http"), HTTPHeaders: []podlife.HTTPHeader{{Name: "X-Probe", Value: "1"}}}},
		InitialDelaySeconds: 2, PeriodSeconds: 5, SuccessThreshold: 2}
	liveness := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{TCPSocket: &podlife.TCPSocketAction{Port: podlife.PortNumber(8080)}},
		TerminationGracePeriodSeconds: ptr[int64](90)}
	startup := &podlife.Probe{ProbeHandler: podlife.ProbeHandler{GRPC: &podlife.GRPCAction{Port: 9090, Service: ptr("health")}},
		FailureThreshold: 30}
	proxy := sidecar("proxy")
	proxy.StartupProbe = execProbe()
	proxy.Lifecycle = &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 5}}}
	migrate := podlife.Container{Name: "migrate", Image: "registry.example.com:5000/team/migrate@sha256:" + strings.Repeat("a", 64),
		Command: []string{"migrate"}, Args: []string{"up"}, RestartPolicy: ptr(podlife.RestartOnFailure),
		RestartPolicyRules: []podlife.RestartRule{rule(podlife.RuleRestart, podlife.ExitCodeIn, 42)}}
	web := podlife.Container{Name: "web", Image: "nginx", ImagePullPolicy: podlife.PullIfNotPresent,
		Env: []podlife.EnvVar{{Name: "MODE", Value: "prod"}, {Name: "PASSWORD", SecretKeyRef: &podlife.KeyRef{Name: "creds", Key: "password"}},
			{Name: "LEVEL", ConfigMapKeyRef: &podlife.KeyRef{Name: "cfg", Key: "log.level", Optional: true}}},
		Ports:          []podlife.Port{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9100, Protocol: podlife.ProtocolTCP}},
		StartupProbe:   startup,
		LivenessProbe:  liveness,
		ReadinessProbe: readiness,
		Lifecycle: &podlife.Lifecycle{PostStart: &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(8080)}},
			PreStop: execHook()},
	}
	worker := app("worker")
	worker.RestartPolicy = ptr(podlife.RestartNever)
	worker.RestartPolicyRules = []podlife.RestartRule{rule(podlife.RuleRestartAllContainers, podlife.ExitCodeNotIn, 0, 1)}
	return podlife.PodSpec{
		InitContainers:                []podlife.Container{migrate, proxy},
		Containers:                    []podlife.Container{web, worker},
		RestartPolicy:                 podlife.RestartOnFailure,
		TerminationGracePeriodSeconds: ptr[int64](45),
		ReadinessGates:                []string{"example.com/feature-ready"},
		Volumes: []podlife.Volume{{Name: "data"}, {Name: "creds", Source: podlife.VolumeSecret, Ref: "creds"},
			{Name: "logs", Source: podlife.VolumeHostPath, Ref: "/var/log"}},
	}
}

func BenchmarkValidate(b *testing.B) {
	s := fullSpec()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateInvalid(b *testing.B) {
	s := fullSpec()
	s.Containers[0].LivenessProbe.PeriodSeconds = -1
	s.Containers[1].Name = "Worker"
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(); err == nil {
			b.Fatal("want errors")
		}
	}
}

func TestFeatureGates(t *testing.T) {
	require.Equal(t, podlife.FeatureGates{ContainerRestartRules: true, RestartAllContainersOnContainerExits: true},
		podlife.DefaultFeatureGates())
	s := baseSpec()
	s.Containers[0].RestartPolicy = ptr(podlife.RestartNever)
	require.NoError(t, s.Validate())
	require.Error(t, s.ValidateWith(podlife.FeatureGates{}))
	require.True(t, errors.Is(s.ValidateWith(podlife.FeatureGates{}), podlife.ErrInvalid))
}

// ValidateUpdate is the API server's ValidatePodUpdate for podlife's fields: images and
// activeDeadlineSeconds may change (the deadline set or lowered), nothing else.
func TestValidateUpdateRules(t *testing.T) {
	for _, tc := range []struct {
		rule      string
		old, edit func(*podlife.PodSpec)
		want      []fieldErr
	}{
		{rule: "an image may change", edit: func(s *podlife.PodSpec) { s.Containers[0].Image = "busybox:latest" }},
		{rule: "a pull policy may change with its image", edit: func(s *podlife.PodSpec) {
			s.Containers[0].Image, s.Containers[0].ImagePullPolicy = "busybox:latest", podlife.PullAlways
		}},
		{rule: "a deadline may be set", edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](60) }},
		{rule: "a deadline may be lowered", old: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](60) },
			edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](30) }},
		{rule: "a deadline may be lowered to 1", old: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](60) },
			edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](1) }},
		{rule: "a deadline may not be lowered to 0 (kube-apiserver v1.37.2 refuses it)", old: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](60) },
			edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](0) }, want: []fieldErr{fe("spec.activeDeadlineSeconds", invalid)}},
		{rule: "a deadline may not be raised", old: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](60) },
			edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](61) }, want: []fieldErr{fe("spec.activeDeadlineSeconds", invalid)}},
		{rule: "a deadline may not be removed", old: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](60) },
			edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = nil }, want: []fieldErr{fe("spec.activeDeadlineSeconds", invalid)}},
		{rule: "a negative deadline is invalid", edit: func(s *podlife.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](-1) },
			want: []fieldErr{fe("spec.activeDeadlineSeconds", invalid)}},
		{rule: "the restart policy may not change", edit: func(s *podlife.PodSpec) { s.RestartPolicy = podlife.RestartNever },
			want: []fieldErr{fe("spec", forbidden)}},
		{rule: "a container may not be added", edit: func(s *podlife.PodSpec) { s.Containers = append(s.Containers, app("second")) },
			want: []fieldErr{fe("spec", forbidden)}},
		{rule: "an empty list is no change from none (as a store keeps a spec: JSON)",
			edit: func(s *podlife.PodSpec) { s.Containers[0].Command, s.ReadinessGates = []string{}, []string{} }},
		{rule: "the new spec must be valid", edit: func(s *podlife.PodSpec) { s.Containers[0].Image = "" },
			want: []fieldErr{fe("spec.containers[0].image", required)}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			old := baseSpec()
			if tc.old != nil {
				tc.old(&old)
			}
			s := old
			s.Containers = slices.Clone(old.Containers)
			tc.edit(&s)
			err := s.ValidateUpdate(&old)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var list podlife.ErrorList
			require.ErrorAs(t, err, &list)
			got := make([]fieldErr, len(list))
			for i, e := range list {
				got[i] = fieldErr{e.Field, e.Type}
			}
			require.Equal(t, tc.want, got, "%v", err)
		})
	}
}
