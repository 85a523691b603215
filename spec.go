package podlife

import "strconv"

// The spec types mirror the fields of k8s.io/api/core/v1 that the pod lifecycle depends on, with
// the same names and JSON field names, so that a field path in a validation error reads the same
// as it would from the API server. Durations are whole seconds, as in the API; zero values mean
// "use the default" wherever the API says so (see Defaulted).

// RestartPolicy is a pod's or a container's restart policy.
type RestartPolicy string

// Restart policies. The zero value of a pod's policy means Always.
const (
	RestartAlways    RestartPolicy = "Always"
	RestartOnFailure RestartPolicy = "OnFailure"
	RestartNever     RestartPolicy = "Never"
)

// PullPolicy says when an image is pulled before a container is created.
type PullPolicy string

// Pull policies. The zero value is defaulted from the image reference (see DefaultPullPolicy).
const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// DefaultGracePeriodSeconds is the pod's terminationGracePeriodSeconds when the spec leaves it nil.
const DefaultGracePeriodSeconds int64 = 30

// PodSpec is the part of a pod's specification that drives its lifecycle.
type PodSpec struct {
	// InitContainers run before Containers: regular ones one at a time to completion, sidecars
	// (RestartPolicy Always) started in order and kept running.
	InitContainers []Container `json:"initContainers,omitempty"`
	// Containers are the app containers; at least one is required.
	Containers []Container `json:"containers"`
	// RestartPolicy applies to every container without its own; empty means Always.
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// TerminationGracePeriodSeconds bounds a graceful stop; nil means 30, 0 means stop at once.
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// ActiveDeadlineSeconds is how long the pod may be active on its node, counted from its start
	// time; then its containers are stopped and it fails with reason DeadlineExceeded (kubelet's
	// active deadline, as a Job's pods use it). nil means no deadline; the API server lets an
	// update set it or lower it, never raise or remove it.
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// ReadinessGates are extra condition types that must be True for the pod to be Ready.
	ReadinessGates []string `json:"readinessGates,omitempty"`
	// HostNetwork puts the sandbox in the node's network namespace.
	HostNetwork bool `json:"hostNetwork,omitempty"`
	// Volumes are prepared before the sandbox starts.
	Volumes []Volume `json:"volumes,omitempty"`
}

// Container is one init, sidecar or app container.
type Container struct {
	Name            string     `json:"name"`
	Image           string     `json:"image"`
	ImagePullPolicy PullPolicy `json:"imagePullPolicy,omitempty"`
	Command         []string   `json:"command,omitempty"`
	Args            []string   `json:"args,omitempty"`
	Env             []EnvVar   `json:"env,omitempty"`
	Ports           []Port     `json:"ports,omitempty"`
	// RestartPolicy is the container-level policy. On an init container, Always makes it a
	// sidecar. Elsewhere (Kubernetes 1.34+, ContainerRestartRules) it overrides the pod's policy.
	RestartPolicy *RestartPolicy `json:"restartPolicy,omitempty"`
	// RestartPolicyRules are tried in order on exit; the first match decides. They need an
	// explicit RestartPolicy and are not allowed on sidecars.
	RestartPolicyRules []RestartRule `json:"restartPolicyRules,omitempty"`
	StartupProbe       *Probe        `json:"startupProbe,omitempty"`
	LivenessProbe      *Probe        `json:"livenessProbe,omitempty"`
	ReadinessProbe     *Probe        `json:"readinessProbe,omitempty"`
	Lifecycle          *Lifecycle    `json:"lifecycle,omitempty"`
}

// IsSidecar reports whether c, listed among a pod's init containers, is a sidecar.
func (c *Container) IsSidecar() bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == RestartAlways
}

// Port is a named container port, the target of probes and hooks that name a port.
type Port struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"`
}

// EnvVar is an environment variable, given literally or taken from a secret or config map.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	// SecretKeyRef and ConfigMapKeyRef are the sources that can be missing when the container is
	// created (waiting reason CreateContainerConfigError).
	SecretKeyRef    *KeyRef `json:"secretKeyRef,omitempty"`
	ConfigMapKeyRef *KeyRef `json:"configMapKeyRef,omitempty"`
}

// KeyRef selects a key of a secret or config map.
type KeyRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional bool   `json:"optional,omitempty"`
}

// VolumeSource names the kind of a volume.
type VolumeSource string

// Volume kinds podlife distinguishes: the ones that can be missing (secret, config map) and the rest.
const (
	VolumeEmptyDir  VolumeSource = "emptyDir"
	VolumeHostPath  VolumeSource = "hostPath"
	VolumeSecret    VolumeSource = "secret"
	VolumeConfigMap VolumeSource = "configMap"
)

