package podlifetest

import (
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/probe"
)

// The generators draw for pgregory.net/rapid: valid pod specs, scripts of the simulated runtime
// for them, schedules of operations, and whole scenarios. Each draws counts first and small
// values by preference, so rapid shrinks a failing case to few containers, few runs and few
// operations, and a Scenario prints as a scenario file (Scenario.GoString).

// SpecOptions bound the specs Spec draws; a zero field takes its default.
type SpecOptions struct {
	// MaxInitContainers bounds the init containers and sidecars (default 3).
	MaxInitContainers int
	// MaxContainers bounds the app containers, of which there is at least one (default 3).
	MaxContainers int
	// MaxGraceSeconds bounds terminationGracePeriodSeconds, the probes' own graces and sleep hooks
	// (default 60).
	MaxGraceSeconds int64
	// MaxActiveDeadlineSeconds bounds activeDeadlineSeconds, set in one spec of four (default
	// 400: past the end of a default scenario as often as within it).
	MaxActiveDeadlineSeconds int64
}

func (o SpecOptions) defaulted() SpecOptions {
	if o.MaxInitContainers <= 0 {
		o.MaxInitContainers = 3
	}
	if o.MaxContainers <= 0 {
		o.MaxContainers = 3
	}
	if o.MaxGraceSeconds <= 0 {
		o.MaxGraceSeconds = 60
	}
	if o.MaxActiveDeadlineSeconds <= 0 {
		o.MaxActiveDeadlineSeconds = 400
	}
	return o
}

