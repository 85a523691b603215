package kubetest

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// KwokBin is the kwok binary scripts/kube-tools builds (sigs.k8s.io/kwok v0.8.0).
const KwokBin = "kwok"

// KwokNodeAnnotation is the annotation KWOK's default setup manages nodes by: a node with
// kwok.x-k8s.io/node=fake is a fake node.
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

// DefaultKwokLease is the node lease duration kwokctl gives kwok by default, kubelet's default.
const DefaultKwokLease = 40 * time.Second

// kwokStages are the default "fast" stages of sigs.k8s.io/kwok v0.8.0 (kustomize/stage), which
// the kwok binary does not carry: a node turns Ready at once and keeps a heartbeat; a pod turns
// Running and Ready at once, a Job's pod Succeeded right after, a deleted pod is gone at once.
//
//go:embed kwokstages/*.yaml
var kwokStages embed.FS

// KwokOptions configure StartKwok. The zero value is kwokctl's default setup: nodes annotated
// kwok.x-k8s.io/node=fake, leases of 40 s renewed every 10 s.
type KwokOptions struct {
	// Name tells kwok processes on one server apart: it names the log and the config file;
	// default "kwok".
	Name string
	// AnnotationSelector selects the nodes this process manages (and so the pods on them);
	// default "kwok.x-k8s.io/node=fake". Two processes on one server need disjoint selectors,
	// for example "kwok.x-k8s.io/node=fake,group=a".
	AnnotationSelector string
	// NodeLeaseDuration is the duration of the nodes' leases, renewed every quarter of it, with
	// the node-heartbeat-with-lease stage (the Ready condition's heartbeat every 10 minutes), as
	// kwokctl does; default DefaultKwokLease. Negative: no leases, and the node-heartbeat stage
	// (the Ready condition's heartbeat every 20 to 45 s). kwok rounds it to whole seconds.
	NodeLeaseDuration time.Duration
	// User is the API user kwok authenticates as, one of Options.Users; default AdminUser.
	// Giving each node process its own user tells its writes apart (see Options.AuditWrites).
	User string
	// Args are more kwok flags, after the defaults.
	Args []string
}

// StartKwok starts kwok against s with the default fast stages, waits until its /healthz
// answers ok and returns it. s.Stop stops it first; it may also be stopped on its own (and
// another started for the same nodes: it takes them over once the leases it finds expire).
func (s *APIServer) StartKwok(ctx context.Context, opts KwokOptions) (*Process, error) {
	if opts.Name == "" {
		opts.Name = "kwok"
	}
	if opts.AnnotationSelector == "" {
		opts.AnnotationSelector = KwokNodeAnnotation + "=fake"
	}
	if opts.NodeLeaseDuration == 0 {
		opts.NodeLeaseDuration = DefaultKwokLease
	}
	kubeconfig, err := s.KubeconfigFor(opts.User)
	if err != nil {
		return nil, err
	}
	stages := []string{"node-initialize", "node-heartbeat", "pod-ready", "pod-complete", "pod-delete"}
	lease := "0"
	if opts.NodeLeaseDuration > 0 {
		stages[1] = "node-heartbeat-with-lease"
		lease = strconv.Itoa(max(1, int(opts.NodeLeaseDuration.Round(time.Second)/time.Second)))
	}
	config, err := kwokConfig(stages)
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(s.Dir, opts.Name+"-stages.yaml")
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		return nil, fmt.Errorf("kwok config: %w", err)
	}
	return s.startOnPort(ctx, opts.Name, filepath.Join(s.opts.BinDir, KwokBin), func(port int) []string {
		return append([]string{
			"--max-lifetime=" + s.opts.MaxLifetime.String(),
			"--exit-with-parent",
			"--kubeconfig=" + kubeconfig,
			"--config=" + configPath,
			"--manage-nodes-with-annotation-selector=" + opts.AnnotationSelector,
			"--node-lease-duration-seconds=" + lease,
			// Its own server only for /healthz (and /metrics); on loopback.
			"--server-address=127.0.0.1:" + strconv.Itoa(port),
		}, opts.Args...)
	}, func(ctx context.Context, p *Process, port int) error {
		return waitUntil(ctx, p, "healthy", s.opts.StartTimeout, func(ctx context.Context) error {
			return httpOK(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz")
		})
	})
}

// StartKwok is s.StartKwok for a test: it fails the test on error.
func StartKwok(tb testing.TB, s *APIServer, opts KwokOptions) *Process {
	tb.Helper()
	p, err := s.StartKwok(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// kwokConfig is the --config file: the named stages as one multi-document YAML.
func kwokConfig(stages []string) ([]byte, error) {
	var b bytes.Buffer
	for _, name := range stages {
		doc, err := kwokStages.ReadFile("kwokstages/" + name + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("kwok stage %s: %w", name, err)
		}
		b.WriteString("---\n")
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// httpOK gets url with hc and wants 200.
func httpOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
