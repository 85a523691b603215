package podlife_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

var sha = "sha256:" + strings.Repeat("0123456789abcdef", 4)

func TestDefaultPullPolicy(t *testing.T) {
	cases := []struct {
		rule  string
		image string
		want  podlife.PullPolicy
	}{
		{"no tag and no digest means latest: Always", "nginx", podlife.PullAlways},
		{"tag latest: Always", "nginx:latest", podlife.PullAlways},
		{"any other tag: IfNotPresent", "nginx:1.25", podlife.PullIfNotPresent},
		{"a tag that only looks like latest is another tag", "nginx:Latest", podlife.PullIfNotPresent},
		{"digest only: IfNotPresent", "nginx@" + sha, podlife.PullIfNotPresent},
		{"tag latest with digest: the tag decides (Always)", "nginx:latest@" + sha, podlife.PullAlways},
		{"tag and digest: IfNotPresent", "nginx:1.25@" + sha, podlife.PullIfNotPresent},
		{"registry host:port is not a tag", "localhost:5000/app", podlife.PullAlways},
		{"registry host:port with tag", "localhost:5000/app:v2", podlife.PullIfNotPresent},
		{"registry host:port with latest", "registry.example.com:5000/team/app:latest", podlife.PullAlways},
		{"registry host with nested path, no tag", "ghcr.io/org/team/app", podlife.PullAlways},
		{"IPv6 registry with port", "[::1]:5000/app", podlife.PullAlways},
		{"Docker Hub user repo with tag", "library/busybox:1.36", podlife.PullIfNotPresent},
		{"legacy index.docker.io domain", "index.docker.io/nginx", podlife.PullAlways},
		{"an upper-case first element is a registry", "Registry/app", podlife.PullAlways},
		{"a tag of 128 characters is fine", "app:" + strings.Repeat("t", 128), podlife.PullIfNotPresent},
		{"separators in a repository: '.', '_', '__' and '-'", "my.app_name__x--y", podlife.PullAlways},
		{"a sha512 digest is supported", "app@sha512:" + strings.Repeat("ab", 64), podlife.PullIfNotPresent},
		{"a sha384 digest with latest", "app:latest@sha384:" + strings.Repeat("ab", 48), podlife.PullAlways},
		// A reference that does not parse gets no tag, so IfNotPresent (ParseImageName's error is ignored).
		{"unparsable: upper case in the repository", "Nginx", podlife.PullIfNotPresent},
		{"unparsable: upper case in a path", "example.com/Team/app", podlife.PullIfNotPresent},
		{"unparsable: empty", "", podlife.PullIfNotPresent},
		{"unparsable: a 64-hex image ID", strings.Repeat("ab", 32), podlife.PullIfNotPresent},
		{"unparsable: bad characters", "nginx!", podlife.PullIfNotPresent},
		{"unparsable: a tag of 129 characters", "app:" + strings.Repeat("t", 129), podlife.PullIfNotPresent},
		{"unparsable: unknown digest algorithm", "app:latest@md5:" + strings.Repeat("ab", 16), podlife.PullIfNotPresent},
		{"unparsable: short sha256 digest", "app:latest@sha256:" + strings.Repeat("ab", 16), podlife.PullIfNotPresent},
		{"unparsable: upper-case digest hex", "app:latest@sha256:" + strings.Repeat("AB", 32), podlife.PullIfNotPresent},
		{"unparsable: repository path over 255 characters", strings.Repeat("a", 256), podlife.PullIfNotPresent},
		{"repository path of 255 characters (with library/) is fine", strings.Repeat("a", 247), podlife.PullAlways},
		{"unparsable: IPv6 registry without ']'", "[::1/app", podlife.PullIfNotPresent},
		{"unparsable: empty IPv6 brackets", "[]:5000/app", podlife.PullIfNotPresent},
		{"unparsable: IPv6 registry with a non-hex digit", "[::g]/app", podlife.PullIfNotPresent},
		{"unparsable: junk after the IPv6 brackets", "[::1]x/app", podlife.PullIfNotPresent},
		{"unparsable: empty registry port", "host:/app", podlife.PullIfNotPresent},
		{"unparsable: registry port with a letter", "host:50x/app", podlife.PullIfNotPresent},
		{"unparsable: a tag starting with '.'", "app:.v1", podlife.PullIfNotPresent},
		{"unparsable: a tag with '!'", "app:v1!", podlife.PullIfNotPresent},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			require.Equal(t, tc.want, podlife.DefaultPullPolicy(tc.image), tc.image)
			require.Equal(t, tc.want, oraclePullPolicy(tc.image), "the reference grammar agrees on %q", tc.image)
		})
	}
}

