package kube

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

func ptr[T any](v T) *T { return &v }

// fullV1Spec sets every field podlife models at least once, in the API's canonical form (an
// optional flag is nil or true), so that it converts to podlife and back unchanged.
func fullV1Spec() v1.PodSpec {
	always := v1.ContainerRestartPolicyAlways
	never := v1.ContainerRestartPolicyNever
	return v1.PodSpec{
		InitContainers: []v1.Container{
			{Name: "migrate", Image: "migrate:1", Command: []string{"/migrate"}, Args: []string{"up"}},
			{Name: "proxy", Image: "envoy:1.30", RestartPolicy: &always,
				StartupProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromString("admin"), Host: "127.0.0.1"}},
					PeriodSeconds: 1, FailureThreshold: 30},
				Ports: []v1.ContainerPort{{Name: "admin", ContainerPort: 9901, Protocol: v1.ProtocolTCP}}},
		},
		Containers: []v1.Container{
			{
				Name: "app", Image: "app:2", ImagePullPolicy: v1.PullIfNotPresent,
				Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 8080}, {ContainerPort: 9090, Protocol: v1.ProtocolUDP}},
				Env: []v1.EnvVar{
					{Name: "MODE", Value: "prod"},
					{Name: "PASSWORD", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{
						LocalObjectReference: v1.LocalObjectReference{Name: "db"}, Key: "password", Optional: ptr(true)}}},
					{Name: "LEVEL", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{
						LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}, Key: "level"}}},
				},
				RestartPolicy: &never,
				RestartPolicyRules: []v1.ContainerRestartRule{{Action: v1.ContainerRestartRuleActionRestart,
					ExitCodes: &v1.ContainerRestartRuleOnExitCodes{Operator: v1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42, 43}}}},
				StartupProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"ready"}}},
					InitialDelaySeconds: 1, TimeoutSeconds: 2, PeriodSeconds: 3, SuccessThreshold: 1, FailureThreshold: 5,
					TerminationGracePeriodSeconds: ptr(int64(7))},
				LivenessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{
					Path: "/healthz", Port: intstr.FromString("http"), Host: "localhost", Scheme: v1.URISchemeHTTPS,
					HTTPHeaders: []v1.HTTPHeader{{Name: "X-Probe", Value: "1"}}}}},
				ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{GRPC: &v1.GRPCAction{Port: 9090, Service: ptr("ready")}}},
				Lifecycle: &v1.Lifecycle{
					PostStart: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"warm"}}},
					PreStop:   &v1.LifecycleHandler{Sleep: &v1.SleepAction{Seconds: 5}},
				},
			},
			{
				Name: "worker", Image: "worker:2",
				ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromInt32(7000)}}},
				Lifecycle:      &v1.Lifecycle{PreStop: &v1.LifecycleHandler{HTTPGet: &v1.HTTPGetAction{Path: "/drain", Port: intstr.FromInt32(7000)}}},
			},
		},
		RestartPolicy:                 v1.RestartPolicyOnFailure,
		TerminationGracePeriodSeconds: ptr(int64(45)),
		ActiveDeadlineSeconds:         ptr(int64(600)),
		ReadinessGates:                []v1.PodReadinessGate{{ConditionType: "example.com/lb-ready"}},
		HostNetwork:                   true,
		Volumes: []v1.Volume{
			{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
			{Name: "logs", VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/var/log"}}},
			{Name: "certs", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "tls", Optional: ptr(true)}}},
			{Name: "config", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "app"}}}},
			{Name: "defaulted"},
		},
	}
}

