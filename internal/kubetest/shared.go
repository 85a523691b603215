package kubetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Shared is one API server for all the tests of a package that use it, started by the first
// of them, so that the package pays the start (several seconds) once. The package's TestMain
// stops it:
//
//	var cp = kubetest.NewShared(kubetest.Options{})
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		if err := cp.Stop(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			code = 1
//		}
//		os.Exit(code)
//	}
//
// Tests that share a server keep apart by namespace (Namespace).
type Shared struct {
	opts Options

	mu      sync.Mutex
	started bool
	s       *APIServer
	err     error
}

// NewShared is a Shared server with opts; nothing starts until the first Get.
func NewShared(opts Options) *Shared { return &Shared{opts: opts} }

// Get starts the server on the first call and returns it; a server that failed to start fails
// every test that asks for it. Without the binaries the test is skipped or fails, as BinDir says.
func (sh *Shared) Get(tb testing.TB) *APIServer {
	tb.Helper()
	opts := sh.opts
	if opts.BinDir == "" {
		opts.BinDir = BinDir(tb)
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !sh.started {
		sh.started = true
		sh.s, sh.err = StartAPIServer(context.Background(), opts)
		if sh.err == nil {
			tb.Logf("kube-apiserver %s ready in %s (dir %s)", sh.s.URL, sh.s.StartDuration, sh.s.Dir)
		}
	}
	if sh.err != nil {
		tb.Fatalf("the shared kube-apiserver: %v", sh.err)
	}
	return sh.s
}

// Stop stops the server if it was started.
func (sh *Shared) Stop() error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.s == nil {
		return nil
	}
	return sh.s.Stop()
}

// Namespace creates a namespace named after the test, for its objects. It is not deleted:
// without a controller manager a namespace never finishes deleting, and the server is thrown
// away after the tests.
func (s *APIServer) Namespace(tb testing.TB) string {
	tb.Helper()
	name := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(tb.Name()))
	name = strings.Trim(name, "-")
	if len(name) > 50 {
		name = strings.TrimRight(name[:50], "-")
	}
	name = fmt.Sprintf("%s-%d", name, s.nsSeq.Add(1))
	_, err := s.client.CoreV1().Namespaces().Create(context.Background(),
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		tb.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}