// TestDefaultPullPolicyRegistryPort: a registry's host:port never reads as a tag.
func TestDefaultPullPolicyRegistryPort(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		host := rapid.SampledFrom([]string{"localhost", "registry.example.com", "10.0.0.1", "[fe80::1]"}).Draw(t, "host")
		port := rapid.IntRange(1, 65535).Draw(t, "port")
		repo := rapid.StringMatching(`[a-z0-9]+(-[a-z0-9]+)?(/[a-z0-9]+)?`).Draw(t, "repo")
		tag := rapid.StringMatching(`[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}`).Draw(t, "tag")
		base := host + ":" + itoa(port) + "/" + repo
		require.Equal(t, podlife.PullAlways, podlife.DefaultPullPolicy(base), base)
		want := podlife.PullIfNotPresent
		if tag == "latest" {
			want = podlife.PullAlways
		}
		require.Equal(t, want, podlife.DefaultPullPolicy(base+":"+tag), base+":"+tag)
		require.Equal(t, podlife.PullIfNotPresent, podlife.DefaultPullPolicy(base+"@"+sha))
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDefaultedFillsEachDefault(t *testing.T) {
	in := podlife.PodSpec{
		InitContainers: []podlife.Container{{Name: "init", Image: "busybox:1.36"}},
		Containers: []podlife.Container{{
			Name: "app", Image: "nginx",
			Ports:         []podlife.Port{{ContainerPort: 80}, {ContainerPort: 53, Protocol: podlife.ProtocolUDP}},
			LivenessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(80)}}},
			ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{GRPC: &podlife.GRPCAction{Port: 9090}},
				TimeoutSeconds: 5, PeriodSeconds: 7, SuccessThreshold: 2, FailureThreshold: 9, InitialDelaySeconds: 4},
			Lifecycle: &podlife.Lifecycle{PostStart: &podlife.LifecycleHandler{HTTPGet: &podlife.HTTPGetAction{
				Path: "/hook", Port: podlife.PortNumber(80), Scheme: podlife.URISchemeHTTPS}}},
		}},
		Volumes: []podlife.Volume{{Name: "scratch"}, {Name: "creds", Source: podlife.VolumeSecret, Ref: "creds"}},
	}
	out := in.Defaulted()

	cases := []struct {
		rule      string
		got, want any
	}{
		{"restartPolicy defaults to Always", out.RestartPolicy, podlife.RestartAlways},
		{"terminationGracePeriodSeconds defaults to 30", *out.TerminationGracePeriodSeconds, int64(30)},
		{"imagePullPolicy from an image without tag: Always", out.Containers[0].ImagePullPolicy, podlife.PullAlways},
		{"init containers are defaulted too: tagged image gets IfNotPresent", out.InitContainers[0].ImagePullPolicy, podlife.PullIfNotPresent},
		{"port protocol defaults to TCP", out.Containers[0].Ports[0].Protocol, podlife.ProtocolTCP},
		{"a set port protocol is kept", out.Containers[0].Ports[1].Protocol, podlife.ProtocolUDP},
		{"probe timeoutSeconds defaults to 1", out.Containers[0].LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe periodSeconds defaults to 10", out.Containers[0].LivenessProbe.PeriodSeconds, int32(10)},
		{"probe successThreshold defaults to 1", out.Containers[0].LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failureThreshold defaults to 3", out.Containers[0].LivenessProbe.FailureThreshold, int32(3)},
		{"probe initialDelaySeconds stays 0", out.Containers[0].LivenessProbe.InitialDelaySeconds, int32(0)},
		{"HTTP path defaults to /", out.Containers[0].LivenessProbe.HTTPGet.Path, "/"},
		{"HTTP scheme defaults to HTTP", out.Containers[0].LivenessProbe.HTTPGet.Scheme, podlife.URISchemeHTTP},
		{"set probe timings are kept", *out.Containers[0].ReadinessProbe, podlife.Probe{
			ProbeHandler:   podlife.ProbeHandler{GRPC: &podlife.GRPCAction{Port: 9090, Service: ptr("")}},
			TimeoutSeconds: 5, PeriodSeconds: 7, SuccessThreshold: 2, FailureThreshold: 9, InitialDelaySeconds: 4}},
		{"gRPC service defaults to empty", *out.Containers[0].ReadinessProbe.GRPC.Service, ""},
		{"a hook's set HTTP path and scheme are kept", *out.Containers[0].Lifecycle.PostStart.HTTPGet,
			podlife.HTTPGetAction{Path: "/hook", Port: podlife.PortNumber(80), Scheme: podlife.URISchemeHTTPS}},
		{"a volume without source is an emptyDir", out.Volumes[0].Source, podlife.VolumeEmptyDir},
		{"a volume source is kept", out.Volumes[1].Source, podlife.VolumeSecret},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) { require.Empty(t, cmp.Diff(tc.want, tc.got)) })
	}
}