// Volume is a pod volume, prepared during pod setup.
type Volume struct {
	Name   string       `json:"name"`
	Source VolumeSource `json:"source"`
	// Ref names the secret or config map, or the host path.
	Ref      string `json:"ref,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// RestartRuleAction is what a matching restart rule does.
type RestartRuleAction string

// Restart rule actions. RestartAllContainers is KEP-5532 (alpha in Kubernetes 1.35).
const (
	RuleRestart              RestartRuleAction = "Restart"
	RuleRestartAllContainers RestartRuleAction = "RestartAllContainers"
)

// ExitCodeOperator compares an exit code with a rule's values.
type ExitCodeOperator string

// Exit code operators.
const (
	ExitCodeIn    ExitCodeOperator = "In"
	ExitCodeNotIn ExitCodeOperator = "NotIn"
)

// MaxRuleExitCodes is the most values one restart rule may list.
const MaxRuleExitCodes = 255

// RestartRule is one container restart rule (KEP-5307).
type RestartRule struct {
	Action    RestartRuleAction     `json:"action"`
	ExitCodes *ExitCodesRequirement `json:"exitCodes,omitempty"`
}

// ExitCodesRequirement matches a container's exit code.
type ExitCodesRequirement struct {
	Operator ExitCodeOperator `json:"operator"`
	Values   []int32          `json:"values,omitempty"`
}

// Matches reports whether exitCode satisfies the requirement.
func (r *ExitCodesRequirement) Matches(exitCode int32) bool {
	in := false
	for _, v := range r.Values {
		if v == exitCode {
			in = true
			break
		}
	}
	switch r.Operator {
	case ExitCodeIn:
		return in
	case ExitCodeNotIn:
		return !in
	}
	return false
}

// Probe is a startup, liveness or readiness probe. Zero numeric fields mean the defaults
// (see the Default* constants); negative ones are invalid.
type Probe struct {
	ProbeHandler                  `json:",inline"`
	InitialDelaySeconds           int32  `json:"initialDelaySeconds,omitempty"`
	TimeoutSeconds                int32  `json:"timeoutSeconds,omitempty"`
	PeriodSeconds                 int32  `json:"periodSeconds,omitempty"`
	SuccessThreshold              int32  `json:"successThreshold,omitempty"`
	FailureThreshold              int32  `json:"failureThreshold,omitempty"`
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
}

// Probe defaults, as in the Kubernetes API.
const (
	DefaultProbeTimeoutSeconds   int32 = 1
	DefaultProbePeriodSeconds    int32 = 10
	DefaultProbeSuccessThreshold int32 = 1
	DefaultProbeFailureThreshold int32 = 3
)

// ProbeHandler is the action a probe runs; exactly one field is set.
type ProbeHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	GRPC      *GRPCAction      `json:"grpc,omitempty"`
}

// Lifecycle holds a container's hooks.
type Lifecycle struct {
	PostStart *LifecycleHandler `json:"postStart,omitempty"`
	PreStop   *LifecycleHandler `json:"preStop,omitempty"`
}

// LifecycleHandler is the action a hook runs; exactly one field is set.
type LifecycleHandler struct {
	Exec    *ExecAction    `json:"exec,omitempty"`
	HTTPGet *HTTPGetAction `json:"httpGet,omitempty"`
	Sleep   *SleepAction   `json:"sleep,omitempty"`
}

// ExecAction runs a command inside the container; exit status 0 is success.
type ExecAction struct {
	Command []string `json:"command,omitempty"`
}

// PortRef is a port given by number or by the name of one of the container's ports.
type PortRef struct {
	Number int32  `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

// PortNumber is a PortRef by number.
func PortNumber(n int32) PortRef { return PortRef{Number: n} }

// PortName is a PortRef by name.
func PortName(name string) PortRef { return PortRef{Name: name} }

// String gives the number or the name.
func (p PortRef) String() string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// HTTPHeader is a header sent by an HTTP probe or hook.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HTTPGetAction sends a GET; for a probe, a status from 200 to 399 is success.
type HTTPGetAction struct {
	Path        string       `json:"path,omitempty"`
	Port        PortRef      `json:"port"`
	Host        string       `json:"host,omitempty"`
	Scheme      string       `json:"scheme,omitempty"`
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty"`
}

// TCPSocketAction opens a TCP connection; connecting is success.
type TCPSocketAction struct {
	Port PortRef `json:"port"`
	Host string  `json:"host,omitempty"`
}

// GRPCAction calls the gRPC health service; SERVING is success.
type GRPCAction struct {
	Port    int32   `json:"port"`
	Service *string `json:"service,omitempty"`
}

// SleepAction pauses for Seconds.
type SleepAction struct {
	Seconds int64 `json:"seconds"`
}
