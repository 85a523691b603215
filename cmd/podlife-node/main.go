// Command podlife-node runs podlife as Kubernetes nodes: pods bound to them (spec.nodeName, or
// by a scheduler) live by kubelet's rules, on a simulated runtime (a KWOK-like node that is
// kubelet-exact) or on containerd (a real node). See lifecycle/kubenode for how.
//
// Usage:
//
//	go run ./cmd/podlife-node -kubeconfig ~/.kube/config [flags]
//
// Flags:
//
//	-kubeconfig FILE        the API server and credentials (default $KUBECONFIG, then ~/.kube/config)
//	-name NAME              the node's name; with -nodes N > 1, the nodes are NAME-0 ... NAME-(N-1)
//	                        (default podlife)
//	-nodes N                how many simulated nodes this process runs (default 1)
//	-runtime sim|containerd the runtime (default sim); with containerd, one node only
//	-containerd-socket PATH containerd's socket (default /run/containerd/containerd.sock);
//	                        pods need hostNetwork: true unless containerd has a CNI network
//	-address IP             the nodes' InternalIP and their pods' hostIP (default 127.0.0.1)
//	-max-pods N             each node's pod capacity (default 110), -cpu and -memory the rest
//	-qps, -burst            each node's API rate limit, as each kubelet's (default 50, 100)
//	-event-qps, -event-burst each node's rate limit of event writes (default 50, 100)
//	-lease-duration D       each node's lease, renewed every quarter of it (default 40s, kubelet's;
//	                        whole seconds)
//	-labels K=V,...         more labels on every node
//	-max-lifetime D         stop after this long (default 0: never), as a bound on a test's node
//	-metrics ADDR           serve Prometheus metrics on ADDR/metrics (default off): the nodes'
//	                        pods by phase, machine steps, status changes and pushes, events,
//	                        API requests by verb and resource, process CPU seconds and RSS;
//	                        the process's profiles on ADDR/debug/pprof/; and ADDR/healthz, served
//	                        once every node is registered and Ready
//	-stats-interval D       log a line of the same counts every D (default 30s; 0: never)
//	-log-level L            debug, info, warn or error (default info); -log-json for JSON lines
//	-cpuprofile FILE        write a CPU profile of the whole run, for go tool pprof
//
// On a simulated node, a pod's annotation podlife.io/script says what its containers do
// (simruntime's JSON form of a PodScript); without it they run until stopped. The process stops
// on SIGINT or SIGTERM, leaving its nodes' containers and API objects: started again, it
// recovers its pods (a simulated node's containers live in the process, so they are gone).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/podlife/podlife/lifecycle/containerd"
	"github.com/podlife/podlife/lifecycle/kubenode"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

type options struct {
	kubeconfig, name, runtime, socket, address string
	nodes, maxPods                             int
	cpu, memory                                string
	qps, eventQPS                              float64
	burst, eventBurst                          int
	leaseDuration, maxLifetime                 time.Duration
	labels                                     map[string]string
	metrics                                    string
	statsInterval                              time.Duration
	logLevel                                   string
	logJSON                                    bool
	cpuprofile                                 string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("podlife-node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&o.name, "name", "podlife", "the node's name, or with -nodes N > 1 the prefix of NAME-0 ... NAME-(N-1)")
	fs.IntVar(&o.nodes, "nodes", 1, "how many simulated nodes to run")
	fs.StringVar(&o.runtime, "runtime", "sim", "the runtime: sim or containerd")
	fs.StringVar(&o.socket, "containerd-socket", "/run/containerd/containerd.sock", "containerd's socket, with -runtime containerd")
	fs.StringVar(&o.address, "address", "127.0.0.1", "the nodes' InternalIP and their pods' hostIP")
	fs.IntVar(&o.maxPods, "max-pods", 110, "each node's pod capacity")
	fs.StringVar(&o.cpu, "cpu", "32", "each node's CPU capacity")
	fs.StringVar(&o.memory, "memory", "256Gi", "each node's memory capacity")
	fs.Float64Var(&o.qps, "qps", 50, "each node's API requests per second")
	fs.IntVar(&o.burst, "burst", 100, "each node's API request burst")
	fs.Float64Var(&o.eventQPS, "event-qps", 50, "each node's event writes per second")
	fs.IntVar(&o.eventBurst, "event-burst", 100, "each node's event write burst")
	fs.DurationVar(&o.leaseDuration, "lease-duration", kubenode.DefaultLeaseDuration, "each node's lease duration, renewed every quarter of it (whole seconds)")
	labels := fs.String("labels", "", "more labels on every node: key=value, comma-separated")
	fs.DurationVar(&o.maxLifetime, "max-lifetime", 0, "stop after this long (0: never)")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on this address (host:port), at /metrics")
	fs.DurationVar(&o.statsInterval, "stats-interval", 30*time.Second, "log the nodes' counts this often (0: never)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&o.logJSON, "log-json", false, "log JSON lines")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	if o.nodes < 1 {
		errs = append(errs, fmt.Errorf("-nodes %d: at least 1", o.nodes))
	}
	switch o.runtime {
	case "sim":
	case "containerd":
		if o.nodes != 1 {
			errs = append(errs, fmt.Errorf("-runtime containerd runs one node (-nodes %d)", o.nodes))
		}
	default:
		errs = append(errs, fmt.Errorf("-runtime %q: want sim or containerd", o.runtime))
	}
	if net.ParseIP(o.address) == nil {
		errs = append(errs, fmt.Errorf("-address %q: not an IP address", o.address))
	}
	for flagName, q := range map[string]string{"-cpu": o.cpu, "-memory": o.memory} {
		if _, err := resource.ParseQuantity(q); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", flagName, q, err))
		}
	}
	if o.leaseDuration < time.Second || o.leaseDuration%time.Second != 0 {
		errs = append(errs, fmt.Errorf("-lease-duration %s: whole seconds, at least 1s", o.leaseDuration))
	}
	if o.maxLifetime < 0 {
		errs = append(errs, fmt.Errorf("-max-lifetime %s: not negative", o.maxLifetime))
	}
	var err error
	if o.labels, err = parseLabels(*labels); err != nil {
		errs = append(errs, fmt.Errorf("-labels %q: %w", *labels, err))
	}
	if o.maxPods < 1 {
		errs = append(errs, fmt.Errorf("-max-pods %d: at least 1", o.maxPods))
	}
	if _, err := zapcore.ParseLevel(o.logLevel); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %w", err))
	}
	return o, errors.Join(errs...)
}

