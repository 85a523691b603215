package kubenode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	vklog "github.com/virtual-kubelet/virtual-kubelet/log"
	vknode "github.com/virtual-kubelet/virtual-kubelet/node"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
)

// Options configure Start.
type Options struct {
	// Config reaches the API server (a kubeconfig's); required. Its rate limits are replaced by
	// QPS and Burst.
	Config *rest.Config
	// QPS and Burst limit each node's requests (status writes, deletes, leases), as each kubelet
	// has its own limit; default 50 and 100, kubelet's defaults since 1.27.
	QPS   float32
	Burst int
	// EventQPS and EventBurst limit each node's event writes, through a client of their own as
	// kubelet's eventRecordQPS and eventBurst; default 50 and 100.
	EventQPS   float32
	EventBurst int
	// Nodes are the nodes to run; at least one, with distinct names.
	Nodes []NodeConfig
	// Workers is the number of pod controller workers per node; default 10.
	Workers int
	// LeaseDuration is the duration of each node's lease in the kube-node-lease namespace, in
	// whole seconds, renewed every quarter of it; default 40 s, kubelet's. The node lifecycle
	// controller marks a node whose lease is older than its grace period (50 s by default)
	// NotReady, so a cluster that should notice a lost node sooner shortens both.
	LeaseDuration time.Duration
	// Logger receives the nodes' logs (each named by its node); nil means zap.NewNop().
	Logger *zap.Logger
}

// Group is podlife running as Kubernetes nodes in one process: per node, a virtual-kubelet pod
// controller and node controller on a podlife Agent, with the node's own API clients and watch
// of its pods, as a kubelet has.
type Group struct {
	nodes   []*node
	counter *requestCounter
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu  sync.Mutex
	err error
}

// node is one node of a group.
type node struct {
	cfg NodeConfig
	p   *provider
	pc  *vknode.PodController
	nc  *vknode.NodeController
	np  *nodeProvider
	eb  record.EventBroadcaster
	// events is the node's client for events, with its own rate limit.
	events kubernetes.Interface
	// pods is the informer factory of the node's pods.
	pods informers.SharedInformerFactory
}

// Start registers the nodes with the API server and runs them until ctx ends or Stop is called.
// It returns once every node is Ready: its pods recovered (a node that ran before in this
// process, or before a restart, finds its pods from their API statuses and its runtime), its pod
// controller synced and the node object up to date.
func Start(ctx context.Context, opts Options) (*Group, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	counter := &requestCounter{n: map[string]uint64{}}
	// The group's own client: the watch of its Node objects (watchNodes), and the informers the
	// pod controllers require but, resolving no environment variables (SkipDownwardAPIResolution:
	// podlife models secret and config map references itself), never read; those are never
	// started, so they watch nothing.
	groupClient, err := newClient(opts.Config, opts.QPS, opts.Burst, counter)
	if err != nil {
		return nil, err
	}
	unused := informers.NewSharedInformerFactory(groupClient, 0)
	ctx, cancel := context.WithCancel(ctx)
	g := &Group{counter: counter, cancel: cancel}
	for i := range opts.Nodes {
		n, err := newNode(opts, opts.Nodes[i], counter, unused, log)
		if err != nil {
			cancel()
			return nil, err
		}
		g.nodes = append(g.nodes, n)
	}
	for _, n := range g.nodes {
		if err := n.p.seed(ctx); err != nil {
			cancel()
			return nil, err
		}
	}
	for _, n := range g.nodes {
		n.eb.StartRecordingToSink(&corev1client.EventSinkImpl{Interface: n.events.CoreV1().Events("")})
		g.goRun(func() error { return n.p.agent.Run(ctx) })
	}
	for _, n := range g.nodes {
		n.pods.Start(ctx.Done())
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 10
	}
	for _, n := range g.nodes {
		vctx := vklog.WithLogger(ctx, vkLogger{log.Named(n.cfg.Name).Named("vk").Sugar()})
		g.goRun(func() error { return n.pc.Run(vctx, workers) })
	}
	for _, n := range g.nodes {
		select {
		case <-n.pc.Ready():
		case <-n.pc.Done():
			g.Stop()
			return nil, fmt.Errorf("kubenode: node %s: the pod controller stopped: %w", n.cfg.Name, n.pc.Err())
		case <-ctx.Done():
			g.Stop()
			return nil, fmt.Errorf("kubenode: starting: %w", ctx.Err())
		}
	}
	for _, n := range g.nodes {
		vctx := vklog.WithLogger(ctx, vkLogger{log.Named(n.cfg.Name).Named("vk").Sugar()})
		g.goRun(func() error { return n.nc.Run(vctx) })
		select {
		case <-n.nc.Ready():
		case <-n.nc.Done():
			g.Stop()
			return nil, fmt.Errorf("kubenode: node %s: registering the node: %w", n.cfg.Name, n.nc.Err())
		case <-ctx.Done():
			g.Stop()
			return nil, fmt.Errorf("kubenode: starting: %w", ctx.Err())
		}
		log.Info("node ready", zap.String("node", n.cfg.Name), zap.String("runtime", n.cfg.RuntimeName))
	}
	g.watchNodes(ctx, groupClient)
	return g, nil
}

