// Package kube is podlife's interop with the Kubernetes API types (k8s.io/api/core/v1): it
// converts a v1.PodSpec to podlife's spec and back, podlife's status to a kubelet-shaped
// v1.PodStatus and back, reads manifest files (Pods and the pod templates of Deployments, Jobs,
// StatefulSets, DaemonSets, ReplicaSets, CronJobs), and validates them with the API server's
// rules as k8s.io/apimachinery field.ErrorLists. It talks to no cluster.
//
// podlife models only the fields that drive a pod's lifecycle. Every other field that is set is
// reported as a Warning with its field path, never dropped silently; the walk that finds them
// goes by reflection over the v1 structs, so a field added upstream shows up as a warning
// without a change here.
//
// Input is bounded (LoadOptions): a file of at most 16 MiB, a document of at most 3 MiB, as the
// API server takes, and at most 10,000 documents and List items; over a limit, an error matches
// ErrTooLarge and names the limit. An integer too large for its field is reported with the
// digits the file has.
//
// Errors and warnings are printed for people at a terminal, and a manifest may be crafted: every
// value taken from the file (kind, names, keys, the file's name) is quoted when it is not a plain
// name, and no control character of the file reaches an error's text raw (internal/quote).
//
// The package sits under lifecycle because a manifest is what a lifecycle.Machine runs:
// Manifest.Ref and Manifest.Spec are what lifecycle.New (or simruntime's Sim.AddPod) takes.
package kube