// Spec draws pod specs that pass Validate: init containers and sidecars, app containers with
// their own restart policies and rules, every kind of probe and hook handler, policies, pull
// policies, environment, ports, volumes, readiness gates, an active deadline. Fields are left
// unset (to their defaults) as often as set.
func Spec(opts SpecOptions) *rapid.Generator[podlife.PodSpec] {
	o := opts.defaulted()
	return rapid.Custom(func(t *rapid.T) podlife.PodSpec {
		grace := rapid.Ptr(rapid.Int64Range(0, o.MaxGraceSeconds), true).Draw(t, "grace")
		g := specGen{t: t, opts: o, grace: podlife.DefaultGracePeriodSeconds}
		if grace != nil {
			g.grace = *grace
		}
		s := podlife.PodSpec{
			RestartPolicy:                 rapid.SampledFrom([]podlife.RestartPolicy{"", podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, "restartPolicy"),
			TerminationGracePeriodSeconds: grace,
			HostNetwork:                   rapid.IntRange(0, 3).Draw(t, "hostNetwork") == 0,
		}
		if rapid.IntRange(0, 3).Draw(t, "hasDeadline") == 0 {
			d := rapid.Int64Range(1, o.MaxActiveDeadlineSeconds).Draw(t, "activeDeadline")
			s.ActiveDeadlineSeconds = &d
		}
		if rapid.IntRange(0, 5).Draw(t, "readinessGate") == 0 {
			s.ReadinessGates = []string{rapid.SampledFrom([]string{"ready", "example.com/ready", "My.Gate_1"}).Draw(t, "gate")}
		}
		for i := range rapid.IntRange(0, o.MaxInitContainers).Draw(t, "inits") {
			s.InitContainers = append(s.InitContainers, g.container(fmt.Sprintf("init%d", i), true))
		}
		for i := range rapid.IntRange(1, o.MaxContainers).Draw(t, "apps") {
			s.Containers = append(s.Containers, g.container(fmt.Sprintf("app%d", i), false))
		}
		for i := range rapid.IntRange(0, 2).Draw(t, "volumes") {
			s.Volumes = append(s.Volumes, g.volume(fmt.Sprintf("vol%d", i)))
		}
		return s
	})
}

type specGen struct {
	t     *rapid.T
	opts  SpecOptions
	grace int64 // the pod's effective grace: sleep hooks stay within it
}

// Images are the images the generators draw from: a tag, none (pulled Always), latest, a
// digest, a registry with a port.
func Images() []string {
	return []string{"busybox:1.36", "nginx:1.25", "registry.example/app", "app:latest",
		"app@sha256:2d3a32b1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f", "localhost:5000/tool:dev"}
}

func (g specGen) container(name string, init bool) podlife.Container {
	t := g.t
	c := podlife.Container{
		Name:            name,
		Image:           rapid.SampledFrom(Images()).Draw(t, "image"),
		ImagePullPolicy: rapid.SampledFrom([]podlife.PullPolicy{"", "", podlife.PullAlways, podlife.PullIfNotPresent, podlife.PullNever}).Draw(t, "pull"),
		Command:         rapid.SliceOfN(rapid.SampledFrom([]string{"sh", "-c", "sleep 1", "run"}), 0, 2).Draw(t, "command"),
	}
	for range rapid.IntRange(0, 2).Draw(t, "env") {
		c.Env = append(c.Env, g.env())
	}
	if rapid.Bool().Draw(t, "port") {
		c.Ports = append(c.Ports, podlife.Port{
			Name:          rapid.SampledFrom([]string{"", "http"}).Draw(t, "portName"),
			ContainerPort: rapid.Int32Range(1, 65535).Draw(t, "containerPort"),
			Protocol:      rapid.SampledFrom([]string{"", podlife.ProtocolTCP, podlife.ProtocolUDP, podlife.ProtocolSCTP}).Draw(t, "protocol"),
		})
	}
	sidecar := init && rapid.Bool().Draw(t, "sidecar")
	if sidecar {
		always := podlife.RestartAlways
		c.RestartPolicy = &always
	}
	if !init || sidecar {
		if rapid.IntRange(0, 3).Draw(t, "ownPolicy") == 0 {
			if !sidecar {
				p := rapid.SampledFrom([]podlife.RestartPolicy{podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, "containerPolicy")
				c.RestartPolicy = &p
			}
			for range rapid.IntRange(0, 2).Draw(t, "rules") {
				r := podlife.RestartRule{
					Action: rapid.SampledFrom([]podlife.RestartRuleAction{podlife.RuleRestart, podlife.RuleRestartAllContainers}).Draw(t, "action"),
					ExitCodes: &podlife.ExitCodesRequirement{
						Operator: rapid.SampledFrom([]podlife.ExitCodeOperator{podlife.ExitCodeIn, podlife.ExitCodeNotIn}).Draw(t, "op"),
						Values:   rapid.SliceOfN(rapid.SampledFrom([]int32{0, 1, 2, 3, 42, 137}), 0, 3).Draw(t, "values"),
					},
				}
				if r.Action == podlife.RuleRestartAllContainers {
					// An in-place restart has no back-off (KEP-5532): a rule that the exits of its
					// own kills match (0 of a graceful stop, 137, 143, 128 of a failed start) would
					// restart the pod as fast as it is killed. Codes only runs exit with.
					r.ExitCodes = &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn,
						Values: rapid.SliceOfN(rapid.SampledFrom([]int32{1, 2, 3, 42}), 1, 2).Draw(t, "allValues")}
				}
				c.RestartPolicyRules = append(c.RestartPolicyRules, r)
			}
		}
	} else if rapid.IntRange(0, 3).Draw(t, "ownPolicy") == 0 {
		p := rapid.SampledFrom([]podlife.RestartPolicy{podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, "initPolicy")
		c.RestartPolicy = &p
	}
	if init && !sidecar {
		return c // regular init containers have no probes or hooks
	}
	c.StartupProbe = g.probe("startup", probe.Startup)
	c.LivenessProbe = g.probe("liveness", probe.Liveness)
	c.ReadinessProbe = g.probe("readiness", probe.Readiness)
	if rapid.Bool().Draw(t, "lifecycle") {
		c.Lifecycle = &podlife.Lifecycle{PostStart: g.hook("postStart"), PreStop: g.hook("preStop")}
		if c.Lifecycle.PostStart == nil && c.Lifecycle.PreStop == nil {
			c.Lifecycle = nil
		}
	}
	return c
}

func (g specGen) env() podlife.EnvVar {
	e := podlife.EnvVar{Name: rapid.SampledFrom([]string{"MODE", "app.level", "_X", "-a"}).Draw(g.t, "envName")}
	switch rapid.IntRange(0, 2).Draw(g.t, "envSource") {
	case 0:
		e.Value = rapid.SampledFrom([]string{"", "1", "a b"}).Draw(g.t, "envValue")
	case 1:
		e.SecretKeyRef = g.keyRef()
	default:
		e.ConfigMapKeyRef = g.keyRef()
	}
	return e
}

func (g specGen) keyRef() *podlife.KeyRef {
	return &podlife.KeyRef{
		Name:     rapid.SampledFrom([]string{"creds", "app.config", "a-b"}).Draw(g.t, "refName"),
		Key:      rapid.SampledFrom([]string{"key", "a.b", "_k-1"}).Draw(g.t, "refKey"),
		Optional: rapid.Bool().Draw(g.t, "optional"),
	}
}

func (g specGen) port() podlife.PortRef {
	if rapid.Bool().Draw(g.t, "namedPort") {
		return podlife.PortName(rapid.SampledFrom([]string{"http", "metrics", "a-1"}).Draw(g.t, "portName"))
	}
	return podlife.PortNumber(rapid.Int32Range(1, 65535).Draw(g.t, "portNumber"))
}

func (g specGen) httpGet() *podlife.HTTPGetAction {
	h := &podlife.HTTPGetAction{
		Path:   rapid.SampledFrom([]string{"", "/", "/healthz"}).Draw(g.t, "path"),
		Port:   g.port(),
		Host:   rapid.SampledFrom([]string{"", "", "10.0.0.1"}).Draw(g.t, "host"),
		Scheme: rapid.SampledFrom([]string{"", podlife.URISchemeHTTP, podlife.URISchemeHTTPS}).Draw(g.t, "scheme"),
	}
	if rapid.IntRange(0, 3).Draw(g.t, "header") == 0 {
		h.HTTPHeaders = []podlife.HTTPHeader{{Name: "X-Probe", Value: rapid.SampledFrom([]string{"", "1"}).Draw(g.t, "headerValue")}}
	}
	return h
}

func (g specGen) probe(label string, kind probe.Kind) *podlife.Probe {
	t := g.t
	if rapid.IntRange(0, 2).Draw(t, label) != 0 {
		return nil
	}
	p := &podlife.Probe{
		InitialDelaySeconds: rapid.SampledFrom([]int32{0, 0, 1, 5, 20}).Draw(t, "initialDelay"),
		TimeoutSeconds:      rapid.Int32Range(0, 3).Draw(t, "timeout"),
		PeriodSeconds:       rapid.SampledFrom([]int32{0, 1, 2, 3, 5, 10}).Draw(t, "period"),
		SuccessThreshold:    rapid.Int32Range(0, 1).Draw(t, "success"),
		FailureThreshold:    rapid.Int32Range(0, 4).Draw(t, "failure"),
	}
	if kind == probe.Readiness {
		p.SuccessThreshold = rapid.Int32Range(0, 3).Draw(t, "readinessSuccess")
	} else if rapid.IntRange(0, 3).Draw(t, "ownGrace") == 0 {
		gr := rapid.Int64Range(1, g.opts.MaxGraceSeconds).Draw(t, "probeGrace")
		p.TerminationGracePeriodSeconds = &gr
	}
	switch rapid.IntRange(0, 3).Draw(t, "probeHandler") {
	case 0:
		p.Exec = &podlife.ExecAction{Command: []string{rapid.SampledFrom([]string{"check", "true"}).Draw(t, "execCommand")}}
	case 1:
		p.HTTPGet = g.httpGet()
	case 2:
		p.TCPSocket = &podlife.TCPSocketAction{Port: g.port()}
	default:
		p.GRPC = &podlife.GRPCAction{Port: rapid.Int32Range(1, 65535).Draw(t, "grpcPort"),
			Service: rapid.Ptr(rapid.SampledFrom([]string{"", "health"}), true).Draw(t, "service")}
	}
	return p
}

func (g specGen) hook(label string) *podlife.LifecycleHandler {
	t := g.t
	if !rapid.Bool().Draw(t, label) {
		return nil
	}
	switch rapid.IntRange(0, 2).Draw(t, "hookHandler") {
	case 0:
		return &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}
	case 1:
		return &podlife.LifecycleHandler{HTTPGet: g.httpGet()}
	}
	return &podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: rapid.Int64Range(0, min(g.grace, 20)).Draw(t, "sleep")}}
}

