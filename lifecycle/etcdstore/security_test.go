package etcdstore_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
)

var ref = lifecycle.PodRef{Namespace: "default", Name: "web"}

func TestTLSWithClientCertificates(t *testing.T) {
	t.Parallel()
	authority := newCA(t, "podlife test CA")
	c := startCluster(t, clusterOptions{tls: authority.serverTLS()})
	client := authority.issue("client", "anyone", false)
	other := newCA(t, "another CA")
	stranger := other.issue("stranger", "anyone", false)

	ok := c.store(etcdstore.Config{TLS: &tls.Config{RootCAs: authority.pool(), Certificates: []tls.Certificate{client}}})
	rev, err := ok.Put(t.Context(), "k", []byte("v"), 0)
	require.NoError(t, err)
	kv, err := ok.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, lifecycle.KV{Key: "k", Value: []byte("v"), Revision: rev}, kv)

	for name, cfg := range map[string]*tls.Config{
		"no client certificate":           {RootCAs: authority.pool()},
		"a certificate of another CA":     {RootCAs: authority.pool(), Certificates: []tls.Certificate{stranger}},
		"a server the client won't trust": {RootCAs: other.pool(), Certificates: []tls.Certificate{client}},
		"no TLS at all":                   nil,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eps := c.endpoints()
			if cfg == nil {
				eps = []string{"http://" + c.endpoint(0)[len("https://"):]}
			}
			_, err := etcdstore.New(etcdstore.Config{Endpoints: eps, TLS: cfg, DialTimeout: time.Second})
			require.ErrorIs(t, err, lifecycle.ErrStoreUnavailable, "refused: %v", err)
			assert.Contains(t, err.Error(), eps[0])
		})
	}
}

// TestNodeIsolation: with etcd authentication on, GrantNode's user reads and writes its node's
// keys, pods, statuses and lease, and nothing of another node's.
func TestNodeIsolation(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	ctx := t.Context()
	require.NoError(t, etcdstore.EnableAuth(ctx, c.client(), "rootpw"))
	root := c.store(etcdstore.Config{Username: "root", Password: "rootpw"})
	keys := lifecycle.Keys{Prefix: "/cluster-a"}
	user1, err := etcdstore.GrantNode(ctx, root.Client(), keys, "node-1", "first")
	require.NoError(t, err)
	assert.Equal(t, etcdstore.NodeUser(keys, "node-1"), user1)
	_, err = etcdstore.GrantNode(ctx, root.Client(), keys, "node-1", "pw1")
	require.NoError(t, err, "granting again changes the password")
	_, err = etcdstore.GrantNode(ctx, root.Client(), keys, "node-2", "pw2")
	require.NoError(t, err)
	_, err = etcdstore.GrantNode(ctx, root.Client(), keys, "a/b", "x")
	require.ErrorIs(t, err, etcdstore.ErrInvalidArgument)

	_, err = etcdstore.New(etcdstore.Config{Endpoints: c.endpoints(), Username: user1, Password: "first"})
	require.Error(t, err, "the old password no longer works")

	n1 := c.store(etcdstore.Config{Username: user1, Password: "pw1"})
	own, foreign := keys.Status("node-1", ref), keys.Status("node-2", ref)
	_, err = root.Put(ctx, foreign, []byte("theirs"), 0)
	require.NoError(t, err)

	// Its own keys: everything works, the lease too.
	rev, err := n1.Put(ctx, own, []byte("mine"), 0)
	require.NoError(t, err)
	_, err = n1.Put(ctx, keys.Pod("node-1", ref), []byte("spec"), 0)
	require.NoError(t, err)
	kvs, _, err := n1.List(ctx, keys.Node("node-1"))
	require.NoError(t, err)
	assert.Len(t, kvs, 2)
	w := n1.Watch(ctx, keys.Statuses("node-1"), rev)
	resp := <-w
	require.NoError(t, resp.Err)
	assert.Equal(t, own, resp.Events[0].KV.Key)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lease, err := etcdstore.HoldLease(lctx, n1.Client(), keys, "node-1", etcdstore.LeaseOptions{TTL: 5 * time.Second})
	require.NoError(t, err)
	require.NoError(t, lease.Revoke(ctx))

	// Another node's: denied, with the key and the user in the message.
	nodes := strings.TrimSuffix(keys.Node(""), "/") // every node's keys
	denied := map[string]struct {
		key  string
		call func() error
	}{
		"get":          {foreign, func() error { _, err := n1.Get(ctx, foreign); return err }},
		"put":          {foreign, func() error { _, err := n1.Put(ctx, foreign, []byte("x"), lifecycle.AnyRevision); return err }},
		"put create":   {foreign, func() error { _, err := n1.Put(ctx, foreign, []byte("x"), 0); return err }},
		"delete":       {foreign, func() error { return n1.Delete(ctx, foreign, lifecycle.AnyRevision) }},
		"list":         {keys.Node("node-2"), func() error { _, _, err := n1.List(ctx, keys.Node("node-2")); return err }},
		"list all":     {nodes, func() error { _, _, err := n1.List(ctx, nodes); return err }},
		"watch now":    {keys.Node("node-2"), func() error { return (<-n1.Watch(ctx, keys.Node("node-2"), 0)).Err }},
		"watch from 1": {keys.Node("node-2"), func() error { return (<-n1.Watch(ctx, keys.Node("node-2"), 1)).Err }},
		"lease": {keys.Node("node-2") + "lease", func() error {
			_, err := etcdstore.HoldLease(ctx, n1.Client(), keys, "node-2", etcdstore.LeaseOptions{TTL: 5 * time.Second})
			return err
		}},
	}
	for name, d := range denied {
		t.Run(name, func(t *testing.T) {
			err := d.call()
			require.ErrorIs(t, err, etcdstore.ErrPermissionDenied)
			assert.NotErrorIs(t, err, lifecycle.ErrStoreUnavailable)
			assert.Contains(t, err.Error(), `"`+d.key+`"`, "the message names the key")
			assert.Contains(t, err.Error(), user1, "and the user")
			t.Log(err)
		})
	}
	kv, err := root.Get(ctx, foreign)
	require.NoError(t, err)
	assert.Equal(t, "theirs", string(kv.Value), "the other node's record is untouched")
}