func TestFromPodSpecConvertsEveryModelledField(t *testing.T) {
	always, never := podlife.RestartAlways, podlife.RestartNever
	want := podlife.PodSpec{
		InitContainers: []podlife.Container{
			{Name: "migrate", Image: "migrate:1", Command: []string{"/migrate"}, Args: []string{"up"}},
			{Name: "proxy", Image: "envoy:1.30", RestartPolicy: &always,
				StartupProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{TCPSocket: &podlife.TCPSocketAction{Port: podlife.PortName("admin"), Host: "127.0.0.1"}},
					PeriodSeconds: 1, FailureThreshold: 30},
				Ports: []podlife.Port{{Name: "admin", ContainerPort: 9901, Protocol: "TCP"}}},
		},
		Containers: []podlife.Container{
			{
				Name: "app", Image: "app:2", ImagePullPolicy: podlife.PullIfNotPresent,
				Ports: []podlife.Port{{Name: "http", ContainerPort: 8080}, {ContainerPort: 9090, Protocol: "UDP"}},
				Env: []podlife.EnvVar{
					{Name: "MODE", Value: "prod"},
					{Name: "PASSWORD", SecretKeyRef: &podlife.KeyRef{Name: "db", Key: "password", Optional: true}},
					{Name: "LEVEL", ConfigMapKeyRef: &podlife.KeyRef{Name: "cfg", Key: "level"}},
				},
				RestartPolicy: &never,
				RestartPolicyRules: []podlife.RestartRule{{Action: podlife.RuleRestart,
					ExitCodes: &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn, Values: []int32{42, 43}}}},
				StartupProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"ready"}}},
					InitialDelaySeconds: 1, TimeoutSeconds: 2, PeriodSeconds: 3, SuccessThreshold: 1, FailureThreshold: 5,
					TerminationGracePeriodSeconds: ptr(int64(7))},
				LivenessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{HTTPGet: &podlife.HTTPGetAction{
					Path: "/healthz", Port: podlife.PortName("http"), Host: "localhost", Scheme: "HTTPS",
					HTTPHeaders: []podlife.HTTPHeader{{Name: "X-Probe", Value: "1"}}}}},
				ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{GRPC: &podlife.GRPCAction{Port: 9090, Service: ptr("ready")}}},
				Lifecycle: &podlife.Lifecycle{
					PostStart: &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"warm"}}},
					PreStop:   &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 5}},
				},
			},
			{
				Name: "worker", Image: "worker:2",
				ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{TCPSocket: &podlife.TCPSocketAction{Port: podlife.PortNumber(7000)}}},
				Lifecycle:      &podlife.Lifecycle{PreStop: &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{Path: "/drain", Port: podlife.PortNumber(7000)}}},
			},
		},
		RestartPolicy:                 podlife.RestartOnFailure,
		TerminationGracePeriodSeconds: ptr(int64(45)),
		ActiveDeadlineSeconds:         ptr(int64(600)),
		ReadinessGates:                []string{"example.com/lb-ready"},
		HostNetwork:                   true,
		Volumes: []podlife.Volume{
			{Name: "scratch", Source: podlife.VolumeEmptyDir},
			{Name: "logs", Source: podlife.VolumeHostPath, Ref: "/var/log"},
			{Name: "certs", Source: podlife.VolumeSecret, Ref: "tls", Optional: true},
			{Name: "config", Source: podlife.VolumeConfigMap, Ref: "app"},
			{Name: "defaulted"},
		},
	}
	in := fullV1Spec()
	got, ws, err := FromPodSpec(in)
	require.NoError(t, err)
	assert.Empty(t, ws, "every field set here is modelled")
	assert.Empty(t, cmp.Diff(want, got))
	require.NoError(t, got.Validate(), "the full spec is valid")

	back := ToPodSpec(got)
	assert.Empty(t, cmp.Diff(in, back), "ToPodSpec inverts FromPodSpec on the canonical form")
	got.Containers[0].Command = append(got.Containers[0].Command, "x")
	got.Volumes[0].Name = "changed"
	assert.Empty(t, cmp.Diff(fullV1Spec(), in), "the conversion shares no memory with its input")
}