func (g specGen) volume(name string) podlife.Volume {
	v := podlife.Volume{Name: name, Optional: rapid.Bool().Draw(g.t, "volOptional")}
	v.Source = rapid.SampledFrom([]podlife.VolumeSource{"", podlife.VolumeEmptyDir, podlife.VolumeHostPath, podlife.VolumeSecret, podlife.VolumeConfigMap}).Draw(g.t, "source")
	if v.Source == podlife.VolumeHostPath || v.Source == podlife.VolumeSecret || v.Source == podlife.VolumeConfigMap {
		v.Ref = rapid.SampledFrom([]string{"/var/data", "creds", "cfg"}).Draw(g.t, "ref")
	}
	return v
}

// ScriptOptions bound the scripts Script draws; a zero field takes its default.
type ScriptOptions struct {
	// MaxRuns bounds the runs scripted per container (default 3; the last repeats).
	MaxRuns int
	// Until is the time the scripted failure windows fall in (default 300 s).
	Until time.Duration
	// Agent keeps out what an Agent's concurrency makes ambiguous at one instant, so that
	// RunAgent plays the script as RunSim does. An Agent steps its machine with a timer's tick and
	// the runtime's report of an exit in whatever order they come when they come at one instant,
	// and the order can change what follows (a container restarting as another's exit restarts
	// them all). The runtime's own delays (setup, sandbox, pulls, hooks) take a millisecond past
	// whole seconds, off the machine's timers that count from the pod's start. And every
	// instance of container number c (in spec order) runs, falls into an unknown state a whole
	// number of seconds and 16^c nanoseconds, and stops in 16^c nanoseconds, before any stop's
	// timeout (so never by SIGKILL at a whole second): a
	// container's exits never meet a timer of the machine, which counts whole seconds from
	// something that happened, nor another container's exits. Also kept out: starts that fail
	// (the failure is the answer to the start, at the instant of the other containers' starts,
	// and it decides for them too when it matches a RestartAllContainers rule), probes that take
	// time, pulls scripted for an image two containers share (whether a pull happens depends on
	// which of two pulls at one instant comes first), and the sandbox loss a script times (use
	// OpLoseSandbox).
	Agent bool
}

