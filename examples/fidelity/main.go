// Command fidelity applies the manifests of the fidelity table to a cluster of real components
// (kube-apiserver v1.37.2 with its etcd, kube-scheduler, kube-controller-manager) with one node
// of a node implementation, and samples what the API server shows over time: for each pod its
// phase, conditions, container states and the server's own `kubectl get pods` columns (STATUS,
// READY, RESTARTS), and a Job's counts and conditions. It prints each case's timeline, a line
// whenever what the server shows changes (conditions not True have a "!"):
//
//	== crashloop on kwok (manifests/crashloop.yaml)
//	   +0.1s  pod/crashloop  Pending 0/1 0 | phase Pending | PodScheduled |
//	   +0.3s  pod/crashloop  Running 1/1 0 | phase Running | Initialized Ready ContainersReady PodScheduled | app: running ready
//
// The manifests are the same for every implementation: the one for a pod that crash-loops, a
// readiness probe that fails, a preStop hook that outlives the grace period (the pod is deleted
// once it runs), a sidecar and a Job that fails. Each carries a podlife.io/script annotation
// that scripts podlife-node's simulated runtime; other nodes ignore it.
//
// Usage:
//
//	PODLIFE_KUBE_BIN=$(./scripts/kube-tools) go run ./examples/fidelity [-node kwok|podlife] [-for 40s] [-every 250ms] [-case crashloop,...]
//
// The exit code is 0 when every case ran, 2 for bad flags, 1 otherwise.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/podlife/podlife/internal/kubetest"
)

//go:embed manifests/*.yaml
var manifests embed.FS

// caseNames are the cases in the order of the table; each is manifests/<name>.yaml.
var caseNames = []string{"crashloop", "readiness-fails", "prestop-outlives-grace", "sidecar", "job-fails"}

// deletedWhenRunning are the cases whose pod is deleted once it runs, and followed until gone.
var deletedWhenRunning = []string{"prestop-outlives-grace"}

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

// config is what the flags say.
type config struct {
	node   string
	cases  []string
	sample time.Duration // how long each case is followed
	every  time.Duration // between samples
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	timelines, err := observe(ctx, cfg)
	for _, tl := range timelines {
		tl.print(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "fidelity:", err)
		return exitFailure
	}
	return exitOK
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("fidelity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.node, "node", "kwok", "node implementation: "+strings.Join(kubetest.NodeImplNames, ", "))
	cases := fs.String("case", strings.Join(caseNames, ","), "cases to run, comma-separated")
	fs.DurationVar(&cfg.sample, "for", 40*time.Second, "how long each case is followed")
	fs.DurationVar(&cfg.every, "every", 250*time.Millisecond, "time between samples")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	bad := func(format string, a ...any) (config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "fidelity:", err)
		return cfg, err
	}
	if fs.NArg() > 0 {
		return bad("unexpected arguments %q", fs.Args())
	}
	if _, err := kubetest.NodeImplByName(cfg.node); err != nil {
		return bad("-node: %w", err)
	}
	for _, c := range strings.Split(*cases, ",") {
		if !slices.Contains(caseNames, c) {
			return bad("-case: unknown case %q (known: %s)", c, strings.Join(caseNames, ", "))
		}
		cfg.cases = append(cfg.cases, c)
	}
	if cfg.sample <= 0 || cfg.every <= 0 {
		return bad("-for %s and -every %s: want positive durations", cfg.sample, cfg.every)
	}
	return cfg, nil
}

// observe starts the cluster, runs every case at once, each in a namespace of its own, and
// returns their timelines in the order of cfg.cases.
func observe(ctx context.Context, cfg config) ([]*timeline, error) {
	impl, err := kubetest.NodeImplByName(cfg.node)
	if err != nil {
		return nil, err
	}
	s, err := kubetest.StartAPIServer(ctx, kubetest.Options{MaxLifetime: cfg.sample + 10*time.Minute})
	if err != nil {
		return nil, err
	}
	err = s.StartControlPlane(ctx, kubetest.ControllerManagerOptions{})
	if err == nil {
		_, err = s.StartNodes(ctx, impl, kubetest.NodeOptions{Group: "node", Count: 1})
	}
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	timelines := make([]*timeline, len(cfg.cases))
	errs := make([]error, len(cfg.cases))
	var wg sync.WaitGroup
	for i, name := range cfg.cases {
		timelines[i] = &timeline{Case: name, Node: cfg.node}
		wg.Go(func() { errs[i] = runCase(ctx, s, cfg, timelines[i]) })
	}
	wg.Wait()
	return timelines, errors.Join(append(errs, s.Stop())...)
}
