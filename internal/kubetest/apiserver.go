package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// Defaults of Options.
const (
	DefaultMaxLifetime  = 30 * time.Minute
	DefaultStartTimeout = 2 * time.Minute
)

// AdminUser is the user of the static token, a member of system:masters.
const AdminUser = "podlife-admin"

// Options configure StartAPIServer. The zero value is a server with the defaults below.
type Options struct {
	// BinDir holds kube-apiserver; default $PODLIFE_KUBE_BIN.
	BinDir string
	// Dir holds etcd's data, the keys, the kubeconfig and the logs; default a new temporary
	// directory that Stop removes once everything stopped cleanly.
	Dir string
	// MaxLifetime bounds how long every process of this control plane runs even if Stop is never
	// called; default DefaultMaxLifetime.
	MaxLifetime time.Duration
	// StartTimeout bounds the wait for /readyz; default DefaultStartTimeout.
	StartTimeout time.Duration
	// Args are more kube-apiserver flags, after the defaults (a repeated flag's last value wins).
	// For example --default-not-ready-toleration-seconds=5 and
	// --default-unreachable-toleration-seconds=5 let the node lifecycle controller evict the pods
	// of a lost node after 5 s rather than 300 s.
	Args []string
	// QPS and Burst of the clients this package configures; default 500 and 1000.
	QPS   float32
	Burst int
	// Users are more users of static tokens, members of system:masters as AdminUser, each with a
	// kubeconfig (KubeconfigFor): a node process that authenticates as its own user has its
	// writes told apart from everyone else's in the audit log.
	Users []string
	// AuditUsers are the users whose writes (create, update, patch, delete, deletecollection)
	// the server records in its audit log, at the Metadata level (see AuditWrites); none by
	// default.
	AuditUsers []string
}

// APIServer is a running kube-apiserver with its embedded etcd.
type APIServer struct {
	*Process
	// URL is https://127.0.0.1:port.
	URL string
	// Dir is Options.Dir or the temporary directory.
	Dir string
	// Kubeconfig is a kubeconfig file for the admin user (kubectl --kubeconfig, podlife-node).
	Kubeconfig string
	// StartDuration is how long the server took from exec to a ready /readyz.
	StartDuration time.Duration
	// AuditLog is the audit log's path when Options.AuditUsers is set.
	AuditLog string

	opts       Options
	rest       *rest.Config
	client     *kubernetes.Clientset
	tempDir    bool
	tokens     map[string]string // user -> static token, AdminUser's included
	saKeyPath  string            // service-account signing key, also for the controller manager
	caPath     string            // the serving certificate and its CA, for the controller manager's --root-ca-file
	mu         sync.Mutex
	components []*Process // started on this server, stopped before it
	// nodeLifecycle: a controller manager with the node lifecycle controller was started, which
	// lifts the not-ready taint the API server gives a new node.
	nodeLifecycle atomic.Bool
	nsSeq         atomic.Int64 // keeps the namespaces of same-named tests apart (-count=N)
}

