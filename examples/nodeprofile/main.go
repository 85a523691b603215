// Command nodeprofile measures podlife's Kubernetes nodes through a real API server: it runs
// cmd/podlife-node with -nodes N simulated nodes as a process of its own, creates -pods pods
// spread over the nodes (spec.nodeName set, as no scheduler runs), and measures how fast they
// get from create to Running and Ready, what the node process spent (CPU seconds per pod, RSS),
// what the API server spent, and the API writes by kind; then it deletes them all and measures
// that too.
//
// Usage:
//
//	go run ./examples/nodeprofile [-pods N] [-nodes N] [flags]
//
// Without -kubeconfig it starts kube-apiserver v1.37.2 on 127.0.0.1 from $PODLIFE_KUBE_BIN
// (PODLIFE_KUBE_BIN=$(./scripts/kube-tools)), and stops it at the end. The report goes to
// stdout, one line per figure.
//
// Flags:
//
//	-pods N           how many pods (default 1000)
//	-nodes N          how many simulated nodes the node process runs (default 10)
//	-kubeconfig FILE  an API server to use instead of starting one
//	-creators N       goroutines creating (and deleting) pods at once (default 32)
//	-qps, -burst      each node's API rate limit (default 50, 100: kubelet's)
//	-event-qps, -event-burst  each node's event rate limit (default 50, 100: kubelet's)
//	-timeout D        give up after this long (default 10m)
//	-cpuprofile FILE  the node process writes a CPU profile of its whole run there
//	-memprofile FILE  a heap profile of the node process once every pod is Running
//
// Each pod has one container, which the simulated node runs until it is stopped and which exits
// at once on SIGTERM: the figures are podlife's and the API server's costs, not an
// application's.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/podlife/podlife/internal/kubetest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	pods, nodes, creators, burst, eventBurst int
	qps, eventQPS                            float64
	kubeconfig, cpuprofile, memprofile       string
	timeout                                  time.Duration
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("nodeprofile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.pods, "pods", 1000, "how many pods")
	fs.IntVar(&o.nodes, "nodes", 10, "how many simulated nodes")
	fs.IntVar(&o.creators, "creators", 32, "goroutines creating and deleting pods")
	fs.Float64Var(&o.qps, "qps", 50, "each node's API requests per second")
	fs.IntVar(&o.burst, "burst", 100, "each node's API burst")
	fs.Float64Var(&o.eventQPS, "event-qps", 50, "each node's event writes per second")
	fs.IntVar(&o.eventBurst, "event-burst", 100, "each node's event burst")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "an API server to use (default: start one from $PODLIFE_KUBE_BIN)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "the node process writes a CPU profile of its run to this file")
	fs.StringVar(&o.memprofile, "memprofile", "", "write a heap profile of the node process, once every pod is Running, to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.pods < 1 || o.nodes < 1 || o.creators < 1 {
		fmt.Fprintln(stderr, "nodeprofile: -pods, -nodes and -creators must be at least 1")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	// The node process writes its log here too, from a goroutine of os/exec.
	rep, err := bench(ctx, o, &lockedWriter{w: stderr})
	if err != nil {
		fmt.Fprintln(stderr, "nodeprofile:", err)
		return 1
	}
	rep.print(stdout)
	return 0
}

// report is what one run measured.
type report struct {
	o                             options
	up, running, deleted          time.Duration // the nodes' start; first create to last Running; first delete to last gone
	latency                       []time.Duration
	nodeCPU, nodeCPUDelete        time.Duration
	nodeRSS, nodeHWM              uint64
	apiCPU, apiCPUDelete          time.Duration
	api                           map[string]float64 // the node process's API requests by "VERB resource", during the create phase
	apiDelete                     map[string]float64
	events, steps, pushes, writes float64
}

func bench(ctx context.Context, o options, log io.Writer) (*report, error) {
	cfg, kubeconfig, apiPid, stop, err := apiServer(ctx, o)
	if err != nil {
		return nil, err
	}
	defer stop()
	cfg.QPS, cfg.Burst = 5000, 10000 // the benchmark's own client: never the bottleneck
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ns := fmt.Sprintf("bench-%d", time.Now().Unix())
	if _, err := c.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}

	fmt.Fprintf(log, "nodeprofile: building cmd/podlife-node and starting %d nodes\n", o.nodes)
	node, err := startNode(ctx, o, kubeconfig, ns, log)
	if err != nil {
		return nil, err
	}
	defer node.stop()
	rep := &report{o: o, up: node.up}

	// Follow the pods (an informer, which resumes a watch the server closes): the first version
	// Running and Ready is the pod's arrival.
	var mu sync.Mutex
	created := make(map[string]time.Time, o.pods)
	running := make(map[string]time.Time, o.pods)
	allRunning := make(chan struct{})
	seen := func(obj any) {
		p, ok := obj.(*v1.Pod)
		if !ok || p.Status.Phase != v1.PodRunning || !ready(p) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, seen := running[p.Name]; !seen {
			running[p.Name] = time.Now()
			if len(running) == o.pods {
				close(allRunning)
			}
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	informer := factory.Core().V1().Pods().Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: seen, UpdateFunc: func(_, obj any) { seen(obj) }}); err != nil {
		return nil, err
	}
	ictx, icancel := context.WithCancel(ctx)
	factory.Start(ictx.Done())
	defer func() { icancel(); factory.Shutdown() }()
	cache.WaitForCacheSync(ctx.Done(), informer.HasSynced)

	cpu0, api0, stats0 := node.cpu(), procCPU(apiPid), node.metrics()
	start := time.Now()
	err = forEachPod(ctx, o, func(i int) error {
		pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i), Namespace: ns},
			Spec: v1.PodSpec{NodeName: fmt.Sprintf("%s-%d", ns, i%o.nodes),
				Containers: []v1.Container{{Name: "app", Image: "busybox:1.36", ImagePullPolicy: v1.PullIfNotPresent}}}}
		mu.Lock()
		created[pod.Name] = time.Now()
		mu.Unlock()
		_, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	select {
	case <-allRunning:
	case <-ctx.Done():
		mu.Lock()
		n := len(running)
		mu.Unlock()
		return nil, fmt.Errorf("%d of %d pods Running and Ready seen when time ran out (%s)", n, o.pods, census(c, ns))
	}
	mu.Lock()
	last := start
	for name, at := range running {
		rep.latency = append(rep.latency, at.Sub(created[name]))
		if at.After(last) {
			last = at
		}
	}
	mu.Unlock()
	rep.running = last.Sub(start)
	time.Sleep(2 * time.Second) // the events and status writes that trail the last Running
	stats1 := node.metrics()
	rep.nodeCPU, rep.apiCPU = node.cpu()-cpu0, procCPU(apiPid)-api0
	rep.api = diff(stats1, stats0, "podlife_node_api_requests_total")
	rep.events = stats1["podlife_node_events_total"] - stats0["podlife_node_events_total"]
	rep.steps = stats1["podlife_node_steps_total"] - stats0["podlife_node_steps_total"]
	rep.pushes = stats1["podlife_node_status_pushes_total"] - stats0["podlife_node_status_pushes_total"]
	rep.nodeRSS, rep.nodeHWM = node.rss()
	if o.memprofile != "" {
		if err := node.heapProfile(o.memprofile); err != nil {
			return nil, fmt.Errorf("-memprofile: %w", err)
		}
	}

	fmt.Fprintf(log, "nodeprofile: %d pods Running in %s; deleting them\n", o.pods, rep.running.Round(time.Millisecond))
	cpu1, api1 := node.cpu(), procCPU(apiPid)
	start = time.Now()
	err = forEachPod(ctx, o, func(i int) error {
		return c.CoreV1().Pods(ns).Delete(ctx, fmt.Sprintf("pod-%d", i), metav1.DeleteOptions{})
	})
	if err != nil {
		return nil, err
	}
	for {
		list, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, err
		}
		if len(list.Items) == 0 {
			break
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%d pods still there when time ran out", len(list.Items))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep.deleted = time.Since(start)
	time.Sleep(time.Second)
	rep.nodeCPUDelete, rep.apiCPUDelete = node.cpu()-cpu1, procCPU(apiPid)-api1
	rep.apiDelete = diff(node.metrics(), stats1, "podlife_node_api_requests_total")
	return rep, nil
}

