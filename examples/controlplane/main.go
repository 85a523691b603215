// Command controlplane runs a local Kubernetes control plane to try podlife's nodes against:
// kube-apiserver v1.37.2 with its etcd on 127.0.0.1 and, with -cluster, kube-scheduler and
// kube-controller-manager, from the binaries scripts/kube-tools builds. It prints the kubeconfig
// to use, and runs until Ctrl-C (at most -for).
//
// Usage:
//
//	export PODLIFE_KUBE_BIN=$(./scripts/kube-tools)   # builds them once (20 minutes or more cold)
//	go run ./examples/controlplane [-cluster] [-for 2h]
//
// Then, in another terminal: export KUBECONFIG=<the file it printed>, and
// `go run ./cmd/podlife-node` and `$PODLIFE_KUBE_BIN/kubectl get nodes`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/podlife/podlife/internal/kubetest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("controlplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cluster := fs.Bool("cluster", false, "also run kube-scheduler and kube-controller-manager")
	lifetime := fs.Duration("for", 2*time.Hour, "stop after this long")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *lifetime)
	defer cancel()
	s, err := kubetest.StartAPIServer(ctx, kubetest.Options{MaxLifetime: *lifetime})
	if err != nil {
		fmt.Fprintln(stderr, "controlplane:", err)
		return 1
	}
	defer func() {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(stderr, "controlplane: stopping:", err)
		}
	}()
	if *cluster {
		if _, err := s.StartScheduler(ctx, kubetest.ComponentOptions{}); err != nil {
			fmt.Fprintln(stderr, "controlplane:", err)
			return 1
		}
		if _, err := s.StartControllerManager(ctx, kubetest.ControllerManagerOptions{}); err != nil {
			fmt.Fprintln(stderr, "controlplane:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "kube-apiserver %s ready in %s\nexport KUBECONFIG=%s\n", s.URL, s.StartDuration.Round(time.Millisecond), s.Kubeconfig)
	<-ctx.Done()
	return 0
}
