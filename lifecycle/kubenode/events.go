package kubenode

import (
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	"github.com/podlife/podlife/lifecycle"
)

// observe is the agent's Observe: it counts what each pod's machine hands out and turns its
// records (Pulled, Created, Started, Killing, BackOff, Unhealthy, ...) into Kubernetes events on
// the pod, through client-go's event recorder, as kubelet's recorder does. It runs on the pod's
// goroutine and never blocks: the recorder queues, and drops when its queue is full.
func (p *provider) observe(ref lifecycle.PodRef, _ time.Time, rd lifecycle.Ready) {
	p.stats.steps.Add(1)
	if rd.Status != nil {
		p.stats.statuses.Add(1)
	}
	for _, r := range rd.Records {
		typ := v1.EventTypeNormal
		if r.Kind == lifecycle.Warning {
			typ = v1.EventTypeWarning
		}
		p.event(ref, r.Container, typ, r.Reason, r.Message)
	}
}

// event records one event on the pod ref, on its container when container is set (the field
// path kubelet gives: spec.containers{name} or spec.initContainers{name}).
func (p *provider) event(ref lifecycle.PodRef, container, typ, reason, message string) {
	p.stats.events.Add(1)
	obj := &v1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: ref.Namespace, Name: ref.Name, UID: types.UID(ref.UID)}
	if container != "" {
		obj.FieldPath = "spec.containers{" + container + "}"
		if p.isInit(ref, container) {
			obj.FieldPath = "spec.initContainers{" + container + "}"
		}
	}
	p.recorder.Event(obj, typ, reason, message)
}

// isInit reports whether container is an init container of the pod ref.
func (p *provider) isInit(ref lifecycle.PodRef, container string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.pods[podName(ref.Namespace, ref.Name)]
	if e == nil || e.ref.UID != ref.UID {
		return false
	}
	for _, c := range e.pod.Spec.InitContainers {
		if c.Name == container {
			return true
		}
	}
	return false
}

// quietRecorder is the recorder of virtual-kubelet's pod controller without its Normal events
// ProviderCreateSuccess, ProviderUpdateSuccess and ProviderDeleteSuccess, which say nothing to
// whoever describes the pod (kubelet has none) and cost an API write each; its warnings stay.
type quietRecorder struct{ record.EventRecorder }

func quiet(typ, reason string) bool {
	if typ != v1.EventTypeNormal {
		return false
	}
	switch reason {
	case "ProviderCreateSuccess", "ProviderUpdateSuccess", "ProviderDeleteSuccess":
		return true
	}
	return false
}

func (r quietRecorder) Event(obj runtime.Object, typ, reason, message string) {
	if !quiet(typ, reason) {
		r.EventRecorder.Event(obj, typ, reason, message)
	}
}

func (r quietRecorder) Eventf(obj runtime.Object, typ, reason, format string, args ...any) {
	if !quiet(typ, reason) {
		r.EventRecorder.Eventf(obj, typ, reason, format, args...)
	}
}

func (r quietRecorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, typ, reason, format string, args ...any) {
	if !quiet(typ, reason) {
		r.EventRecorder.AnnotatedEventf(obj, annotations, typ, reason, format, args...)
	}
}
