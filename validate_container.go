package podlife

// Container validation: validateInitContainers, validateContainers, validateContainerCommon and
// validateContainerRestartPolicy upstream.

// initContainers checks init containers and sidecars. names holds the app containers' names and
// collects the init containers' own.
func (v *validator) initContainers(cs []Container, names map[string]bool, p Path) {
	for i := range cs {
		c := &cs[i]
		cp := p.Index(i)
		v.containerCommon(c, cp)
		if names[c.Name] {
			v.add(Duplicate(cp.Child("name"), c.Name))
		} else if c.Name != "" {
			names[c.Name] = true
		}
		v.initRestartPolicy(c, cp)
		if c.IsSidecar() {
			v.probes(c, cp)
			v.lifecycle(c.Lifecycle, cp)
			continue
		}
		const noProbes = "may not be set for init containers without restartPolicy=Always"
		if c.StartupProbe != nil {
			v.add(Forbidden(cp.Child("startupProbe"), noProbes))
		}
		if c.LivenessProbe != nil {
			v.add(Forbidden(cp.Child("livenessProbe"), noProbes))
		}
		if c.ReadinessProbe != nil {
			v.add(Forbidden(cp.Child("readinessProbe"), noProbes))
		}
		if c.Lifecycle != nil {
			v.add(Forbidden(cp.Child("lifecycle"), noProbes))
		}
	}
}

// appContainers checks the app containers; at least one is required.
func (v *validator) appContainers(cs []Container, p Path) {
	if len(cs) == 0 {
		v.add(Required(p, "must have at least one container"))
		return
	}
	names := make(map[string]bool, len(cs))
	for i := range cs {
		c := &cs[i]
		cp := p.Index(i)
		v.containerCommon(c, cp)
		if names[c.Name] {
			v.add(Duplicate(cp.Child("name"), c.Name))
		} else {
			names[c.Name] = true
		}
		if v.gates.ContainerRestartRules {
			v.containerRestartPolicy(c, cp)
		} else {
			if c.RestartPolicy != nil {
				v.add(Forbidden(cp.Child("restartPolicy"), "may not be set for non-init containers"))
			}
			v.rulesNeedGate(c, cp)
		}
		v.probes(c, cp)
		v.lifecycle(c.Lifecycle, cp)
	}
}

// containerCommon holds the checks every kind of container shares.
func (v *validator) containerCommon(c *Container, p Path) {
	if c.Name == "" {
		v.add(Required(p.Child("name"), ""))
	} else if msgs := dns1123LabelErrors(c.Name); msgs != nil {
		v.invalidEach(p.Child("name"), c.Name, msgs)
	}
	if c.Image == "" {
		v.add(Required(p.Child("image"), ""))
	} else if hasSurroundingSpace(c.Image) {
		v.add(Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.ImagePullPolicy {
	case "", PullAlways, PullIfNotPresent, PullNever: // empty is defaulted from the image
	default:
		v.add(NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, PullAlways, PullIfNotPresent, PullNever))
	}
	v.env(c.Env, p.Child("env"))
	v.ports(c.Ports, p.Child("ports"))
}

func (v *validator) env(vars []EnvVar, p Path) {
	for i := range vars {
		e := &vars[i]
		at := func(field string) Path { return p.Index(i).Child(field) }
		if e.Name == "" {
			v.add(Required(at("name"), ""))
		} else if msgs := envVarNameErrors(e.Name); msgs != nil {
			v.invalidEach(at("name"), e.Name, msgs)
		}
		refs := 0
		if e.SecretKeyRef != nil {
			refs++
			v.keyRef(e.SecretKeyRef, at, "secretKeyRef")
		}
		if e.ConfigMapKeyRef != nil {
			refs++
			v.keyRef(e.ConfigMapKeyRef, at, "configMapKeyRef")
		}
		switch {
		case refs > 0 && e.Value != "":
			v.add(Invalid(at("value"), e.Value, "may not be specified when secretKeyRef or configMapKeyRef is set"))
		case refs > 1:
			v.add(Invalid(at("configMapKeyRef"), e.ConfigMapKeyRef.Name, "may not be specified together with secretKeyRef"))
		}
	}
}

// keyRef checks a secret or config map key selector. As upstream, an empty name is reported as
// an invalid DNS subdomain and an empty key as required.
func (v *validator) keyRef(r *KeyRef, at func(string) Path, field string) {
	if msgs := dns1123SubdomainErrors(r.Name); msgs != nil {
		v.invalidEach(at(field).Child("name"), r.Name, msgs)
	}
	if r.Key == "" {
		v.add(Required(at(field).Child("key"), ""))
	} else if msgs := configMapKeyErrors(r.Key); msgs != nil {
		v.invalidEach(at(field).Child("key"), r.Key, msgs)
	}
}

func (v *validator) ports(ports []Port, p Path) {
	names := make(map[string]bool, len(ports))
	for i := range ports {
		port := &ports[i]
		at := func(field string) Path { return p.Index(i).Child(field) }
		if port.Name != "" {
			if msgs := portNameErrors(port.Name); msgs != nil {
				v.invalidEach(at("name"), port.Name, msgs)
			} else if names[port.Name] {
				v.add(Duplicate(at("name"), port.Name))
			} else {
				names[port.Name] = true
			}
		}
		if port.ContainerPort == 0 {
			v.add(Required(at("containerPort"), ""))
		} else if !validPortNumber(port.ContainerPort) {
			v.add(Invalid(at("containerPort"), port.ContainerPort, portNumberMsg))
		}
		switch port.Protocol {
		case "", ProtocolTCP, ProtocolUDP, ProtocolSCTP: // empty is defaulted to TCP
		default:
			v.add(NotSupported(at("protocol"), port.Protocol, ProtocolSCTP, ProtocolTCP, ProtocolUDP))
		}
	}
}

// initRestartPolicy is validateInitContainerRestartPolicy: Always makes a sidecar; with
// ContainerRestartRules an init container may also say Never or OnFailure and carry rules, but a
// sidecar may carry rules only with RestartAllContainersOnContainerExits.
func (v *validator) initRestartPolicy(c *Container, p Path) {
	if !v.gates.ContainerRestartRules {
		if c.RestartPolicy != nil && *c.RestartPolicy != RestartAlways {
			v.add(NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, RestartAlways))
		}
		v.rulesNeedGate(c, p)
		return
	}
	if c.RestartPolicy == nil {
		if len(c.RestartPolicyRules) > 0 {
			v.add(Required(p.Child("restartPolicy"), "must specify restartPolicy when restart rules are used"))
		}
		return
	}
	if *c.RestartPolicy == RestartAlways && !v.gates.RestartAllContainersOnContainerExits {
		if len(c.RestartPolicyRules) > 0 {
			v.add(Forbidden(p.Child("restartPolicyRules"),
				"restartPolicyRules are not allowed for init containers with restart policy Always"))
		}
		return
	}
	v.containerRestartPolicy(c, p)
}

