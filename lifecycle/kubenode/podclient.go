package kubenode

import (
	"context"

	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// podsGetter is the pod client the pod controller gets: the API's, except that its deletion of
// a pod's API object once the deletion grace has passed (deletePodsFromKubernetes), or at once
// for a deleted pod it sees with no running app container, is left to podlife while the pod's
// stop is under way: the provider deletes the object when the stop ends, as kubelet does, so that
// a stop longer than the grace (preStop cut short, then SIGTERM and the 2 s floor) or sidecars
// still stopping are not cut off. A deletion the controller makes without the provider having
// seen it yet starts the pod's graceful stop with the API pod's grace. Its status writes are
// noted, for the provider's final deletion of a stopped pod to follow them.
type podsGetter struct {
	corev1client.PodsGetter
	p *provider
}

func (g podsGetter) Pods(namespace string) corev1client.PodInterface {
	return podsClient{PodInterface: g.PodsGetter.Pods(namespace), p: g.p, namespace: namespace}
}

type podsClient struct {
	corev1client.PodInterface
	p         *provider
	namespace string
}

// UpdateStatus is the pod controller's status write; a written status is noted (statusWritten).
func (c podsClient) UpdateStatus(ctx context.Context, pod *v1.Pod, opts metav1.UpdateOptions) (*v1.Pod, error) {
	out, err := c.PodInterface.UpdateStatus(ctx, pod, opts)
	if err == nil {
		c.p.statusWritten(out)
	}
	return out, err
}

func (c podsClient) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	if c.p.holdsDelete(ctx, c.namespace, name, opts) {
		return nil
	}
	return c.PodInterface.Delete(ctx, name, opts)
}

// holdsDelete reports whether a forced deletion (grace 0, with the pod's UID as precondition) is
// left to the provider: that of a pod this node still runs or stops, whose object the provider
// deletes once the stop ended.
func (p *provider) holdsDelete(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) bool {
	if opts.GracePeriodSeconds == nil || *opts.GracePeriodSeconds != 0 || opts.Preconditions == nil || opts.Preconditions.UID == nil {
		return false
	}
	e := p.entryOf(namespace, name, *opts.Preconditions.UID)
	if e == nil {
		return false
	}
	p.mu.Lock()
	live, deleting := !e.rejected && !e.terminal, e.deleting
	p.mu.Unlock()
	if !live && !deleting {
		return false // a finished pod: nothing runs, the controller deletes its object
	}
	if !deleting {
		pod, err := p.lister.Pods(namespace).Get(name)
		if err != nil || pod.UID != *opts.Preconditions.UID || pod.DeletionTimestamp == nil ||
			pod.DeletionGracePeriodSeconds == nil || *pod.DeletionGracePeriodSeconds <= 0 {
			return false
		}
		if err := p.deleteGrace(ctx, e, *pod.DeletionGracePeriodSeconds); err != nil {
			p.log.Warn("starting the pod's graceful stop failed; letting the pod controller delete it", zap.Stringer("pod", e.ref), zap.Error(err))
			return false
		}
	}
	p.log.Debug("the pod controller's deletion of the API object waits for podlife's stop", zap.Stringer("pod", e.ref))
	return true
}
