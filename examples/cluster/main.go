// Command cluster runs a Kubernetes cluster on one machine, every box of the path real: a
// kube-apiserver v1.37.2 with its etcd, kube-scheduler and kube-controller-manager, and node
// processes each serving a group of nodes (podlife-node's simulated nodes, or KWOK's fake nodes
// with -node kwok), all on 127.0.0.1 with a bounded lifetime. It prints a kubeconfig and waits;
// kubectl does the rest:
//
//	$ PODLIFE_KUBE_BIN=$(./scripts/kube-tools) go run ./examples/cluster
//	kube-apiserver v1.37.2 at https://127.0.0.1:41231, ready in 4.2s (etcd in the same process)
//	kube-scheduler and kube-controller-manager healthy in 2.1s
//	podlife node process a (pid 4242) serves a-0, a-1: Ready in 210ms
//	podlife node process b (pid 4251) serves b-0: Ready in 180ms
//
//	export KUBECONFIG=/tmp/podlife-kube-123/kubeconfig
//
// The node lifecycle is fast, so that a lost node shows in seconds: leases of 4 s (renewed every
// second), the node lifecycle controller's grace period 10 s (and no limit on how many lost nodes
// it handles a second), and pods tolerate an unreachable or not-ready node for 5 s. Stop a node process (kill -STOP <pid>) and its nodes turn NotReady
// and their pods are evicted and replaced elsewhere; let it go on (kill -CONT <pid>) and its
// nodes are Ready again and delete the pods that were evicted.
//
// Usage:
//
//	go run ./examples/cluster [-node podlife|kwok] [-nodes 2,1] [-for 30m] [-dir DIR]
//
// Everything stops after -for, on SIGINT or SIGTERM, or when this process dies. The exit code is
// 0 after a clean stop, 2 for bad flags, 1 when something failed.
package main

