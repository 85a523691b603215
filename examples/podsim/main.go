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
// container, message; "Warning" for warnings), an outside request (DeleteRequested), a container
// exit, a hook or stop signal the machine asked for, or, for a row that only shows changed
// columns, what caused the change. A row is printed whenever an event is recorded or the
// columns change.
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
//	                     JSON (below); without it a -spec pod's containers start at once and run
//	                     until stopped, and the demo pod runs its built-in script
//	-delete-at DURATION  when the pod is deleted, after it was bound (default 5m; 0 = never)
//	-grace SECONDS       the delete request's grace period (default -1 = the spec's
//	                     terminationGracePeriodSeconds)
//	-until DURATION      the end of virtual time (default 15m, at most 24h); the run ends
//	                     earlier once the pod stopped
//	-max-file-bytes SIZE    read no -f, -spec or -script file larger than this (default 16Mi;
//	                        -1: no limit); SIZE is bytes or a quantity (3Mi, 500k)
//	-max-object-bytes SIZE  with -f, refuse a document larger than this (default 3Mi, the API
//	                        server's limit on a request)
//	-max-objects N          with -f, read at most N documents and List items (default 10000)
//
// The exit code is 0 for a run, 2 for bad usage (a bad flag, a file that cannot be read or is
// not valid), and 1 when the simulation itself fails or the SVG cannot be written.
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
//	        {"for": "20s", "exitCode": 1},
//	        {"for": "20s", "exitCode": 1},
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
// an unknown state); a run without "for" runs until it is stopped
// and exits 143 on SIGTERM after termDelay, or 0 with gracefulExit), pull (delay, failures, failsAlways), createFails and
// createFailReason (CreateContainerError or CreateContainerConfigError), postStart and preStop
// (took, fail; a sleep hook takes its seconds by default), probes (fail, failFrom, failUntil,
// took, message; a run that takes longer than the probe's timeoutSeconds fails).
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
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/lifecycle/simruntime"
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
	deleteAt, until   time.Duration
	grace             int64
	limits            kube.LoadOptions // for every file read
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
	sc, err := load(opts)
	if err != nil {
		return report(stderr, err)
	}
	for _, n := range sc.notes {
		fmt.Fprintln(stderr, quote.Text(n))
	}
	res, simErr := simulate(sc)
	if res == nil {
		return report(stderr, fmt.Errorf("simulation: %w", simErr))
	}
	if err := writeTimeline(stdout, res, describe(opts)); err != nil {
		return report(stderr, fmt.Errorf("writing the timeline: %w", err))
	}
	if simErr != nil {
		return report(stderr, fmt.Errorf("simulation: %w", simErr))
	}
	if opts.svg != "" {
		if err := writeSVGFile(opts.svg, res, sc.ref.Namespace+"/"+sc.ref.Name); err != nil {
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

// load builds the scenario the flags describe.
func load(o options) (scenario, error) {
	sc := scenario{ref: demoRef, spec: demoSpec(), script: demoScript(), deleteAt: o.deleteAt, until: o.until}
	if o.grace >= 0 {
		g := o.grace
		sc.grace = &g
	}
	if o.spec != "" {
		data, err := readFile(o.spec, o.limits.MaxFileBytes)
		if err != nil {
			return sc, usagef("-spec: %v", err)
		}
		spec, err := parseSpec(data)
		if err != nil {
			return sc, usagef("-spec %s: %v", o.spec, err)
		}
		sc.ref.Name, sc.spec, sc.script = userPodName, spec, simruntime.PodScript{}
	}
	if o.manifest != "" {
		ms, err := kube.LoadFileWith(o.manifest, o.limits)
		if err != nil {
			return sc, usagef("-f %s:\n%v", o.manifest, err)
		}
		m, err := pick(ms, o.pod)
		if err != nil {
			return sc, usagef("-f %s: %v", o.manifest, err)
		}
		sc.ref, sc.spec, sc.script = m.Ref(), m.Spec, simruntime.PodScript{}
		ws := slices.Clone(m.Warnings)
		slices.SortStableFunc(ws, func(a, b kube.Warning) int { return a.Line - b.Line })
		for _, w := range ws {
			sc.notes = append(sc.notes, fmt.Sprintf("%s:%d: warning: %s", o.manifest, w.Line, w))
		}
		if len(ms) > 1 && o.pod == "" {
			sc.notes = append(sc.notes, fmt.Sprintf("%s: %d objects; running the first, %s %s (pick another with -name)",
				o.manifest, len(ms), quote.Value(m.Kind), quote.Value(m.Name)))
		}
	}
	if o.script != "" {
		data, err := readFile(o.script, o.limits.MaxFileBytes)
		if err != nil {
			return sc, usagef("-script: %v", err)
		}
		ps, err := parseScript(data, &sc.spec)
		if err != nil {
			return sc, usagef("-script %s: %v", o.script, err)
		}
		sc.script = ps
	}
	return sc, nil
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

// describe says in a few words which pod and script a run simulates.
func describe(o options) string {
	what := "the built-in demo pod"
	switch {
	case o.manifest != "" && o.script != "":
		what = "manifest " + o.manifest + ", script " + o.script
	case o.manifest != "":
		what = "manifest " + o.manifest + ", no script: containers run until stopped"
	case o.spec != "" && o.script != "":
		what = "spec " + o.spec + ", script " + o.script
	case o.spec != "":
		what = "spec " + o.spec + ", no script: containers run until stopped"
	case o.script != "":
		what = "the demo pod, script " + o.script
	}
	return what
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
