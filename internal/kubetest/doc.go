// Package kubetest runs a real Kubernetes control plane for podlife's tests: kube-apiserver
// v1.37.2 with its etcd in the same process, and on request kube-scheduler and
// kube-controller-manager, all on 127.0.0.1, built by scripts/kube-tools from the nested module
// tools/kube (the main module never requires k8s.io/kubernetes). scripts/test builds them once,
// caches them and sets PODLIFE_KUBE_BIN; see BinDir for what a test does without it.
//
// Every process it starts has a bounded life: it is stopped at test cleanup (or by Stop), it gets
// SIGTERM when the test process dies (Pdeathsig, and --exit-with-parent as a second line), and it
// stops by itself after Options.MaxLifetime.
//
// PodColumns reads the API server's own `kubectl get pods` columns (the server-side Table), the
// oracle for phase.KubectlColumns.
package kubetest