// watchNodes follows the group's Node objects and has a node report its own status again when
// the server shows it other than Ready (the node lifecycle controller marks a node whose lease
// went stale Unknown, as after the process was paused), as kubelet reports a status that differs
// from the server's; without it the node controller would write it only at its next periodic
// update, a minute later. One watch for the group, on podlife's node label.
func (g *Group) watchNodes(ctx context.Context, client kubernetes.Interface) {
	byName := map[string]*nodeProvider{}
	for _, n := range g.nodes {
		byName[n.cfg.Name] = n.np
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = LabelNode + "=true"
	}))
	changed := func(obj any) {
		if n, ok := obj.(*v1.Node); ok && byName[n.Name] != nil && !nodeReady(n) {
			byName[n.Name].reassert()
		}
	}
	_, _ = factory.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    changed,
		UpdateFunc: func(_, obj any) { changed(obj) },
	})
	factory.Start(ctx.Done())
}

// nodeReady reports whether the node's Ready condition is True.
func nodeReady(n *v1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

func (o *Options) validate() error {
	var errs []error
	if o.Config == nil {
		errs = append(errs, errors.New("Config: Required value"))
	}
	if len(o.Nodes) == 0 {
		errs = append(errs, errors.New("Nodes: Required value"))
	}
	if o.LeaseDuration != 0 && (o.LeaseDuration < time.Second || o.LeaseDuration%time.Second != 0) {
		errs = append(errs, fmt.Errorf("LeaseDuration: Invalid value: %s: whole seconds, at least 1", o.LeaseDuration))
	}
	seen := map[string]bool{}
	for i, n := range o.Nodes {
		switch {
		case n.Name == "":
			errs = append(errs, fmt.Errorf("Nodes[%d].Name: Required value", i))
		case seen[n.Name]:
			errs = append(errs, fmt.Errorf("Nodes[%d].Name: Duplicate value: %q", i, n.Name))
		}
		seen[n.Name] = true
		if n.Runtime == nil {
			errs = append(errs, fmt.Errorf("Nodes[%d].Runtime: Required value", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kubenode: %w", err)
	}
	return nil
}

// newClient is a clientset on cfg with its own rate limit, counting its requests.
func newClient(base *rest.Config, qps float32, burst int, counter *requestCounter) (*kubernetes.Clientset, error) {
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = qps, burst
	if cfg.QPS <= 0 {
		cfg.QPS = 50
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 100
	}
	cfg.UserAgent = "podlife-node"
	// Protocol buffers, as kubelet's clients speak to the API server: a pod decodes and encodes
	// several times faster than as JSON, with less garbage.
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.Wrap(counter.wrap)
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubenode: API client: %w", err)
	}
	return c, nil
}

// newNode builds one node: its API clients, store, agent, provider, event recorder and
// controllers.
func newNode(opts Options, cfg NodeConfig, counter *requestCounter, unused informers.SharedInformerFactory, log *zap.Logger) (*node, error) {
	cfg.defaults()
	client, err := newClient(opts.Config, opts.QPS, opts.Burst, counter)
	if err != nil {
		return nil, err
	}
	events, err := newClient(opts.Config, opts.EventQPS, opts.EventBurst, counter)
	if err != nil {
		return nil, err
	}
	// The node's pods, watched by node name as kubelet watches them: the API server filters.
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", cfg.Name).String()
	}), informers.WithTransform(stripManagedFields))
	pods := factory.Core().V1().Pods()
	nlog := log.Named(cfg.Name)
	store := memstore.New()
	eb := record.NewBroadcaster()
	recorder := eb.NewRecorder(scheme.Scheme, v1.EventSource{Component: "podlife", Host: cfg.Name})
	p := &provider{node: cfg.Name, log: nlog, store: store, client: lifecycle.Client{Store: store}, sim: cfg.Sim,
		api: client, lister: pods.Lister(), recorder: recorder, hostIP: cfg.Address, scheme: cfg.RuntimeName, stats: &counters{},
		pods: map[string]*entry{}}
	agent, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: cfg.Name, Runtime: cfg.Runtime, Setup: cfg.Setup, Store: store,
		Logger: demoteInfo(nlog), Machine: cfg.Machine, Observe: p.observe})
	if err != nil {
		return nil, fmt.Errorf("kubenode: node %s: %w", cfg.Name, err)
	}
	p.agent = agent
	pcc := vknode.PodControllerConfig{
		PodClient:                 podsGetter{PodsGetter: client.CoreV1(), p: p},
		EventRecorder:             quietRecorder{recorder},
		Provider:                  p,
		PodInformer:               pods,
		SecretInformer:            unused.Core().V1().Secrets(),
		ConfigMapInformer:         unused.Core().V1().ConfigMaps(),
		ServiceInformer:           unused.Core().V1().Services(),
		SkipDownwardAPIResolution: true,
	}
	pc, err := vknode.NewPodController(pcc)
	if err != nil {
		return nil, fmt.Errorf("kubenode: node %s: pod controller: %w", cfg.Name, err)
	}
	lease := opts.LeaseDuration
	if lease == 0 {
		lease = DefaultLeaseDuration
	}
	np := &nodeProvider{cfg: &cfg}
	nc, err := vknode.NewNodeController(np, cfg.object(), client.CoreV1().Nodes(),
		vknode.WithNodeEnableLeaseV1WithRenewInterval(client.CoordinationV1().Leases(v1.NamespaceNodeLease),
			int32(lease/time.Second), lease/4))
	if err != nil {
		return nil, fmt.Errorf("kubenode: node %s: node controller: %w", cfg.Name, err)
	}
	return &node{cfg: cfg, p: p, pc: pc, nc: nc, np: np, eb: eb, events: events, pods: factory}, nil
}