func TestWarningsName(t *testing.T) {
	in := fullV1Spec()
	in.NodeSelector = map[string]string{"disk": "ssd"}
	in.Containers[0].Resources.Limits = v1.ResourceList{v1.ResourceMemory: resource.MustParse("64Mi")}
	in.Containers[0].VolumeMounts = []v1.VolumeMount{{Name: "scratch", MountPath: "/tmp"}}
	in.Containers[0].Env[2].ValueFrom.FieldRef = &v1.ObjectFieldSelector{FieldPath: "metadata.name"}
	in.Containers[0].Lifecycle.PostStart.TCPSocket = &v1.TCPSocketAction{Port: intstr.FromInt32(1)}
	in.Containers[1].Lifecycle.PreStop = &v1.LifecycleHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromInt32(1)}}
	in.Containers[1].ReadinessProbe.TCPSocket = nil
	in.Containers[1].ReadinessProbe.HTTPGet = &v1.HTTPGetAction{Port: intstr.FromInt32(80), Protocol: ptr(v1.HTTPProtocolHTTP2)}
	in.Volumes[0].EmptyDir.Medium = v1.StorageMediumMemory
	in.Volumes = append(in.Volumes, v1.Volume{Name: "data", VolumeSource: v1.VolumeSource{
		PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}})
	in.NodeName = "node-1"
	in.Tolerations = []v1.Toleration{} // empty: not set

	got, ws, err := FromPodSpec(in)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"spec.volumes[0].emptyDir.medium",
		"spec.volumes[5].persistentVolumeClaim",
		"spec.containers[0].env[2].valueFrom.fieldRef",
		"spec.containers[0].resources",
		"spec.containers[0].volumeMounts",
		"spec.containers[0].lifecycle.postStart.tcpSocket",
		"spec.containers[1].readinessProbe.httpGet.protocol",
		"spec.containers[1].lifecycle.preStop.tcpSocket",
		"spec.nodeSelector",
		"spec.nodeName",
	}, ws.Fields(), "field order, paths as in the object")
	assert.Contains(t, ws[1].Detail, "treated as an emptyDir")
	assert.Equal(t, "spec.nodeName: not modelled by podlife; dropped", ws[9].String())

	assert.Equal(t, podlife.Volume{Name: "data", Source: podlife.VolumeEmptyDir}, got.Volumes[5], "an unmodelled volume kind is an emptyDir")
	assert.Nil(t, got.Containers[1].Lifecycle.PreStop, "a tcpSocket-only hook is not run by kubelet")
	assert.NotNil(t, got.Containers[0].Lifecycle.PostStart.Exec, "the other handler is kept")
	assert.Equal(t, podlife.EnvVar{Name: "LEVEL", ConfigMapKeyRef: &podlife.KeyRef{Name: "cfg", Key: "level"}}, got.Containers[0].Env[2])
}

// location is one struct value inside a v1.PodSpec, with its path.
type location struct {
	path *field.Path
	v    reflect.Value
}

// locations lists every struct of a type in handledFields inside v, by JSON path.
func locations(p *field.Path, v reflect.Value, out map[reflect.Type][]location) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			locations(p, v.Elem(), out)
		}
		return
	case reflect.Slice:
		for i := range v.Len() {
			locations(p.Index(i), v.Index(i), out)
		}
		return
	case reflect.Struct:
	default:
		return
	}
	if _, ok := handledFields[v.Type()]; !ok {
		return
	}
	out[v.Type()] = append(out[v.Type()], location{p, v})
	for _, f := range jsonFields(v.Type()) {
		locations(p.Child(f.name), v.FieldByIndex(f.index), out)
	}
}

// fill sets v to some non-zero value of its type.
func fill(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() && fill(f) {
				return true
			}
		}
		return false
	default:
		return false
	}
	return true
}

// TestEveryUnhandledFieldWarns sets, one at a time, every field of every type the conversion
// walks that is not in handledFields, and expects a warning with its path: a field added
// upstream is caught without a change to the table.
func TestEveryUnhandledFieldWarns(t *testing.T) {
	base := fullV1Spec()
	locs := map[reflect.Type][]location{}
	locations(field.NewPath("spec"), reflect.ValueOf(&base).Elem(), locs)
	for typ := range handledFields {
		require.NotEmpty(t, locs[typ], "fullV1Spec has no %s: the test would not look at it", typ)
	}
	checked := 0
	for typ, names := range handledFields {
		loc := locs[typ][0]
		for _, f := range jsonFields(typ) {
			if slices.Contains(names, f.name) {
				continue
			}
			spec := fullV1Spec()
			l := map[reflect.Type][]location{}
			locations(field.NewPath("spec"), reflect.ValueOf(&spec).Elem(), l)
			fv := l[typ][0].v.FieldByIndex(f.index)
			require.True(t, fill(fv), "cannot set %s.%s", typ, f.name)
			_, ws, err := FromPodSpec(spec)
			require.NoError(t, err)
			want := loc.path.Child(f.name).String()
			assert.Contains(t, ws.Fields(), want, "%s.%s set but not warned", typ, f.name)
			checked++
		}
	}
	assert.Greater(t, checked, 60, "the v1 types have many fields podlife does not model")
}

