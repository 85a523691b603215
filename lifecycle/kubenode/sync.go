package kubenode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/kube"
)

// seed puts the node's pods from the API server into the agent's store before the agent starts,
// so that a restarted node recovers them as kubelet does, from their API statuses and the
// runtime (lifecycle.Restore without a checkpoint): a pod record per pod (with its deletion, if
// it is being deleted) and its status. A pod podlife cannot run was rejected before and stays so.
func (p *provider) seed(ctx context.Context) error {
	list, err := p.api.CoreV1().Pods("").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", p.node).String()})
	if err != nil {
		return fmt.Errorf("kubenode: listing the pods of node %s: %w", p.node, err)
	}
	now := time.Now()
	for i := range list.Items {
		pod := &list.Items[i]
		e := &entry{pod: pod.DeepCopy(), ref: refOf(pod), status: pod.Status.DeepCopy(),
			terminal: pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed}
		p.mu.Lock()
		p.pods[podName(pod.Namespace, pod.Name)] = e
		p.mu.Unlock()
		spec, reason, _ := p.admit(pod, false)
		if reason != "" {
			e.rejected = true
			continue
		}
		e.spec = spec
		rec := lifecycle.PodRecord{Pod: e.ref, Node: p.node, Spec: spec}
		if pod.DeletionTimestamp != nil {
			grace := int64(0)
			if pod.DeletionGracePeriodSeconds != nil {
				grace = max(*pod.DeletionGracePeriodSeconds, 0)
			}
			rec.Deletion = &lifecycle.Deletion{RequestedAt: pod.DeletionTimestamp.Time, GracePeriodSeconds: &grace}
			e.deleting = true
		}
		if err := seedPut(ctx, p.store, p.keys.Pod(p.node, e.ref), rec, lifecycle.EncodePod); err != nil {
			return err
		}
		if pod.Status.Phase == "" {
			continue // never reported: the agent starts it afresh
		}
		api := pod.Status.DeepCopy()
		forContainerIDs(api, func(id string) string { return strings.TrimPrefix(id, p.scheme+"://") })
		st, err := kube.FromPodStatus(*api)
		if err != nil {
			p.log.Warn("the pod's API status does not read; the pod starts afresh", zap.Stringer("pod", e.ref), zap.Error(err))
			continue
		}
		srec := lifecycle.StatusRecord{Pod: e.ref, Node: p.node, Seq: 1, UpdatedAt: now, Status: st}
		if err := seedPut(ctx, p.store, p.keys.Status(p.node, e.ref), srec, lifecycle.EncodeStatus); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.watchFrom = p.store.Revision()
	p.mu.Unlock()
	if len(list.Items) > 0 {
		p.log.Info("recovering the node's pods from the API server", zap.Int("pods", len(list.Items)))
	}
	return nil
}

// seedPut writes one record that must not exist yet.
func seedPut[R any](ctx context.Context, store lifecycle.Store, key string, rec R, encode func(R) ([]byte, error)) error {
	b, err := encode(rec)
	if err == nil {
		_, err = store.Put(ctx, key, b, 0)
	}
	if err != nil {
		return fmt.Errorf("kubenode: seeding %s: %w", key, err)
	}
	return nil
}

// compactEvery is how often the provider compacts its store's history, up to what its own watch
// had processed one period before: the agent's watches are far behind only after a failure,
// and then they relist.
const compactEvery = 30 * time.Second

// follow watches the node's keys in the store from revision from on, in revision order: a
// status the agent wrote goes to the pod controller; a pod record the agent removed after a
// graceful deletion means the pod's stop ended, and its API object is deleted. The store's
// history is compacted as it goes.
func (p *provider) follow(ctx context.Context, from int64) {
	rev := from
	tick := time.NewTicker(compactEvery)
	defer tick.Stop()
	var mark int64 // what was processed at the last tick
	for ctx.Err() == nil {
		watch := p.store.Watch(ctx, p.keys.Node(p.node), rev+1)
	events:
		for {
			select {
			case <-tick.C:
				if mark > 0 {
					_ = p.store.Compact(mark) // an older revision is no error worth a word
				}
				mark = rev
			case resp, ok := <-watch:
				if !ok {
					break events
				}
				if resp.Err != nil {
					if ctx.Err() == nil {
						p.log.Warn("the store's watch ended; relisting", zap.Error(resp.Err))
						rev = p.relist(ctx)
					}
					break events
				}
				for _, ev := range resp.Events {
					rev = ev.KV.Revision
					p.changed(ctx, ev)
				}
			}
		}
	}
}

// relist catches up after a lost watch: every status again, and every deletion whose record
// went. It returns the revision to watch from.
func (p *provider) relist(ctx context.Context) int64 {
	statuses, rev, err := p.store.List(ctx, p.keys.Statuses(p.node))
	if err != nil {
		return p.store.Revision()
	}
	for _, kv := range statuses {
		p.changed(ctx, lifecycle.WatchEvent{Type: lifecycle.WatchPut, KV: kv})
	}
	records, _, err := p.store.List(ctx, p.keys.Pods(p.node))
	if err != nil {
		return rev
	}
	present := map[string]bool{}
	for _, kv := range records {
		present[strings.TrimPrefix(kv.Key, p.keys.Pods(p.node))] = true
	}
	p.mu.Lock()
	var gone []string
	for name, e := range p.pods {
		if e.deleting && !present[name] {
			gone = append(gone, name)
		}
	}
	p.mu.Unlock()
	for _, name := range gone {
		p.recordGone(ctx, name)
	}
	return rev
}

// changed acts on one change of the node's keys.
func (p *provider) changed(ctx context.Context, ev lifecycle.WatchEvent) {
	key := ev.KV.Key
	switch {
	case ev.Type == lifecycle.WatchPut && strings.HasPrefix(key, p.keys.Statuses(p.node)):
		rec, err := lifecycle.DecodeStatus(ev.KV.Value)
		if err != nil {
			p.log.Error("a status record does not decode", zap.String("key", key), zap.Error(err))
			return
		}
		p.statusChanged(rec)
	case ev.Type == lifecycle.WatchDelete && strings.HasPrefix(key, p.keys.Pods(p.node)):
		p.recordGone(ctx, strings.TrimPrefix(key, p.keys.Pods(p.node)))
	}
}

// statusChanged pushes a status the agent wrote to the pod controller, if it is the status of
// the pod that holds the name (a pod stopping after a forced deletion has no API object any more,
// and its statuses must not land on a new pod of the name).
func (p *provider) statusChanged(rec lifecycle.StatusRecord) {
	p.mu.Lock()
	e := p.pods[podName(rec.Pod.Namespace, rec.Pod.Name)]
	if e == nil || e.ref.UID != rec.Pod.UID || e.rejected {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	st := p.apiStatus(e, rec.Status)
	p.mu.Lock()
	e.status = &st
	e.terminal = rec.Status.Phase.IsTerminal()
	pod, notify := p.withStatus(e), p.notify
	p.mu.Unlock()
	if notify != nil {
		p.stats.pushed.Add(1)
		notify(pod)
	}
}

// recordGone is the agent removing a pod's record: after a graceful deletion, the pod's stop has
// ended, and the provider writes the final status to the API object and deletes it, as kubelet's
// status manager does once a deleted pod is terminal (the pod controller alone would wait out the
// whole grace). A record removed by a forced deletion left no entry.
func (p *provider) recordGone(ctx context.Context, name string) {
	p.mu.Lock()
	e := p.pods[name]
	if e == nil || !e.deleting || e.final {
		p.mu.Unlock()
		return
	}
	e.final = true // once: the watch and a deletion that found the record gone may both come here
	status := e.status
	p.mu.Unlock()
	// The entry stays until the pod controller sees the object gone and calls DeletePod, which
	// forgets it; meanwhile the controller's own deletions of the object are held (holdsDelete).
	go func() {
		if err := p.finalize(ctx, e, status); err != nil && ctx.Err() == nil {
			p.log.Warn("deleting the stopped pod's API object failed", zap.Stringer("pod", e.ref), zap.Error(err))
		}
	}()
}

// finalRetry is the wait between two tries of a stopped pod's final status and deletion;
// finalStatusWait how long the provider waits for the pod controller to write the final status
// before it writes it itself.
const (
	finalRetry      = time.Second
	finalStatusWait = 5 * time.Second
)

// finalize deletes a stopped pod's API object with grace 0 and a UID precondition, as kubelet's
// status manager does once the pod is terminal, trying again while the API server fails. The
// final status goes first: the pod controller writes it (it was pushed before the record went;
// statusWritten tells); if it has not within finalStatusWait, the provider writes it itself (a
// merge patch with the UID as a precondition, as kubelet's status manager patches). A pod
// already gone, or replaced by another of its name, is done.
func (p *provider) finalize(ctx context.Context, e *entry, status *v1.PodStatus) error {
	ref := e.ref
	pods := p.api.CoreV1().Pods(ref.Namespace)
	var patch []byte
	if status != nil {
		b, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": ref.UID}, "status": status})
		if err != nil {
			return err
		}
		patch = b
	}
	zero := int64(0)
	uid := types.UID(ref.UID)
	opts := metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}}
	if patch != nil {
		if written := p.awaitWritten(ctx, e, status.Phase); written {
			patch = nil
		} else if cur, err := p.lister.Pods(ref.Namespace).Get(ref.Name); err != nil || string(cur.UID) != ref.UID {
			return nil // gone, or another pod of the name
		}
	}
	for {
		var err error
		if patch != nil {
			_, err = pods.Patch(ctx, ref.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
			if err == nil || gone(err) {
				patch = nil
			}
		}
		if patch == nil {
			err = pods.Delete(ctx, ref.Name, opts)
			if err == nil || gone(err) {
				p.log.Debug("deleted the stopped pod's API object", zap.Stringer("pod", ref))
				return nil
			}
		}
		p.log.Debug("finishing the stopped pod failed; will retry", zap.Stringer("pod", ref), zap.Error(err))
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(finalRetry):
		}
	}
}

