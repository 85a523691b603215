// Command nodebench measures node implementations head to head on one real API server: KWOK's
// fake nodes and podlife-node's simulated ones (kubetest.NodeImplNames). In one run, alternating between them, on the same
// kube-apiserver v1.37.2 (with its etcd), kube-scheduler and kube-controller-manager, with the
// same pod specs, for each size (pods over nodes) and each implementation it
//
//  1. starts one node process serving the nodes and waits until they are Ready,
//  2. creates the pods (bare pods, one container, no requests; the scheduler binds them) and
//     measures the time from the first create to all Running,
//  3. deletes them all and measures the time to gone,
//  4. stops the node process and deletes its nodes,
//
// and reports, per run: the times and rates, the node process's CPU seconds per 1,000 pods
// (utime + stime from /proc/<pid>/stat, over each phase) and its peak RSS (VmHWM), its writes
// to the API server per pod (each node process authenticates as its own user and the server's
// audit log records that user's writes, by verb and resource), and for context the API
// server's and the scheduler's CPU and the server's writes from everyone (apiserver_request_total).
//
// Usage:
//
//	PODLIFE_KUBE_BIN=$(./scripts/kube-tools) go run ./examples/nodebench \
//	    [-node kwok,podlife] [-sizes 1000/10,10000/100] [-rounds 1] [-json results.json] [-profiles DIR]
//
// The exit code is 0 when every run finished, 2 for bad flags, 1 otherwise.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podlife/podlife/internal/kubetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// size is a number of pods over a number of nodes.
type size struct{ Pods, Nodes int }

func (s size) String() string { return strconv.Itoa(s.Pods) + "/" + strconv.Itoa(s.Nodes) }

// config is what the flags say.
type config struct {
	nodes   []string // node implementations, kubetest.NodeImplNames
	sizes   []size
	rounds  int
	workers int     // concurrent creates and deletes
	qps     float32 // of the harness's and the scheduler's clients
	timeout time.Duration
	json    string
	// profiles is a directory for podlife-node's CPU profile of each run (-cpuprofile).
	profiles string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	results, err := benchmark(ctx, cfg, stderr)
	printTable(stdout, results)
	if cfg.json != "" {
		b, jerr := json.MarshalIndent(results, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(cfg.json, append(b, '\n'), 0o644)
		}
		err = errors.Join(err, jerr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "nodebench:", err)
		return exitFailure
	}
	return exitOK
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("nodebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	nodes := fs.String("node", strings.Join(kubetest.NodeImplNames, ","), "node implementations to compare, comma-separated: "+strings.Join(kubetest.NodeImplNames, ", "))
	sizes := fs.String("sizes", "1000/10,10000/100", "runs as pods/nodes, comma-separated")
	fs.IntVar(&cfg.rounds, "rounds", 1, "rounds; each runs every size on every implementation, the order of the implementations alternating")
	fs.IntVar(&cfg.workers, "workers", 32, "concurrent creates and deletes")
	qps := fs.Float64("qps", 1000, "client rate limit (QPS; burst twice that) of the harness and the scheduler (kwok's client has none)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "bound on each phase of a run")
	fs.StringVar(&cfg.json, "json", "", "also write the results to this file as JSON")
	fs.StringVar(&cfg.profiles, "profiles", "", "write podlife-node's CPU profile of each run (its whole life) to DIR/<group>.cpu.pprof")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.qps = float32(*qps)
	bad := func(format string, a ...any) (config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "nodebench:", err)
		return cfg, err
	}
	if fs.NArg() > 0 {
		return bad("unexpected arguments %q", fs.Args())
	}
	for _, n := range strings.Split(*nodes, ",") {
		if _, err := kubetest.NodeImplByName(n); err != nil {
			return bad("-node: %w", err)
		}
		cfg.nodes = append(cfg.nodes, n)
	}
	for _, f := range strings.Split(*sizes, ",") {
		p, n, ok := strings.Cut(f, "/")
		pods, perr := strconv.Atoi(p)
		nodes, nerr := strconv.Atoi(n)
		if !ok || perr != nil || nerr != nil || pods < 1 || nodes < 1 || nodes > 1000 {
			return bad("-sizes: %q is not pods/nodes (1 to 1000 nodes)", f)
		}
		cfg.sizes = append(cfg.sizes, size{pods, nodes})
	}
	switch {
	case cfg.rounds < 1:
		return bad("-rounds %d: want at least 1", cfg.rounds)
	case cfg.workers < 1:
		return bad("-workers %d: want at least 1", cfg.workers)
	case cfg.qps <= 0:
		return bad("-qps %g: want a positive rate", *qps)
	case cfg.timeout <= 0:
		return bad("-timeout %s: want a positive duration", cfg.timeout)
	}
	return cfg, nil
}

// benchmark starts the control plane and runs every size on every implementation, rounds times.
func benchmark(ctx context.Context, cfg config, progress io.Writer) ([]result, error) {
	s, err := kubetest.StartAPIServer(ctx, kubetest.Options{
		Users:       cfg.nodes,
		AuditUsers:  cfg.nodes,
		QPS:         cfg.qps,
		Burst:       2 * int(cfg.qps),
		MaxLifetime: 4 * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	sched, err := s.StartScheduler(ctx, kubetest.ComponentOptions{})
	if err == nil {
		// The node lifecycle controller lifts the not-ready taint the API server gives a new
		// node; the rest of the controller manager runs as in any cluster.
		_, err = s.StartControllerManager(ctx, kubetest.ControllerManagerOptions{})
	}
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	fmt.Fprintf(progress, "kube-apiserver ready in %s, kube-scheduler and kube-controller-manager healthy (dir %s)\n",
		s.StartDuration.Round(100*time.Millisecond), s.Dir)
	for _, node := range cfg.nodes {
		impl, _ := kubetest.NodeImplByName(node) // parseFlags checked the names
		if err := impl.Prepare(s); err != nil {
			return nil, errors.Join(err, s.Stop())
		}
	}
	b := &bench{cfg: cfg, s: s, scheduler: sched, progress: progress}
	var results []result
	for round := range cfg.rounds {
		for _, sz := range cfg.sizes {
			order := cfg.nodes
			if round%2 == 1 { // alternate which implementation goes first
				order = reversed(order)
			}
			for _, node := range order {
				if ctx.Err() != nil {
					return results, errors.Join(ctx.Err(), s.Stop())
				}
				r, err := b.runOne(ctx, node, round, sz)
				if err != nil {
					return results, errors.Join(fmt.Errorf("%s %s round %d: %w", node, sz, round+1, err), s.Stop())
				}
				fmt.Fprintf(progress, "%s %s round %d: Running in %s, gone in %s\n", node, sz, round+1,
					r.CreateToRunning.Round(time.Millisecond), r.DeleteToGone.Round(time.Millisecond))
				results = append(results, r)
			}
		}
	}
	return results, s.Stop()
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}