// perturb changes a handled leaf to another value of its type.
func perturb(v reflect.Value) {
	if v.Type() == reflect.TypeFor[intstr.IntOrString]() {
		if v.Interface().(intstr.IntOrString).Type == intstr.Int {
			v.Set(reflect.ValueOf(intstr.FromString("other")))
		} else {
			v.Set(reflect.ValueOf(intstr.FromInt32(4242)))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		} else {
			perturb(v.Elem())
		}
	case reflect.Slice:
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e)
		v.Set(reflect.Append(v, e))
	}
}

// TestEveryHandledFieldConverts changes, one at a time, every handled leaf field (a field in
// handledFields whose type the walk does not go into) and expects the converted spec to change:
// a field listed as handled but forgotten by the conversion would be dropped silently.
func TestEveryHandledFieldConverts(t *testing.T) {
	baseOut, _, err := FromPodSpec(fullV1Spec())
	require.NoError(t, err)
	checked := 0
	for typ, names := range handledFields {
		for _, f := range jsonFields(typ) {
			if !slices.Contains(names, f.name) {
				continue
			}
			if _, walked := handledFields[baseType(f.typ)]; walked {
				continue
			}
			for i := range 2 { // two places where a type appears twice: both must convert
				spec := fullV1Spec()
				l := map[reflect.Type][]location{}
				locations(field.NewPath("spec"), reflect.ValueOf(&spec).Elem(), l)
				if i >= len(l[typ]) {
					break
				}
				loc := l[typ][i]
				perturb(loc.v.FieldByIndex(f.index))
				out, _, err := FromPodSpec(spec)
				require.NoError(t, err)
				assert.NotEmpty(t, cmp.Diff(baseOut, out), "%s changed but the podlife spec did not", loc.path.Child(f.name))
				checked++
			}
		}
	}
	assert.Greater(t, checked, 50)
}

func TestHandledFieldsExist(t *testing.T) {
	for typ, names := range handledFields {
		var have []string
		for _, f := range jsonFields(typ) {
			have = append(have, f.name)
		}
		for _, n := range names {
			assert.Contains(t, have, n, "%s has no JSON field %q (renamed upstream?)", typ, n)
		}
	}
}

func TestFromPodSpecBadPort(t *testing.T) {
	in := fullV1Spec()
	in.Containers[0].LivenessProbe.HTTPGet.Port = intstr.IntOrString{Type: 7}
	_, _, err := FromPodSpec(in)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.containers[0].livenessProbe.httpGet.port")
}

