package podlife

import "strings"

// DefaultPullPolicy is the imagePullPolicy the API server gives a container that sets none
// (SetDefaults_Container): Always when the image's tag is "latest" or it has neither tag nor
// digest ("nginx", "localhost:5000/app", "nginx:latest@sha256:..."), IfNotPresent otherwise: any
// other tag, a digest without a tag, and a reference that does not parse (for example one with
// upper-case letters in its repository, or an empty one).
func DefaultPullPolicy(image string) PullPolicy {
	if imageTag(image) == "latest" {
		return PullAlways
	}
	return PullIfNotPresent
}

// imageTag is the tag k8s.io/kubernetes pkg/util/parsers.ParseImageName finds in image: its tag;
// "latest" when it has neither tag nor digest; "" when it has only a digest or does not parse.
// Parsing follows distribution/reference's ParseNormalizedNamed and its grammar:
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [domain '/'] path-component ['/' path-component]*
//	domain    := host [':' port]      host := domain-name | '[' IPv6 ']'
//	tag       := [\w][\w.-]{0,127}
func imageTag(image string) string {
	if len(image) == 64 && isLowerHex(image) {
		return "" // an image ID: "cannot specify 64-byte hexadecimal strings"
	}
	domain, remainder := splitDockerDomain(image)
	remote := remainder
	if i := strings.IndexByte(remainder, ':'); i >= 0 {
		remote = remainder[:i]
	}
	if strings.ToLower(remote) != remote {
		return "" // repository name must be lowercase
	}
	name, digest, hasDigest := strings.Cut(domain+"/"+remainder, "@")
	if hasDigest && !validDigest(digest) {
		return ""
	}
	tag := ""
	// A ':' after the last '/' can only start a tag: the domain ends at the first '/'.
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i+1:], "/") {
		name, tag = name[:i], name[i+1:]
		if !isTag(tag) {
			return ""
		}
	}
	if path, ok := repositoryPath(name); !ok || len(path) > maxRepositoryPathLength {
		return ""
	}
	if tag == "" && !hasDigest {
		return "latest"
	}
	return tag
}

// maxRepositoryPathLength is RepositoryNameTotalLengthMax: the path, without the domain.
const maxRepositoryPathLength = 255

// repositoryPath is the path of a name, without its domain, and whether the name parses. As the
// reference grammar does, it takes the first element as a domain when it can.
func repositoryPath(name string) (string, bool) {
	if d, r, ok := strings.Cut(name, "/"); ok && isDomainAndPort(d) && isRemoteName(r) {
		return r, true
	}
	return name, isRemoteName(name)
}

// isRemoteName: path components, each [a-z0-9]+ runs joined by '.', '_', '__' or '-'+.
func isRemoteName(s string) bool {
	for component := range strings.SplitSeq(s, "/") {
		if !isPathComponent(component) {
			return false
		}
	}
	return true
}

func isPathComponent(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); {
		if isLowerAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isLowerAlnum(s[j]) {
			j++
		}
		switch sep := s[i:j]; {
		case sep == "." || sep == "_" || sep == "__":
		case strings.Trim(sep, "-") == "":
		default:
			return false
		}
		i = j
	}
	return true
}

// isDomainAndPort: a domain name or a bracketed IPv6 address, then an optional ":port".
func isDomainAndPort(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		host, port = s[:end+1], s[end+1:]
		if !isBracketedIPv6(host) {
			return false
		}
	} else {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i:]
		}
		if !isDomainName(host) {
			return false
		}
	}
	if port == "" {
		return true
	}
	return port[0] == ':' && len(port) > 1 && isDigits(port[1:])
}

func isBracketedIPv6(s string) bool {
	if len(s) < 3 {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !(c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isDomainName: dot-separated components of letters, digits and inner '-'.
func isDomainName(s string) bool {
	for component := range strings.SplitSeq(s, ".") {
		if component == "" || !isAlnum(component[0]) || !isAlnum(component[len(component)-1]) {
			return false
		}
		for i := 0; i < len(component); i++ {
			if !isAlnum(component[i]) && component[i] != '-' {
				return false
			}
		}
	}
	return true
}

// isTag is [\w][\w.-]{0,127}.
func isTag(s string) bool {
	if s == "" || len(s) > 128 || !isWordChar(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordChar(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

func isWordChar(b byte) bool { return isAlnum(b) || b == '_' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// splitDockerDomain is distribution/reference's: the first path element is a registry when it
// is localhost, contains '.' or ':', or has upper-case letters; otherwise the image is on Docker
// Hub, under library/ when it has a single element.
func splitDockerDomain(name string) (domain, remainder string) {
	const defaultDomain, officialPrefix = "docker.io", "library/"
	maybeDomain, maybeRemainder, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return defaultDomain, officialPrefix + name
	case maybeDomain == "localhost",
		strings.ContainsAny(maybeDomain, ".:"),
		strings.ToLower(maybeDomain) != maybeDomain:
		domain, remainder = maybeDomain, maybeRemainder
	default:
		domain, remainder = defaultDomain, name
	}
	if domain == "index.docker.io" {
		domain = defaultDomain
	}
	if domain == defaultDomain && !strings.Contains(remainder, "/") {
		remainder = officialPrefix + remainder
	}
	return domain, remainder
}

// validDigest is go-digest's Parse for the algorithms Kubernetes links in: sha256, sha384 and
// sha512, each with lower-case hex of the right length.
func validDigest(d string) bool {
	algorithm, encoded, _ := strings.Cut(d, ":")
	var size int
	switch algorithm {
	case "sha256":
		size = 64
	case "sha384":
		size = 96
	case "sha512":
		size = 128
	default:
		return false
	}
	return len(encoded) == size && isLowerHex(encoded)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
