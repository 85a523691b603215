package kube

import (
	"fmt"
	"reflect"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife"
)

// FromPodSpec converts a v1.PodSpec to podlife's spec. Every field podlife models is carried
// over; every other field that is set is listed in the Warnings with its path from "spec", never
// dropped silently. The result shares no memory with s. FromPodSpec does not validate: call
// ValidatePodSpec (or Manifest.Validate) for the API server's rules. The error is for values
// that cannot be represented at all (an IntOrString of an unknown type).
func FromPodSpec(s v1.PodSpec) (podlife.PodSpec, Warnings, error) {
	out, ws, errs := convert(&s, field.NewPath("spec"))
	if len(errs) > 0 {
		return out, ws, fmt.Errorf("kube: converting the pod spec: %w", errs.ToAggregate())
	}
	return out, ws, nil
}

// convert is FromPodSpec with paths rooted at root (spec.template.spec for a Deployment).
func convert(s *v1.PodSpec, root *field.Path) (podlife.PodSpec, Warnings, field.ErrorList) {
	var ws Warnings
	unhandled(&ws, root, reflect.ValueOf(s).Elem())
	c := converter{}
	out := podlife.PodSpec{
		InitContainers:                c.containers(s.InitContainers, root.Child("initContainers")),
		Containers:                    c.containers(s.Containers, root.Child("containers")),
		RestartPolicy:                 podlife.RestartPolicy(s.RestartPolicy),
		TerminationGracePeriodSeconds: clonePtr(s.TerminationGracePeriodSeconds),
		ActiveDeadlineSeconds:         clonePtr(s.ActiveDeadlineSeconds),
		HostNetwork:                   s.HostNetwork,
		Volumes:                       mapSlice(s.Volumes, fromVolume),
	}
	if s.ReadinessGates != nil {
		out.ReadinessGates = make([]string, len(s.ReadinessGates))
		for i, g := range s.ReadinessGates {
			out.ReadinessGates[i] = string(g.ConditionType)
		}
	}
	return out, ws, c.errs
}

// converter collects the values that cannot be represented.
type converter struct {
	errs field.ErrorList
}

func (c *converter) containers(cs []v1.Container, p *field.Path) []podlife.Container {
	if cs == nil {
		return nil
	}
	out := make([]podlife.Container, len(cs))
	for i := range cs {
		out[i] = c.container(&cs[i], p.Index(i))
	}
	return out
}

func (c *converter) container(in *v1.Container, p *field.Path) podlife.Container {
	out := podlife.Container{
		Name:            in.Name,
		Image:           in.Image,
		ImagePullPolicy: podlife.PullPolicy(in.ImagePullPolicy),
		Command:         slices.Clone(in.Command),
		Args:            slices.Clone(in.Args),
		Env:             mapSlice(in.Env, fromEnvVar),
		Ports: mapSlice(in.Ports, func(cp v1.ContainerPort) podlife.Port {
			return podlife.Port{Name: cp.Name, ContainerPort: cp.ContainerPort, Protocol: string(cp.Protocol)}
		}),
		RestartPolicyRules: mapSlice(in.RestartPolicyRules, fromRestartRule),
		StartupProbe:       c.probe(in.StartupProbe, p.Child("startupProbe")),
		LivenessProbe:      c.probe(in.LivenessProbe, p.Child("livenessProbe")),
		ReadinessProbe:     c.probe(in.ReadinessProbe, p.Child("readinessProbe")),
	}
	if in.RestartPolicy != nil {
		rp := podlife.RestartPolicy(*in.RestartPolicy)
		out.RestartPolicy = &rp
	}
	if l := in.Lifecycle; l != nil {
		lp := p.Child("lifecycle")
		out.Lifecycle = &podlife.Lifecycle{
			PostStart: c.lifecycleHandler(l.PostStart, lp.Child("postStart")),
			PreStop:   c.lifecycleHandler(l.PreStop, lp.Child("preStop")),
		}
	}
	return out
}

func fromEnvVar(e v1.EnvVar) podlife.EnvVar {
	out := podlife.EnvVar{Name: e.Name, Value: e.Value}
	if vf := e.ValueFrom; vf != nil {
		if r := vf.SecretKeyRef; r != nil {
			out.SecretKeyRef = &podlife.KeyRef{Name: r.Name, Key: r.Key, Optional: deref(r.Optional)}
		}
		if r := vf.ConfigMapKeyRef; r != nil {
			out.ConfigMapKeyRef = &podlife.KeyRef{Name: r.Name, Key: r.Key, Optional: deref(r.Optional)}
		}
	}
	return out
}

