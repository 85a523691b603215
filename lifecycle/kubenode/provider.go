package kubenode

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/virtual-kubelet/virtual-kubelet/errdefs"
	vknode "github.com/virtual-kubelet/virtual-kubelet/node"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// ScriptAnnotation holds, on a simulated node, what the node does with a pod: simruntime's JSON
// form of a PodScript (simruntime.ParsePodScript), for example
//
//	podlife.io/script: '{"containers": {"app": {"runs": [{"for": "3s", "exitCode": 1}, {}]}}}'
//
// A pod without it runs every container until it is stopped. Changing it later changes nothing.
const ScriptAnnotation = "podlife.io/script"

// The reasons of the statuses and events the provider gives a pod itself.
const (
	// ReasonUnsupported fails a pod the API server accepted but podlife cannot run (its spec
	// does not convert or does not validate as podlife's), as kubelet's admission rejects a pod:
	// a Warning event and a Failed status with message "Pod was rejected: ...".
	ReasonUnsupported = "UnsupportedPodSpec"
	// ReasonInvalidScript fails a pod whose ScriptAnnotation does not parse or does not fit it.
	ReasonInvalidScript = "InvalidScript"
	// ReasonNotModelled is the Warning event that lists the fields of a pod podlife does not
	// model; the pod runs without them.
	ReasonNotModelled = "NotModelled"
)

// provider is one node's virtual-kubelet provider on a podlife Agent. The pod controller's calls
// become records in an in-memory store that the agent runs (CreatePod binds, UpdatePod changes
// the spec, DeletePod asks for the deletion with the pod's grace), and the statuses the agent
// writes there go back to the pod controller (NotifyPods); the Machine decides everything.
type provider struct {
	node     string
	log      *zap.Logger
	store    *memstore.Store
	keys     lifecycle.Keys
	client   lifecycle.Client
	agent    *lifecycle.Agent
	sim      *simruntime.Runtime
	api      kubernetes.Interface // the node's own calls: the pods to recover, a stopped pod's final status and deletion
	lister   corev1listers.PodLister
	recorder record.EventRecorder
	hostIP   string
	scheme   string // of container IDs in the API, as kubelet writes them: containerd://<id>
	stats    *counters

	mu        sync.Mutex
	pods      map[string]*entry // by namespace/name: the pod holding the name on this node
	notify    func(*v1.Pod)
	watchFrom int64 // the store revision the seeding ended at
}

// entry is one pod of the node.
type entry struct {
	pod      *v1.Pod // the API pod as last created or updated
	ref      lifecycle.PodRef
	spec     podlife.PodSpec
	status   *v1.PodStatus // the last status given to the pod controller
	rejected bool          // podlife cannot run it: its Failed status is the provider's
	deleting bool          // a graceful deletion went to the agent: the API object goes when the stop ends
	final    bool          // the stop ended: the provider writes the final status and deletes the API object
	terminal bool          // the last status is Succeeded or Failed
	// written is the phase of the last status the pod controller wrote to the API; await, when
	// set, is closed once it writes one of phase awaited (a stopped pod's final status).
	written v1.PodPhase
	await   chan struct{}
	awaited v1.PodPhase
}

var (
	_ vknode.PodLifecycleHandler = (*provider)(nil)
	_ vknode.PodNotifier         = (*provider)(nil)
)

func podName(namespace, name string) string { return namespace + "/" + name }

func refOf(pod *v1.Pod) lifecycle.PodRef {
	return lifecycle.PodRef{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID)}
}

// entryOf is the entry of the pod of that name, and of that UID when uid is set; nil when none.
func (p *provider) entryOf(namespace, name string, uid types.UID) *entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.pods[podName(namespace, name)]
	if e == nil || (uid != "" && e.ref.UID != string(uid)) {
		return nil
	}
	return e
}

func (p *provider) remove(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pods[podName(e.ref.Namespace, e.ref.Name)] == e {
		delete(p.pods, podName(e.ref.Namespace, e.ref.Name))
	}
}

