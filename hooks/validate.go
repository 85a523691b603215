package hooks

import "github.com/podlife/podlife"

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
	return podlife.ValidateLifecycleHandler(h, gracePeriodSeconds, path)
}
