// Command podsim runs one pod through its whole life on podlife's embedded default runtime
// (simruntime's Sim: a simulated node in virtual time, so a run of minutes finishes at once and
// prints the same every time) and shows it as `kubectl get pods -w` would, with the events
// `kubectl describe pod` lists.
//
// Usage:
//
//	go run ./examples/podsim [flags]
//
// Without flags it runs the built-in demo pod "shop": an init container migrate (3 s, exit 0);
// a sidecar log-shipper (an init container with restartPolicy Always) whose startup probe fails
// twice; and an app container web with startup, liveness and readiness probes and a preStop
// hook (sleep 5 s). web exits 1 after 20 s three times, so the crash-loop back-off of 0 s, 10 s
// and 20 s shows, then keeps running; its readiness probe fails for a while, so READY flips; at
// 5 min the pod is deleted with its 30 s grace: Killing, preStop, SIGTERM to web, the sidecar
// stopped last, and the terminal phase.
//
// Output is one row per change, TIME being virtual time since the pod was bound:
//
//	TIME  PHASE    STATUS    READY  RESTARTS  EVENT
//	0s    Pending  Init:0/2  0/2    0         pod bound to the node
//	...
//
// STATUS, READY and RESTARTS are kubectl's (phase.KubectlColumns; Terminating once the delete
// was requested). EVENT is a Kubernetes event the pod's lifecycle.Machine recorded (reason,
// container, message; "Warning" for warnings), an operation from outside (DeleteRequested, an
// image update, the agent stopped, the node lost, ...), a container exit, a hook or stop signal
// the machine asked for, or, for a row that only shows changed columns, what caused the change.
// A row is printed whenever an event is recorded or the columns change. The first line says
// which pod runs and what its unscripted containers do (see Defaults).
//
// Flags:
//
//	-svg FILE            also draw the run as an SVG picture: one row per container coloured
//	                     by state over time, restarts, probe failures, stop signals, the deletion
//	-f FILE              simulate the pod of a Kubernetes manifest (YAML or JSON; a Pod or the
//	                     pod template of a Deployment, Job, StatefulSet, DaemonSet, CronJob,
//	                     ...; read by lifecycle/kube, whose warnings name every field podlife
//	                     does not model, with its line); e.g. -f examples/manifests/job.yaml
//	-name NAME           with -f, the object to run when the file holds several
//	-spec FILE           simulate this pod instead of the demo: a podlife.PodSpec as JSON
//	                     (the field names of k8s.io/api/core/v1's PodSpec)
//	-script FILE         what the simulated node does with the pod: a simruntime.PodScript as
//	                     JSON (below); the demo pod runs its built-in script
//	-scenario FILE       play a scenario file (YAML, below): a pod (or the one of -f or -spec),
//	                     what its containers do, and a timeline of operations at virtual times
//	-delete-at DURATION  when the pod is deleted, after it was bound (default 5m; 0 = never;
//	                     not with -scenario, whose timeline says)
//	-grace SECONDS       the delete request's grace period (default -1 = the spec's
//	                     terminationGracePeriodSeconds)
//	-until DURATION      the end of virtual time (default 15m, or the scenario's until; at most
//	                     24h); the run ends earlier once the pod stopped
//	-max-file-bytes SIZE    read no -f, -spec, -script or -scenario file larger than this
//	                        (default 16Mi; -1: no limit); SIZE is bytes or a quantity (3Mi, 500k)
//	-max-object-bytes SIZE  with -f, refuse a document larger than this (default 3Mi, the API
//	                        server's limit on a request)
//	-max-objects N          with -f, read at most N documents and List items (default 10000)
//
// The exit code is 0 for a run, 2 for bad usage (a bad flag, a file that cannot be read or is
// not valid), and 1 when the simulation itself fails or the SVG cannot be written.
//
// # Defaults
//
// A container that nothing scripts (no runs in -script or the scenario) does what a user of a
// manifest expects: a regular init container runs 2 s and exits 0, a container of a Job's or
// CronJob's pod template runs 5 s and exits 0 (it completes), and every other container, a
// sidecar or a server, runs until it is stopped (exit 143 on SIGTERM). The first line of the
// output says which of these applied, e.g. "no script: init containers exit 0 after 2s,
// containers run until stopped". A script or a scenario overrides any of them by giving the
// container's runs.
//
// # The -script JSON
//
// The fields of simruntime.PodScript, Script, Run, Pull, HookScript and ProbeScript in
// lowerCamelCase; durations are Go duration strings ("500ms", "20s", "1m30s"); probes are keyed
// by kind (startup, liveness, readiness); a probe's failure window is measured from each
// container instance's start. Every field may be left out. Unknown fields, containers the pod
// does not have, and probes or hooks a container does not have are errors. An example, close to
// the demo's script (testdata/demo-script.json is the demo's exactly, testdata/demo-spec.json its
// spec):
//
//	{
//	  "setupDelay": "1s",
//	  "containers": {
//	    "migrate": {"runs": [{"for": "3s", "exitCode": 0}]},
//	    "log-shipper": {
//	      "runs": [{"termDelay": "1s", "gracefulExit": true}],
//	      "probes": {"startup": {"fail": true, "failUntil": "4s", "message": "no socket yet"}}
//	    },
//	    "web": {
//	      "pull": {"delay": "2s"},
//	      "runs": [
//	        {"for": "20s", "exitCode": 1, "times": 3},
//	        {"termDelay": "2s", "gracefulExit": true}
//	      ],
//	      "preStop": {"took": "5s"},
//	      "probes": {"readiness": {"fail": true, "failFrom": "1m", "failUntil": "90s", "message": "db pool exhausted"}}
//	    }
//	  }
//	}
//
// Pod level: setupDelay, setupFails (FailedMount before the first success), sandboxDelay,
// sandboxFails, sandboxNoIP (that many sandboxes come up without an IP), sandboxLostAt (lose the
// first sandbox that long after it became ready).
// Per container: runs (runs[i] is instance i, the last one repeats; each has for, exitCode, oom,
// ignoreTerm, termDelay, gracefulExit, startFails, unknownAfter (the runtime then reports it in
// an unknown state), and times (that many instances in a row run it); a run without "for" runs
// until it is stopped and exits 143 on SIGTERM after termDelay, or 0 with gracefulExit), pull
// (delay, failures, failsAlways, failUntil: the pulls that start before that time after the
// pod's start fail, an image pushed late), createFails and createFailReason
// (CreateContainerError or CreateContainerConfigError), postStart and preStop (took, fail,
// failures, message; a sleep hook takes its seconds by default), probes (fail, failFrom,
// failUntil, took, message; a run that takes longer than the probe's timeoutSeconds fails; and
// windows, failures or errors at times from the pod's start: [{"from": "40s", "until": "60s",
// "error": true}]).
//
// # Scenario files
//
// A -scenario file is YAML, versioned by its first key (podsim-scenario: v1; a file of another
// version is refused). It says the pod, what its containers do and what happens to it from
// outside, at virtual times from the pod's binding:
//
//	# A cache whose node is lost for a while (examples/scenarios/node-lost.yaml).
//	podsim-scenario: v1
//	pod:                             # or -f / -spec on the command line
//	  manifest: ../manifests/x.yaml  # a manifest, from this file's directory (name: its object)
//	  # or: name: cache, namespace: default, spec: {...} (a Pod manifest's spec)
//	until: 4m                        # the end of virtual time (default 15m)
//	images: [busybox:1.36]           # present on the node from the start
//	script:                          # the -script JSON above, in YAML
//	  containers:
//	    redis:
//	      runs: [{for: 100s, exitCode: 137}, {}]
//	      pull: {failUntil: 40s}
//	      probes: {readiness: {windows: [{from: 60s, until: 90s}]}}
//	timeline:                        # one operation per entry
//	- {at: 60s, node: lost}          # the agent is gone, its lease expires: Unknown, NodeLost
//	- {at: 150s, node: back}         # a new agent recovers the pod and reports its true status
//	- {at: 2m, setImage: {container: redis, image: "redis:7.4.1"}}
//	- {at: 100s, setDeadline: {seconds: 150}}  # activeDeadlineSeconds, set or lowered (never
//	                                 # raised: the API server refuses it), counted from the start
//	- {at: 3m, delete: {}}           # the spec's grace; delete: {grace: 5} a shorter one,
//	- {at: 3m10s, delete: {grace: 0}}  # grace 0 a forced deletion
//	- {at: 30s, agent: stop}         # the agent stops, the containers run on (agent: start)
//	- {at: 45s, sandbox: lost}       # the sandbox dies
//	- {at: 50s, imagePresent: "redis:8.0"}
//
// Every operation's rules are Go's scenario.Scenario's (package podlife/scenario): the agent
// is stopped before it starts again, the node lost before it is back, and while it is lost the
// agent's own stop and start are not allowed. A bad file fails as a manifest does, each problem
// on its own line with the file's line and the field path ("x.yaml:14: timeline[2].delete.grace:
// Invalid value: -1: ..."). A file of the text format of podlife's golden traces
// (podlife-scenario: v1, see package scenario) plays too.
//
// For example, a report job (restartPolicy OnFailure) whose container is OOM-killed after 45 s
// twice and then completes, never deleted (from the module's root):
//
//	go run ./examples/podsim -spec examples/podsim/testdata/oom-spec.json \
//		-script examples/podsim/testdata/oom-script.json -delete-at 0 -until 10m -svg oom.svg
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/scenario"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the simulation failed, or the SVG could not be written
	exitUsage   = 2 // a bad flag or input file
)