// Start starts an API server for the test and stops it at cleanup, failing the test if it does
// not stop cleanly. Without the binaries the test is skipped or fails, as BinDir says.
func Start(tb testing.TB, opts Options) *APIServer {
	tb.Helper()
	if opts.BinDir == "" {
		opts.BinDir = BinDir(tb)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := StartAPIServer(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// StartAPIServer starts kube-apiserver with an embedded etcd on 127.0.0.1, waits until /readyz
// answers ok and returns it. The caller must Stop it. It is for a TestMain or a command; a test
// calls Start.
func StartAPIServer(ctx context.Context, opts Options) (*APIServer, error) {
	if opts.BinDir == "" {
		dir, err := binDir()
		if err != nil {
			return nil, err
		}
		opts.BinDir = dir
	}
	if opts.MaxLifetime == 0 {
		opts.MaxLifetime = DefaultMaxLifetime
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.QPS == 0 {
		opts.QPS, opts.Burst = 500, 1000
	}
	s := &APIServer{opts: opts, Dir: opts.Dir}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "podlife-kube-")
		if err != nil {
			return nil, fmt.Errorf("kube-apiserver: %w", err)
		}
		s.Dir, s.tempDir = d, true
	}
	if err := s.writeCredentials(); err != nil {
		s.removeDir()
		return nil, err
	}
	var err error
	// The port is free when chosen but may be taken before the server binds it: try again then.
	for attempt := 1; ; attempt++ {
		err = s.start(ctx)
		if err == nil || attempt == 3 || s.Process == nil || !s.Process.errAddrInUse() {
			break
		}
		_ = os.Rename(s.LogPath, s.LogPath+"."+strconv.Itoa(attempt))
	}
	if err != nil {
		if s.Process != nil {
			_ = s.Process.Stop()
		}
		return nil, err // the directory stays, for the log
	}
	return s, nil
}

// writeCredentials writes the serving certificate, the service-account key, the static token
// file (a token for AdminUser and each of Options.Users) and the audit policy.
func (s *APIServer) writeCredentials() error {
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.IPv4(127, 0, 0, 1)}, nil)
	if err != nil {
		return fmt.Errorf("kube-apiserver serving certificate: %w", err)
	}
	saKey, err := keyutil.MakeEllipticPrivateKeyPEM()
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	s.tokens = map[string]string{}
	var tokens bytes.Buffer
	for _, user := range append([]string{AdminUser}, s.opts.Users...) {
		if _, dup := s.tokens[user]; dup || !validName(user) {
			return fmt.Errorf("kube-apiserver: Options.Users: %q is a duplicate or not a name of lower-case letters, digits and '-'", user)
		}
		var raw [16]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return fmt.Errorf("token of %s: %w", user, err)
		}
		s.tokens[user] = hex.EncodeToString(raw[:])
		fmt.Fprintf(&tokens, "%s,%s,%s,\"system:masters\"\n", s.tokens[user], user, user)
	}
	s.caPath = filepath.Join(s.Dir, "serving.crt")
	s.saKeyPath = filepath.Join(s.Dir, "sa.key")
	files := map[string][]byte{
		s.caPath:                            cert,
		filepath.Join(s.Dir, "serving.key"): key,
		s.saKeyPath:                         saKey,
		filepath.Join(s.Dir, "tokens.csv"):  tokens.Bytes(),
	}
	if len(s.opts.AuditUsers) > 0 {
		files[filepath.Join(s.Dir, "audit-policy.yaml")] = auditPolicy(s.opts.AuditUsers)
	}
	for path, b := range files {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return fmt.Errorf("kube-apiserver credentials: %w", err)
		}
	}
	return nil
}