// CreatePod binds the pod to the node's agent with its API UID. A pod podlife cannot run is
// rejected (ReasonUnsupported, ReasonInvalidScript) with a Failed status, never an error: the
// pod controller would only retry it.
func (p *provider) CreatePod(ctx context.Context, pod *v1.Pod) error {
	e := &entry{pod: pod.DeepCopy(), ref: refOf(pod)}
	spec, reason, msg := p.admit(e.pod, true)
	if reason != "" {
		p.reject(e, reason, msg)
		return nil
	}
	e.spec = spec
	p.mu.Lock()
	p.pods[podName(pod.Namespace, pod.Name)] = e
	p.mu.Unlock()
	if _, err := p.client.Bind(ctx, p.node, e.ref, spec); err != nil {
		p.remove(e)
		return fmt.Errorf("kubenode: binding pod %s: %w", e.ref, err)
	}
	return nil
}

// admit converts the API pod's spec and reads its script; a reason says why podlife cannot run
// it. The fields podlife does not model are logged, and those a node would act on are listed in
// a Warning event on the pod when announce is set (not again when a restarted node recovers it).
func (p *provider) admit(pod *v1.Pod, announce bool) (podlife.PodSpec, string, string) {
	ref := refOf(pod)
	log := p.log.With(zap.Stringer("pod", ref))
	spec, ws, err := kube.FromPodSpec(pod.Spec)
	if err == nil {
		err = kube.ValidatePodSpec(&pod.Spec, nil).ToAggregate()
	}
	if err != nil {
		log.Warn("rejecting a pod podlife cannot run", zap.Error(err))
		return spec, ReasonUnsupported, "Pod was rejected: podlife cannot run it: " + err.Error()
	}
	shown, quiet := surfaced(pod, ws)
	if len(quiet) > 0 {
		log.Debug("fields a node does not act on, not modelled by podlife", zap.Strings("fields", quiet.Fields()))
	}
	if len(shown) > 0 && announce {
		log.Info("running the pod without the fields podlife does not model", zap.Strings("fields", shown.Fields()))
		p.event(ref, "", v1.EventTypeWarning, ReasonNotModelled, notModelledMessage(shown))
	}
	script, ok := pod.Annotations[ScriptAnnotation]
	switch {
	case ok && p.sim == nil:
		log.Info("ignoring the script annotation: this node's runtime is not simulated", zap.String("annotation", ScriptAnnotation))
	case ok:
		ps, err := simruntime.ParsePodScript([]byte(script), &spec)
		if err != nil {
			log.Warn("rejecting a pod whose script does not parse", zap.Error(err))
			return spec, ReasonInvalidScript, fmt.Sprintf("Pod was rejected: annotation %s: %v", ScriptAnnotation, err)
		}
		p.sim.With(func(w *simruntime.World) { w.ScriptPod(ref, ps) })
	}
	return spec, "", ""
}

// reject gives a pod podlife cannot run a Failed status with reason and message, and a Warning
// event, as kubelet's rejectPod does.
func (p *provider) reject(e *entry, reason, msg string) {
	e.rejected, e.terminal = true, true
	e.status = &v1.PodStatus{Phase: v1.PodFailed, Reason: reason, Message: msg, QOSClass: e.pod.Status.QOSClass}
	p.mu.Lock()
	p.pods[podName(e.ref.Namespace, e.ref.Name)] = e
	pod, notify := p.withStatus(e), p.notify
	p.mu.Unlock()
	p.event(e.ref, "", v1.EventTypeWarning, reason, msg)
	if notify != nil {
		p.stats.pushed.Add(1)
		notify(pod)
	}
}

// withStatus is the pod of e with its last status, for the pod controller; p.mu is held.
func (p *provider) withStatus(e *entry) *v1.Pod {
	pod := e.pod.DeepCopy()
	pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = nil, nil
	if e.status != nil {
		pod.Status = *e.status.DeepCopy()
	}
	return pod
}

