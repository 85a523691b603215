package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeImpl is a node implementation that runs as one process serving several nodes against an
// API server: KWOK (Kwok), or podlife-node (PodlifeNode). The cluster tests, the head-to-head benchmark and the
// fidelity harness take one as a parameter, so that each runs the same on both.
type NodeImpl interface {
	// Name is a short name for reports and logs ("kwok", "podlife").
	Name() string
	// Prepare gets ready what Start needs (a binary built), so that a harness timing Start
	// times the process alone. Start prepares too when it was not.
	Prepare(s *APIServer) error
	// Start starts one process that serves the nodes NodeNames(opts.Group, opts.Count) against
	// s, making them first if the implementation needs that, and returns once the process is
	// up; StartNodes then waits for the nodes to be Ready. Starting it again for a group whose
	// process stopped serves the same nodes again.
	Start(ctx context.Context, s *APIServer, opts NodeOptions) (*Process, error)
}

// NodeOptions say which nodes a node process serves and how.
type NodeOptions struct {
	// Group names the process (its log) and its nodes: <group>-0 .. <group>-<Count-1>. It is a
	// DNS label: lower-case letters, digits and '-'.
	Group string
	// Count is the number of nodes, at least 1.
	Count int
	// User is the API user the process authenticates as, one of Options.Users, so that its
	// writes can be told apart (Options.AuditUsers); default AdminUser.
	User string
	// LeaseDuration is the duration of the nodes' leases, renewed every quarter of it; default
	// 40 s (kubelet's). The node lifecycle controller's grace period must exceed the renewal
	// interval.
	LeaseDuration time.Duration
}

// NodeNames are the names of the nodes of a group: group-0 .. group-(n-1).
func NodeNames(group string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = group + "-" + strconv.Itoa(i)
	}
	return names
}

// NodeGroup is a node process started by StartNodes, and the nodes it serves.
type NodeGroup struct {
	*Process
	Impl  NodeImpl
	Opts  NodeOptions
	Nodes []string
	// ReadyAfter is how long the nodes took from the start of the process to Ready.
	ReadyAfter time.Duration

	s *APIServer
}

// StartNodes starts impl's process for opts and waits until all its nodes are Ready.
func (s *APIServer) StartNodes(ctx context.Context, impl NodeImpl, opts NodeOptions) (*NodeGroup, error) {
	if opts.Count < 1 {
		return nil, fmt.Errorf("node group %q: Count is %d, want at least 1", opts.Group, opts.Count)
	}
	if !validName(opts.Group) {
		return nil, fmt.Errorf("node group %q: the group must be lower-case letters, digits and '-'", opts.Group)
	}
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = DefaultKwokLease
	}
	g := &NodeGroup{Impl: impl, Opts: opts, Nodes: NodeNames(opts.Group, opts.Count), s: s}
	return g, g.start(ctx)
}

