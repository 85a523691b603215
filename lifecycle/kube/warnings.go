package kube

import (
	"reflect"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Warning is one field of a Kubernetes object that podlife does not model: it was set, and the
// converted spec does not carry it. Field is its path as in the object (for example
// spec.containers[0].resources), so a reader finds it in the manifest.
type Warning struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
	// Line is the field's line in the manifest file, 0 when not read from one.
	Line int `json:"line,omitempty"`
}

// String reads "spec.nodeSelector: not modelled by podlife".
func (w Warning) String() string { return w.Field + ": " + w.Detail }

// Warnings are all fields dropped by a conversion, in field order.
type Warnings []Warning

// Fields lists the warnings' paths, handy for tests and for a one-line summary.
func (ws Warnings) Fields() []string {
	if len(ws) == 0 {
		return nil
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Field
	}
	return out
}

// String is one warning per line.
func (ws Warnings) String() string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.String()
	}
	return strings.Join(parts, "\n")
}

func (ws *Warnings) add(p *field.Path, detail string) {
	*ws = append(*ws, Warning{Field: p.String(), Detail: detail})
}

// notModelled is the detail of a warning for a field without its own note.
const notModelled = "not modelled by podlife; dropped"

// handledFields lists, per k8s.io/api type, the JSON fields the conversion reads. Every other
// field that is set becomes a warning, found by reflection (unhandled), so a field added upstream
// is reported without a change here. A type not in the table is not walked into: a handled field
// of such a type is converted as a whole (for example intstr.IntOrString ports).
var handledFields = map[reflect.Type][]string{
	reflect.TypeFor[v1.PodSpec](): {"initContainers", "containers", "restartPolicy",
		"terminationGracePeriodSeconds", "activeDeadlineSeconds", "readinessGates", "hostNetwork", "volumes"},
	reflect.TypeFor[v1.Container](): {"name", "image", "imagePullPolicy", "command", "args", "env", "ports",
		"restartPolicy", "restartPolicyRules", "startupProbe", "livenessProbe", "readinessProbe", "lifecycle"},
	reflect.TypeFor[v1.ContainerPort]():                   {"name", "containerPort", "protocol"},
	reflect.TypeFor[v1.EnvVar]():                          {"name", "value", "valueFrom"},
	reflect.TypeFor[v1.EnvVarSource]():                    {"secretKeyRef", "configMapKeyRef"},
	reflect.TypeFor[v1.SecretKeySelector]():               {"name", "key", "optional"},
	reflect.TypeFor[v1.ConfigMapKeySelector]():            {"name", "key", "optional"},
	reflect.TypeFor[v1.ContainerRestartRule]():            {"action", "exitCodes"},
	reflect.TypeFor[v1.ContainerRestartRuleOnExitCodes](): {"operator", "values"},
	reflect.TypeFor[v1.Probe](): {"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds",
		"timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"},
	reflect.TypeFor[v1.Lifecycle]():             {"postStart", "preStop"},
	reflect.TypeFor[v1.LifecycleHandler]():      {"exec", "httpGet", "sleep"},
	reflect.TypeFor[v1.ExecAction]():            {"command"},
	reflect.TypeFor[v1.HTTPGetAction]():         {"path", "port", "host", "scheme", "httpHeaders"},
	reflect.TypeFor[v1.HTTPHeader]():            {"name", "value"},
	reflect.TypeFor[v1.TCPSocketAction]():       {"port", "host"},
	reflect.TypeFor[v1.GRPCAction]():            {"port", "service"},
	reflect.TypeFor[v1.SleepAction]():           {"seconds"},
	reflect.TypeFor[v1.PodReadinessGate]():      {"conditionType"},
	reflect.TypeFor[v1.Volume]():                {"name", "emptyDir", "hostPath", "secret", "configMap"},
	reflect.TypeFor[v1.EmptyDirVolumeSource]():  {},
	reflect.TypeFor[v1.HostPathVolumeSource]():  {"path"},
	reflect.TypeFor[v1.SecretVolumeSource]():    {"secretName", "optional"},
	reflect.TypeFor[v1.ConfigMapVolumeSource](): {"name", "optional"},
}

// fieldNotes say more than notModelled where dropping a field changes what the pod does. Keys
// are "Type.field"; "Type.*" applies to every unhandled field of Type.
var fieldNotes = map[string]string{
	"Volume.*": "volume kind not modelled by podlife; the volume is treated as an emptyDir, which is always ready",
	"LifecycleHandler.tcpSocket": "not run by kubelet (the hook fails at run time); podlife drops the hook " +
		"unless another handler is set",
	"EnvVarSource.*":                   "not modelled by podlife; the variable is kept without a value and cannot be missing",
	"PodSpec.ephemeralContainers":      "not modelled by podlife; dropped (they are added by the API, not by a manifest)",
	"Container.envFrom":                "not modelled by podlife; a missing secret or config map here gives no CreateContainerConfigError",
	"Container.resources":              "not modelled by podlife; no limit is enforced (no OOMKilled from limits)",
	"Lifecycle.stopSignal":             "not modelled by podlife; the stop signal is the runtime's default",
	"HTTPGetAction.protocol":           "not modelled by podlife; the probe speaks HTTP/1.1",
	"GRPCAction.mode":                  "not modelled by podlife; the probe uses plaintext",
	"ContainerPort.hostPort":           "not modelled by podlife; no port is bound on the node",
	"PodSpec.shareProcessNamespace":    "not modelled by podlife; every container is PID 1 in its own namespace",
	"Container.terminationMessagePath": "not modelled by podlife; termination messages are the runtime's",
}

// isSet reports whether a field carries something: an empty list or map is not set, as for
// omitempty.
func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() > 0
	}
	return !v.IsZero()
}

// unhandled walks v (a struct of a type in handledFields, or a pointer or slice of them) and
// reports every set field the conversion does not read. It goes into handled fields whose type
// is in the table too, so one call covers a whole PodSpec.
func unhandled(ws *Warnings, p *field.Path, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			unhandled(ws, p, v.Elem())
		}
		return
	case reflect.Slice:
		for i := range v.Len() {
			unhandled(ws, p.Index(i), v.Index(i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	t := v.Type()
	names, ok := handledFields[t]
	if !ok {
		return
	}
	for _, f := range jsonFields(t) {
		fv := v.FieldByIndex(f.index)
		if !isSet(fv) {
			continue
		}
		if slices.Contains(names, f.name) {
			if _, walk := handledFields[baseType(f.typ)]; walk {
				unhandled(ws, p.Child(f.name), fv)
			}
			continue
		}
		ws.add(p.Child(f.name), noteFor(t, f.name))
	}
}

func noteFor(t reflect.Type, name string) string {
	if n, ok := fieldNotes[t.Name()+"."+name]; ok {
		return n
	}
	if n, ok := fieldNotes[t.Name()+".*"]; ok {
		return n
	}
	return notModelled
}

// baseType strips pointers and slices: the struct type a field holds.
func baseType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}
