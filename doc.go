// Package podlife models the Kubernetes pod lifecycle as deterministic state machines, for
// schedulers, node agents, simulators and test suites that need kubelet's rules without a
// cluster.
//
// This root package holds the pod spec types, with the field names of k8s.io/api/core/v1, their
// defaults (PodSpec.Defaulted) and validation (PodSpec.Validate) whose errors name the field
// path, as the API server's do. The behaviour lives in small packages that import only the
// standard library and take time as an argument:
//
//   - phase: container and pod status, the pod phase, pod conditions, kubectl's columns
//   - restart: restart decisions and the CrashLoopBackOff and image-pull back-off curves
//   - probe: one probe's tracker and the interpretation of handler outcomes
//   - hooks: postStart and preStop handlers and what their outcome means
//   - termination: graceful-termination plans with their SIGTERM and SIGKILL deadlines
//
// The same inputs always give the same outputs, so a caller can replay a pod's history, test it
// with generated events, or run a million pods in virtual time.
package podlife