// StartNodes is s.StartNodes for a test: it fails the test on error. s.Stop stops the process.
func StartNodes(tb testing.TB, s *APIServer, impl NodeImpl, opts NodeOptions) *NodeGroup {
	tb.Helper()
	g, err := s.StartNodes(context.Background(), impl, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// Restart starts the group's process again, after it stopped, and waits until its nodes are
// Ready again.
func (g *NodeGroup) Restart(ctx context.Context) error {
	select {
	case <-g.Done():
	default:
		return fmt.Errorf("node group %s: its process %d still runs", g.Opts.Group, g.Pid())
	}
	return g.start(ctx)
}

func (g *NodeGroup) start(ctx context.Context) error {
	begin := time.Now()
	p, err := g.Impl.Start(ctx, g.s, g.Opts)
	if err != nil {
		return fmt.Errorf("starting %s nodes %s: %w", g.Impl.Name(), g.Opts.Group, err)
	}
	g.Process = p
	if err := g.s.WaitNodesReady(ctx, p, g.Nodes, g.s.opts.StartTimeout); err != nil {
		return err
	}
	g.ReadyAfter = time.Since(begin)
	return nil
}

// Delete deletes the group's Node objects and their leases, once its process has stopped, so
// that the scheduler no longer considers them.
func (g *NodeGroup) Delete(ctx context.Context) error {
	if err := g.Stop(); err != nil {
		return err
	}
	c := g.s.Client()
	var errs []error
	for _, n := range g.Nodes {
		if err := c.CoreV1().Nodes().Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
		err := c.CoordinationV1().Leases(v1.NamespaceNodeLease).Delete(ctx, n, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WaitNodesReady waits until every node of names exists with its Ready condition True, p (the
// process serving them) exits, or timeout passes. With a controller manager started on s, it
// also waits for the node lifecycle controller to lift the not-ready taints (the API server
// gives one to every new node), so that the scheduler takes the nodes; without one the taint
// stays, and only pods bound by spec.nodeName run there.
func (s *APIServer) WaitNodesReady(ctx context.Context, p *Process, names []string, timeout time.Duration) error {
	return waitUntil(ctx, p, "serving Ready nodes", timeout, func(ctx context.Context) error {
		list, err := s.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		problem := map[string]string{}
		for _, n := range names {
			problem[n] = "does not exist"
		}
		for i := range list.Items {
			n := &list.Items[i]
			if _, ok := problem[n.Name]; ok {
				problem[n.Name] = nodeProblem(n, s.nodeLifecycle.Load())
			}
		}
		for _, n := range names {
			if problem[n] != "" {
				return fmt.Errorf("node %s (of %d) %s", n, len(names), problem[n])
			}
		}
		return nil
	})
}

// nodeProblem says why the node is not Ready, or with taints, why the scheduler would not take
// it; "" when nothing is wrong.
func nodeProblem(n *v1.Node, taints bool) string {
	if r := NodeReady(n); r != v1.ConditionTrue {
		return fmt.Sprintf("is not Ready (%q)", r)
	}
	for _, t := range n.Spec.Taints {
		if !taints {
			break
		}
		if t.Key == v1.TaintNodeNotReady || t.Key == v1.TaintNodeUnreachable {
			return "has the taint " + t.ToString()
		}
	}
	return ""
}

// NodeReady is the status of the node's Ready condition, "" without one.
func NodeReady(n *v1.Node) v1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.Status
		}
	}
	return ""
}

// Kwok is KWOK as a NodeImpl: the harness makes the nodes, annotated kwok.x-k8s.io/node=fake
// and podlife.io/node-group=<group>, and one kwok process with the default fast stages
// manages the nodes of its group (StartKwok).
type Kwok struct {
	// Args are more kwok flags.
	Args []string
}

// NodeGroupAnnotation names the group of a node made for a NodeImpl that needs its nodes made.
const NodeGroupAnnotation = "podlife.io/node-group"

// NodeGroupLabel is the label every NodeImpl gives the nodes of a group, with the group's name,
// so that tests sharing a control plane keep their pods on their own nodes (a nodeSelector).
const NodeGroupLabel = "podlife.io/node-group"

// Name is "kwok".
func (Kwok) Name() string { return "kwok" }

// Prepare checks that s's binaries include kwok.
func (Kwok) Prepare(s *APIServer) error {
	if _, err := os.Stat(filepath.Join(s.opts.BinDir, KwokBin)); err != nil {
		return fmt.Errorf("kwok: %w (scripts/kube-tools builds it)", err)
	}
	return nil
}

// Start makes the nodes that do not exist yet and starts kwok for them.
func (k Kwok) Start(ctx context.Context, s *APIServer, opts NodeOptions) (*Process, error) {
	for _, name := range NodeNames(opts.Group, opts.Count) {
		_, err := s.client.CoreV1().Nodes().Create(ctx, &v1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{KwokNodeAnnotation: "fake", NodeGroupAnnotation: opts.Group},
			Labels:      map[string]string{v1.LabelHostname: name, "type": "kwok", NodeGroupLabel: opts.Group},
		}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("making kwok node %s: %w", name, err)
		}
	}
	return s.StartKwok(ctx, KwokOptions{
		Name:               "kwok-" + opts.Group,
		AnnotationSelector: KwokNodeAnnotation + "=fake," + NodeGroupAnnotation + "=" + opts.Group,
		NodeLeaseDuration:  opts.LeaseDuration,
		User:               opts.User,
		Args:               k.Args,
	})
}

// NodeImplNames are the names NodeImplByName knows, in the order reports list them.
var NodeImplNames = []string{"kwok", "podlife"}

// NodeImplByName is the node implementation of a name in NodeImplNames, for the -node flags
// of the examples.
func NodeImplByName(name string) (NodeImpl, error) {
	switch name {
	case "kwok":
		return Kwok{}, nil
	case "podlife":
		return PodlifeNode{}, nil
	}
	return nil, fmt.Errorf("unknown node implementation %q (known: %s)", name, strings.Join(NodeImplNames, ", "))
}

// StartControlPlane starts kube-scheduler and kube-controller-manager against s, with cm's
// node-lifecycle settings: the whole control plane a node process needs.
func (s *APIServer) StartControlPlane(ctx context.Context, cm ControllerManagerOptions) error {
	if _, err := s.StartScheduler(ctx, ComponentOptions{}); err != nil {
		return err
	}
	_, err := s.StartControllerManager(ctx, cm)
	return err
}
