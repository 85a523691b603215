package restart

import (
	"errors"
	"regexp"
	"strings"
)

// The grammar of an image reference, as github.com/distribution/reference (regexp.go) spells it,
// which kubelet and the API server's defaulting use through ParseNormalizedNamed:
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [domain '/'] remote-name
//	domain    := host [':' port-number]
const (
	refAlphanumeric        = `[a-z0-9]+`
	refSeparator           = `(?:[._]|__|[-]+)`
	refDomainNameComponent = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refOptionalPort        = `(?::[0-9]+)?`
	refTag                 = `[\w][\w.-]{0,127}`
	refDigest              = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
	refIPv6                = `\[(?:[a-fA-F0-9:]+)\]`
	refDomainName          = refDomainNameComponent + `(?:\.` + refDomainNameComponent + `)*`
	refHost                = `(?:` + refDomainName + `|` + refIPv6 + `)`
	refDomainAndPort       = refHost + refOptionalPort
	refPathComponent       = refAlphanumeric + `(?:` + refSeparator + refAlphanumeric + `)*`
	refRemoteName          = refPathComponent + `(?:/` + refPathComponent + `)*`
	refName                = `(?:` + refDomainAndPort + `/)?` + refRemoteName

	// refNameTotalLengthMax bounds the path part of a name (RepositoryNameTotalLengthMax).
	refNameTotalLengthMax = 255
	// refDefaultDomain and refOfficialPrefix are how a familiar name such as "nginx" is read:
	// docker.io/library/nginx.
	refDefaultDomain  = "docker.io"
	refLegacyDomain   = "index.docker.io"
	refOfficialPrefix = "library/"
)

// Compiled once; a *regexp.Regexp is safe for concurrent use and never changes.
var (
	referenceRegexp    = regexp.MustCompile(`^(` + refName + `)(?::(` + refTag + `))?(?:@(` + refDigest + `))?$`)
	anchoredNameRegexp = regexp.MustCompile(`^(?:(` + refDomainAndPort + `)/)?(` + refRemoteName + `)$`)
	identifierRegexp   = regexp.MustCompile(`^[a-f0-9]{64}$`)
)

// errInvalidReference is what parseImageRef returns for anything the grammar rejects.
var errInvalidReference = errors.New("invalid image reference")

// imageRef is what DefaultPullPolicy needs of a parsed reference.
type imageRef struct {
	tag    string
	digest string
}

// parseImageRef parses image as ParseNormalizedNamed does: a bare 64-hex identifier is refused;
// a familiar name gets the docker.io domain; the repository must be lower case; then the whole
// reference must match the grammar, its path be at most 255 bytes and its digest be a well-formed
// sha256, sha384 or sha512 one (the algorithms kubelet registers).
func parseImageRef(image string) (imageRef, error) {
	if image == "" || identifierRegexp.MatchString(image) {
		return imageRef{}, errInvalidReference
	}
	domain, remainder := splitDockerDomain(image)
	remote, _, _ := strings.Cut(remainder, ":")
	if strings.ToLower(remote) != remote {
		return imageRef{}, errInvalidReference
	}
	m := referenceRegexp.FindStringSubmatch(domain + "/" + remainder)
	if m == nil {
		return imageRef{}, errInvalidReference
	}
	path := m[1]
	if n := anchoredNameRegexp.FindStringSubmatch(m[1]); n != nil {
		path = n[2]
	}
	if len(path) > refNameTotalLengthMax || (m[3] != "" && !validDigest(m[3])) {
		return imageRef{}, errInvalidReference
	}
	return imageRef{tag: m[2], digest: m[3]}, nil
}

// splitDockerDomain is distribution/reference's: the part before the first "/" is a registry when
// it is localhost, contains "." or ":", or has upper case; otherwise the name is on docker.io.
func splitDockerDomain(name string) (domain, remainder string) {
	maybeDomain, maybeRemainder, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return refDefaultDomain, refOfficialPrefix + name
	case maybeDomain == "localhost":
		domain, remainder = maybeDomain, maybeRemainder
	case maybeDomain == refLegacyDomain:
		domain, remainder = refDefaultDomain, maybeRemainder
	case strings.ContainsAny(maybeDomain, ".:"), strings.ToLower(maybeDomain) != maybeDomain:
		domain, remainder = maybeDomain, maybeRemainder
	default:
		domain, remainder = refDefaultDomain, name
	}
	if domain == refDefaultDomain && !strings.ContainsRune(remainder, '/') {
		remainder = refOfficialPrefix + remainder
	}
	return domain, remainder
}

// validDigest is go-digest's Validate for the algorithms kubelet links in: the encoded part is
// lower-case hex of the algorithm's exact length.
func validDigest(d string) bool {
	alg, hex, _ := strings.Cut(d, ":")
	var size int
	switch alg {
	case "sha256":
		size = 64
	case "sha384":
		size = 96
	case "sha512":
		size = 128
	default:
		return false
	}
	if len(hex) != size {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