func run(args []string, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "podlife-node:", err)
		return exitUsage
	}
	log := newLogger(o, stderr)
	defer func() { _ = log.Sync() }()
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "podlife-node: -cpuprofile:", err)
			return exitUsage
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if o.maxLifetime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.maxLifetime)
		defer cancel()
	}
	if err := serve(ctx, o, log, nil); err != nil {
		log.Error("podlife-node failed", zap.Error(err))
		return exitFail
	}
	return exitOK
}

func newLogger(o options, w io.Writer) *zap.Logger {
	level, _ := zapcore.ParseLevel(o.logLevel)
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	enc := zapcore.NewConsoleEncoder(cfg)
	if o.logJSON {
		enc = zapcore.NewJSONEncoder(cfg)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), level))
}

// serve runs the nodes until ctx ends; ready, when set, is told the group and the metrics
// address once everything runs.
func serve(ctx context.Context, o options, log *zap.Logger, ready func(*kubenode.Group, net.Addr)) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	nodes, closeRuntime, err := nodeConfigs(ctx, o, log)
	if err != nil {
		return err
	}
	defer closeRuntime()
	g, err := kubenode.Start(ctx, kubenode.Options{Config: cfg, QPS: float32(o.qps), Burst: o.burst,
		EventQPS: float32(o.eventQPS), EventBurst: o.eventBurst, LeaseDuration: o.leaseDuration, Nodes: nodes, Logger: log})
	if err != nil {
		return err
	}
	log.Info("podlife-node running", zap.Strings("nodes", g.Names()), zap.String("runtime", o.runtime), zap.String("api", cfg.Host))
	var addr net.Addr
	if o.metrics != "" {
		srv, l, err := serveMetrics(o.metrics, g)
		if err != nil {
			_ = g.Stop()
			return fmt.Errorf("-metrics %s: %w", o.metrics, err)
		}
		defer func() { _ = srv.Close() }()
		addr = l
		log.Info("serving metrics", zap.String("url", "http://"+addr.String()+"/metrics"))
	}
	if o.statsInterval > 0 {
		go logStats(ctx, log, g, o.statsInterval)
	}
	if ready != nil {
		ready(g, addr)
	}
	<-ctx.Done()
	log.Info("stopping")
	return g.Stop()
}

// nodeConfigs are the nodes to run, and what closes their runtime.
func nodeConfigs(ctx context.Context, o options, log *zap.Logger) ([]kubenode.NodeConfig, func(), error) {
	capacity := v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse(o.cpu),
		v1.ResourceMemory: resource.MustParse(o.memory),
		v1.ResourcePods:   *resource.NewQuantity(int64(o.maxPods), resource.DecimalSI),
	}
	if o.runtime == "containerd" {
		rt, err := containerd.Connect(ctx, containerd.Config{Socket: o.socket, NodeIP: o.address, Logger: log.Named("containerd")})
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to containerd: %w", err)
		}
		n := kubenode.NodeConfig{Name: o.name, Runtime: rt, RuntimeName: "containerd", Address: o.address, Capacity: capacity, Labels: o.labels}
		return []kubenode.NodeConfig{n}, func() { _ = rt.Close() }, nil
	}
	var nodes []kubenode.NodeConfig
	for i := range o.nodes {
		name := o.name
		if o.nodes > 1 {
			name = fmt.Sprintf("%s-%d", o.name, i)
		}
		n := kubenode.SimNode(name, simruntime.WorldOptions{})
		n.Address, n.Capacity, n.Labels = o.address, capacity, o.labels
		nodes = append(nodes, n)
	}
	return nodes, func() {}, nil
}

// parseLabels reads key=value pairs separated by commas, each checked as the API server checks
// a label.
func parseLabels(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	labels := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("value %q: %s", v, strings.Join(errs, "; "))
		}
		labels[k] = v
	}
	return labels, nil
}

// logStats logs the nodes' counts every interval, with the rates since the last line.
func logStats(ctx context.Context, log *zap.Logger, g *kubenode.Group, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	prev, prevAt := g.Stats(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, now := g.Stats(), time.Now()
		secs := now.Sub(prevAt).Seconds()
		p := sample()
		log.Info("stats",
			zap.Int("pods", st.Pods), zap.Any("phases", st.Phases),
			zap.Float64("stepsPerSec", float64(st.Steps-prev.Steps)/secs),
			zap.Float64("eventsPerSec", float64(st.Events-prev.Events)/secs),
			zap.Uint64("statusPushes", st.StatusPushes), zap.Uint64("apiWrites", st.APIWrites()),
			zap.Float64("apiWritesPerSec", float64(st.APIWrites()-prev.APIWrites())/secs),
			zap.Float64("cpuSeconds", p.cpu.Seconds()), zap.Uint64("rssBytes", p.rss))
		prev, prevAt = st, now
	}
}