// validName is a name that is safe in the token file and a file name.
func validName(user string) bool {
	if user == "" {
		return false
	}
	for _, r := range user {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// start runs one attempt: a free port, the process, the clients, the wait for /readyz.
func (s *APIServer) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"--embedded-etcd-dir=" + filepath.Join(s.Dir, "etcd"),
		// Test data: nothing survives the server, so no fsync.
		"--embedded-etcd-unsafe-no-fsync",
		"--max-lifetime=" + s.opts.MaxLifetime.String(),
		"--exit-with-parent",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(s.Dir, "certs"),
		"--tls-cert-file=" + s.caPath,
		"--tls-private-key-file=" + filepath.Join(s.Dir, "serving.key"),
		"--token-auth-file=" + filepath.Join(s.Dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + s.saKeyPath,
		"--service-account-signing-key-file=" + s.saKeyPath,
		// A range the server allocates Service addresses from; nothing is ever sent there.
		"--service-cluster-ip-range=10.0.0.0/24",
		// No Endpoints for the kubernetes Service: nothing reconciles them here.
		"--endpoint-reconciler-type=none",
		// No controller creates the default service accounts unless a controller manager runs.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--profiling=false",
	}
	if len(s.opts.AuditUsers) > 0 {
		s.AuditLog = filepath.Join(s.Dir, "audit.log")
		args = append(args,
			"--audit-policy-file="+filepath.Join(s.Dir, "audit-policy.yaml"),
			"--audit-log-path="+s.AuditLog,
			"--audit-log-format=json",
			// One file, never rotated (the default rotates at 100 MB, which a benchmark of
			// 10,000 pods passes): AuditWrites reads it whole.
			"--audit-log-maxsize=0")
	}
	args = append(args, s.opts.Args...)
	begin := time.Now()
	p, err := startProcess("kube-apiserver", filepath.Join(s.opts.BinDir, APIServerBin), filepath.Join(s.Dir, "kube-apiserver.log"), args)
	if err != nil {
		return err
	}
	s.Process = p
	s.rest = &rest.Config{
		Host:            s.URL,
		BearerToken:     s.tokens[AdminUser],
		TLSClientConfig: rest.TLSClientConfig{CAFile: s.caPath},
		QPS:             s.opts.QPS,
		Burst:           s.opts.Burst,
	}
	if s.client, err = kubernetes.NewForConfig(s.rest); err != nil {
		return fmt.Errorf("kube-apiserver client: %w", err)
	}
	s.Kubeconfig = filepath.Join(s.Dir, "kubeconfig")
	for user, token := range s.tokens {
		path := s.Kubeconfig
		if user != AdminUser {
			path += "-" + user
		}
		if err := writeKubeconfig(path, s.URL, s.caPath, user, token); err != nil {
			return err
		}
	}
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	s.StartDuration = time.Since(begin)
	return nil
}

// waitReady polls /readyz until it answers ok, the process exits or the start timeout passes.
func (s *APIServer) waitReady(ctx context.Context) error {
	return waitUntil(ctx, s.Process, "ready", s.opts.StartTimeout, func(ctx context.Context) error {
		body, err := s.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) != "ok" {
			err = fmt.Errorf("/readyz: %q", body)
		}
		return err
	})
}

// writeKubeconfig writes a kubeconfig for a user of a static token.
func writeKubeconfig(path, server, caPath, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["podlife"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: caPath}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["podlife"] = &clientcmdapi.Context{Cluster: "podlife", AuthInfo: user}
	cfg.CurrentContext = "podlife"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

// Config is a client configuration for the admin user; each call returns a new copy.
func (s *APIServer) Config() *rest.Config { return rest.CopyConfig(s.rest) }

// KubeconfigFor is the kubeconfig of user: Kubeconfig for AdminUser or "", else one of
// Options.Users.
func (s *APIServer) KubeconfigFor(user string) (string, error) {
	switch _, ok := s.tokens[user]; {
	case user == "" || user == AdminUser:
		return s.Kubeconfig, nil
	case !ok:
		return "", fmt.Errorf("kube-apiserver has no user %q (Options.Users: %v)", user, s.opts.Users)
	}
	return s.Kubeconfig + "-" + user, nil
}

// Client is a clientset for the admin user.
func (s *APIServer) Client() kubernetes.Interface { return s.client }

// Stop stops the components started on this server, then the server, and removes the
// temporary directory once all of them stopped cleanly. It returns what went wrong, if anything;
// calling it again returns the same.
func (s *APIServer) Stop() error {
	var errs []error
	s.mu.Lock()
	components := s.components
	s.mu.Unlock()
	for i := len(components) - 1; i >= 0; i-- {
		errs = append(errs, components[i].Stop())
	}
	errs = append(errs, s.Process.Stop())
	err := errors.Join(errs...)
	if err == nil {
		s.removeDir()
	}
	return err
}

func (s *APIServer) removeDir() {
	if s.tempDir {
		_ = os.RemoveAll(s.Dir)
	}
}
