// Command scale runs many pods through their whole life on podlife's simulated runtime
// (simruntime.Sim over a World, in virtual time, on one goroutine) and reports what it cost: wall
// and CPU time, events per second, peak memory and the bytes each idle pod holds.
//
// Usage:
//
//	go run ./examples/scale [-pods N] [flags]
//
// Each pod has an init container (runs 2 s, exits 0) and an app container with a readiness
// probe (exec, every 10 s) that runs until it is stopped and exits 0 one second after SIGTERM.
// A fraction of the pods (-crash, 10% by default) run a flaky app container instead, which
// exits 1 thirty seconds after it started, is restarted at once (the first crash has no
// back-off) and then runs until stopped. Pods are bound evenly over -window of virtual time and
// each is deleted -lifetime after it was bound, with the spec's 30 s grace. With the defaults
// (window 60s, lifetime 90s) every pod is alive at the end of the window, nearly all of them
// idle: Running, Ready, only their probe ticking. That is when the bytes per idle pod are
// measured: the heap in use after a collection, less the heap before the simulation, over the
// live pods.
//
// The pods share two lifecycle.Templates (one per kind), so a spec is validated, defaulted and
// stored once, not per pod.
//
// A progress bar goes to stderr when it is a terminal (or with -progress). The report goes to
// stdout, one line per figure, for example (-pods 10000):
//
//	pods                10,000 (1,000 crash once), bound over 1m0s, each deleted 1m30s after it was bound
//	machine             2 CPUs (GOMAXPROCS 2), go1.26.8, linux/amd64
//	virtual time        2m30.994s
//	wall time           466ms
//	cpu time            531ms (user+system, all threads)
//	events              283,000 (28.3 per pod), 193,000 actions
//	events per second   607,550 (wall), 532,904 (cpu)
//	allocations         566,642 (2.0 per event, 7141 bytes per pod), 10 collections
//	peak heap in use    34.3 MiB (sampled during the run)
//	max RSS             43.4 MiB
//	idle moment         1m0s: 10,000 pods live, 9,667 of them Ready
//	bytes per idle pod  2005 (heap in use after a collection, less the heap before, over the live pods)
//	terminal pods       10,000 (10,000 Succeeded, 0 Failed)
//	restarts            1,000
//	dropped events      0 stale, 0 superseded
//
// CPU time is reported beside wall time because the machine may be shared: on a busy one the
// wall time says more about the neighbours than about podlife.
//
// Flags:
//
//	-pods N            how many pods (default 100000)
//	-window D          bind the pods evenly over this much virtual time (default 1m; 0: all at once)
//	-lifetime D        delete each pod this long after it was bound (default 1m30s)
//	-crash F           the fraction of pods whose app container crashes once (default 0.1)
//	-progress          draw the progress bar even when stderr is not a terminal
//	-cpuprofile FILE   write a CPU profile of the run
//	-memprofile FILE   write a heap profile at the idle moment
//	-memprofilerate N  with -memprofile, sample an allocation every N bytes (1: every one)
//
// Exit codes: 0 for a run, 2 for bad usage, 1 when the simulation fails (a machine refused an
// event, or a pod did not end).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a problem with the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// maxPods bounds -pods: beyond it the run would not fit this kind of machine's memory anyway.
const maxPods = 20_000_000

type options struct {
	cfg                    config
	progress               bool
	cpuprofile, memprofile string
	memprofilerate         int
}

