package podlife

import "strconv"

// Probe and hook validation: validateProbe, validateHandler, validateLifecycle and the action
// checks upstream.

const isNegativeMsg = "must be greater than or equal to 0"

// probes checks a container's three probes; successThreshold must be 1 for startup and liveness,
// and a readiness probe may not set its own terminationGracePeriodSeconds.
func (v *validator) probes(c *Container, p Path) {
	if pr := c.StartupProbe; pr != nil {
		pp := p.Child("startupProbe")
		v.probe(pr, pp)
		v.successThresholdOne(pr, pp)
	}
	if pr := c.LivenessProbe; pr != nil {
		pp := p.Child("livenessProbe")
		v.probe(pr, pp)
		v.successThresholdOne(pr, pp)
	}
	if pr := c.ReadinessProbe; pr != nil {
		pp := p.Child("readinessProbe")
		v.probe(pr, pp)
		if pr.TerminationGracePeriodSeconds != nil {
			v.add(Invalid(pp.Child("terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds,
				"must not be set for readinessProbes"))
		}
	}
}

// successThresholdOne: 0 is defaulted to 1, anything else but 1 is invalid.
func (v *validator) successThresholdOne(pr *Probe, p Path) {
	if pr.SuccessThreshold != 0 && pr.SuccessThreshold != 1 {
		v.add(Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
}

func (v *validator) probe(pr *Probe, p Path) {
	h := pr.ProbeHandler
	v.handler(actions{exec: h.Exec, httpGet: h.HTTPGet, tcpSocket: h.TCPSocket, grpc: h.GRPC}, p)
	v.nonNegative(pr.InitialDelaySeconds, p, "initialDelaySeconds")
	v.nonNegative(pr.TimeoutSeconds, p, "timeoutSeconds")
	v.nonNegative(pr.PeriodSeconds, p, "periodSeconds")
	v.nonNegative(pr.SuccessThreshold, p, "successThreshold")
	v.nonNegative(pr.FailureThreshold, p, "failureThreshold")
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		v.add(Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
}

// nonNegative checks the field called name under p. Leaf paths are built only for an error, which keeps
// validating a valid spec cheap.
func (v *validator) nonNegative(n int32, p Path, name string) {
	if n < 0 {
		v.add(Invalid(p.Child(name), int64(n), isNegativeMsg))
	}
}

// lifecycle checks a container's hooks; cp is the container's path.
func (v *validator) lifecycle(l *Lifecycle, cp Path) {
	if l == nil {
		return
	}
	p := cp.Child("lifecycle")
	if h := l.PostStart; h != nil {
		v.handler(actions{exec: h.Exec, httpGet: h.HTTPGet, sleep: h.Sleep}, p.Child("postStart"))
	}
	if h := l.PreStop; h != nil {
		v.handler(actions{exec: h.Exec, httpGet: h.HTTPGet, sleep: h.Sleep}, p.Child("preStop"))
	}
}

// actions is the union of probe and hook handlers (upstream's commonHandler).
type actions struct {
	exec      *ExecAction
	httpGet   *HTTPGetAction
	tcpSocket *TCPSocketAction
	grpc      *GRPCAction
	sleep     *SleepAction
}

// handler requires exactly one action. As upstream, a missing action is reported on the probe or
// hook itself, and every action after the first on its own path.
func (v *validator) handler(a actions, p Path) {
	n := 0
	// first reports whether the action at name is the first one set, reporting it otherwise.
	first := func(name string) bool {
		n++
		if n > 1 {
			v.add(Forbidden(p.Child(name), "may not specify more than 1 handler type"))
			return false
		}
		return true
	}
	if a.exec != nil && first("exec") && len(a.exec.Command) == 0 {
		v.add(Required(p.Child("exec").Child("command"), ""))
	}
	if a.httpGet != nil && first("httpGet") {
		v.httpGet(a.httpGet, p.Child("httpGet"))
	}
	if a.tcpSocket != nil && first("tcpSocket") {
		v.portRef(a.tcpSocket.Port, p.Child("tcpSocket").Child("port"))
	}
	if a.grpc != nil && first("grpc") && !validPortNumber(a.grpc.Port) {
		v.add(Invalid(p.Child("grpc").Child("port"), a.grpc.Port, portNumberMsg))
	}
	if a.sleep != nil && first("sleep") {
		v.sleep(a.sleep, p.Child("sleep"))
	}
	if n == 0 {
		v.add(Required(p, "must specify a handler type"))
	}
}

// httpGet checks an HTTP action. An empty path or scheme is defaulted ("/" and HTTP).
func (v *validator) httpGet(h *HTTPGetAction, p Path) {
	v.portRef(h.Port, p.Child("port"))
	switch h.Scheme {
	case "", URISchemeHTTP, URISchemeHTTPS:
	default:
		v.add(NotSupported(p.Child("scheme"), h.Scheme, URISchemeHTTP, URISchemeHTTPS))
	}
	for i := range h.HTTPHeaders {
		name := h.HTTPHeaders[i].Name
		if msgs := httpHeaderNameErrors(name); msgs != nil {
			v.invalidEach(p.Child("httpHeaders").Index(i).Child("name"), name, msgs)
		}
	}
}

// portRef checks a port given by number (1 to 65535) or by IANA service name. Upstream does not
// require a named port to exist among the container's ports; a probe on an unknown name fails
// at run time instead.
func (v *validator) portRef(port PortRef, p Path) {
	switch {
	case port.Name != "" && port.Number != 0:
		v.add(Invalid(p, port.String(), "must be a port number or a port name, not both"))
	case port.Name != "":
		v.invalidEach(p, port.Name, portNameErrors(port.Name))
	case !validPortNumber(port.Number):
		v.add(Invalid(p, port.Number, portNumberMsg))
	}
}

// sleep checks a sleep action against the pod's grace period. Zero is allowed
// (PodLifecycleSleepActionAllowZero, GA in 1.34).
func (v *validator) sleep(s *SleepAction, p Path) {
	if s.Seconds < 0 || s.Seconds > v.grace {
		v.add(Invalid(p.Child("seconds"), s.Seconds,
			"must be non-negative and less than terminationGracePeriodSeconds ("+strconv.FormatInt(v.grace, 10)+")"))
	}
}

// ValidateLifecycleHandler checks one postStart or preStop handler as PodSpec.Validate does,
// naming fields under path. gracePeriodSeconds is the pod's terminationGracePeriodSeconds, the
// bound of a sleep action (nil means 30; negative counts as 1, as the API server stores it).
func ValidateLifecycleHandler(h *LifecycleHandler, gracePeriodSeconds *int64, path Path) ErrorList {
	if h == nil {
		return ErrorList{Required(path, "must specify a handler type")}
	}
	v := validator{grace: (&PodSpec{TerminationGracePeriodSeconds: gracePeriodSeconds}).EffectiveGracePeriodSeconds()}
	v.handler(actions{exec: h.Exec, httpGet: h.HTTPGet, sleep: h.Sleep}, path)
	return v.errs
}