// UpdatePod applies what the machine acts on: container images and activeDeadlineSeconds. Every
// other change (labels, tolerations, ...) is logged and otherwise ignored.
func (p *provider) UpdatePod(ctx context.Context, pod *v1.Pod) error {
	e := p.entryOf(pod.Namespace, pod.Name, pod.UID)
	if e == nil {
		return errdefs.NotFoundf("pod %s/%s (UID %s) is not on node %s", pod.Namespace, pod.Name, pod.UID, p.node)
	}
	p.mu.Lock()
	old := e.pod
	e.pod = pod.DeepCopy()
	p.mu.Unlock()
	log := p.log.With(zap.Stringer("pod", e.ref))
	if changed := unmodelledChanges(old, pod); len(changed) > 0 {
		log.Info("pod change not modelled by podlife; ignored", zap.Strings("fields", changed))
	}
	if e.rejected {
		return nil
	}
	spec, _, err := kube.FromPodSpec(pod.Spec)
	if err != nil {
		log.Warn("ignoring a pod update that does not convert", zap.Error(err))
		return nil
	}
	if reflect.DeepEqual(spec, e.spec) {
		return nil
	}
	err = p.client.UpdateSpec(ctx, p.node, e.ref, spec)
	switch {
	case errors.Is(err, lifecycle.ErrKeyNotFound):
		return nil // the pod stopped meanwhile
	case errors.Is(err, podlife.ErrInvalid):
		log.Warn("ignoring a pod update podlife cannot apply", zap.Error(err))
		return nil
	case err != nil:
		return fmt.Errorf("kubenode: updating pod %s: %w", e.ref, err)
	}
	p.mu.Lock()
	e.spec = spec
	p.mu.Unlock()
	return nil
}

// unmodelledChanges names what changed between two versions of a pod besides container images
// and activeDeadlineSeconds, which the machine takes.
func unmodelledChanges(old, cur *v1.Pod) []string {
	var out []string
	if !equality.Semantic.DeepEqual(old.Labels, cur.Labels) {
		out = append(out, "metadata.labels")
	}
	if !equality.Semantic.DeepEqual(old.Annotations, cur.Annotations) {
		out = append(out, "metadata.annotations")
	}
	a, b := old.Spec.DeepCopy(), cur.Spec.DeepCopy()
	a.ActiveDeadlineSeconds, b.ActiveDeadlineSeconds = nil, nil
	for _, cs := range [][]v1.Container{a.Containers, a.InitContainers, b.Containers, b.InitContainers} {
		for i := range cs {
			cs[i].Image = ""
		}
	}
	av, bv, t := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), reflect.TypeFor[v1.PodSpec]()
	for i := range t.NumField() {
		if !equality.Semantic.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			out = append(out, "spec."+name)
		}
	}
	return out
}

// DeletePod asks the agent to stop the pod: with its deletionGracePeriodSeconds when the API
// object is being deleted, and by force (grace 0: the agent stops it with 1 s) when the API
// object is already gone, which is how the pod controller calls it then (with the pod GetPod
// returned, which never carries a deletion). The API object of a graceful deletion is deleted
// when podlife's stop has ended (see recordGone), as kubelet's status manager does.
func (p *provider) DeletePod(ctx context.Context, pod *v1.Pod) error {
	e := p.entryOf(pod.Namespace, pod.Name, pod.UID)
	if e == nil {
		return errdefs.NotFoundf("pod %s/%s (UID %s) is not on node %s", pod.Namespace, pod.Name, pod.UID, p.node)
	}
	if e.rejected {
		p.remove(e)
		return nil
	}
	var grace int64
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		grace = max(*pod.DeletionGracePeriodSeconds, 0)
	}
	return p.deleteGrace(ctx, e, grace)
}