// usageError is a problem with the command line or the files it names.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// options are the parsed flags.
type options struct {
	svg, spec, script string
	manifest, pod     string
	scenario          string
	deleteAt, until   time.Duration
	grace             int64
	limits            kube.LoadOptions // for every file read
	set               map[string]bool  // the flags given on the command line
}

// run is the command: it parses args, simulates, writes the timeline to stdout and problems to
// stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return report(stderr, err)
	}
	p, err := load(opts)
	if err != nil {
		return report(stderr, err)
	}
	for _, n := range p.notes {
		fmt.Fprintln(stderr, quote.Text(n))
	}
	res, simErr := simulate(p)
	if res == nil {
		return report(stderr, fmt.Errorf("simulation: %w", simErr))
	}
	if err := writeTimeline(stdout, res, p.header()); err != nil {
		return report(stderr, fmt.Errorf("writing the timeline: %w", err))
	}
	if simErr != nil {
		return report(stderr, fmt.Errorf("simulation: %w", simErr))
	}
	if opts.svg != "" {
		if err := writeSVGFile(opts.svg, res, p.ref.Namespace+"/"+p.ref.Name); err != nil {
			return report(stderr, err)
		}
	}
	return exitOK
}

func report(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "podsim:", quote.Text(err.Error())) // the error may quote a crafted file
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "Run 'go run ./examples/podsim -h' for the flags.")
		return exitUsage
	}
	return exitFailure
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("podsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.svg, "svg", "", "also write the run as an SVG picture to `FILE`")
	fs.StringVar(&o.spec, "spec", "", "simulate the pod spec in `FILE` (a podlife.PodSpec as JSON) instead of the demo")
	fs.StringVar(&o.manifest, "f", "", "simulate the pod of the Kubernetes manifest in `FILE` (YAML or JSON: a Pod, or the pod template of a Deployment, Job, StatefulSet, DaemonSet, ...)")
	fs.StringVar(&o.pod, "name", "", "with -f: the object to run when the file holds several (default: the first)")
	fs.StringVar(&o.script, "script", "", "script the simulated node with `FILE` (a simruntime.PodScript as JSON; `go doc ./examples/podsim` shows the shape)")
	fs.StringVar(&o.scenario, "scenario", "", "play the scenario in `FILE` (YAML: a pod, what its containers do, a timeline of deletes, image updates, agent restarts, a lost node, ...; `go doc ./examples/podsim` shows the format)")
	fs.DurationVar(&o.deleteAt, "delete-at", demoDeleteAt, "delete the pod this long after it was bound (0 = never)")
	fs.Int64Var(&o.grace, "grace", -1, "the delete request's grace period in `SECONDS` (-1 = the spec's terminationGracePeriodSeconds)")
	fs.DurationVar(&o.until, "until", demoUntil, "the end of virtual time (at most 24h)")
	o.limits = kube.LoadOptions{MaxFileBytes: kube.DefaultMaxFileBytes, MaxObjectBytes: kube.DefaultMaxObjectBytes, MaxObjects: kube.DefaultMaxObjects}
	fs.Func("max-file-bytes", "read no file larger than `SIZE` bytes (a number or a quantity: 16Mi; -1: no limit) (default 16Mi)",
		sizeFlag(&o.limits.MaxFileBytes))
	fs.Func("max-object-bytes", "with -f: refuse a document larger than `SIZE` bytes (-1: no limit) (default 3Mi, the API server's limit)",
		sizeFlag(&o.limits.MaxObjectBytes))
	fs.IntVar(&o.limits.MaxObjects, "max-objects", kube.DefaultMaxObjects, "with -f: read at most `N` documents and List items (-1: no limit)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./examples/podsim [flags]")
		fmt.Fprintln(stderr, "Runs a pod on podlife's simulated runtime in virtual time and prints a kubectl-like timeline.")
		fmt.Fprintln(stderr, "Without -spec it runs the built-in demo pod. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err.Error()} // the flag package already printed the usage
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.scenario != "" {
		switch {
		case o.set["delete-at"] || o.set["grace"]:
			return o, usagef("-delete-at and -grace with -scenario: the scenario's timeline says when the pod is deleted")
		case o.script != "":
			return o, usagef("-script with -scenario: the scenario says what the containers do (its script:)")
		case o.svg != "" && o.svg == o.scenario:
			return o, usagef("-svg %s would overwrite an input file", o.svg)
		}
		o.deleteAt = 0
	}
	switch {
	case fs.NArg() > 0:
		return o, usagef("unexpected argument %q: podsim takes only flags", fs.Arg(0))
	case o.until <= 0:
		return o, usagef("-until %s: want a positive duration, e.g. 15m", o.until)
	case o.until > maxUntil:
		return o, usagef("-until %s: at most %s", fmtDur(o.until), fmtDur(maxUntil))
	case o.deleteAt < 0:
		return o, usagef("-delete-at %s: want 0 (never) or a positive duration", o.deleteAt)
	case o.deleteAt > o.until:
		return o, usagef("-delete-at %s is after -until %s: the deletion would never happen (use -delete-at 0 for none)", fmtDur(o.deleteAt), fmtDur(o.until))
	case o.grace < -1:
		return o, usagef("-grace %d: want -1 (the spec's) or a number of seconds from 0", o.grace)
	case o.grace >= 0 && o.deleteAt == 0:
		return o, usagef("-grace %d needs a deletion: -delete-at is 0 (never)", o.grace)
	case o.manifest != "" && o.spec != "":
		return o, usagef("-f and -spec both give the pod: use one")
	case o.pod != "" && o.manifest == "":
		return o, usagef("-name %s needs -f", o.pod)
	case o.svg != "" && (o.svg == o.spec || o.svg == o.script || o.svg == o.manifest):
		return o, usagef("-svg %s would overwrite an input file", o.svg)
	}
	return o, nil
}

// load builds the plan the flags describe.
func load(o options) (plan, error) {
	p := plan{ref: demoRef, spec: demoSpec(), script: demoScript(), until: o.until, what: "the built-in demo pod"}
	if o.deleteAt > 0 {
		op := scenario.Delete(o.deleteAt)
		if o.grace >= 0 {
			op = scenario.DeleteGrace(o.deleteAt, o.grace)
		}
		p.ops = []scenario.Op{op}
	}
	custom := false // the pod is not the demo's, so its containers get podsim's defaults
	if o.spec != "" {
		data, err := readFile(o.spec, o.limits.MaxFileBytes)
		if err != nil {
			return p, usagef("-spec: %v", err)
		}
		spec, err := parseSpec(data)
		if err != nil {
			return p, usagef("-spec %s: %v", o.spec, err)
		}
		p.ref.Name, p.spec, p.script, p.what, custom = userPodName, spec, simruntime.PodScript{}, "spec "+o.spec, true
	}
	if o.manifest != "" {
		m, err := loadManifest(o.manifest, o.pod, o.limits)
		if err != nil {
			return p, usagef("-f %s:\n%v", o.manifest, err)
		}
		p.ref, p.spec, p.kind, p.script, p.what, p.notes, custom = m.ref, m.spec, m.kind, simruntime.PodScript{}, m.what, m.notes, true
	}
	if o.scenario != "" {
		if err := p.loadScenario(o, custom); err != nil {
			return p, err
		}
		custom = true
	}
	if o.script != "" {
		data, err := readFile(o.script, o.limits.MaxFileBytes)
		if err != nil {
			return p, usagef("-script: %v", err)
		}
		ps, err := parseScript(data, &p.spec)
		if err != nil {
			return p, usagef("-script %s: %v", o.script, err)
		}
		p.script, p.scripted = ps, true
		if custom {
			p.what += ", script " + o.script
		} else {
			p.what = "the demo pod, script " + o.script
		}
	}
	if custom {
		p.defaults = applyDefaults(&p.spec, p.kind, &p.script)
	}
	return p, nil
}

// loadScenario reads the -scenario file into p: its pod, unless -f or -spec gave one (given),
// its script, timeline, images and end.
func (p *plan) loadScenario(o options, given bool) error {
	data, err := readFile(o.scenario, o.limits.MaxFileBytes)
	if err != nil {
		return usagef("-scenario: %v", err)
	}
	ls, err := readScenario(o.scenario, data, o.limits)
	if err != nil {
		return usagef("-scenario %s:\n%v", o.scenario, err)
	}
	switch {
	case ls.pod != nil && given:
		return usagef("-scenario %s gives the pod, and so does -f or -spec: use one", o.scenario)
	case ls.pod == nil && !given:
		return usagef("-scenario %s gives no pod: add pod: (a manifest or a spec) to it, or give one with -f or -spec", o.scenario)
	case ls.pod != nil:
		p.ref, p.spec, p.kind, p.what = ls.pod.ref, ls.pod.spec, ls.pod.kind, ls.pod.what
		p.notes = append(p.notes, ls.pod.notes...)
	default:
		p.what += ", scenario " + o.scenario
	}
	p.script = simruntime.PodScript{}
	if ls.until > 0 && !o.set["until"] {
		p.until = ls.until
	}
	if err := ls.finish(p); err != nil {
		return usagef("-scenario %s:\n%v", o.scenario, err)
	}
	p.scripted = ls.text != nil || ls.file.Script != nil
	return nil
}

// header says in a few words which pod runs and what its containers do, for the first line.
func (p *plan) header() string {
	what := p.what
	switch {
	case p.defaults == "":
	case p.scripted:
		what += "; unscripted: " + p.defaults
	default:
		what += ", no script: " + p.defaults
	}
	return what
}

// pick is the manifest named name, or the first when name is empty.
func pick(ms []kube.Manifest, name string) (*kube.Manifest, error) {
	var names []string
	for i := range ms {
		if name == "" || ms[i].Name == name {
			return &ms[i], nil
		}
		names = append(names, quote.Value(ms[i].Kind)+" "+quote.Value(ms[i].Name))
	}
	if len(ms) == 0 {
		return nil, errors.New("no object with a pod spec in it")
	}
	return nil, fmt.Errorf("no object named %q; the file has %s", name, strings.Join(names, ", "))
}

// writeSVGFile writes the picture to path, leaving no half-written file behind.
func writeSVGFile(path string, res *result, podName string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-svg: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("-svg: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := writeSVG(f, res, podName); err != nil {
		return fmt.Errorf("-svg: writing %s: %w", path, err)
	}
	return nil
}

// sizeFlag sets *n from a flag given in bytes or as a Kubernetes quantity (16Mi, 3M).
func sizeFlag(n *int64) func(string) error {
	return func(v string) error {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("want a number of bytes or a quantity such as 16Mi: %w", err)
		}
		*n = q.Value()
		if *n == 0 {
			return errors.New("want a positive size, or -1 for no limit")
		}
		return nil
	}
}

// readFile reads path, refusing one larger than max bytes (-1: no limit) without reading past
// max: -spec and -script are input as much as -f is.
func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := io.Reader(f)
	if max >= 0 {
		r = io.LimitReader(f, max+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if max >= 0 && int64(len(data)) > max {
		return nil, fmt.Errorf("%s: more than %d bytes (-max-file-bytes): %w", path, max, kube.ErrTooLarge)
	}
	return data, nil
}