func TestDefaultedGracePeriod(t *testing.T) {
	cases := []struct {
		rule string
		in   *int64
		want int64
	}{
		{"nil grace period is 30", nil, 30},
		{"0 is kept: stop at once", ptr[int64](0), 0},
		{"a positive value is kept", ptr[int64](120), 120},
		{"a negative value is treated as 1, as the API server does", ptr[int64](-5), 1},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			s := baseSpec()
			s.TerminationGracePeriodSeconds = tc.in
			require.Equal(t, tc.want, s.EffectiveGracePeriodSeconds())
			require.Equal(t, tc.want, *s.Defaulted().TerminationGracePeriodSeconds)
		})
	}
}

func TestDefaultedKeepsInvalidValues(t *testing.T) {
	s := baseSpec()
	s.RestartPolicy = "Sometimes"
	s.Containers[0].ImagePullPolicy = "Sometimes"
	s.Containers[0].LivenessProbe = execProbe()
	s.Containers[0].LivenessProbe.PeriodSeconds = -1
	s.Volumes = []podlife.Volume{{Name: "v", Source: "nfs"}}
	d := s.Defaulted()
	require.Equal(t, podlife.RestartPolicy("Sometimes"), d.RestartPolicy)
	require.Equal(t, podlife.PullPolicy("Sometimes"), d.Containers[0].ImagePullPolicy)
	require.Equal(t, int32(-1), d.Containers[0].LivenessProbe.PeriodSeconds)
	require.Equal(t, podlife.VolumeSource("nfs"), d.Volumes[0].Source)
	require.Equal(t, s.Validate().Error(), d.Validate().Error())
}

func TestDefaultedDoesNotMutateOrAlias(t *testing.T) {
	s := fullSpec()
	before := mustJSON(t, s)
	d := s.Defaulted()
	require.Equal(t, before, mustJSON(t, s), "Defaulted changed its input")
	scribble(&d)
	require.Equal(t, before, mustJSON(t, s), "the result shares memory with the input")
}

func TestDefaultedZeroSpec(t *testing.T) {
	d := podlife.PodSpec{}.Defaulted()
	require.Nil(t, d.Containers)
	require.Nil(t, d.InitContainers)
	require.Equal(t, podlife.RestartAlways, d.RestartPolicy)
}

func BenchmarkDefaulted(b *testing.B) {
	s := fullSpec()
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Defaulted()
	}
}

func BenchmarkDefaultPullPolicy(b *testing.B) {
	images := []string{"nginx", "localhost:5000/app:v2", "registry.example.com/team/app@" + sha}
	b.ReportAllocs()
	for b.Loop() {
		for _, img := range images {
			_ = podlife.DefaultPullPolicy(img)
		}
	}
}
