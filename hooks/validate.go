package hooks

import (
	"fmt"
	"strings"

	"github.com/podlife/podlife"
)

// Validate checks a postStart or preStop handler as the API server's validateLifecycleHandler
// does, naming fields under path (for example spec.containers[0].lifecycle.preStop):
//   - exactly one handler type: none is "must specify a handler type", each one past the first
//     is "may not specify more than 1 handler type";
//   - exec: a command is required;
//   - httpGet: the port is a number from 1 to 65535 or a port name (IANA service name); the scheme
//     is empty (HTTP), HTTP or HTTPS; header names are HTTP tokens. An empty path is the default
//     "/";
//   - sleep: seconds from 0 to the pod's terminationGracePeriodSeconds (0 is allowed since
//     Kubernetes 1.34, PodLifecycleSleepActionAllowZero).
//
// gracePeriodSeconds is the pod's terminationGracePeriodSeconds; nil means the default 30.
func Validate(h *podlife.LifecycleHandler, gracePeriodSeconds *int64, path podlife.Path) podlife.ErrorList {
	set, n := setKinds(h)
	if n == 0 {
		return podlife.ErrorList{podlife.Required(path, "must specify a handler type")}
	}
	var errs podlife.ErrorList
	for _, k := range set[1:n] {
		errs = append(errs, podlife.Forbidden(path.Child(k.String()), "may not specify more than 1 handler type"))
	}
	switch p := path.Child(set[0].String()); set[0] {
	case Exec:
		if len(h.Exec.Command) == 0 {
			errs = append(errs, podlife.Required(p.Child("command"), ""))
		}
	case HTTPGet:
		errs = append(errs, validateHTTPGet(h.HTTPGet, p)...)
	case Sleep:
		grace := podlife.DefaultGracePeriodSeconds
		if gracePeriodSeconds != nil {
			grace = *gracePeriodSeconds
		}
		if s := h.Sleep.Seconds; s < 0 || s > grace {
			errs = append(errs, podlife.Invalid(p.Child("seconds"), s,
				fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", grace)))
		}
	}
	return errs
}

func validateHTTPGet(a *podlife.HTTPGetAction, path podlife.Path) podlife.ErrorList {
	var errs podlife.ErrorList
	switch port := a.Port; {
	case port.Name != "":
		if !isServiceName(port.Name) {
			errs = append(errs, podlife.Invalid(path.Child("port"), port.Name,
				"must be a port name: at most 15 lower-case letters, digits and '-', with a letter, not starting, ending or doubling '-'"))
		}
	case port.Number < 1 || port.Number > 65535:
		errs = append(errs, podlife.Invalid(path.Child("port"), port.Number, "must be between 1 and 65535, inclusive"))
	}
	switch a.Scheme {
	case "", "HTTP", "HTTPS":
	default:
		errs = append(errs, podlife.NotSupported(path.Child("scheme"), a.Scheme, "HTTP", "HTTPS"))
	}
	for i, h := range a.HTTPHeaders {
		if !isToken(h.Name) {
			errs = append(errs, podlife.Invalid(path.Child("httpHeaders").Index(i).Child("name"), h.Name,
				"a valid HTTP header must consist of alphanumeric characters, '-' and '_' or other token characters"))
		}
	}
	return errs
}

// isServiceName is the API's IANA_SVC_NAME: 1 to 15 of [a-z0-9-], at least one letter, no '-' at
// either end and no "--".
func isServiceName(s string) bool {
	if len(s) == 0 || len(s) > 15 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return letter
}

// isToken reports whether s is an RFC 7230 token, the rule for HTTP header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
