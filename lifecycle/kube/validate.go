package kube

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife"
)

// ValidatePodSpec checks s as the API server does on create, for the fields podlife uses, and
// returns every problem at once with paths under p (nil means "spec"). The rules are podlife's
// own (podlife.PodSpec.Validate, with every feature gate podlife models on), run on the
// converted spec and reported with the paths of the v1 fields they came from, plus the rules
// that the conversion would otherwise hide: one source per volume, a valid env valueFrom, one
// handler per hook when tcpSocket is among them, no ephemeral containers on create. Fields
// podlife does not model are not checked (they are warnings).
func ValidatePodSpec(s *v1.PodSpec, p *field.Path) field.ErrorList {
	if p == nil {
		p = field.NewPath("spec")
	}
	if s == nil {
		s = &v1.PodSpec{}
	}
	spec, _, errs := convert(s, p)
	errs = append(errs, fieldErrors(spec.Validate(), &spec, p)...)
	return append(errs, lostRules(s, p)...)
}

// fieldErrors maps podlife's validation errors (paths from "spec") to field.Errors under root,
// with the same types and values, and paths renamed where podlife flattens the API's fields.
func fieldErrors(err error, spec *podlife.PodSpec, root *field.Path) field.ErrorList {
	if err == nil {
		return nil
	}
	var list podlife.ErrorList
	if !errors.As(err, &list) {
		var one *podlife.FieldError
		if !errors.As(err, &one) {
			return field.ErrorList{field.InternalError(root, err)}
		}
		list = podlife.ErrorList{one}
	}
	out := make(field.ErrorList, 0, len(list))
	for _, fe := range list {
		out = append(out, &field.Error{
			Type:     errorType(fe.Type),
			Field:    apiPath(fe.Field, spec, root),
			BadValue: fe.BadValue,
			Detail:   fe.Detail,
		})
	}
	return out
}

func errorType(t podlife.ErrorType) field.ErrorType {
	switch t {
	case podlife.ErrorRequired:
		return field.ErrorTypeRequired
	case podlife.ErrorInvalid:
		return field.ErrorTypeInvalid
	case podlife.ErrorDuplicate:
		return field.ErrorTypeDuplicate
	case podlife.ErrorNotSupported:
		return field.ErrorTypeNotSupported
	case podlife.ErrorForbidden:
		return field.ErrorTypeForbidden
	case podlife.ErrorTooMany:
		return field.ErrorTypeTooMany
	}
	return field.ErrorTypeInvalid
}

// apiPath turns a podlife field path (spec.containers[0].env[1].secretKeyRef.name) into the v1
// path under root (spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.name): env
// sources sit under valueFrom, a readiness gate is its conditionType, a volume's ref is the
// field of its kind.
func apiPath(path string, spec *podlife.PodSpec, root *field.Path) string {
	segs := splitPath(strings.TrimPrefix(strings.TrimPrefix(path, "spec"), "."))
	var out []string
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		out = append(out, s)
		switch {
		case s == "env" && i+2 < len(segs) && (segs[i+2] == "secretKeyRef" || segs[i+2] == "configMapKeyRef"):
			out = append(out, segs[i+1], "valueFrom")
			i++
		case s == "readinessGates" && i+2 == len(segs):
			out = append(out, segs[i+1], "conditionType")
			i++
		case s == "volumes" && i == 0 && i+2 < len(segs) && segs[i+2] == "ref":
			out = append(out, segs[i+1])
			out = append(out, volumeRefPath(spec, segs[i+1])...)
			i += 2
		}
	}
	p := root.String()
	for _, s := range out {
		if strings.HasPrefix(s, "[") {
			p += s
		} else {
			p += "." + s
		}
	}
	return p
}

// volumeRefPath is where a podlife volume's Ref comes from in v1, for the volume at index "[i]".
func volumeRefPath(spec *podlife.PodSpec, index string) []string {
	i, err := strconv.Atoi(strings.Trim(index, "[]"))
	if err != nil || i < 0 || i >= len(spec.Volumes) {
		return []string{"ref"}
	}
	switch spec.Volumes[i].Source {
	case podlife.VolumeSecret:
		return []string{"secret", "secretName"}
	case podlife.VolumeConfigMap:
		return []string{"configMap", "name"}
	case podlife.VolumeHostPath:
		return []string{"hostPath", "path"}
	}
	return []string{"ref"}
}

// splitPath cuts "containers[0].env[1].name" into containers, [0], env, [1], name.
func splitPath(p string) []string {
	var out []string
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '[':
			j := strings.IndexByte(p, ']')
			if j < 0 {
				return append(out, p)
			}
			out = append(out, p[:j+1])
			p = p[j+1:]
		default:
			j := strings.IndexAny(p, ".[")
			if j < 0 {
				return append(out, p)
			}
			out = append(out, p[:j])
			p = p[j:]
		}
	}
	return out
}

