package kubenode

import (
	"regexp"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/podlife/podlife/lifecycle/kube"
)

// notForTheNode are the fields of an API pod that podlife does not model and that do not change
// what a node does in the pod's lifecycle: the API server defaults most of them on every pod
// (dnsPolicy, enableServiceLinks, schedulerName, a container's terminationMessagePath and
// policy, the default tolerations), the scheduler reads the others. Their warnings are logged
// at Debug and not surfaced as an event; every other field podlife drops is (see surfaced).
// Indexes are written [*].
var notForTheNode = map[string]bool{
	"spec.nodeName":                                   true,
	"spec.schedulerName":                              true,
	"spec.tolerations":                                true,
	"spec.nodeSelector":                               true,
	"spec.affinity":                                   true,
	"spec.topologySpreadConstraints":                  true,
	"spec.schedulingGates":                            true,
	"spec.priority":                                   true,
	"spec.priorityClassName":                          true,
	"spec.preemptionPolicy":                           true,
	"spec.overhead":                                   true,
	"spec.dnsPolicy":                                  true,
	"spec.dnsConfig":                                  true,
	"spec.hostname":                                   true,
	"spec.subdomain":                                  true,
	"spec.setHostnameAsFQDN":                          true,
	"spec.enableServiceLinks":                         true,
	"spec.securityContext":                            true,
	"spec.serviceAccountName":                         true,
	"spec.serviceAccount":                             true,
	"spec.automountServiceAccountToken":               true,
	"spec.containers[*].terminationMessagePath":       true,
	"spec.containers[*].terminationMessagePolicy":     true,
	"spec.containers[*].volumeMounts":                 true,
	"spec.containers[*].securityContext":              true,
	"spec.initContainers[*].terminationMessagePath":   true,
	"spec.initContainers[*].terminationMessagePolicy": true,
	"spec.initContainers[*].volumeMounts":             true,
	"spec.initContainers[*].securityContext":          true,
}

var index = regexp.MustCompile(`\[\d+\]`)

// serviceAccountVolume is the prefix of the projected volume the API server's ServiceAccount
// admission adds to every pod: a volume kind podlife treats as an emptyDir, always ready.
const serviceAccountVolume = "kube-api-access-"

// surfaced splits the warnings of a pod's conversion into those worth an event on the pod and
// those about fields a node does not act on (notForTheNode, the service account's volume).
func surfaced(pod *v1.Pod, ws kube.Warnings) (shown, quiet kube.Warnings) {
	for _, w := range ws {
		if notForTheNode[index.ReplaceAllString(w.Field, "[*]")] || isServiceAccountVolume(pod, w.Field) {
			quiet = append(quiet, w)
			continue
		}
		shown = append(shown, w)
	}
	return shown, quiet
}

// isServiceAccountVolume reports whether field is inside spec.volumes[i] of the service
// account's projected volume.
func isServiceAccountVolume(pod *v1.Pod, field string) bool {
	rest, ok := strings.CutPrefix(field, "spec.volumes[")
	if !ok {
		return false
	}
	n, _, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 0 || i >= len(pod.Spec.Volumes) {
		return false
	}
	v := pod.Spec.Volumes[i]
	return v.Projected != nil && strings.HasPrefix(v.Name, serviceAccountVolume)
}

// maxEventMessage bounds the message of the event that lists the fields podlife does not model,
// so that a pod with many of them still gets one readable event.
const maxEventMessage = 1000

// notModelledMessage lists the warnings for the pod's event, shortened to maxEventMessage.
func notModelledMessage(ws kube.Warnings) string {
	var b strings.Builder
	b.WriteString("podlife does not model ")
	for i, w := range ws {
		part := w.String()
		if i > 0 {
			part = "; " + part
		}
		if b.Len()+len(part) > maxEventMessage {
			b.WriteString("; and " + strconv.Itoa(len(ws)-i) + " more (see the node's log)")
			break
		}
		b.WriteString(part)
	}
	return b.String()
}