func fromRestartRule(r v1.ContainerRestartRule) podlife.RestartRule {
	out := podlife.RestartRule{Action: podlife.RestartRuleAction(r.Action)}
	if ec := r.ExitCodes; ec != nil {
		out.ExitCodes = &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeOperator(ec.Operator), Values: slices.Clone(ec.Values)}
	}
	return out
}

func (c *converter) probe(in *v1.Probe, p *field.Path) *podlife.Probe {
	if in == nil {
		return nil
	}
	return &podlife.Probe{
		ProbeHandler: podlife.ProbeHandler{
			Exec:      fromExec(in.Exec),
			HTTPGet:   c.httpGet(in.HTTPGet, p.Child("httpGet")),
			TCPSocket: c.tcpSocket(in.TCPSocket, p.Child("tcpSocket")),
			GRPC:      fromGRPC(in.GRPC),
		},
		InitialDelaySeconds:           in.InitialDelaySeconds,
		TimeoutSeconds:                in.TimeoutSeconds,
		PeriodSeconds:                 in.PeriodSeconds,
		SuccessThreshold:              in.SuccessThreshold,
		FailureThreshold:              in.FailureThreshold,
		TerminationGracePeriodSeconds: clonePtr(in.TerminationGracePeriodSeconds),
	}
}

// lifecycleHandler converts a hook. A hook whose only handler is tcpSocket, which kubelet does
// not run, becomes no hook (a warning says so).
func (c *converter) lifecycleHandler(in *v1.LifecycleHandler, p *field.Path) *podlife.LifecycleHandler {
	if in == nil {
		return nil
	}
	if in.TCPSocket != nil && in.Exec == nil && in.HTTPGet == nil && in.Sleep == nil {
		return nil
	}
	out := &podlife.LifecycleHandler{Exec: fromExec(in.Exec), HTTPGet: c.httpGet(in.HTTPGet, p.Child("httpGet"))}
	if in.Sleep != nil {
		out.Sleep = &podlife.SleepAction{Seconds: in.Sleep.Seconds}
	}
	return out
}

func fromExec(in *v1.ExecAction) *podlife.ExecAction {
	if in == nil {
		return nil
	}
	return &podlife.ExecAction{Command: slices.Clone(in.Command)}
}

func (c *converter) httpGet(in *v1.HTTPGetAction, p *field.Path) *podlife.HTTPGetAction {
	if in == nil {
		return nil
	}
	return &podlife.HTTPGetAction{
		Path:   in.Path,
		Port:   c.port(in.Port, p.Child("port")),
		Host:   in.Host,
		Scheme: string(in.Scheme),
		HTTPHeaders: mapSlice(in.HTTPHeaders, func(h v1.HTTPHeader) podlife.HTTPHeader {
			return podlife.HTTPHeader{Name: h.Name, Value: h.Value}
		}),
	}
}

func (c *converter) tcpSocket(in *v1.TCPSocketAction, p *field.Path) *podlife.TCPSocketAction {
	if in == nil {
		return nil
	}
	return &podlife.TCPSocketAction{Port: c.port(in.Port, p.Child("port")), Host: in.Host}
}

func fromGRPC(in *v1.GRPCAction) *podlife.GRPCAction {
	if in == nil {
		return nil
	}
	return &podlife.GRPCAction{Port: in.Port, Service: clonePtr(in.Service)}
}

// port converts a port given by number or by name.
func (c *converter) port(in intstr.IntOrString, p *field.Path) podlife.PortRef {
	switch in.Type {
	case intstr.Int:
		return podlife.PortNumber(in.IntVal)
	case intstr.String:
		return podlife.PortName(in.StrVal)
	}
	c.errs = append(c.errs, field.TypeInvalid(p, in.Type, "must be a port number or a port name"))
	return podlife.PortRef{}
}