// awaitWritten waits until the pod controller has written a status of phase for e's pod
// (statusWritten), or the API pod shows one, up to finalStatusWait; it reports whether one was.
func (p *provider) awaitWritten(ctx context.Context, e *entry, phase v1.PodPhase) bool {
	p.mu.Lock()
	written := e.written == phase
	if !written {
		e.await, e.awaited = make(chan struct{}), phase
	}
	await := e.await
	p.mu.Unlock()
	if written {
		return true
	}
	if cur, err := p.lister.Pods(e.ref.Namespace).Get(e.ref.Name); err == nil && string(cur.UID) == e.ref.UID && cur.Status.Phase == phase {
		return true // written before this node process started, or seen first by the informer
	}
	t := time.NewTimer(finalStatusWait)
	defer t.Stop()
	select {
	case <-await:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// statusWritten notes a status the pod controller wrote for a pod of this node, and wakes a
// finalize waiting for its phase.
func (p *provider) statusWritten(pod *v1.Pod) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.pods[podName(pod.Namespace, pod.Name)]
	if e == nil || e.ref.UID != string(pod.UID) {
		return
	}
	e.written = pod.Status.Phase
	if e.await != nil && e.written == e.awaited {
		close(e.await)
		e.await = nil
	}
}

// gone reports an API error that says the pod of that UID is not there any more: deleted, or
// replaced by another pod of the name (a UID precondition that failed, a UID that cannot change).
func gone(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsInvalid(err)
}