// TestClientCertificateIsTheNodeUser: with TLS client certificates and authentication on, etcd
// takes the certificate's common name as the user, so a node needs no password: NodeUser(keys, node)
// as CN confines it to its keys.
func TestClientCertificateIsTheNodeUser(t *testing.T) {
	t.Parallel()
	authority := newCA(t, "podlife test CA")
	c := startCluster(t, clusterOptions{tls: authority.serverTLS()})
	ctx := t.Context()
	tlsFor := func(cn string) *tls.Config {
		file := strings.NewReplacer("/", "_", "@", "_").Replace(cn)
		return &tls.Config{RootCAs: authority.pool(), Certificates: []tls.Certificate{authority.issue(file, cn, false)}}
	}
	root, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints(), TLS: tlsFor("root"), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	defer root.Close()
	require.NoError(t, etcdstore.EnableAuth(ctx, root, "rootpw"))
	keys := lifecycle.Keys{}
	user, err := etcdstore.GrantNode(ctx, root, keys, "node-1", "")
	require.NoError(t, err)

	n1 := c.store(etcdstore.Config{TLS: tlsFor(user)})
	_, err = n1.Put(ctx, keys.Status("node-1", ref), []byte("mine"), 0)
	require.NoError(t, err)
	_, err = n1.Put(ctx, keys.Status("node-2", ref), []byte("theirs"), 0)
	require.ErrorIs(t, err, etcdstore.ErrPermissionDenied)
	assert.Contains(t, err.Error(), keys.Status("node-2", ref))

	nobody := c.store(etcdstore.Config{TLS: tlsFor("nobody")})
	_, err = nobody.Get(ctx, keys.Status("node-1", ref))
	require.Error(t, err, "a certificate whose CN is no user gets nothing")
	assert.NotErrorIs(t, err, lifecycle.ErrKeyNotFound)
	t.Log(err)
}

