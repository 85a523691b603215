package podlife_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

// genSpec draws a valid-shaped spec: every field may be set or left to its default, but nothing
// breaks a rule. Validate must accept it before and after Defaulted.
func genSpec(t *rapid.T) podlife.PodSpec {
	grace := rapid.Ptr(rapid.Int64Range(0, 120), true).Draw(t, "grace")
	effGrace := int64(podlife.DefaultGracePeriodSeconds)
	if grace != nil {
		effGrace = *grace
	}
	g := specGen{t: t, grace: effGrace}
	s := podlife.PodSpec{
		RestartPolicy:                 rapid.SampledFrom([]podlife.RestartPolicy{"", podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, "restartPolicy"),
		TerminationGracePeriodSeconds: grace,
		ActiveDeadlineSeconds:         rapid.Ptr(rapid.Int64Range(1, 3600), true).Draw(t, "activeDeadline"),
		HostNetwork:                   rapid.Bool().Draw(t, "hostNetwork"),
		ReadinessGates:                rapid.SliceOfN(rapid.SampledFrom([]string{"ready", "example.com/ready", "My.Gate_1"}), 0, 2).Draw(t, "gates"),
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "inits") {
		s.InitContainers = append(s.InitContainers, g.container(fmt.Sprintf("init-%d", i), true))
	}
	for i := range rapid.IntRange(1, 3).Draw(t, "apps") {
		s.Containers = append(s.Containers, g.container(fmt.Sprintf("app-%d", i), false))
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "volumes") {
		s.Volumes = append(s.Volumes, g.volume(fmt.Sprintf("vol-%d", i)))
	}
	return s
}

type specGen struct {
	t     *rapid.T
	grace int64
}

func (g specGen) container(name string, init bool) podlife.Container {
	t := g.t
	c := podlife.Container{
		Name:            name,
		Image:           rapid.SampledFrom([]string{"nginx", "nginx:1.25", "localhost:5000/app", "ghcr.io/org/app:latest", "app@" + sha}).Draw(t, "image"),
		ImagePullPolicy: rapid.SampledFrom([]podlife.PullPolicy{"", podlife.PullAlways, podlife.PullIfNotPresent, podlife.PullNever}).Draw(t, "pull"),
		Command:         rapid.SliceOfN(rapid.String(), 0, 2).Draw(t, "command"),
		Args:            rapid.SliceOfN(rapid.String(), 0, 2).Draw(t, "args"),
	}
	for range rapid.IntRange(0, 3).Draw(t, "env") {
		c.Env = append(c.Env, g.env())
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "ports") {
		c.Ports = append(c.Ports, podlife.Port{
			Name:          rapid.SampledFrom([]string{"", fmt.Sprintf("p%d", i)}).Draw(t, "portName"),
			ContainerPort: rapid.Int32Range(1, 65535).Draw(t, "containerPort"),
			Protocol:      rapid.SampledFrom([]string{"", podlife.ProtocolTCP, podlife.ProtocolUDP, podlife.ProtocolSCTP}).Draw(t, "protocol"),
		})
	}
	policies := []podlife.RestartPolicy{podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}
	if rapid.Bool().Draw(t, "ownPolicy") {
		c.RestartPolicy = ptr(rapid.SampledFrom(policies).Draw(t, "containerPolicy"))
		for range rapid.IntRange(0, 3).Draw(t, "rules") {
			c.RestartPolicyRules = append(c.RestartPolicyRules, podlife.RestartRule{
				Action: rapid.SampledFrom([]podlife.RestartRuleAction{podlife.RuleRestart, podlife.RuleRestartAllContainers}).Draw(t, "action"),
				ExitCodes: &podlife.ExitCodesRequirement{
					Operator: rapid.SampledFrom([]podlife.ExitCodeOperator{podlife.ExitCodeIn, podlife.ExitCodeNotIn}).Draw(t, "op"),
					Values:   rapid.SliceOfN(rapid.Int32Range(0, 255), 0, 5).Draw(t, "values"),
				},
			})
		}
	}
	if init && !c.IsSidecar() {
		return c // regular init containers have no probes or hooks
	}
	c.StartupProbe = g.probe("startup", false)
	c.LivenessProbe = g.probe("liveness", false)
	c.ReadinessProbe = g.probe("readiness", true)
	if rapid.Bool().Draw(t, "lifecycle") {
		c.Lifecycle = &podlife.Lifecycle{PostStart: g.hook("postStart"), PreStop: g.hook("preStop")}
	}
	return c
}

func (g specGen) env() podlife.EnvVar {
	e := podlife.EnvVar{Name: rapid.StringMatching(`[A-Za-z_.-][A-Za-z0-9_.-]{0,8}`).Draw(g.t, "envName")}
	ref := &podlife.KeyRef{
		Name:     rapid.SampledFrom([]string{"creds", "app.config", "a-b"}).Draw(g.t, "refName"),
		Key:      rapid.StringMatching(`[A-Za-z0-9_-][A-Za-z0-9_.-]{0,8}`).Draw(g.t, "refKey"),
		Optional: rapid.Bool().Draw(g.t, "optional"),
	}
	switch rapid.IntRange(0, 2).Draw(g.t, "envSource") {
	case 0:
		e.Value = rapid.String().Draw(g.t, "envValue")
	case 1:
		e.SecretKeyRef = ref
	default:
		e.ConfigMapKeyRef = ref
	}
	return e
}

func (g specGen) port() podlife.PortRef {
	if rapid.Bool().Draw(g.t, "namedPort") {
		return podlife.PortName(rapid.StringMatching(`[a-z]([a-z0-9]|-[a-z0-9]){0,6}`).Draw(g.t, "portName"))
	}
	return podlife.PortNumber(rapid.Int32Range(1, 65535).Draw(g.t, "portNumber"))
}

func (g specGen) httpGet() *podlife.HTTPGetAction {
	return &podlife.HTTPGetAction{
		Path:        rapid.SampledFrom([]string{"", "/", "/healthz"}).Draw(g.t, "path"),
		Port:        g.port(),
		Host:        rapid.SampledFrom([]string{"", "10.0.0.1"}).Draw(g.t, "host"),
		Scheme:      rapid.SampledFrom([]string{"", podlife.URISchemeHTTP, podlife.URISchemeHTTPS}).Draw(g.t, "scheme"),
		HTTPHeaders: rapid.SliceOfN(rapid.Custom(g.header), 0, 2).Draw(g.t, "headers"),
	}
}

func (g specGen) header(t *rapid.T) podlife.HTTPHeader {
	return podlife.HTTPHeader{Name: rapid.StringMatching(`[A-Za-z0-9-]{1,10}`).Draw(t, "headerName"), Value: rapid.String().Draw(t, "headerValue")}
}

func (g specGen) probe(label string, readiness bool) *podlife.Probe {
	t := g.t
	if !rapid.Bool().Draw(t, label) {
		return nil
	}
	p := &podlife.Probe{
		InitialDelaySeconds: rapid.Int32Range(0, 100).Draw(t, "initialDelay"),
		TimeoutSeconds:      rapid.Int32Range(0, 100).Draw(t, "timeout"),
		PeriodSeconds:       rapid.Int32Range(0, 100).Draw(t, "period"),
		SuccessThreshold:    rapid.Int32Range(0, 1).Draw(t, "success"),
		FailureThreshold:    rapid.Int32Range(0, 100).Draw(t, "failure"),
	}
	if readiness {
		p.SuccessThreshold = rapid.Int32Range(0, 5).Draw(t, "readinessSuccess")
	} else {
		p.TerminationGracePeriodSeconds = rapid.Ptr(rapid.Int64Range(1, 3600), true).Draw(t, "probeGrace")
	}
	switch rapid.IntRange(0, 3).Draw(t, "probeHandler") {
	case 0:
		p.Exec = &podlife.ExecAction{Command: rapid.SliceOfN(rapid.String(), 1, 3).Draw(t, "execCommand")}
	case 1:
		p.HTTPGet = g.httpGet()
	case 2:
		p.TCPSocket = &podlife.TCPSocketAction{Port: g.port()}
	default:
		p.GRPC = &podlife.GRPCAction{Port: rapid.Int32Range(1, 65535).Draw(t, "grpcPort"),
			Service: rapid.Ptr(rapid.String(), true).Draw(t, "service")}
	}
	return p
}

func (g specGen) hook(label string) *podlife.LifecycleHandler {
	t := g.t
	if !rapid.Bool().Draw(t, label) {
		return nil
	}
	switch rapid.IntRange(0, 2).Draw(t, "hookHandler") {
	case 0:
		return &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}}
	case 1:
		return &podlife.LifecycleHandler{HTTPGet: g.httpGet()}
	}
	return &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: rapid.Int64Range(0, g.grace).Draw(t, "sleep")}}
}

