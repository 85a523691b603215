package podlife_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
)

// The oracle below is distribution/reference's parser built from its own regular expressions
// (regexp.go, normalize.go, reference.go), as Kubernetes' ParseImageName calls it. The hand-written
// parser behind DefaultPullPolicy must agree with it on every input.
const (
	oAlnum      = `[a-z0-9]+`
	oSeparator  = `(?:[._]|__|[-]+)`
	oPathComp   = oAlnum + `(?:` + oSeparator + oAlnum + `)*`
	oRemoteName = oPathComp + `(?:/` + oPathComp + `)*`
	oDomainComp = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	oHost       = `(?:` + oDomainComp + `(?:\.` + oDomainComp + `)*|\[(?:[a-fA-F0-9:]+)\])`
	oDomain     = oHost + `(?::[0-9]+)?`
	oName       = `(?:` + oDomain + `/)?` + oRemoteName
	oTag        = `[\w][\w.-]{0,127}`
	oDigest     = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
)

var (
	oReference = regexp.MustCompile(`^(` + oName + `)(?::(` + oTag + `))?(?:@(` + oDigest + `))?$`)
	oNameParts = regexp.MustCompile(`^(?:(` + oDomain + `)/)?(` + oRemoteName + `)$`)
	oID        = regexp.MustCompile(`^[a-f0-9]{64}$`)
	oDigests   = map[string]*regexp.Regexp{
		"sha256": regexp.MustCompile(`^[a-f0-9]{64}$`),
		"sha384": regexp.MustCompile(`^[a-f0-9]{96}$`),
		"sha512": regexp.MustCompile(`^[a-f0-9]{128}$`),
	}
)

func oracleSplitDomain(name string) (string, string) {
	d, r, ok := strings.Cut(name, "/")
	if !ok {
		return "docker.io", "library/" + name
	}
	domain, remote := "docker.io", name
	switch {
	case d == "localhost":
		domain, remote = d, r
	case d == "index.docker.io":
		domain, remote = "docker.io", r
	case strings.ContainsAny(d, ".:"), strings.ToLower(d) != d:
		domain, remote = d, r
	}
	if domain == "docker.io" && !strings.Contains(remote, "/") {
		remote = "library/" + remote
	}
	return domain, remote
}

func oraclePullPolicy(image string) podlife.PullPolicy {
	if tag, ok := oracleTag(image); ok && tag == "latest" {
		return podlife.PullAlways
	}
	return podlife.PullIfNotPresent
}

func oracleTag(image string) (string, bool) {
	if oID.MatchString(image) {
		return "", false
	}
	domain, remainder := oracleSplitDomain(image)
	remote, _, _ := strings.Cut(remainder, ":")
	if strings.ToLower(remote) != remote {
		return "", false
	}
	m := oReference.FindStringSubmatch(domain + "/" + remainder)
	if m == nil {
		return "", false
	}
	path := m[1]
	if nm := oNameParts.FindStringSubmatch(m[1]); nm != nil {
		path = nm[2]
	}
	if len(path) > 255 {
		return "", false
	}
	if m[3] != "" {
		alg, enc, _ := strings.Cut(m[3], ":")
		if re := oDigests[alg]; re == nil || !re.MatchString(enc) {
			return "", false
		}
	}
	if m[2] == "" && m[3] == "" {
		return "latest", true
	}
	return m[2], true
}

// imageGen draws references that are mostly well formed, with a broken piece now and then.
func imageGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		piece := func(label string, options ...string) string { return rapid.SampledFrom(options).Draw(t, label) }
		domain := piece("domain", "", "localhost/", "localhost:5000/", "registry.example.com/", "reg.io:443/",
			"[::1]:5000/", "[fe80::1]/", "Registry/", "index.docker.io/", "docker.io/", "my_reg.io/", "a-.io/", "-a.io/", "host:/", "[::1/")
		path := rapid.StringOf(rapid.SampledFrom([]rune("ab9._-/A"))).Draw(t, "path")
		tag := piece("tag", "", ":latest", ":1.25", ":v1.0-rc_1", ":", ":-bad", ":Latest", ":"+strings.Repeat("t", 128), ":"+strings.Repeat("t", 129))
		digest := piece("digest", "", "@"+sha, "@sha512:"+strings.Repeat("ab", 64), "@sha256:abc", "@md5:"+strings.Repeat("ab", 16),
			"@sha256:"+strings.Repeat("AB", 32), "@", "@@"+sha)
		return domain + path + tag + digest
	})
}

func TestDefaultPullPolicyAgreesWithReferenceGrammar(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		image := rapid.OneOf(
			imageGen(),
			rapid.StringOf(rapid.SampledFrom([]rune("ab09AZ._-/:@[]"))),
			rapid.String(),
		).Draw(t, "image")
		require.Equal(t, oraclePullPolicy(image), podlife.DefaultPullPolicy(image), "image %q", image)
	})
}

func FuzzDefaultPullPolicy(f *testing.F) {
	for _, s := range []string{"nginx", "localhost:5000/app:v1", "a_b.c/app", "[::1]:5000/x@" + sha, "x:" + strings.Repeat("y", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		if got, want := podlife.DefaultPullPolicy(image), oraclePullPolicy(image); got != want {
			t.Fatalf("DefaultPullPolicy(%q) = %s, reference grammar says %s", image, got, want)
		}
	})
}