// stripManagedFields drops a pod's managedFields as the informer stores it: nothing on a node
// reads them, and a status written without them keeps the server's (the field manager takes
// the live object's when a request has none). They are most of a small pod's metadata, which
// virtual-kubelet's pod controller copies and compares reflectively, byte by byte, at every
// event of the pod.
func stripManagedFields(obj any) (any, error) {
	if p, ok := obj.(*v1.Pod); ok {
		p.ManagedFields = nil
	}
	return obj, nil
}

func (g *Group) goRun(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			g.mu.Lock()
			g.err = errors.Join(g.err, err)
			g.mu.Unlock()
		}
	}()
}

// Stop stops every node's controllers and agent and waits for them. The nodes' containers keep
// running and their API objects stay, as when kubelet stops: a group started again on the same
// runtimes recovers them.
func (g *Group) Stop() error {
	g.cancel()
	g.wg.Wait()
	for _, n := range g.nodes {
		n.eb.Shutdown()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Names are the nodes' names.
func (g *Group) Names() []string {
	out := make([]string, len(g.nodes))
	for i, n := range g.nodes {
		out[i] = n.cfg.Name
	}
	return out
}

// Stats are the group's counts now.
func (g *Group) Stats() Stats {
	s := Stats{Nodes: len(g.nodes), Phases: map[string]int{}, API: g.counter.snapshot()}
	for _, n := range g.nodes {
		p := n.p
		s.Steps += p.stats.steps.Load()
		s.StatusChanges += p.stats.statuses.Load()
		s.StatusPushes += p.stats.pushed.Load()
		s.Events += p.stats.events.Load()
		p.mu.Lock()
		s.Pods += len(p.pods)
		for _, e := range p.pods {
			ph := ""
			if e.status != nil {
				ph = string(e.status.Phase)
			}
			s.Phases[ph]++
		}
		p.mu.Unlock()
	}
	return s
}