func (g specGen) volume(name string) podlife.Volume {
	v := podlife.Volume{Name: name, Optional: rapid.Bool().Draw(g.t, "volOptional")}
	v.Source = rapid.SampledFrom([]podlife.VolumeSource{"", podlife.VolumeEmptyDir, podlife.VolumeHostPath, podlife.VolumeSecret, podlife.VolumeConfigMap}).Draw(g.t, "source")
	if v.Source == podlife.VolumeHostPath || v.Source == podlife.VolumeSecret || v.Source == podlife.VolumeConfigMap {
		v.Ref = rapid.SampledFrom([]string{"/var/data", "creds", "cfg"}).Draw(g.t, "ref")
	}
	return v
}

func TestValidateAcceptsDefaultedValidSpecs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		require.NoError(t, s.Validate(), "generated spec")
		d := s.Defaulted()
		require.NoError(t, d.Validate(), "defaulted spec")
	})
}

func TestDefaultedIsIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genSpec(t).Defaulted()
		require.Empty(t, cmp.Diff(d, d.Defaulted()))
	})
}

func TestDefaultedLeavesNoDefaultableZero(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genSpec(t).Defaulted()
		require.NotEmpty(t, d.RestartPolicy)
		require.NotNil(t, d.TerminationGracePeriodSeconds)
		for _, v := range d.Volumes {
			require.NotEmpty(t, v.Source)
		}
		for _, c := range d.AllContainers() {
			require.NotEmpty(t, c.ImagePullPolicy)
			for _, p := range c.Ports {
				require.NotEmpty(t, p.Protocol)
			}
			for _, p := range []*podlife.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
				if p == nil {
					continue
				}
				require.Positive(t, p.TimeoutSeconds)
				require.Positive(t, p.PeriodSeconds)
				require.Positive(t, p.SuccessThreshold)
				require.Positive(t, p.FailureThreshold)
				if p.HTTPGet != nil {
					require.NotEmpty(t, p.HTTPGet.Path)
					require.NotEmpty(t, p.HTTPGet.Scheme)
				}
				if p.GRPC != nil {
					require.NotNil(t, p.GRPC.Service)
				}
			}
		}
	})
}

func TestDefaultedNeitherMutatesNorAliases(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		before := mustJSON(t, s)
		d := s.Defaulted()
		require.Equal(t, before, mustJSON(t, s), "Defaulted changed its input")
		scribble(&d)
		require.Equal(t, before, mustJSON(t, s), "the result shares memory with the input")
	})
}

func mustJSON(t require.TestingT, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// scribble changes every value reachable from p, through pointers and slices, so that a test can
// see whether another value shared any of that memory.
func scribble(p any) { scribbleValue(reflect.ValueOf(p).Elem()) }

func scribbleValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scribbleValue(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribbleValue(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			scribbleValue(v.Field(i))
		}
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(v.Int() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	}
}

func TestScribbleChangesEverything(t *testing.T) {
	s := fullSpec()
	before := mustJSON(t, s)
	scribble(&s)
	require.NotEqual(t, before, mustJSON(t, s))
	require.Equal(t, "web!", s.Containers[0].Name)
	require.Equal(t, int64(91), *s.Containers[0].LivenessProbe.TerminationGracePeriodSeconds)
}