// genPodlifeSpec draws a podlife spec of any shape (not necessarily valid) that v1 can hold.
func genPodlifeSpec(t *rapid.T) podlife.PodSpec {
	str := rapid.SampledFrom([]string{"", "a", "web", "x-1", "Ünï"})
	policy := rapid.SampledFrom([]podlife.RestartPolicy{"", podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever, "Sometimes"})
	i32 := rapid.Int32Range(-5, 70000)
	port := rapid.Custom(func(t *rapid.T) podlife.PortRef {
		if rapid.Bool().Draw(t, "named") {
			return podlife.PortName(rapid.SampledFrom([]string{"http", "a", "x"}).Draw(t, "name"))
		}
		return podlife.PortNumber(i32.Draw(t, "number"))
	})
	httpGet := rapid.Custom(func(t *rapid.T) *podlife.HTTPGetAction {
		return &podlife.HTTPGetAction{Path: str.Draw(t, "path"), Port: port.Draw(t, "port"), Host: str.Draw(t, "host"),
			Scheme: rapid.SampledFrom([]string{"", "HTTP", "HTTPS"}).Draw(t, "scheme"),
			HTTPHeaders: rapid.SliceOfN(rapid.Custom(func(t *rapid.T) podlife.HTTPHeader {
				return podlife.HTTPHeader{Name: str.Draw(t, "n"), Value: str.Draw(t, "v")}
			}), 0, 2).Draw(t, "headers")}
	})
	exec := rapid.Custom(func(t *rapid.T) *podlife.ExecAction {
		return &podlife.ExecAction{Command: rapid.SliceOfN(str, 0, 2).Draw(t, "command")}
	})
	probe := rapid.Custom(func(t *rapid.T) *podlife.Probe {
		p := &podlife.Probe{InitialDelaySeconds: i32.Draw(t, "delay"), TimeoutSeconds: i32.Draw(t, "timeout"),
			PeriodSeconds: i32.Draw(t, "period"), SuccessThreshold: i32.Draw(t, "success"), FailureThreshold: i32.Draw(t, "failure"),
			TerminationGracePeriodSeconds: rapid.Ptr(rapid.Int64(), true).Draw(t, "grace")}
		switch rapid.IntRange(0, 4).Draw(t, "handler") {
		case 0:
			p.Exec = exec.Draw(t, "exec")
		case 1:
			p.HTTPGet = httpGet.Draw(t, "httpGet")
		case 2:
			p.TCPSocket = &podlife.TCPSocketAction{Port: port.Draw(t, "port"), Host: str.Draw(t, "host")}
		case 3:
			p.GRPC = &podlife.GRPCAction{Port: i32.Draw(t, "port"), Service: rapid.Ptr(str, true).Draw(t, "service")}
		}
		return p
	})
	hook := rapid.Custom(func(t *rapid.T) *podlife.LifecycleHandler {
		h := &podlife.LifecycleHandler{}
		switch rapid.IntRange(0, 3).Draw(t, "handler") {
		case 0:
			h.Exec = exec.Draw(t, "exec")
		case 1:
			h.HTTPGet = httpGet.Draw(t, "httpGet")
		case 2:
			h.Sleep = &podlife.SleepAction{Seconds: rapid.Int64Range(-1, 100).Draw(t, "seconds")}
		}
		return h
	})
	keyRef := rapid.Custom(func(t *rapid.T) *podlife.KeyRef {
		return &podlife.KeyRef{Name: str.Draw(t, "name"), Key: str.Draw(t, "key"), Optional: rapid.Bool().Draw(t, "optional")}
	})
	container := rapid.Custom(func(t *rapid.T) podlife.Container {
		c := podlife.Container{
			Name: str.Draw(t, "name"), Image: str.Draw(t, "image"),
			ImagePullPolicy: rapid.SampledFrom([]podlife.PullPolicy{"", podlife.PullAlways, podlife.PullNever, "Sometimes"}).Draw(t, "pull"),
			Command:         rapid.SliceOfN(str, 0, 2).Draw(t, "command"),
			Args:            rapid.SliceOfN(str, 0, 2).Draw(t, "args"),
			Env: rapid.SliceOfN(rapid.Custom(func(t *rapid.T) podlife.EnvVar {
				return podlife.EnvVar{Name: str.Draw(t, "name"), Value: str.Draw(t, "value"),
					SecretKeyRef:    rapid.OneOf(rapid.Just[*podlife.KeyRef](nil), keyRef).Draw(t, "secret"),
					ConfigMapKeyRef: rapid.OneOf(rapid.Just[*podlife.KeyRef](nil), keyRef).Draw(t, "configMap")}
			}), 0, 3).Draw(t, "env"),
			Ports: rapid.SliceOfN(rapid.Custom(func(t *rapid.T) podlife.Port {
				return podlife.Port{Name: str.Draw(t, "name"), ContainerPort: i32.Draw(t, "port"),
					Protocol: rapid.SampledFrom([]string{"", "TCP", "UDP", "XTP"}).Draw(t, "protocol")}
			}), 0, 2).Draw(t, "ports"),
			RestartPolicy: rapid.Ptr(policy, true).Draw(t, "restartPolicy"),
			RestartPolicyRules: rapid.SliceOfN(rapid.Custom(func(t *rapid.T) podlife.RestartRule {
				r := podlife.RestartRule{Action: rapid.SampledFrom([]podlife.RestartRuleAction{podlife.RuleRestart, podlife.RuleRestartAllContainers, "Explode"}).Draw(t, "action")}
				if rapid.Bool().Draw(t, "exitCodes") {
					r.ExitCodes = &podlife.ExitCodesRequirement{Operator: rapid.SampledFrom([]podlife.ExitCodeOperator{podlife.ExitCodeIn, podlife.ExitCodeNotIn}).Draw(t, "op"),
						Values: rapid.SliceOfN(rapid.Int32(), 0, 3).Draw(t, "values")}
				}
				return r
			}), 0, 2).Draw(t, "rules"),
			StartupProbe:   rapid.OneOf(rapid.Just[*podlife.Probe](nil), probe).Draw(t, "startup"),
			LivenessProbe:  rapid.OneOf(rapid.Just[*podlife.Probe](nil), probe).Draw(t, "liveness"),
			ReadinessProbe: rapid.OneOf(rapid.Just[*podlife.Probe](nil), probe).Draw(t, "readiness"),
		}
		if rapid.Bool().Draw(t, "lifecycle") {
			c.Lifecycle = &podlife.Lifecycle{
				PostStart: rapid.OneOf(rapid.Just[*podlife.LifecycleHandler](nil), hook).Draw(t, "postStart"),
				PreStop:   rapid.OneOf(rapid.Just[*podlife.LifecycleHandler](nil), hook).Draw(t, "preStop"),
			}
		}
		return c
	})
	volume := rapid.Custom(func(t *rapid.T) podlife.Volume {
		v := podlife.Volume{Name: str.Draw(t, "name"),
			Source: rapid.SampledFrom([]podlife.VolumeSource{"", podlife.VolumeEmptyDir, podlife.VolumeHostPath, podlife.VolumeSecret, podlife.VolumeConfigMap}).Draw(t, "source")}
		switch v.Source {
		case podlife.VolumeHostPath:
			v.Ref = str.Draw(t, "path")
		case podlife.VolumeSecret, podlife.VolumeConfigMap:
			v.Ref, v.Optional = str.Draw(t, "ref"), rapid.Bool().Draw(t, "optional")
		}
		return v
	})
	return podlife.PodSpec{
		InitContainers:                rapid.SliceOfN(container, 0, 2).Draw(t, "initContainers"),
		Containers:                    rapid.SliceOfN(container, 0, 3).Draw(t, "containers"),
		RestartPolicy:                 policy.Draw(t, "restartPolicy"),
		TerminationGracePeriodSeconds: rapid.Ptr(rapid.Int64(), true).Draw(t, "grace"),
		ActiveDeadlineSeconds:         rapid.Ptr(rapid.Int64(), true).Draw(t, "activeDeadline"),
		ReadinessGates:                rapid.SliceOfN(str, 0, 2).Draw(t, "gates"),
		HostNetwork:                   rapid.Bool().Draw(t, "hostNetwork"),
		Volumes:                       rapid.SliceOfN(volume, 0, 3).Draw(t, "volumes"),
	}
}