func (o ScriptOptions) defaulted() ScriptOptions {
	if o.MaxRuns <= 0 {
		o.MaxRuns = 3
	}
	if o.Until <= 0 {
		o.Until = 300 * time.Second
	}
	return o
}

// Script draws scripts of the simulated runtime for spec: for each container, runs that exit
// with codes its rules match or not, run out their time, are OOM-killed, ignore the stop signal
// or take time to stop, fail to start or fall into an unknown state; pulls that are slow or fail;
// creates that fail; hooks that take time or fail; probes that fail or err over windows of time;
// and the pod's setup and sandboxes, slow or failing, or without an IP.
func Script(spec podlife.PodSpec, opts ScriptOptions) *rapid.Generator[simruntime.PodScript] {
	o := opts.defaulted()
	return rapid.Custom(func(t *rapid.T) simruntime.PodScript {
		sg := &scriptGen{t: t, opts: o}
		ps := simruntime.PodScript{
			SetupDelay:   sg.took("setupDelay", 0, 2),
			SandboxDelay: sg.took("sandboxDelay", 0, 2),
		}
		if rapid.IntRange(0, 6).Draw(t, "setupFailing") == 0 {
			ps.SetupFails = rapid.IntRange(1, 2).Draw(t, "setupFails")
		}
		if rapid.IntRange(0, 6).Draw(t, "sandboxFailing") == 0 {
			ps.SandboxFails = rapid.IntRange(1, 2).Draw(t, "sandboxFails")
		}
		if rapid.IntRange(0, 8).Draw(t, "noIP") == 0 {
			ps.SandboxNoIP = 1
		}
		if !o.Agent && rapid.IntRange(0, 5).Draw(t, "sandboxLost") == 0 {
			ps.SandboxLostAt = sg.dur("sandboxLostAt", 1, 120)
		}
		users := map[string]int{}
		for _, list := range [][]podlife.Container{spec.InitContainers, spec.Containers} {
			for _, c := range list {
				users[c.Image]++
			}
		}
		n := 0
		for _, list := range [][]podlife.Container{spec.InitContainers, spec.Containers} {
			for i := range list {
				c := &list[i]
				sg.shared = users[c.Image] > 1
				sg.phi = 0
				if o.Agent {
					sg.phi = time.Duration(1) << (4 * n)
				}
				n++
				if s, ok := sg.container(c); ok {
					if ps.Containers == nil {
						ps.Containers = map[string]simruntime.Script{}
					}
					ps.Containers[c.Name] = s
				}
			}
		}
		return ps
	})
}

