// Command kube-apiserver is the upstream kube-apiserver of the release the tools module pins, able
// to run its etcd inside the same process: with --embedded-etcd-dir it starts etcd
// (go.etcd.io/etcd/server/v3/embed) on loopback ports with its data in that directory and points
// --etcd-servers at it, so that a test needs one binary and one process for a control plane.
// Without it, it is kube-apiserver as released. --max-lifetime and --exit-with-parent bound how
// long it lives (see internal/lifetime).
package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"syscall"
	_ "time/tzdata" // for CronJob time zones, as upstream's main

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register" // for JSON log format registration, as upstream's main
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version" // for version metric registration
	"k8s.io/component-base/version/verflag"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"

	"github.com/podlife/podlife/tools/kube/internal/lifetime"
)

func main() {
	command := app.NewAPIServerCommand()
	embedEtcd(command)
	lifetime.Bound(command)
	os.Exit(cli.Run(command))
}

// etcdFlags configure the embedded etcd.
type etcdFlags struct {
	dir        string
	listen     string
	logLevel   string
	noFsync    bool
	quotaBytes int64
}

// embedEtcd adds the --embedded-etcd-* flags to the apiserver's command and wraps its RunE so
// that etcd is up before the apiserver starts and closed after it stops.
func embedEtcd(cmd *cobra.Command) {
	var f etcdFlags
	fs := cmd.Flags()
	fs.StringVar(&f.dir, "embedded-etcd-dir", "",
		"podlife: run etcd in this process with its data in this directory, and serve from it (excludes --etcd-servers)")
	fs.StringVar(&f.listen, "embedded-etcd-listen", "127.0.0.1:0",
		"podlife: host:port for the embedded etcd's clients; port 0 picks a free one")
	fs.StringVar(&f.logLevel, "embedded-etcd-log-level", "warn", "podlife: the embedded etcd's log level")
	fs.BoolVar(&f.noFsync, "embedded-etcd-unsafe-no-fsync", false,
		"podlife: the embedded etcd never fsyncs (faster; for throwaway test data only)")
	fs.Int64Var(&f.quotaBytes, "embedded-etcd-quota-backend-bytes", 0,
		"podlife: the embedded etcd's backend quota; 0 keeps etcd's default")
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if f.dir == "" {
			return run(c, args)
		}
		verflag.PrintAndExitIfRequested() // --version must not start etcd
		if c.Flags().Changed("etcd-servers") {
			return errors.New("--embedded-etcd-dir and --etcd-servers exclude each other")
		}
		e, err := startEtcd(f)
		if err != nil {
			return err
		}
		defer e.Close()
		addr := "http://" + e.Clients[0].Addr().String()
		fmt.Fprintf(os.Stderr, "podlife: embedded etcd serving on %s, data in %s\n", addr, f.dir)
		if err := c.Flags().Set("etcd-servers", addr); err != nil {
			return fmt.Errorf("setting --etcd-servers: %w", err)
		}
		go func() {
			// etcd failing under a running apiserver leaves nothing to serve from: stop it.
			if err, ok := <-e.Err(); ok && err != nil {
				fmt.Fprintf(os.Stderr, "podlife: embedded etcd failed: %v: stopping\n", err)
				_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
			}
		}()
		return run(c, args)
	}
}

// startEtcd starts a single-member etcd on loopback and waits until it serves.
func startEtcd(f etcdFlags) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "podlife"
	cfg.Dir = f.dir
	cfg.LogLevel = f.logLevel
	cfg.UnsafeNoFsync = f.noFsync
	if f.quotaBytes > 0 {
		cfg.QuotaBackendBytes = f.quotaBytes
	}
	client := url.URL{Scheme: "http", Host: f.listen}
	// The peer port serves no one (one member) but must exist: a free loopback port.
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenMetricsUrls = nil
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting the embedded etcd in %s: %w", f.dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s: %w", f.dir, err)
	}
}