// TestPodSpecRoundTrip: every podlife spec survives ToPodSpec then FromPodSpec, with no
// warnings: ToPodSpec sets nothing podlife does not model.
func TestPodSpecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genPodlifeSpec(t)
		back, ws, err := FromPodSpec(ToPodSpec(s))
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) > 0 {
			t.Fatalf("warnings: %v", ws)
		}
		if d := cmp.Diff(s, back); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
	})
}

func ExampleFromPodSpec() {
	spec, warnings, err := FromPodSpec(v1.PodSpec{
		NodeSelector: map[string]string{"disk": "ssd"},
		Containers: []v1.Container{{
			Name:  "web",
			Image: "nginx:1.27",
			Ports: []v1.ContainerPort{{Name: "http", ContainerPort: 80}},
			ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{
				HTTPGet: &v1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}},
			Resources: v1.ResourceRequirements{Limits: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m")}},
		}},
	})
	if err != nil {
		panic(err)
	}
	c := spec.Containers[0]
	fmt.Println(c.Name, c.Image, c.EffectivePullPolicy(), "readiness on port", c.ReadinessProbe.HTTPGet.Port)
	fmt.Println(warnings)
	// Output:
	// web nginx:1.27 IfNotPresent readiness on port http
	// spec.containers[0].resources: not modelled by podlife; no limit is enforced (no OOMKilled from limits)
	// spec.nodeSelector: not modelled by podlife; dropped
}