// fromVolume keeps the kinds podlife distinguishes; any other kind (persistentVolumeClaim,
// projected, ...) becomes an emptyDir, ready at once, with a warning from unhandled. A volume
// without a source stays without one, which podlife (as the API server) defaults to emptyDir.
func fromVolume(in v1.Volume) podlife.Volume {
	out := podlife.Volume{Name: in.Name}
	switch vs := in.VolumeSource; {
	case vs.Secret != nil:
		out.Source, out.Ref, out.Optional = podlife.VolumeSecret, vs.Secret.SecretName, deref(vs.Secret.Optional)
	case vs.ConfigMap != nil:
		out.Source, out.Ref, out.Optional = podlife.VolumeConfigMap, vs.ConfigMap.Name, deref(vs.ConfigMap.Optional)
	case vs.HostPath != nil:
		out.Source, out.Ref = podlife.VolumeHostPath, vs.HostPath.Path
	case vs.EmptyDir != nil || volumeKinds(&vs) > 0:
		out.Source = podlife.VolumeEmptyDir
	}
	return out
}

// volumeKinds counts the sources set in vs (the API allows exactly one).
func volumeKinds(vs *v1.VolumeSource) int {
	n := 0
	v := reflect.ValueOf(vs).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

// ToPodSpec converts podlife's spec to a v1.PodSpec, the inverse of FromPodSpec for every spec
// podlife can hold: FromPodSpec(ToPodSpec(s)) gives s back with no warnings. What v1 has no room
// for is dropped: a Ref or Optional on an emptyDir volume, Optional on a hostPath, and the name
// of a PortRef that also has a number. The result shares no memory with s.
func ToPodSpec(s podlife.PodSpec) v1.PodSpec {
	out := v1.PodSpec{
		InitContainers:                mapSlice(s.InitContainers, toContainer),
		Containers:                    mapSlice(s.Containers, toContainer),
		RestartPolicy:                 v1.RestartPolicy(s.RestartPolicy),
		TerminationGracePeriodSeconds: clonePtr(s.TerminationGracePeriodSeconds),
		ActiveDeadlineSeconds:         clonePtr(s.ActiveDeadlineSeconds),
		HostNetwork:                   s.HostNetwork,
		Volumes:                       mapSlice(s.Volumes, toVolume),
	}
	if s.ReadinessGates != nil {
		out.ReadinessGates = make([]v1.PodReadinessGate, len(s.ReadinessGates))
		for i, g := range s.ReadinessGates {
			out.ReadinessGates[i] = v1.PodReadinessGate{ConditionType: v1.PodConditionType(g)}
		}
	}
	return out
}

func toContainer(in podlife.Container) v1.Container {
	out := v1.Container{
		Name:            in.Name,
		Image:           in.Image,
		ImagePullPolicy: v1.PullPolicy(in.ImagePullPolicy),
		Command:         slices.Clone(in.Command),
		Args:            slices.Clone(in.Args),
		Env:             mapSlice(in.Env, toEnvVar),
		Ports: mapSlice(in.Ports, func(p podlife.Port) v1.ContainerPort {
			return v1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: v1.Protocol(p.Protocol)}
		}),
		RestartPolicyRules: mapSlice(in.RestartPolicyRules, toRestartRule),
		StartupProbe:       toProbe(in.StartupProbe),
		LivenessProbe:      toProbe(in.LivenessProbe),
		ReadinessProbe:     toProbe(in.ReadinessProbe),
	}
	if in.RestartPolicy != nil {
		rp := v1.ContainerRestartPolicy(*in.RestartPolicy)
		out.RestartPolicy = &rp
	}
	if l := in.Lifecycle; l != nil {
		out.Lifecycle = &v1.Lifecycle{PostStart: toLifecycleHandler(l.PostStart), PreStop: toLifecycleHandler(l.PreStop)}
	}
	return out
}

func toEnvVar(e podlife.EnvVar) v1.EnvVar {
	out := v1.EnvVar{Name: e.Name, Value: e.Value}
	if e.SecretKeyRef == nil && e.ConfigMapKeyRef == nil {
		return out
	}
	out.ValueFrom = &v1.EnvVarSource{}
	if r := e.SecretKeyRef; r != nil {
		out.ValueFrom.SecretKeyRef = &v1.SecretKeySelector{
			LocalObjectReference: v1.LocalObjectReference{Name: r.Name}, Key: r.Key, Optional: optional(r.Optional)}
	}
	if r := e.ConfigMapKeyRef; r != nil {
		out.ValueFrom.ConfigMapKeyRef = &v1.ConfigMapKeySelector{
			LocalObjectReference: v1.LocalObjectReference{Name: r.Name}, Key: r.Key, Optional: optional(r.Optional)}
	}
	return out
}

