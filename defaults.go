package podlife

import "slices"

// Port protocols. An empty protocol is defaulted to TCP.
const (
	ProtocolTCP  = "TCP"
	ProtocolUDP  = "UDP"
	ProtocolSCTP = "SCTP"
)

// HTTP schemes of probes and hooks. An empty scheme is defaulted to HTTP.
const (
	URISchemeHTTP  = "HTTP"
	URISchemeHTTPS = "HTTPS"
)

// DefaultHTTPPath is the path of an HTTP probe or hook that gives none.
const DefaultHTTPPath = "/"

// Defaulted returns a deep copy of s with the API server's defaults filled in (SetDefaults_* in
// k8s.io/kubernetes pkg/apis/core/v1/defaults.go, plus the negative grace period rule of the pod
// registry). s itself is never changed, and the copy shares no memory with it. Defaulted is
// idempotent. The defaults:
//
//   - restartPolicy: Always when empty.
//   - terminationGracePeriodSeconds: 30 when nil; 1 when negative (the API server warns and
//     treats a negative value as 1 since 1.27).
//   - every container's imagePullPolicy, when empty: DefaultPullPolicy(image).
//   - every container port's protocol: TCP when empty.
//   - every probe: timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3
//     where zero; initialDelaySeconds stays 0.
//   - every HTTP action (probes and hooks): path "/" and scheme HTTP when empty.
//   - every gRPC action: service "" when nil.
//   - every volume: source emptyDir when empty (a volume with no source is an emptyDir).
//
// Invalid values (negative probe timings, unknown enums) are copied unchanged for Validate to
// report.
func (s PodSpec) Defaulted() PodSpec {
	out := s
	if out.RestartPolicy == "" {
		out.RestartPolicy = RestartAlways
	}
	grace := s.EffectiveGracePeriodSeconds()
	out.TerminationGracePeriodSeconds = &grace
	out.ActiveDeadlineSeconds = clonePtr(s.ActiveDeadlineSeconds)
	out.InitContainers = defaultedContainers(s.InitContainers)
	out.Containers = defaultedContainers(s.Containers)
	out.ReadinessGates = slices.Clone(s.ReadinessGates)
	out.Volumes = slices.Clone(s.Volumes)
	for i := range out.Volumes {
		if out.Volumes[i].Source == "" {
			out.Volumes[i].Source = VolumeEmptyDir
		}
	}
	return out
}

func defaultedContainers(cs []Container) []Container {
	if cs == nil {
		return nil
	}
	out := make([]Container, len(cs))
	for i := range cs {
		out[i] = defaultedContainer(&cs[i])
	}
	return out
}

func defaultedContainer(c *Container) Container {
	out := *c
	out.ImagePullPolicy = c.EffectivePullPolicy()
	out.Command = slices.Clone(c.Command)
	out.Args = slices.Clone(c.Args)
	out.Env = slices.Clone(c.Env)
	for i := range out.Env {
		out.Env[i].SecretKeyRef = clonePtr(out.Env[i].SecretKeyRef)
		out.Env[i].ConfigMapKeyRef = clonePtr(out.Env[i].ConfigMapKeyRef)
	}
	out.Ports = slices.Clone(c.Ports)
	for i := range out.Ports {
		if out.Ports[i].Protocol == "" {
			out.Ports[i].Protocol = ProtocolTCP
		}
	}
	out.RestartPolicy = clonePtr(c.RestartPolicy)
	out.RestartPolicyRules = slices.Clone(c.RestartPolicyRules)
	for i := range out.RestartPolicyRules {
		r := &out.RestartPolicyRules[i]
		if r.ExitCodes != nil {
			r.ExitCodes = &ExitCodesRequirement{Operator: r.ExitCodes.Operator, Values: slices.Clone(r.ExitCodes.Values)}
		}
	}
	out.StartupProbe = defaultedProbe(c.StartupProbe)
	out.LivenessProbe = defaultedProbe(c.LivenessProbe)
	out.ReadinessProbe = defaultedProbe(c.ReadinessProbe)
	if c.Lifecycle != nil {
		out.Lifecycle = &Lifecycle{
			PostStart: defaultedLifecycleHandler(c.Lifecycle.PostStart),
			PreStop:   defaultedLifecycleHandler(c.Lifecycle.PreStop),
		}
	}
	return out
}

func defaultedProbe(p *Probe) *Probe {
	if p == nil {
		return nil
	}
	out := *p
	out.Exec = cloneExec(p.Exec)
	out.HTTPGet = defaultedHTTPGet(p.HTTPGet)
	out.TCPSocket = clonePtr(p.TCPSocket)
	if p.GRPC != nil {
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		out.GRPC = &GRPCAction{Port: p.GRPC.Port, Service: &service}
	}
	out.TerminationGracePeriodSeconds = clonePtr(p.TerminationGracePeriodSeconds)
	defaultZero(&out.TimeoutSeconds, DefaultProbeTimeoutSeconds)
	defaultZero(&out.PeriodSeconds, DefaultProbePeriodSeconds)
	defaultZero(&out.SuccessThreshold, DefaultProbeSuccessThreshold)
	defaultZero(&out.FailureThreshold, DefaultProbeFailureThreshold)
	return &out
}

func defaultZero(field *int32, def int32) {
	if *field == 0 {
		*field = def
	}
}

func defaultedLifecycleHandler(h *LifecycleHandler) *LifecycleHandler {
	if h == nil {
		return nil
	}
	return &LifecycleHandler{Exec: cloneExec(h.Exec), HTTPGet: defaultedHTTPGet(h.HTTPGet), Sleep: clonePtr(h.Sleep)}
}

func defaultedHTTPGet(h *HTTPGetAction) *HTTPGetAction {
	if h == nil {
		return nil
	}
	out := *h
	out.HTTPHeaders = slices.Clone(h.HTTPHeaders)
	if out.Path == "" {
		out.Path = DefaultHTTPPath
	}
	if out.Scheme == "" {
		out.Scheme = URISchemeHTTP
	}
	return &out
}

func cloneExec(e *ExecAction) *ExecAction {
	if e == nil {
		return nil
	}
	return &ExecAction{Command: slices.Clone(e.Command)}
}

// clonePtr copies the value p points to; only for types without references inside.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
