package podlife

import (
	"fmt"
	"strings"
	"unicode"
)

// The checks below follow k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label,
// IsDNS1123Subdomain, IsQualifiedName, IsValidPortName, IsValidPortNum, IsRelaxedEnvVarName,
// IsConfigMapKey, IsHTTPHeaderName). Each returns one message per broken rule, as upstream does,
// and nil when the value is fine. They are written by hand instead of with regular expressions so
// that validating a valid spec allocates little.

const (
	dns1123LabelMaxLength     = 63
	dns1123SubdomainMaxLength = 253
	qualifiedNameMaxLength    = 63
	portNameMaxLength         = 15
)

const (
	dns1123LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric " +
		"characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
	dns1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " +
		"characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
	qualifiedNameMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end " +
		"with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')"
	portNumberMsg     = "must be between 1 and 65535, inclusive"
	envVarNameMsg     = "a valid environment variable name must consist only of printable ASCII characters other than '='"
	configMapKeyMsg   = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name')"
	httpHeaderNameMsg = "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name')"
)

// IsDNS1123Label is why s is not a lowercase RFC 1123 label (at most 63 characters of a-z, 0-9
// and '-', alphanumeric at both ends), one message per broken rule, or nil when it is one: the
// API server's rule for namespaces and container names (apimachinery's IsDNS1123Label, with the
// same verdicts). A byte that is not a lowercase letter or digit, invalid UTF-8 included, breaks it.
func IsDNS1123Label(s string) []string { return dns1123LabelErrors(s) }

// IsDNS1123Subdomain is why s is not a lowercase RFC 1123 subdomain (dot-separated labels, at most
// 253 characters), or nil when it is one: the API server's rule for pod and node names
// (apimachinery's IsDNS1123Subdomain, with the same verdicts).
func IsDNS1123Subdomain(s string) []string { return dns1123SubdomainErrors(s) }

func maxLenMsg(n int) string { return fmt.Sprintf("must be no more than %d characters", n) }

func isLowerAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

func isAlnum(b byte) bool { return isLowerAlnum(b) || b >= 'A' && b <= 'Z' }

// matchesDNS1123Label is [a-z0-9]([-a-z0-9]*[a-z0-9])? without the length limit.
func matchesDNS1123Label(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// dns1123LabelErrors is why s is not a DNS-1123 label (container, volume names).
func dns1123LabelErrors(s string) []string {
	var errs []string
	if len(s) > dns1123LabelMaxLength {
		errs = append(errs, maxLenMsg(dns1123LabelMaxLength))
	}
	if !matchesDNS1123Label(s) {
		errs = append(errs, dns1123LabelMsg)
	}
	return errs
}

// dns1123SubdomainErrors is why s is not a DNS-1123 subdomain (secret and config map names):
// dot-separated labels, at most 253 characters in all.
func dns1123SubdomainErrors(s string) []string {
	var errs []string
	if len(s) > dns1123SubdomainMaxLength {
		errs = append(errs, maxLenMsg(dns1123SubdomainMaxLength))
	}
	for label := range strings.SplitSeq(s, ".") {
		if !matchesDNS1123Label(label) {
			errs = append(errs, dns1123SubdomainMsg)
			break
		}
	}
	return errs
}

// matchesQualifiedName is ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9].
func matchesQualifiedName(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// qualifiedNameErrors is why s is not a qualified name: an optional DNS subdomain prefix and
// '/', then a name of at most 63 characters (readiness gate condition types).
func qualifiedNameErrors(s string) []string {
	var errs []string
	var name string
	switch parts := strings.Split(s, "/"); len(parts) {
	case 1:
		name = parts[0]
	case 2:
		prefix := parts[0]
		name = parts[1]
		if prefix == "" {
			errs = append(errs, "prefix part must be non-empty")
		} else {
			for _, msg := range dns1123SubdomainErrors(prefix) {
				errs = append(errs, "prefix part "+msg)
			}
		}
	default:
		return []string{"a qualified name " + qualifiedNameMsg +
			" with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"}
	}
	if name == "" {
		errs = append(errs, "name part must be non-empty")
	} else if len(name) > qualifiedNameMaxLength {
		errs = append(errs, "name part "+maxLenMsg(qualifiedNameMaxLength))
	}
	if !matchesQualifiedName(name) {
		errs = append(errs, "name part "+qualifiedNameMsg)
	}
	return errs
}

// portNameErrors is why s is not an IANA service name usable as a port name.
func portNameErrors(s string) []string {
	var errs []string
	if len(s) > portNameMaxLength {
		errs = append(errs, maxLenMsg(portNameMaxLength))
	}
	charsetOK, hasLetter := s != "", false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && c != '-' {
			charsetOK = false
		}
		if c >= 'a' && c <= 'z' {
			hasLetter = true
		}
	}
	if !charsetOK {
		errs = append(errs, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
	}
	if !hasLetter {
		errs = append(errs, "must contain at least one letter (a-z)")
	}
	if strings.Contains(s, "--") {
		errs = append(errs, "must not contain consecutive hyphens")
	}
	if s != "" && (s[0] == '-' || s[len(s)-1] == '-') {
		errs = append(errs, "must not begin or end with a hyphen")
	}
	return errs
}

// validPortNumber reports whether n is a TCP/UDP port number.
func validPortNumber(n int32) bool { return n >= 1 && n <= 65535 }

// envVarNameErrors is why s is not an environment variable name under the relaxed rule
// (RelaxedEnvironmentVariableValidation, on by default since 1.32): printable ASCII except '='.
func envVarNameErrors(s string) []string {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == '=' {
			return []string{envVarNameMsg}
		}
	}
	return nil
}

// configMapKeyErrors is why s is not a key of a secret or config map.
func configMapKeyErrors(s string) []string {
	var errs []string
	if len(s) > dns1123SubdomainMaxLength {
		errs = append(errs, maxLenMsg(dns1123SubdomainMaxLength))
	}
	charsetOK := s != ""
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			charsetOK = false
			break
		}
	}
	if !charsetOK {
		errs = append(errs, configMapKeyMsg)
	}
	switch {
	case s == ".":
		errs = append(errs, "must not be '.'")
	case s == "..":
		errs = append(errs, "must not be '..'")
	case strings.HasPrefix(s, ".."):
		errs = append(errs, "must not start with '..'")
	}
	return errs
}

// httpHeaderNameErrors is why s is not an HTTP header name.
func httpHeaderNameErrors(s string) []string {
	if s == "" {
		return []string{httpHeaderNameMsg}
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return []string{httpHeaderNameMsg}
		}
	}
	return nil
}

// hasBackstep reports whether a path has a ".." element.
func hasBackstep(path string) bool {
	for part := range strings.SplitSeq(path, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}