// lostRules are the API server's rules on fields that the conversion to podlife drops or
// merges, so podlife's validator cannot see them.
func lostRules(s *v1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(p.Child("ephemeralContainers"), "cannot be set on create"))
	}
	for i := range s.Volumes {
		vp := p.Child("volumes").Index(i)
		kinds := 0
		vs := reflect.ValueOf(&s.Volumes[i].VolumeSource).Elem()
		fields := slices.Clone(jsonFields(vs.Type())) // sorted below: the cached list is shared
		// Upstream counts emptyDir first, then the rest in declaration order.
		slices.SortStableFunc(fields, func(a, b jsonField) int { return cmp.Compare(b2i(a.name != "emptyDir"), b2i(b.name != "emptyDir")) })
		for _, f := range fields {
			if fv := vs.FieldByIndex(f.index); fv.Kind() == reflect.Pointer && !fv.IsNil() {
				kinds++
				if kinds > 1 {
					errs = append(errs, field.Forbidden(vp.Child(f.name), "may not specify more than 1 volume type"))
				}
			}
		}
	}
	containers := func(cs []v1.Container, cp *field.Path) {
		for i := range cs {
			c := &cs[i]
			errs = append(errs, envRules(c.Env, cp.Index(i).Child("env"))...)
			if l := c.Lifecycle; l != nil {
				lp := cp.Index(i).Child("lifecycle")
				errs = append(errs, tcpHookRules(l.PostStart, lp.Child("postStart"))...)
				errs = append(errs, tcpHookRules(l.PreStop, lp.Child("preStop"))...)
			}
		}
	}
	containers(s.InitContainers, p.Child("initContainers"))
	containers(s.Containers, p.Child("containers"))
	return errs
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// envRules checks valueFrom where a source podlife drops is involved (fieldRef,
// resourceFieldRef, fileKeyRef); podlife checks the secret and config map ones itself.
func envRules(env []v1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		vf := e.ValueFrom
		if vf == nil {
			continue
		}
		fp := p.Index(i).Child("valueFrom")
		other := 0
		for _, set := range []bool{vf.FieldRef != nil, vf.ResourceFieldRef != nil, vf.FileKeyRef != nil} {
			if set {
				other++
			}
		}
		known := 0
		if vf.SecretKeyRef != nil {
			known++
		}
		if vf.ConfigMapKeyRef != nil {
			known++
		}
		switch {
		case other+known == 0:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
		case other > 0 && other+known > 1:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		}
		if other > 0 && e.Value != "" {
			errs = append(errs, field.Invalid(fp, "", "may not be specified when `value` is not empty"))
		}
	}
	return errs
}

// tcpHookRules: a tcpSocket hook counts as a handler for the API server (it fails only at run
// time), so it may not be combined with another; the conversion drops it.
func tcpHookRules(h *v1.LifecycleHandler, p *field.Path) field.ErrorList {
	if h == nil || h.TCPSocket == nil {
		return nil
	}
	switch {
	case h.Exec != nil || h.HTTPGet != nil:
		return field.ErrorList{field.Forbidden(p.Child("tcpSocket"), "may not specify more than 1 handler type")}
	case h.Sleep != nil:
		return field.ErrorList{field.Forbidden(p.Child("sleep"), "may not specify more than 1 handler type")}
	}
	return nil
}

// Validate checks the manifest as the API server would on create, for what podlife uses: the
// object's metadata (name per kind, namespace, labels, annotations), the template's
// restartPolicy for its kind (Always for Deployments, StatefulSets, DaemonSets and ReplicaSets;
// OnFailure or Never for Jobs and CronJobs) and the pod spec (ValidatePodSpec). Paths are the
// object's (spec.template.spec.containers[0].image), every problem at once.
func (m *Manifest) Validate() field.ErrorList {
	k, ok := kinds[m.Kind]
	if !ok {
		return field.ErrorList{field.NotSupported(child(m.root, "kind"), m.Kind, supportedKinds(true))}
	}
	var errs field.ErrorList
	if meta, ok := objectMeta(m.Object); ok {
		if meta.Namespace == "" {
			meta.Namespace = metav1.NamespaceDefault // kubectl fills it in from the context
		}
		if meta.Name == "" && meta.GenerateName != "" {
			meta.Name = m.Ref().Name // the API server generates the name before it validates
		}
		errs = append(errs, apivalidation.ValidateObjectMeta(&meta, true, k.name, child(m.root, "metadata"))...)
	}
	specPath := child(m.root, k.specPath...)
	if k.policies != nil {
		rp := m.PodSpec.RestartPolicy
		if rp == "" {
			rp = v1.RestartPolicyAlways // the API server's default comes first
		}
		switch {
		case len(k.policies) == 2 && rp == v1.RestartPolicyAlways:
			errs = append(errs, field.Required(specPath.Child("restartPolicy"),
				fmt.Sprintf("valid values: %q, %q", v1.RestartPolicyOnFailure, v1.RestartPolicyNever)))
		case !slices.Contains(k.policies, rp) && isPodPolicy(rp):
			errs = append(errs, field.NotSupported(specPath.Child("restartPolicy"), rp, k.policies))
		}
	}
	return append(errs, ValidatePodSpec(&m.PodSpec, specPath)...)
}

// objectMeta copies the metadata of one of the kinds' objects.
func objectMeta(o runtime.Object) (metav1.ObjectMeta, bool) {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return metav1.ObjectMeta{}, false
	}
	meta, ok := v.Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta)
	return meta, ok
}

// isPodPolicy: an unknown value is reported once, by the pod spec's own check.
func isPodPolicy(p v1.RestartPolicy) bool {
	return p == v1.RestartPolicyAlways || p == v1.RestartPolicyOnFailure || p == v1.RestartPolicyNever
}