type scriptGen struct {
	t    *rapid.T
	opts ScriptOptions
	// phi is the container's fraction of a second for the Agent (see ScriptOptions.Agent).
	phi time.Duration
	// shared: the container's image is another's too. Whether its pull happens then depends on
	// whether the other's pull at the same instant came first, so for an Agent it has no script.
	shared bool
}

// dur draws whole seconds in [lo, hi].
func (g *scriptGen) dur(label string, lo, hi int) time.Duration {
	return time.Duration(rapid.IntRange(lo, hi).Draw(g.t, label)) * time.Second
}

// took draws how long the runtime takes over something (a setup, a sandbox, a pull, a hook):
// whole seconds in [lo, hi], and for an Agent a millisecond more, so that the runtime's answer
// never meets a timer of the machine at a whole second after the pod started (the active
// deadline). A millisecond is no multiple of Ops' 1/64 s either, for sums below 125 of them.
func (g *scriptGen) took(label string, lo, hi int) time.Duration {
	d := g.dur(label, lo, hi)
	if g.opts.Agent {
		d += time.Millisecond
	}
	return d
}

func (g *scriptGen) container(c *podlife.Container) (simruntime.Script, bool) {
	t := g.t
	var s simruntime.Script
	var exits, again []int32
	for _, r := range c.RestartPolicyRules {
		if r.ExitCodes != nil {
			exits = append(exits, r.ExitCodes.Values...)
		}
	}
	exits = append(exits, 0, 1)
	// Only a first run exits with a code a RestartAllContainers rule matches: an in-place restart
	// has no back-off, so a run that did every time would restart the pod as fast as it runs.
	for _, code := range exits {
		all := false
		for _, r := range c.RestartPolicyRules {
			all = all || (r.Action == podlife.RuleRestartAllContainers && r.ExitCodes.Matches(code))
		}
		if !all {
			again = append(again, code)
		}
	}
	hasPostStart := c.Lifecycle != nil && c.Lifecycle.PostStart != nil
	var postStartTook time.Duration
	if hasPostStart {
		postStartTook = g.took("postStartTook", 0, 4)
		s.PostStart = simruntime.HookScript{Took: postStartTook}
		if rapid.IntRange(0, 4).Draw(t, "postStartFails") == 0 {
			s.PostStart.Failures = rapid.IntRange(1, 2).Draw(t, "postStartFailures")
		}
	}
	for i := range rapid.IntRange(0, g.opts.MaxRuns).Draw(t, "runs") {
		var r simruntime.Run
		if rapid.IntRange(0, 2).Draw(t, "runsOut") != 0 {
			r.For = g.dur(fmt.Sprintf("for%d", i), 1, 90) + g.phi
			codes := exits
			if i > 0 {
				codes = again
			}
			r.ExitCode = rapid.SampledFrom(codes).Draw(t, "exit")
			r.OOM = rapid.IntRange(0, 9).Draw(t, "oom") == 0
			if r.OOM {
				r.ExitCode = 0
			}
		}
		if g.opts.Agent {
			r.TermDelay = g.phi // quicker than any stop's timeout: the exit never meets the SIGKILL
		} else if r.IgnoreTerm = rapid.IntRange(0, 3).Draw(t, "ignoreTerm") == 0; !r.IgnoreTerm {
			r.TermDelay = g.dur("termDelay", 0, 8)
		}
		if !r.IgnoreTerm {
			r.GracefulExit = rapid.IntRange(0, 3).Draw(t, "gracefulExit") == 0
		}
		r.StartFails = !g.opts.Agent && rapid.IntRange(0, 12).Draw(t, "startFails") == 0
		if rapid.IntRange(0, 10).Draw(t, "unknown") == 0 {
			r.UnknownAfter = g.dur("unknownAfter", 1, 60) + g.phi
		}
		s.Runs = append(s.Runs, r)
	}
	if len(s.Runs) == 0 && g.opts.Agent {
		s.Runs = []simruntime.Run{{TermDelay: g.phi}}
	}
	if !g.opts.Agent || !g.shared {
		if rapid.IntRange(0, 3).Draw(t, "slowPull") == 0 {
			s.Pull.Delay = g.took("pullDelay", 1, 3)
		}
		if rapid.IntRange(0, 6).Draw(t, "pullFailing") == 0 {
			s.Pull.Failures = rapid.IntRange(1, 3).Draw(t, "pullFailures")
		}
		if rapid.IntRange(0, 8).Draw(t, "pullFailingUntil") == 0 {
			s.Pull.FailUntil = g.dur("pullFailUntil", 1, 60) + g.phi
		}
	}
	if rapid.IntRange(0, 10).Draw(t, "createFailing") == 0 {
		s.CreateFails = 1
		s.CreateFailReason = rapid.SampledFrom([]string{"", "CreateContainerConfigError"}).Draw(t, "createFailReason")
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		s.PreStop = simruntime.HookScript{Took: g.took("preStopTook", 0, 20)}
		if rapid.IntRange(0, 5).Draw(t, "preStopFails") == 0 {
			s.PreStop.Fail = true
		}
	}
	for _, k := range []probe.Kind{probe.Startup, probe.Liveness, probe.Readiness} {
		if probe.For(c, k) == nil {
			continue
		}
		ps := g.probe(k)
		if ps.Fail || len(ps.Windows) > 0 || ps.Took > 0 {
			if s.Probes == nil {
				s.Probes = map[probe.Kind]simruntime.ProbeScript{}
			}
			s.Probes[k] = ps
		}
	}
	zero := len(s.Runs) == 0 && s.Pull == (simruntime.Pull{}) && s.CreateFails == 0 &&
		s.PostStart == (simruntime.HookScript{}) && s.PreStop == (simruntime.HookScript{}) && len(s.Probes) == 0
	return s, !zero
}

