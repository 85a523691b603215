package etcdstore_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/podlife/podlife/lifecycle/etcdstore"
)

// The tests embed real etcd members (go.etcd.io/etcd/server/v3/embed) on loopback ports picked
// free, with data in t.TempDir(); each test starts and stops its own.

// clusterOptions say what startCluster makes.
type clusterOptions struct {
	members int // 0 means 1
	// tls, when set, serves clients over TLS with these files and requires client certificates.
	tls *transport.TLSInfo
	// fast shortens raft's heartbeat and election timeout (25 ms, 250 ms), for a quick election
	// after a member stops.
	fast bool
}

// member is one embedded etcd, reached by clients through a proxy: stopping a member cuts the
// proxy's connections first, as a crash would, because embed's Close otherwise waits up to 7 s
// (the server's request timeout) for open watch and keep-alive streams to end.
type member struct {
	cfg   *embed.Config
	e     *embed.Etcd
	proxy *proxy
}

// proxy forwards loopback TCP connections to a member's client port, and can cut them.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { _ = l.Close(); p.cut(true) })
	return p
}

func (p *proxy) url(scheme string) string { return scheme + "://" + p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	var up net.Conn
	var err error
	if !down {
		up, err = net.Dial("tcp", p.target)
	}
	if down || err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go pipe(up, c)
	go pipe(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut closes every open connection; down also refuses new ones until cut(false).
func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	for c := range p.conns {
		_ = c.Close()
	}
}

type cluster struct {
	t       testing.TB
	members []*member
}

// freePort asks the kernel for a free loopback port. Another process could take it before etcd
// binds it; that is unlikely enough for tests, and StartEtcd then fails loudly.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startCluster(t testing.TB, opts clusterOptions) *cluster {
	t.Helper()
	n := max(opts.members, 1)
	c := &cluster{t: t}
	var initial []string
	scheme := "http"
	if opts.tls != nil {
		scheme = "https"
	}
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = t.TempDir()
		peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		client := url.URL{Scheme: scheme, Host: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = t.Name()
		m := &member{cfg: cfg, proxy: newProxy(t, client.Host)}
		if opts.tls != nil {
			cfg.ClientTLSInfo = *opts.tls
		}
		cfg.BcryptCost = 4 // bcrypt's minimum: the default (10) costs seconds per password under -race
		if opts.fast {
			cfg.TickMs, cfg.ElectionMs = 25, 250
		}
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(serverLogger(t).Named(cfg.Name))
		initial = append(initial, fmt.Sprintf("%s=%s", cfg.Name, peer.String()))
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
	}
	t.Cleanup(c.stopAll)
	for i := range c.members {
		c.start(i)
	}
	for i := range c.members {
		c.waitReady(i)
	}
	return c
}

// start starts member i (again, on its data and ports, after stop).
func (c *cluster) start(i int) {
	c.t.Helper()
	m := c.members[i]
	e, err := embed.StartEtcd(m.cfg)
	require.NoError(c.t, err, "starting etcd member %d", i)
	m.e = e
	m.proxy.cut(false)
}

func (c *cluster) waitReady(i int) {
	c.t.Helper()
	select {
	case <-c.members[i].e.Server.ReadyNotify():
	case err := <-c.members[i].e.Err():
		require.NoError(c.t, err, "etcd member %d failed", i)
	case <-time.After(20 * time.Second):
		require.FailNow(c.t, "etcd member did not become ready", "member %d", i)
	}
}

// crash stops member i as a crash would: without handing its leadership over first (which a
// graceful stop does, so that no write notices), its clients' connections dropped at once.
func (c *cluster) crash(i int) {
	if m := c.members[i]; m.e != nil {
		m.proxy.cut(true)
		m.e.Server.HardStop()
		c.stop(i)
	}
}

// stop stops member i and waits for it: its clients' connections drop at once.
func (c *cluster) stop(i int) {
	if m := c.members[i]; m.e != nil {
		m.proxy.cut(true)
		m.e.Close()
		m.e = nil
	}
}

func (c *cluster) stopAll() {
	for i := range c.members {
		c.stop(i)
	}
}

// endpoint is member i's client URL, through its proxy.
func (c *cluster) endpoint(i int) string {
	return c.members[i].proxy.url(c.members[i].cfg.AdvertiseClientUrls[0].Scheme)
}

func (c *cluster) endpoints() []string {
	var eps []string
	for i := range c.members {
		eps = append(eps, c.endpoint(i))
	}
	return eps
}

// leader is the index of the member that leads, waiting for an election if one is going on.
func (c *cluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, m := range c.members {
			if m.e != nil && m.e.Server.Leader() == m.e.Server.MemberID() {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.FailNow(c.t, "no leader")
	return -1
}

// client is a raw client to the given endpoints (all members if none), closed with the test.
func (c *cluster) client(eps ...string) *clientv3.Client {
	c.t.Helper()
	if len(eps) == 0 {
		eps = c.endpoints()
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(c.t, err)
	c.t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// store is an etcdstore.Store on every member, closed with the test.
func (c *cluster) store(cfg etcdstore.Config) *etcdstore.Store {
	c.t.Helper()
	if cfg.Endpoints == nil {
		cfg.Endpoints = c.endpoints()
	}
	s, err := etcdstore.New(cfg)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { _ = s.Close() })
	return s
}

var namespaces atomic.Int64

// namespaced is a store whose keys all live under a fresh prefix, so that tests sharing one
// cluster do not see each other's keys (revisions are still the cluster's).
func (c *cluster) namespaced(t *testing.T) *etcdstore.Store {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	ns := fmt.Sprintf("/test/%d/", namespaces.Add(1))
	cli.KV = namespace.NewKV(cli.KV, ns)
	cli.Watcher = namespace.NewWatcher(cli.Watcher, ns)
	cli.Lease = namespace.NewLease(cli.Lease, ns)
	return etcdstore.NewFromClient(cli, etcdstore.Options{})
}

// eventually polls f until it holds, for at most d. An argument that is a func() any is called
// when the message is made, to say what was seen last.
func eventually(t *testing.T, d time.Duration, f func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			for i, a := range args {
				if late, ok := a.(func() any); ok {
					args[i] = late()
				}
			}
			require.FailNowf(t, "condition not met in time", msg, args...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func background(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// serverLogger shows a member's errors in the test log, less the ones every shutdown logs.
func serverLogger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel),
		zaptest.WrapOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietCore{c} })))
}

type quietCore struct{ zapcore.Core }

func (q quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Message == "setting up serving from embedded etcd failed." {
		return ce
	}
	return q.Core.Check(e, ce)
}

func (q quietCore) With(f []zapcore.Field) zapcore.Core { return quietCore{q.Core.With(f)} }