import (
	"context"
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

// The fast node lifecycle: a stopped node process is noticed in about 10 s and its pods are
// evicted 5 s later.
const (
	// leaseDuration is the duration of the nodes' leases, renewed every quarter of it.
	leaseDuration = 4 * time.Second
	// nodeMonitorPeriod and nodeMonitorGracePeriod are those of the node lifecycle controller.
	nodeMonitorPeriod      = time.Second
	nodeMonitorGracePeriod = 10 * time.Second
	// tolerationSeconds is how long a pod stays on an unreachable or not-ready node (the API
	// server's default tolerations; upstream's default is 300).
	tolerationSeconds = 5
	// nodeEvictionRate is how many lost nodes a second the node lifecycle controller taints for
	// eviction (upstream's default is 0.1: one every 10 s), so that nodes lost together, as in
	// tests that share the cluster, are all handled within the grace.
	nodeEvictionRate = "10"
)

// config is what the flags say.
type config struct {
	// Node is the node implementation, one of kubetest.NodeImplNames.
	Node string
	// Groups are the node processes: Groups[i] nodes in process i, named after the letters a,
	// b, c, ... (a-0, a-1, b-0, ...); none for the control plane alone.
	Groups []int
	// Lifetime bounds how long the cluster runs.
	Lifetime time.Duration
	// Dir holds the cluster's files (etcd, kubeconfig, logs); default a temporary directory
	// that a clean stop removes.
	Dir string
	// Users are more API users, for node processes that should write under their own name.
	Users []string
}

// cluster is a running cluster.
type cluster struct {
	*kubetest.APIServer
	Impl   kubetest.NodeImpl
	Groups []*kubetest.NodeGroup
	// ControlPlaneStart is how long the scheduler and the controller manager took to be healthy.
	ControlPlaneStart time.Duration
}

// startCluster starts the API server, the scheduler, the controller manager and one node
// process per group of cfg.Groups (none: the control plane alone), and waits until every node
// is Ready. On error it stops what it started.
func startCluster(ctx context.Context, cfg config) (*cluster, error) {
	impl, err := kubetest.NodeImplByName(cfg.Node)
	if err != nil {
		return nil, err
	}
	tol := "=" + strconv.Itoa(tolerationSeconds)
	s, err := kubetest.StartAPIServer(ctx, kubetest.Options{
		Dir: cfg.Dir,
		// A minute more than the cluster's own timer: a safety net should this process not stop
		// them.
		MaxLifetime: cfg.Lifetime + time.Minute,
		Users:       cfg.Users,
		Args:        []string{"--default-not-ready-toleration-seconds" + tol, "--default-unreachable-toleration-seconds" + tol},
	})
	if err != nil {
		return nil, err
	}
	c := &cluster{APIServer: s, Impl: impl}
	begin := time.Now()
	err = s.StartControlPlane(ctx, kubetest.ControllerManagerOptions{
		NodeMonitorPeriod: nodeMonitorPeriod, NodeMonitorGracePeriod: nodeMonitorGracePeriod,
		Args: []string{"--node-eviction-rate=" + nodeEvictionRate}})
	c.ControlPlaneStart = time.Since(begin)
	if err == nil && len(cfg.Groups) > 0 {
		err = impl.Prepare(s) // a build of podlife-node, outside the nodes' time to Ready
	}
	for i := 0; err == nil && i < len(cfg.Groups); i++ {
		var g *kubetest.NodeGroup
		g, err = startNodes(ctx, s, impl, groupName(i), cfg.Groups[i])
		c.Groups = append(c.Groups, g)
	}
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return c, nil
}

// startNodes starts a node process of impl that serves count nodes, <group>-0 ..., with the
// cluster's short leases, and waits until they are Ready.
func startNodes(ctx context.Context, s *kubetest.APIServer, impl kubetest.NodeImpl, group string, count int) (*kubetest.NodeGroup, error) {
	return s.StartNodes(ctx, impl, kubetest.NodeOptions{Group: group, Count: count, LeaseDuration: leaseDuration})
}

// groupName is the name of the i-th node process and the prefix of its nodes: a, b, ..., z, g26, ...
func groupName(i int) string {
	if i < 26 {
		return string(rune('a' + i))
	}
	return "g" + strconv.Itoa(i)
}

// run is the command.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	c, err := startCluster(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "cluster:", err)
		return exitFailure
	}
	v, err := c.Client().Discovery().ServerVersion()
	if err != nil {
		fmt.Fprintln(stderr, "cluster:", errors.Join(err, c.Stop()))
		return exitFailure
	}
	fmt.Fprintf(stdout, "kube-apiserver %s at %s, ready in %s (etcd in the same process)\n", v.GitVersion, c.URL, c.StartDuration.Round(100*time.Millisecond))
	fmt.Fprintf(stdout, "kube-scheduler and kube-controller-manager healthy in %s\n", c.ControlPlaneStart.Round(100*time.Millisecond))
	for _, g := range c.Groups {
		fmt.Fprintf(stdout, "%s node process %s (pid %d) serves %s: Ready in %s\n", c.Impl.Name(), g.Opts.Group, g.Pid(),
			strings.Join(g.Nodes, ", "), g.ReadyAfter.Round(10*time.Millisecond))
	}
	fmt.Fprintf(stdout, "\nexport KUBECONFIG=%s\n\nlogs in %s; everything stops in %s, or on ^C\n", c.Kubeconfig, c.Dir, cfg.Lifetime)
	select {
	case <-ctx.Done():
	case <-time.After(cfg.Lifetime):
	case <-c.Done():
		fmt.Fprintln(stderr, "cluster: kube-apiserver exited; log:", c.LogTail(20))
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintln(stderr, "cluster: stopping:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, "stopped")
	return exitOK
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{}
	fs.StringVar(&cfg.Node, "node", "podlife", "node implementation: "+strings.Join(kubetest.NodeImplNames, ", "))
	groups := fs.String("nodes", "2,1", "node processes and their nodes: a comma-separated count of nodes per process")
	fs.DurationVar(&cfg.Lifetime, "for", 30*time.Minute, "stop everything after this long")
	fs.StringVar(&cfg.Dir, "dir", "", "directory for etcd's data, the kubeconfig and the logs (default a temporary one, removed at a clean stop)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	bad := func(format string, a ...any) (config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "cluster:", err)
		return cfg, err
	}
	if fs.NArg() > 0 {
		return bad("unexpected arguments %q", fs.Args())
	}
	if _, err := kubetest.NodeImplByName(cfg.Node); err != nil {
		return bad("-node: %w", err)
	}
	for _, f := range strings.Split(*groups, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return bad("-nodes %q: want counts from 1 to 1000 separated by commas", *groups)
		}
		cfg.Groups = append(cfg.Groups, n)
	}
	if cfg.Lifetime <= 0 {
		return bad("-for %s: want a positive duration", cfg.Lifetime)
	}
	return cfg, nil
}
