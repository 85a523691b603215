package kubenode

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// KubeletVersion is the version a podlife node reports (nodeInfo.kubeletVersion, kubectl's
// VERSION column): the kubelet release whose rules podlife follows, marked as podlife's.
const KubeletVersion = "v1.35.0-podlife"

// DefaultLeaseDuration is the duration of a node's lease unless Options.LeaseDuration says
// otherwise: kubelet's nodeLeaseDurationSeconds, renewed every quarter of it (10 s).
const DefaultLeaseDuration = 40 * time.Second

// Labels every podlife node carries besides the kubelet's own (kubernetes.io/hostname, os,
// arch): LabelNode, and LabelRuntime with "sim" or the runtime's name.
const (
	LabelNode    = "podlife.io/node"
	LabelRuntime = "podlife.io/runtime"
)

// NodeConfig is one node of a Group.
type NodeConfig struct {
	// Name is the node's name (an RFC 1123 subdomain).
	Name string
	// Runtime runs the node's pods; Setup prepares them (nil: nothing to prepare).
	Runtime lifecycle.Runtime
	Setup   lifecycle.PodSetup
	// Sim is the simulated runtime when Runtime is one: pods' ScriptAnnotation goes to its world.
	Sim *simruntime.Runtime
	// RuntimeName names the runtime in the node's labels and nodeInfo.containerRuntimeVersion,
	// and is the scheme of the container IDs in pod statuses (containerd://<id>, as kubelet
	// writes them); default "sim" with Sim, else "unknown".
	RuntimeName string
	// Machine tunes every pod's Machine (back-off curves).
	Machine lifecycle.Options
	// Address is the node's InternalIP and its pods' hostIP; default 127.0.0.1.
	Address string
	// Capacity is the node's capacity and allocatable; default 32 CPUs, 256 GiB and 110 pods
	// (kubelet's maxPods). A scheduler places no more pods than "pods" says.
	Capacity v1.ResourceList
	// Labels are added to the node's.
	Labels map[string]string
}

// SimNode is a simulated node, KWOK-like but with kubelet's rules: a world of its own, scripted
// by world (the zero WorldOptions runs every container until it is stopped) and per pod by
// ScriptAnnotation, in real time.
func SimNode(name string, world simruntime.WorldOptions) NodeConfig {
	rt := simruntime.NewRuntime(simruntime.NewWorld(world), lifecycle.RealClock{})
	return NodeConfig{Name: name, Runtime: rt, Setup: rt, Sim: rt}
}

func (c *NodeConfig) defaults() {
	if c.RuntimeName == "" {
		c.RuntimeName = "unknown"
		if c.Sim != nil {
			c.RuntimeName = "sim"
		}
	}
	if c.Address == "" {
		c.Address = "127.0.0.1"
	}
	if c.Capacity == nil {
		c.Capacity = v1.ResourceList{
			v1.ResourceCPU:    resource.MustParse("32"),
			v1.ResourceMemory: resource.MustParse("256Gi"),
			v1.ResourcePods:   resource.MustParse("110"),
		}
	}
}

// object is the node as registered: labels, capacity, conditions (Ready, and no pressure),
// addresses and nodeInfo. The node controller renews its lease and heartbeat from then on.
func (c *NodeConfig) object() *v1.Node {
	labels := map[string]string{
		"kubernetes.io/hostname": c.Name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     runtime.GOARCH,
		LabelNode:                "true",
		LabelRuntime:             c.RuntimeName,
	}
	for k, v := range c.Labels {
		labels[k] = v
	}
	now := metav1.NewTime(time.Now())
	cond := func(t v1.NodeConditionType, s v1.ConditionStatus, reason, msg string) v1.NodeCondition {
		return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Labels: labels},
		Status: v1.NodeStatus{
			Capacity:    c.Capacity.DeepCopy(),
			Allocatable: c.Capacity.DeepCopy(),
			Phase:       v1.NodeRunning,
			Conditions: []v1.NodeCondition{
				cond(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "podlife is posting ready status"),
				cond(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "podlife has sufficient memory available"),
				cond(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "podlife has no disk pressure"),
				cond(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "podlife has sufficient PID available"),
			},
			Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: c.Address}, {Type: v1.NodeHostName, Address: c.Name}},
			NodeInfo: v1.NodeSystemInfo{
				OSImage:                 "podlife",
				KubeletVersion:          KubeletVersion,
				ContainerRuntimeVersion: "podlife-" + c.RuntimeName + "://" + KubeletVersion,
				OperatingSystem:         "linux",
				Architecture:            runtime.GOARCH,
			},
		},
	}
}

// nodeProvider is the node's virtual-kubelet NodeProvider: the node is Ready while its process
// runs (the pod controller and the agent run in it); the node controller renews the lease every
// quarter of its duration (Options.LeaseDuration) and the status every minute, and writes it at
// once when the provider reasserts it (Group.watchNodes).
type nodeProvider struct {
	cfg *NodeConfig

	mu      sync.Mutex
	notify  func(*v1.Node)
	pending atomic.Bool // a reasserted status is on its way to the node controller
}

func (*nodeProvider) Ping(context.Context) error { return nil }

func (p *nodeProvider) NotifyNodeStatus(_ context.Context, cb func(*v1.Node)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notify = cb
}

// reassert gives the node controller the node's own status, every condition as of now, one at a
// time: the controller takes it on its loop (its callback blocks until then).
func (p *nodeProvider) reassert() {
	p.mu.Lock()
	cb := p.notify
	p.mu.Unlock()
	if cb == nil || !p.pending.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer p.pending.Store(false)
		cb(p.cfg.object())
	}()
}
