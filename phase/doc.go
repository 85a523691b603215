// Package phase turns a pod's spec and container statuses into what Kubernetes reports about the
// pod: its phase (as kubelet's getPhase computes it), its conditions (as kubelet's
// status/generate.go produces them, with lastTransitionTime kept while a status holds), the
// per-container started and ready flags, and the STATUS / READY / RESTARTS columns that
// `kubectl get pods` prints.
//
// Everything here is a pure function of its arguments: no clock is read (time is always passed
// as now), nothing is cached, and no input is modified. Nil or inconsistent inputs never panic:
// a nil spec has no containers, a status whose name is not in the spec is ignored, a spec
// container without a status counts as unknown.
package phase
