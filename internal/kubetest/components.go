package kubetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ControllerManagerOptions configure StartControllerManager. Zero durations keep upstream's
// defaults (node-monitor-period 5s, node-monitor-grace-period 50s, node-startup-grace-period 1m).
type ControllerManagerOptions struct {
	// NodeMonitorPeriod is how often the node lifecycle controller checks the nodes.
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is how long a node may go without a heartbeat before it is marked
	// NotReady (Unknown). It must exceed the nodes' lease renewal interval.
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod is how long a new node may take to become Ready.
	NodeStartupGracePeriod time.Duration
	// Controllers are the controllers to run; default all that run by default ("*").
	Controllers []string
	// Args are more flags, after the defaults.
	Args []string
}

// ComponentOptions configure StartScheduler.
type ComponentOptions struct {
	// Args are more flags, after the defaults.
	Args []string
}

// StartControllerManager starts kube-controller-manager v1.37.2 against s, waits until its
// /healthz answers ok and returns it. s.Stop stops it first; it may also be stopped on its own.
func (s *APIServer) StartControllerManager(ctx context.Context, opts ControllerManagerOptions) (*Process, error) {
	args := []string{
		"--leader-elect=false",
		"--service-account-private-key-file=" + s.saKeyPath,
		"--root-ca-file=" + s.caPath,
		"--use-service-account-credentials=false",
		"--kube-api-qps=" + strconv.FormatFloat(float64(s.opts.QPS), 'f', -1, 32),
		"--kube-api-burst=" + strconv.Itoa(s.opts.Burst),
		"--kubeconfig=" + s.Kubeconfig,
	}
	for flag, d := range map[string]time.Duration{
		"node-monitor-period":       opts.NodeMonitorPeriod,
		"node-monitor-grace-period": opts.NodeMonitorGracePeriod,
		"node-startup-grace-period": opts.NodeStartupGracePeriod,
	} {
		if d != 0 {
			args = append(args, "--"+flag+"="+d.String())
		}
	}
	if len(opts.Controllers) > 0 {
		args = append(args, "--controllers="+strings.Join(opts.Controllers, ","))
	}
	p, err := s.startComponent(ctx, "kube-controller-manager", ControllerManagerBin, append(args, opts.Args...))
	if err == nil && (len(opts.Controllers) == 0 || slices.Contains(opts.Controllers, "*") || slices.Contains(opts.Controllers, "node-lifecycle-controller")) {
		s.nodeLifecycle.Store(true)
	}
	return p, err
}

// StartScheduler starts kube-scheduler v1.37.2 against s (no leader election, the client rates
// of Options), waits until its /healthz answers ok and returns it. s.Stop stops it first.
func (s *APIServer) StartScheduler(ctx context.Context, opts ComponentOptions) (*Process, error) {
	cfg := filepath.Join(s.Dir, "kube-scheduler.yaml")
	yaml := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: %g
  burst: %d
leaderElection:
  leaderElect: false
`, s.Kubeconfig, s.opts.QPS, s.opts.Burst)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return nil, fmt.Errorf("kube-scheduler config: %w", err)
	}
	return s.startComponent(ctx, "kube-scheduler", SchedulerBin, append([]string{"--config=" + cfg}, opts.Args...))
}

// StartControllerManager is s.StartControllerManager for a test: it fails the test on error.
func StartControllerManager(tb testing.TB, s *APIServer, opts ControllerManagerOptions) *Process {
	tb.Helper()
	p, err := s.StartControllerManager(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// StartScheduler is s.StartScheduler for a test: it fails the test on error.
func StartScheduler(tb testing.TB, s *APIServer, opts ComponentOptions) *Process {
	tb.Helper()
	p, err := s.StartScheduler(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// startComponent starts a component that serves /healthz over HTTPS with a self-signed
// certificate, authenticating and authorizing its callers through the API server.
func (s *APIServer) startComponent(ctx context.Context, name, bin string, args []string) (*Process, error) {
	return s.startOnPort(ctx, name, filepath.Join(s.opts.BinDir, bin), func(port int) []string {
		return append([]string{
			"--max-lifetime=" + s.opts.MaxLifetime.String(),
			"--exit-with-parent",
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + filepath.Join(s.Dir, name+"-certs"),
			"--authentication-kubeconfig=" + s.Kubeconfig,
			"--authorization-kubeconfig=" + s.Kubeconfig,
		}, args...)
	}, func(ctx context.Context, p *Process, port int) error {
		return waitHealthy(ctx, p, "https://127.0.0.1:"+strconv.Itoa(port)+"/healthz", s.opts.StartTimeout)
	})
}

// startOnPort starts the binary bin, which serves on a free loopback port, its log in name.log, waits
// until it is healthy and stops it with the server. The port is free when chosen but may be
// taken before the process binds it: then it tries again, up to three times.
func (s *APIServer) startOnPort(ctx context.Context, name, bin string, args func(port int) []string,
	healthy func(ctx context.Context, p *Process, port int) error) (*Process, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		logPath := filepath.Join(s.Dir, name+".log")
		p, err := startProcess(name, bin, logPath, args(port))
		if err != nil {
			return nil, err
		}
		err = healthy(ctx, p, port)
		if err == nil {
			s.mu.Lock()
			s.components = append(s.components, p)
			s.mu.Unlock()
			return p, nil
		}
		_ = p.Stop()
		if attempt == 3 || !p.errAddrInUse() {
			return nil, err
		}
		_ = os.Rename(logPath, logPath+"."+strconv.Itoa(attempt))
	}
}

// waitHealthy polls url until it answers 200. The component's certificate is self-signed and
// the check only asks a local process whether it is up, so it is not verified.
func waitHealthy(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
	}}
	defer hc.CloseIdleConnections()
	return waitUntil(ctx, p, "healthy", timeout, func(ctx context.Context) error { return httpOK(ctx, hc, url) })
}