func toRestartRule(r podlife.RestartRule) v1.ContainerRestartRule {
	out := v1.ContainerRestartRule{Action: v1.ContainerRestartRuleAction(r.Action)}
	if ec := r.ExitCodes; ec != nil {
		out.ExitCodes = &v1.ContainerRestartRuleOnExitCodes{
			Operator: v1.ContainerRestartRuleOnExitCodesOperator(ec.Operator), Values: slices.Clone(ec.Values)}
	}
	return out
}

func toProbe(in *podlife.Probe) *v1.Probe {
	if in == nil {
		return nil
	}
	out := &v1.Probe{
		ProbeHandler: v1.ProbeHandler{
			Exec:    toExec(in.Exec),
			HTTPGet: toHTTPGet(in.HTTPGet),
		},
		InitialDelaySeconds:           in.InitialDelaySeconds,
		TimeoutSeconds:                in.TimeoutSeconds,
		PeriodSeconds:                 in.PeriodSeconds,
		SuccessThreshold:              in.SuccessThreshold,
		FailureThreshold:              in.FailureThreshold,
		TerminationGracePeriodSeconds: clonePtr(in.TerminationGracePeriodSeconds),
	}
	if t := in.TCPSocket; t != nil {
		out.TCPSocket = &v1.TCPSocketAction{Port: toPort(t.Port), Host: t.Host}
	}
	if g := in.GRPC; g != nil {
		out.GRPC = &v1.GRPCAction{Port: g.Port, Service: clonePtr(g.Service)}
	}
	return out
}

func toLifecycleHandler(in *podlife.LifecycleHandler) *v1.LifecycleHandler {
	if in == nil {
		return nil
	}
	out := &v1.LifecycleHandler{Exec: toExec(in.Exec), HTTPGet: toHTTPGet(in.HTTPGet)}
	if in.Sleep != nil {
		out.Sleep = &v1.SleepAction{Seconds: in.Sleep.Seconds}
	}
	return out
}

func toExec(in *podlife.ExecAction) *v1.ExecAction {
	if in == nil {
		return nil
	}
	return &v1.ExecAction{Command: slices.Clone(in.Command)}
}

func toHTTPGet(in *podlife.HTTPGetAction) *v1.HTTPGetAction {
	if in == nil {
		return nil
	}
	return &v1.HTTPGetAction{
		Path:   in.Path,
		Port:   toPort(in.Port),
		Host:   in.Host,
		Scheme: v1.URIScheme(in.Scheme),
		HTTPHeaders: mapSlice(in.HTTPHeaders, func(h podlife.HTTPHeader) v1.HTTPHeader {
			return v1.HTTPHeader{Name: h.Name, Value: h.Value}
		}),
	}
}

// toPort prefers the number: a PortRef with both is invalid anyway.
func toPort(p podlife.PortRef) intstr.IntOrString {
	if p.Name != "" && p.Number == 0 {
		return intstr.FromString(p.Name)
	}
	return intstr.FromInt32(p.Number)
}

func toVolume(in podlife.Volume) v1.Volume {
	out := v1.Volume{Name: in.Name}
	switch in.Source {
	case podlife.VolumeEmptyDir:
		out.EmptyDir = &v1.EmptyDirVolumeSource{}
	case podlife.VolumeHostPath:
		out.HostPath = &v1.HostPathVolumeSource{Path: in.Ref}
	case podlife.VolumeSecret:
		out.Secret = &v1.SecretVolumeSource{SecretName: in.Ref, Optional: optional(in.Optional)}
	case podlife.VolumeConfigMap:
		out.ConfigMap = &v1.ConfigMapVolumeSource{
			LocalObjectReference: v1.LocalObjectReference{Name: in.Ref}, Optional: optional(in.Optional)}
	}
	return out
}

// mapSlice keeps nil as nil, so conversions round-trip exactly.
func mapSlice[S ~[]E, E, T any](in S, f func(E) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, e := range in {
		out[i] = f(e)
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func deref(b *bool) bool { return b != nil && *b }

// optional is the API's form of an optional flag: nil for false.
func optional(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}