// run is the command: it parses args, runs the simulation and prints the report to stdout, the
// progress bar and problems to stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return fail(stderr, err)
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return fail(stderr, fmt.Errorf("-cpuprofile: %w", err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(stderr, fmt.Errorf("-cpuprofile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	if o.memprofile != "" {
		runtime.MemProfileRate = o.memprofilerate
		path := o.memprofile
		o.cfg.atIdle = func() error {
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("-memprofile: %w", err)
			}
			defer f.Close()
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				return fmt.Errorf("-memprofile: %w", err)
			}
			return nil
		}
	}
	if o.progress || isTerminal(stderr) {
		o.cfg.progress = newProgressBar(stderr, o.cfg.pods)
	}
	rep, err := simulate(o.cfg)
	if err != nil {
		return fail(stderr, err)
	}
	if err := rep.write(stdout); err != nil {
		return fail(stderr, fmt.Errorf("writing the report: %w", err))
	}
	return exitOK
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "scale:", err)
	var u *usageError
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "Run 'go run ./examples/scale -h' for the flags.")
		return exitUsage
	}
	return exitFailure
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{cfg: defaultConfig()}
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.cfg.pods, "pods", o.cfg.pods, "how many pods to run")
	fs.DurationVar(&o.cfg.window, "window", o.cfg.window, "bind the pods evenly over this much virtual time (0: all at once)")
	fs.DurationVar(&o.cfg.lifetime, "lifetime", o.cfg.lifetime, "delete each pod this long after it was bound")
	fs.Float64Var(&o.cfg.crash, "crash", o.cfg.crash, "the `fraction` of pods whose app container crashes once")
	fs.BoolVar(&o.progress, "progress", false, "draw the progress bar on stderr even when it is not a terminal")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to `FILE`")
	fs.StringVar(&o.memprofile, "memprofile", "", "write a heap profile at the idle moment to `FILE`")
	fs.IntVar(&o.memprofilerate, "memprofilerate", runtime.MemProfileRate, "with -memprofile: sample one allocation per this many `bytes` (1: all)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./examples/scale [-pods N] [flags]")
		fmt.Fprintln(stderr, "Runs N pods through their whole life on podlife's simulated runtime in virtual time")
		fmt.Fprintln(stderr, "and reports wall time, events per second, peak memory and bytes per idle pod. Flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{err.Error()} // the flag package already printed the usage
	}
	c := o.cfg
	switch {
	case fs.NArg() > 0:
		return o, usagef("unexpected argument %q: scale takes only flags", fs.Arg(0))
	case c.pods < 1 || c.pods > maxPods:
		return o, usagef("-pods %d: want 1 to %d", c.pods, maxPods)
	case c.window < 0:
		return o, usagef("-window %s: want 0 (all at once) or a positive duration", c.window)
	case c.lifetime <= 0:
		return o, usagef("-lifetime %s: want a positive duration", c.lifetime)
	case c.window > 24*time.Hour || c.lifetime > 24*time.Hour:
		return o, usagef("-window and -lifetime: at most 24h each")
	case !(c.crash >= 0 && c.crash <= 1): // also NaN
		return o, usagef("-crash %v: want a fraction from 0 to 1", c.crash)
	}
	return o, nil
}

// isTerminal reports whether w is a character device, as a terminal is.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// write prints the report, one figure a line.
func (r *report) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	line("pods", "%s (%s crash once), bound over %s, each deleted %s after it was bound",
		count(int64(r.Pods)), count(int64(r.Crashing)), r.Window, r.Lifetime)
	line("machine", "%d CPUs (GOMAXPROCS %d), %s, %s/%s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	line("virtual time", "%s", r.Virtual)
	line("wall time", "%s", r.Wall.Round(time.Millisecond))
	line("cpu time", "%s (user+system, all threads)", r.CPU.Round(time.Millisecond))
	line("events", "%s (%.1f per pod), %s actions", count(int64(r.Events)), float64(r.Events)/float64(r.Pods), count(int64(r.Actions)))
	line("events per second", "%s (wall), %s (cpu)", count(int64(r.perSecond(r.Wall))), count(int64(r.perSecond(r.CPU))))
	line("allocations", "%s (%.1f per event, %.0f bytes per pod), %d collections", count(int64(r.Allocs)),
		float64(r.Allocs)/float64(max(r.Events, 1)), float64(r.AllocBytes)/float64(r.Pods), r.GCs)
	line("peak heap in use", "%s (sampled during the run)", bytesOf(r.PeakHeap))
	if r.MaxRSS > 0 {
		line("max RSS", "%s", bytesOf(r.MaxRSS))
	}
	line("idle moment", "%s: %s pods live, %s of them Ready", r.IdleAt, count(int64(r.IdleLive)), count(int64(r.IdleReady)))
	line("bytes per idle pod", "%.0f (heap in use after a collection, less the heap before, over the live pods)", r.BytesPerIdlePod)
	line("terminal pods", "%s (%s Succeeded, %s Failed)", count(int64(r.Succeeded+r.Failed)), count(int64(r.Succeeded)), count(int64(r.Failed)))
	line("restarts", "%s", count(r.Restarts))
	line("dropped events", "%s stale, %s superseded", count(int64(r.Stale)), count(int64(r.Superseded)))
	return tw.Flush()
}

func (r *report) perSecond(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(r.Events) / d.Seconds()
}

// count writes n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func bytesOf(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}