func (g *scriptGen) probe(k probe.Kind) simruntime.ProbeScript {
	t := g.t
	var ps simruntime.ProbeScript
	until := int(g.opts.Until / time.Second)
	switch rapid.IntRange(0, 3).Draw(t, k.String()+"Script") {
	case 1: // from each instance's start
		ps.Fail = true
		ps.FailFrom = g.dur("failFrom", 0, 60)
		if rapid.Bool().Draw(t, "failEnds") {
			ps.FailUntil = ps.FailFrom + g.dur("failFor", 1, 60)
		}
	case 2: // windows from the pod's start
		for range rapid.IntRange(1, 2).Draw(t, "windows") {
			w := simruntime.ProbeWindow{From: g.dur("from", 0, until), Error: rapid.IntRange(0, 3).Draw(t, "errs") == 0}
			if rapid.Bool().Draw(t, "windowEnds") {
				w.Until = w.From + g.dur("windowFor", 1, 120)
			}
			ps.Windows = append(ps.Windows, w)
		}
	}
	if !g.opts.Agent && rapid.IntRange(0, 5).Draw(t, "probeTook") == 0 {
		ps.Took = g.dur("took", 1, 3)
	}
	return ps
}

// OpsOptions bound the schedules Ops draws; a zero field takes its default.
type OpsOptions struct {
	// MaxOps bounds the operations, a restart of the agent, a node lost and back and an outage of
	// the store counting for two (default 6).
	MaxOps int
	// Until is when the schedule ends (default 300 s).
	Until time.Duration
	// MaxActiveDeadlineSeconds bounds the activeDeadlineSeconds an update sets (default 400, as
	// SpecOptions').
	MaxActiveDeadlineSeconds int64
}

