package restart_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/restart"
)

var (
	sha256Hex = strings.Repeat("ab", 32)
	sha512Hex = strings.Repeat("0f", 64)
)

func TestDefaultPullPolicy(t *testing.T) {
	always, ifNotPresent := podlife.PullAlways, podlife.PullIfNotPresent
	tests := []struct {
		name  string
		image string
		want  podlife.PullPolicy
	}{
		{"neither tag nor digest: Always", "nginx", always},
		{"tag latest: Always", "nginx:latest", always},
		{"another tag: IfNotPresent", "nginx:1.27", ifNotPresent},
		{"the tag is case-sensitive: Latest is not latest", "nginx:Latest", ifNotPresent},
		{"digest only: IfNotPresent", "nginx@sha256:" + sha256Hex, ifNotPresent},
		{"sha512 digest only: IfNotPresent", "nginx@sha512:" + sha512Hex, ifNotPresent},
		{"tag latest and a digest: the tag decides, Always", "nginx:latest@sha256:" + sha256Hex, always},
		{"another tag and a digest: IfNotPresent", "nginx:1.0@sha256:" + sha256Hex, ifNotPresent},
		{"registry host:port is not a tag: localhost:5000/app has no tag, Always", "localhost:5000/app", always},
		{"registry host:port with a tag: IfNotPresent", "localhost:5000/app:v1", ifNotPresent},
		{"registry host:port with tag latest: Always", "localhost:5000/app:latest", always},
		{"a named registry with a port and nested path, no tag: Always", "registry.example.com:443/team/app", always},
		{"a named registry with a port and a tag: IfNotPresent", "registry.example.com:443/team/app:2", ifNotPresent},
		{"a registry without a port or dot is a path on docker.io: Always", "myorg/app", always},
		{"an IPv6 registry with a port and a tag: IfNotPresent", "[::1]:5000/app:1", ifNotPresent},
		{"an upper-case registry name is a domain: Always", "Registry.Example.com/app", always},
		{"fully qualified docker.io name without a tag: Always", "docker.io/library/busybox", always},
		{"the legacy index.docker.io domain with a tag: IfNotPresent", "index.docker.io/busybox:1.36", ifNotPresent},
		{"separators in the path: Always", "my-org/my_app.v2__x", always},
		{"unparsable, upper-case repository: IfNotPresent (upstream ignores the parse error)", "Nginx", ifNotPresent},
		{"unparsable, empty: IfNotPresent", "", ifNotPresent},
		{"unparsable, a bare 64-hex identifier: IfNotPresent", sha256Hex, ifNotPresent},
		{"unparsable, empty tag: IfNotPresent", "nginx:", ifNotPresent},
		{"unparsable, short digest: IfNotPresent", "nginx@sha256:abc", ifNotPresent},
		{"unparsable, unsupported digest algorithm: IfNotPresent", "nginx@md5:" + strings.Repeat("a", 32), ifNotPresent},
		{"unparsable, upper-case digest hex: IfNotPresent", "nginx@sha256:" + strings.ToUpper(sha256Hex), ifNotPresent},
		{"unparsable, wrong digest length: IfNotPresent", "nginx@sha256:" + sha256Hex + "00", ifNotPresent},
		{"unparsable, path longer than 255 bytes: IfNotPresent", "example.com/" + strings.Repeat("a", 256), ifNotPresent},
		{"a path of exactly 255 bytes parses: Always", "example.com/" + strings.Repeat("a", 255), always},
		{"unparsable, spaces: IfNotPresent", "nginx latest", ifNotPresent},
		{"unparsable, a trailing slash: IfNotPresent", "nginx/", ifNotPresent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, restart.DefaultPullPolicy(tt.image), "image %q", tt.image)
		})
	}
}

func TestEffectivePullPolicy(t *testing.T) {
	tests := []struct {
		name string
		c    *podlife.Container
		want podlife.PullPolicy
	}{
		{"an explicit policy wins over the default", &podlife.Container{Image: "nginx", ImagePullPolicy: podlife.PullNever}, podlife.PullNever},
		{"an empty policy is defaulted from the image", &podlife.Container{Image: "nginx"}, podlife.PullAlways},
		{"an empty policy with a pinned tag", &podlife.Container{Image: "nginx:1.27"}, podlife.PullIfNotPresent},
		{"a nil container: IfNotPresent", nil, podlife.PullIfNotPresent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, restart.EffectivePullPolicy(tt.c))
		})
	}
}

func TestShouldPull(t *testing.T) {
	tests := []struct {
		name    string
		policy  podlife.PullPolicy
		present bool
		pull    bool
		err     error
	}{
		{"Always pulls a present image", podlife.PullAlways, true, true, nil},
		{"Always pulls a missing image", podlife.PullAlways, false, true, nil},
		{"IfNotPresent uses a present image", podlife.PullIfNotPresent, true, false, nil},
		{"IfNotPresent pulls a missing image", podlife.PullIfNotPresent, false, true, nil},
		{"Never uses a present image", podlife.PullNever, true, false, nil},
		{"Never with a missing image: ErrImageNeverPull", podlife.PullNever, false, false, restart.ErrImageNeverPull},
		{"an empty policy must be defaulted first", "", true, false, restart.ErrInvalidPullPolicy},
		{"an unknown policy is an error", "Sometimes", false, false, restart.ErrInvalidPullPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pull, err := restart.ShouldPull(tt.policy, tt.present)
			assert.Equal(t, tt.pull, pull)
			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			assert.True(t, errors.Is(err, tt.err), "got %v, want %v", err, tt.err)
		})
	}
	assert.Equal(t, "ErrImageNeverPull", restart.ErrImageNeverPull.Error(), "the error text is the waiting reason")
	_, err := restart.ShouldPull("Sometimes", false)
	assert.Contains(t, err.Error(), `"Sometimes"`)
}

func TestImageMessages(t *testing.T) {
	assert.Equal(t, `Container image "app:1" is not present with pull policy of Never`, restart.ImageNeverPullMessage("app:1"))
	assert.Equal(t, `Back-off pulling image "app:1"`, restart.ImagePullBackOffMessage("app:1"))
}

// FuzzDefaultPullPolicy: any string gives one of the two defaults, without panicking, and the
// answer does not change when asked twice.
func FuzzDefaultPullPolicy(f *testing.F) {
	for _, seed := range []string{"", "nginx", "nginx:latest", "localhost:5000/app", "[::1]:5000/a:b",
		"a@sha256:" + sha256Hex, "A/b:c", ":", "@", "/", "a//b", "a:b:c", "a@b@c", "\x00", "ü/ß:ñ",
		strings.Repeat("a/", 200) + "a"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, image string) {
		got := restart.DefaultPullPolicy(image)
		if got != podlife.PullAlways && got != podlife.PullIfNotPresent {
			t.Fatalf("DefaultPullPolicy(%q) = %q", image, got)
		}
		if again := restart.DefaultPullPolicy(image); again != got {
			t.Fatalf("DefaultPullPolicy(%q) changed: %q then %q", image, got, again)
		}
		if got == podlife.PullAlways && strings.ContainsAny(image, " \t\n") {
			t.Fatalf("DefaultPullPolicy(%q) = Always for a reference with white space", image)
		}
	})
}