// rulesNeedGate forbids restart rules when ContainerRestartRules is off (the API server drops
// the field then; podlife reports it instead of ignoring it).
func (v *validator) rulesNeedGate(c *Container, p Path) {
	if len(c.RestartPolicyRules) > 0 {
		v.add(Forbidden(p.Child("restartPolicyRules"), "may not be set without the ContainerRestartRules feature gate"))
	}
}

// containerRestartPolicy is validateContainerRestartPolicy: the container-level policy and its
// exit-code rules (KEP-5307).
func (v *validator) containerRestartPolicy(c *Container, p Path) {
	rules := c.RestartPolicyRules
	if c.RestartPolicy == nil {
		if len(rules) == 0 {
			return
		}
		v.add(Required(p.Child("restartPolicy"), "must specify restartPolicy when restart rules are used"))
	} else {
		switch rp := *c.RestartPolicy; rp {
		case RestartAlways, RestartOnFailure, RestartNever:
		default:
			v.add(NotSupported(p.Child("restartPolicy"), rp, RestartAlways, RestartNever, RestartOnFailure))
		}
	}
	if len(rules) == 0 {
		return
	}
	rulesPath := p.Child("restartPolicyRules")
	if len(rules) > MaxRestartPolicyRules {
		v.add(TooMany(rulesPath, len(rules), MaxRestartPolicyRules))
	}
	for i := range rules {
		v.restartRule(&rules[i], rulesPath.Index(i))
	}
}

func (v *validator) restartRule(r *RestartRule, p Path) {
	switch {
	case r.Action == RuleRestart:
	case r.Action == RuleRestartAllContainers && v.gates.RestartAllContainersOnContainerExits:
	case v.gates.RestartAllContainersOnContainerExits:
		v.add(NotSupported(p.Child("action"), r.Action, RuleRestart, RuleRestartAllContainers))
	default:
		v.add(NotSupported(p.Child("action"), r.Action, RuleRestart))
	}
	if r.ExitCodes == nil {
		v.add(Required(p.Child("exitCodes"), "must be specified"))
		return
	}
	ep := p.Child("exitCodes")
	switch r.ExitCodes.Operator {
	case ExitCodeIn, ExitCodeNotIn:
	default:
		v.add(NotSupported(ep.Child("operator"), r.ExitCodes.Operator, ExitCodeIn, ExitCodeNotIn))
	}
	if n := len(r.ExitCodes.Values); n > MaxRuleExitCodes {
		v.add(TooMany(ep.Child("values"), n, MaxRuleExitCodes))
	}
}