// forEachPod runs f for every pod index on o.creators goroutines.
func forEachPod(ctx context.Context, o options, f func(int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, o.creators)
	for range o.creators {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.pods || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func ready(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// apiServer is the API server to measure against: -kubeconfig's, or one started here (its
// process id then, for its CPU time).
func apiServer(ctx context.Context, o options) (cfg *rest.Config, kubeconfig string, pid int, stop func(), err error) {
	if o.kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.kubeconfig)
		return cfg, o.kubeconfig, 0, func() {}, err
	}
	s, err := kubetest.StartAPIServer(ctx, kubetest.Options{MaxLifetime: o.timeout + time.Minute})
	if err != nil {
		return nil, "", 0, nil, err
	}
	return s.Config(), s.Kubeconfig, s.Pid(), func() { _ = s.Stop() }, nil
}

// nodeProcess is cmd/podlife-node running the nodes.
type nodeProcess struct {
	cmd     *exec.Cmd
	addr    string
	metrics func() map[string]float64
	up      time.Duration
}

func startNode(ctx context.Context, o options, kubeconfig, prefix string, log io.Writer) (*nodeProcess, error) {
	dir, err := os.MkdirTemp("", "nodeprofile-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "podlife-node")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/podlife/podlife/cmd/podlife-node")
	build.Stderr = log
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building cmd/podlife-node: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin, "-kubeconfig", kubeconfig, "-nodes", strconv.Itoa(o.nodes), "-name", prefix,
		"-max-pods", strconv.Itoa(o.pods), "-metrics", addr, "-stats-interval", "0", "-log-level", "warn",
		"-qps", fmt.Sprint(o.qps), "-burst", strconv.Itoa(o.burst), "-event-qps", fmt.Sprint(o.eventQPS), "-event-burst", strconv.Itoa(o.eventBurst))
	if o.cpuprofile != "" {
		cmd.Args = append(cmd.Args, "-cpuprofile", o.cpuprofile)
	}
	cmd.Stderr = log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &nodeProcess{cmd: cmd, addr: addr, metrics: func() map[string]float64 { return scrape("http://" + addr + "/metrics") }}
	for {
		if _, ok := n.metrics()["podlife_node_steps_total"]; ok {
			break
		}
		if ctx.Err() != nil || time.Since(start) > 2*time.Minute {
			n.stop()
			return nil, errors.New("the node process did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.up = time.Since(start)
	return n, nil
}

func (n *nodeProcess) stop() {
	_ = n.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
	}
}

func (n *nodeProcess) cpu() time.Duration { return procCPU(n.cmd.Process.Pid) }

// heapProfile writes the node process's heap profile (after a collection) to file.
func (n *nodeProcess) heapProfile(file string) error {
	resp, err := http.Get("http://" + n.addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// rss is the process's resident set now and at its peak (VmRSS, VmHWM).
func (n *nodeProcess) rss() (now, peak uint64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			now = kb * 1024
		case "VmHWM":
			peak = kb * 1024
		}
	}
	return now, peak
}

// procCPU is a process's user and system time so far, from /proc (Linux; 0 elsewhere or for
// pid 0), at 100 clock ticks per second.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from the closing parenthesis.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// scrape reads a Prometheus text page into "name{labels}" → value.
func scrape(url string) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(url)
	if err != nil {
		return out
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// diff is the change of the series of one metric, by "VERB resource".
func diff(now, before map[string]float64, metric string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range now {
		name, labels, ok := strings.Cut(k, "{")
		if !ok || name != metric {
			continue
		}
		var verb, resource string
		for _, kv := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
			key, val, _ := strings.Cut(kv, "=")
			val = strings.Trim(val, `"`)
			switch key {
			case "verb":
				verb = val
			case "resource":
				resource = val
			}
		}
		if d := v - before[k]; d > 0 {
			out[verb+" "+resource] = d
		}
	}
	return out
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pods := float64(r.o.pods)
	slices.Sort(r.latency)
	pct := func(p float64) time.Duration { return r.latency[min(len(r.latency)-1, int(p*float64(len(r.latency))))] }
	writes := func(m map[string]float64) (sum float64, parts []string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return int(m[b] - m[a]) })
		for _, k := range keys {
			verb, _, _ := strings.Cut(k, " ")
			if verb == "GET" || verb == "WATCH" || verb == "LIST" {
				continue
			}
			sum += m[k]
			parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
		}
		return sum, parts
	}
	fmt.Fprintf(tw, "pods\t%d on %d simulated nodes (one process), %d creators; node rate limits %g/%d, events %g/%d\n",
		r.o.pods, r.o.nodes, r.o.creators, r.o.qps, r.o.burst, r.o.eventQPS, r.o.eventBurst)
	fmt.Fprintf(tw, "nodes up\t%s (process start to metrics served, nodes registered)\n", r.up.Round(time.Millisecond))
	fmt.Fprintf(tw, "create to Running\t%s for all: %.0f pods/s\n", r.running.Round(time.Millisecond), pods/r.running.Seconds())
	fmt.Fprintf(tw, "latency\tp50 %s, p90 %s, p99 %s, max %s (create call to Running and Ready seen by a watch)\n",
		pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), r.latency[len(r.latency)-1].Round(time.Millisecond))
	fmt.Fprintf(tw, "node CPU\t%.2f s: %.2f ms per pod (create to Running, and the writes trailing it)\n", r.nodeCPU.Seconds(), r.nodeCPU.Seconds()*1000/pods)
	if r.apiCPU > 0 {
		fmt.Fprintf(tw, "API server CPU\t%.2f s: %.2f ms per pod (with its etcd)\n", r.apiCPU.Seconds(), r.apiCPU.Seconds()*1000/pods)
	}
	fmt.Fprintf(tw, "node RSS\t%.1f MiB now, %.1f MiB peak\n", float64(r.nodeRSS)/(1<<20), float64(r.nodeHWM)/(1<<20))
	sum, parts := writes(r.api)
	fmt.Fprintf(tw, "node API writes\t%.0f (%.1f per pod): %s\n", sum, sum/pods, strings.Join(parts, ", "))
	fmt.Fprintf(tw, "node counts\t%.0f machine steps, %.0f status pushes, %.0f events recorded\n", r.steps, r.pushes, r.events)
	fmt.Fprintf(tw, "delete to gone\t%s for all: %.0f pods/s; node CPU %.2f s (%.2f ms per pod)",
		r.deleted.Round(time.Millisecond), pods/r.deleted.Seconds(), r.nodeCPUDelete.Seconds(), r.nodeCPUDelete.Seconds()*1000/pods)
	if r.apiCPUDelete > 0 {
		fmt.Fprintf(tw, ", API server CPU %.2f s", r.apiCPUDelete.Seconds())
	}
	fmt.Fprintln(tw)
	sum, parts = writes(r.apiDelete)
	fmt.Fprintf(tw, "node API writes\t%.0f while deleting (%.1f per pod): %s\n", sum, sum/pods, strings.Join(parts, ", "))
	_ = tw.Flush()
}

// census counts the namespace's pods by phase and readiness, for an error.
func census(c kubernetes.Interface, ns string) string {
	list, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	n := map[string]int{}
	for _, p := range list.Items {
		n[fmt.Sprintf("%s ready=%t", p.Status.Phase, ready(&p))]++
	}
	return fmt.Sprint(n)
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