// Ops draws schedules of operations on a pod of spec: deletions (a second one, shorter or longer;
// a forced one), image updates, activeDeadlineSeconds set or lowered (never raised: the API
// server refuses that, and so does lifecycle.Client.UpdateSpec), sandbox losses, images made present, the agent stopped and a new
// one started or the node lost and back, store outages (never while the node is lost, nor in the
// two seconds before it is: a Supervisor that lost its watch in an outage sees the lease go only
// when it lists again). Each operation is at its own fraction of a second (a whole second
// and a 64th times its place in the schedule), so that none falls at the instant of another
// operation or of anything the pod does on its own, which all come at the seconds of the script
// and the spec, or at their sums with earlier operations; no lifecycle.Client call falls in a
// store outage or the two seconds after it, when it would fail or the agent would not see it yet.
func Ops(spec podlife.PodSpec, opts OpsOptions) *rapid.Generator[[]Op] {
	if opts.MaxOps <= 0 {
		opts.MaxOps = 6
	}
	if opts.Until <= 0 {
		opts.Until = 300 * time.Second
	}
	if opts.MaxActiveDeadlineSeconds <= 0 {
		opts.MaxActiveDeadlineSeconds = 400
	}
	deadline := opts.MaxActiveDeadlineSeconds // the spec's, or the bound: an update may set one up to it
	if d := spec.ActiveDeadlineSeconds; d != nil {
		deadline = *d
	}
	var names []string
	for _, list := range [][]podlife.Container{spec.InitContainers, spec.Containers} {
		for _, c := range list {
			names = append(names, c.Name)
		}
	}
	return rapid.Custom(func(t *rapid.T) []Op {
		last := int(opts.Until/time.Second) - 1
		var ops []Op
		n := 0
		sec := func(label string) time.Duration {
			n++
			return time.Duration(rapid.IntRange(0, last).Draw(t, label))*time.Second + time.Duration(n)*time.Second/64
		}
		// span draws an interval: from at a fraction of a second of its own, to lo to hi whole
		// seconds after from's second, at the next fraction.
		span := func(label string, lo, hi int) (from, to time.Duration) {
			from = sec(label + "At")
			d := time.Duration(rapid.IntRange(lo, hi).Draw(t, label+"For")) * time.Second
			n++
			return from, from - from%time.Second + d + time.Duration(n)*time.Second/64
		}
		var outages [][2]time.Duration
		var lost [][2]time.Duration // the node's absences
		agentDown := false
		for len(ops) < opts.MaxOps {
			kind := rapid.IntRange(0, 9).Draw(t, "op")
			if kind == 0 {
				break
			}
			switch kind {
			case 1, 2:
				op := Delete(sec("deleteAt"))
				switch rapid.IntRange(0, 5).Draw(t, "grace") {
				case 0:
				case 1:
					op.Grace = new(int64)
				default:
					g := rapid.Int64Range(1, 60).Draw(t, "graceSeconds")
					op.Grace = &g
				}
				ops = append(ops, op)
			case 3:
				c := rapid.SampledFrom(names).Draw(t, "container")
				ops = append(ops, UpdateImage(sec("updateAt"), c, "registry.example/"+c+":2"))
			case 4:
				ops = append(ops, LoseSandbox(sec("loseAt")))
			case 5:
				ops = append(ops, AddImage(sec("imageAt"), rapid.SampledFrom(Images()).Draw(t, "presentImage")))
			case 6:
				if agentDown || len(ops)+2 > opts.MaxOps {
					continue
				}
				stop, start := span("agentStop", 1, 61)
				ops = append(ops, StopAgent(stop), StartAgent(start))
				agentDown = true // one restart per schedule keeps the agent's stops and starts paired
			case 7:
				if len(outages) > 0 || len(ops)+2 > opts.MaxOps {
					continue
				}
				down, up := span("storeDown", 1, 60)
				if overlaps(lost, down, up+2*time.Second) {
					continue
				}
				ops = append(ops, StoreDown(down), StoreUp(up))
				outages = append(outages, [2]time.Duration{down, up})
			case 8:
				if agentDown || len(ops)+2 > opts.MaxOps {
					continue
				}
				at, back := span("nodeLost", 1, 61)
				if overlaps(outages, at-2*time.Second, back) {
					continue
				}
				ops = append(ops, LoseNode(at), NodeBack(back))
				lost = append(lost, [2]time.Duration{at, back})
				agentDown = true // the node's agent is away: no other restart in the schedule
			case 9:
				ops = append(ops, UpdateDeadline(sec("deadlineAt"), rapid.Int64Range(1, deadline).Draw(t, "deadline")))
			}
		}
		slices.SortStableFunc(ops, func(a, b Op) int { return int(a.At - b.At) })
		kept := ops[:0]
		for _, op := range ops {
			client := op.Kind == OpDelete || op.Kind == OpUpdateImage || op.Kind == OpUpdateDeadline
			if client && clientBlocked(outages, op.At) {
				continue
			}
			if op.At > opts.Until {
				continue
			}
			if op.Kind == OpUpdateDeadline {
				// In time order, each update sets the deadline or lowers it.
				op.Deadline = min(op.Deadline, deadline)
				deadline = op.Deadline
			}
			kept = append(kept, op)
		}
		return kept
	})
}