// deleteGrace asks the agent to stop e's pod with grace seconds (0: by force; then the provider
// forgets the pod at once, as its API object is gone). A graceful deletion marks the entry
// deleting before the agent can see it: an agent that stops the pod at once may remove its record
// before Delete returns, and that removal must find the entry deleting (recordGone), or nobody
// would delete the API object while the pod controller's own deletion is held (holdsDelete).
func (p *provider) deleteGrace(ctx context.Context, e *entry, grace int64) error {
	p.mu.Lock()
	wasDeleting := e.deleting
	e.deleting = grace > 0
	p.mu.Unlock()
	err := p.client.Delete(ctx, p.node, e.ref, &grace, time.Now())
	switch {
	case errors.Is(err, lifecycle.ErrKeyNotFound):
		// The record went: the pod's stop ended, or a forced deletion came first, or there was
		// nothing to stop; a graceful deletion then finishes now.
		if grace > 0 {
			p.recordGone(ctx, podName(e.ref.Namespace, e.ref.Name))
		}
	case err != nil:
		p.mu.Lock()
		e.deleting = wasDeleting
		p.mu.Unlock()
		return fmt.Errorf("kubenode: deleting pod %s: %w", e.ref, err)
	}
	if grace == 0 {
		p.remove(e)
	}
	return nil
}

// GetPod is the pod as last created or updated, with its last status and without its deletion.
func (p *provider) GetPod(_ context.Context, namespace, name string) (*v1.Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.pods[podName(namespace, name)]
	if e == nil {
		return nil, errdefs.NotFoundf("pod %s/%s is not on node %s", namespace, name, p.node)
	}
	return p.withStatus(e), nil
}

// GetPodStatus is the pod's last status as kube.ToPodStatus gives it.
func (p *provider) GetPodStatus(_ context.Context, namespace, name string) (*v1.PodStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.pods[podName(namespace, name)]
	if e == nil {
		return nil, errdefs.NotFoundf("pod %s/%s is not on node %s", namespace, name, p.node)
	}
	if e.status == nil {
		return &v1.PodStatus{}, nil
	}
	return e.status.DeepCopy(), nil
}

// GetPods is every pod of the node.
func (p *provider) GetPods(context.Context) ([]*v1.Pod, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*v1.Pod, 0, len(p.pods))
	for _, e := range p.pods {
		out = append(out, p.withStatus(e))
	}
	return out, nil
}

// NotifyPods starts pushing every status the agent writes to cb, from the end of the seeding on.
func (p *provider) NotifyPods(ctx context.Context, cb func(*v1.Pod)) {
	p.mu.Lock()
	p.notify = cb
	from := p.watchFrom
	p.mu.Unlock()
	go p.follow(ctx, from)
}

// apiStatus is podlife's status as the API pod's: kube.ToPodStatus, with the node's address as
// hostIP, the pod's QoS class (the API server's), and the conditions others own (readiness gates,
// DisruptionTarget) kept from the API pod, as kubelet keeps them.
func (p *provider) apiStatus(e *entry, st phase.PodStatus) v1.PodStatus {
	out := kube.ToPodStatus(st)
	forContainerIDs(&out, func(id string) string { return p.scheme + "://" + id })
	out.HostIP = p.hostIP
	out.HostIPs = []v1.HostIP{{IP: p.hostIP}}
	out.QOSClass = e.pod.Status.QOSClass
	if p.lister == nil {
		return out
	}
	cur, err := p.lister.Pods(e.ref.Namespace).Get(e.ref.Name)
	if err != nil || string(cur.UID) != e.ref.UID {
		return out
	}
	for _, c := range cur.Status.Conditions {
		if !phase.IsKubeletCondition(phase.ConditionType(c.Type)) {
			out.Conditions = append(out.Conditions, c)
		}
	}
	return out
}

// forContainerIDs replaces every container ID of st (statuses, terminated states) by f's.
func forContainerIDs(st *v1.PodStatus, f func(string) string) {
	for _, list := range [][]v1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for i := range list {
			cs := &list[i]
			if cs.ContainerID != "" {
				cs.ContainerID = f(cs.ContainerID)
			}
			for _, t := range []*v1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t != nil && t.ContainerID != "" {
					t.ContainerID = f(t.ContainerID)
				}
			}
		}
	}
}