// TestTwoClustersOnOneEtcd: two podlife clusters share one etcd under two prefixes, each with a
// node-1. GrantNode's users and roles are per prefix and node, so granting the second cluster's
// node-1 neither widens nor re-keys the first's: after both grants each node-1 logs in with its
// own password and reads and writes its own prefix only; so do the two supervisors.
func TestTwoClustersOnOneEtcd(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	ctx := t.Context()
	require.NoError(t, etcdstore.EnableAuth(ctx, c.client(), "rootpw"))
	root := c.store(etcdstore.Config{Username: "root", Password: "rootpw"})
	a, b := lifecycle.Keys{Prefix: "/cluster-a"}, lifecycle.Keys{Prefix: "/cluster-b"}

	userA, err := etcdstore.GrantNode(ctx, root.Client(), a, "node-1", "pw-a")
	require.NoError(t, err)
	require.NoError(t, etcdstore.GrantSupervisor(ctx, root.Client(), a, "sched-a", "spw-a"))
	userB, err := etcdstore.GrantNode(ctx, root.Client(), b, "node-1", "pw-b")
	require.NoError(t, err)
	require.NoError(t, etcdstore.GrantSupervisor(ctx, root.Client(), b, "sched-b", "spw-b"))
	assert.NotEqual(t, userA, userB, "one user per prefix and node")

	type cluster struct {
		keys         lifecycle.Keys
		node, sched  *etcdstore.Store
		other        lifecycle.Keys
		nodeUser     string
		schedUser    string
		nodeNotOwner string // a key of the same cluster's node-2
	}
	clusters := map[string]cluster{
		"a": {keys: a, other: b, nodeUser: userA, schedUser: "sched-a",
			node:  c.store(etcdstore.Config{Username: userA, Password: "pw-a"}),
			sched: c.store(etcdstore.Config{Username: "sched-a", Password: "spw-a"})},
		"b": {keys: b, other: a, nodeUser: userB, schedUser: "sched-b",
			node:  c.store(etcdstore.Config{Username: userB, Password: "pw-b"}),
			sched: c.store(etcdstore.Config{Username: "sched-b", Password: "spw-b"})},
	}
	for name, cl := range clusters {
		t.Run(name, func(t *testing.T) {
			own := cl.keys.Status("node-1", ref)
			rev, err := cl.node.Put(ctx, own, []byte(name), 0)
			require.NoError(t, err, "node-1 of %s writes its own status", name)
			kv, err := cl.node.Get(ctx, own)
			require.NoError(t, err)
			assert.Equal(t, lifecycle.KV{Key: own, Value: []byte(name), Revision: rev}, kv)
			_, err = cl.sched.Put(ctx, cl.keys.Pod("node-1", ref), []byte("spec"), 0)
			require.NoError(t, err, "the supervisor of %s binds to its node-1", name)
			kvs, _, err := cl.sched.List(ctx, cl.keys.Node("node-1"))
			require.NoError(t, err)
			assert.Len(t, kvs, 2)

			// Nothing of the other cluster, not even its node-1.
			foreign := cl.other.Status("node-1", ref)
			for who, s := range map[string]*etcdstore.Store{cl.nodeUser: cl.node, cl.schedUser: cl.sched} {
				_, err = s.Get(ctx, foreign)
				require.ErrorIs(t, err, etcdstore.ErrPermissionDenied, "%s reads %s", who, foreign)
				_, err = s.Put(ctx, foreign, []byte("x"), lifecycle.AnyRevision)
				require.ErrorIs(t, err, etcdstore.ErrPermissionDenied, "%s writes %s", who, foreign)
				_, _, err = s.List(ctx, cl.other.Node("node-1"))
				require.ErrorIs(t, err, etcdstore.ErrPermissionDenied, "%s lists %s", who, cl.other.Node("node-1"))
			}
		})
	}
	for _, cl := range clusters {
		kv, err := root.Get(ctx, cl.keys.Status("node-1", ref))
		require.NoError(t, err)
		assert.Contains(t, []string{"a", "b"}, string(kv.Value))
		assert.Equal(t, map[lifecycle.Keys]string{a: "a", b: "b"}[cl.keys], string(kv.Value), "each status is its own node-1's")
	}
}