// overlaps reports whether [from, to) meets one of spans.
func overlaps(spans [][2]time.Duration, from, to time.Duration) bool {
	for _, sp := range spans {
		if from < sp[1] && sp[0] < to {
			return true
		}
	}
	return false
}

// clientBlocked reports whether a Client call at t falls in a store outage or the two seconds
// after it.
func clientBlocked(outages [][2]time.Duration, t time.Duration) bool {
	for _, o := range outages {
		if t >= o[0] && t < o[1]+2*time.Second {
			return true
		}
	}
	return false
}

// ScenarioOptions bound the scenarios Scenarios draws; a zero field takes its default.
type ScenarioOptions struct {
	Spec SpecOptions
	// MaxRuns bounds the runs scripted per container (default 3).
	MaxRuns int
	// MaxOps bounds the operations (default 6).
	MaxOps int
	// Until is the scenarios' end (default 300 s).
	Until time.Duration
	// Agent draws only scenarios RunAgent plays as RunSim does (see ScriptOptions.Agent).
	Agent bool
}

// Scenarios draws whole scenarios: a spec (Spec), its script (Script), the images present at
// the start (for an Agent, every image two containers share), and a schedule of operations
// (Ops).
func Scenarios(opts ScenarioOptions) *rapid.Generator[Scenario] {
	if opts.Until <= 0 {
		opts.Until = 300 * time.Second
	}
	return rapid.Custom(func(t *rapid.T) Scenario {
		sc := Scenario{Spec: Spec(opts.Spec).Draw(t, "spec"), Until: opts.Until}
		if g := sc.Spec.TerminationGracePeriodSeconds; opts.Agent && g != nil && *g == 0 {
			// A container killed alone with no grace is SIGKILLed at once, at the instant of the
			// tick that killed it, which other containers' ticks may share.
			sc.Spec.TerminationGracePeriodSeconds = nil
		}
		sc.Script = Script(sc.Spec, ScriptOptions{MaxRuns: opts.MaxRuns, Until: opts.Until, Agent: opts.Agent}).Draw(t, "script")
		users := map[string]int{}
		for _, list := range [][]podlife.Container{sc.Spec.InitContainers, sc.Spec.Containers} {
			for _, c := range list {
				users[c.Image]++
			}
		}
		for _, img := range Images() {
			// For an Agent, an image two containers share is there from the start: else whether
			// one finds it depends on which of their pulls at one instant comes first.
			if (opts.Agent && users[img] > 1) || rapid.Bool().Draw(t, "present") {
				sc.Images = append(sc.Images, img)
			}
		}
		sc.Ops = Ops(sc.Spec, OpsOptions{MaxOps: opts.MaxOps, Until: opts.Until,
			MaxActiveDeadlineSeconds: opts.Spec.MaxActiveDeadlineSeconds}).Draw(t, "ops")
		return sc
	})
}
