package etcdstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
)

// TestNodeUserNames: the user is the node's key prefix, so two prefixes or two nodes never share
// one, whatever characters the prefix holds (a node has no '/', so the parse is unambiguous).
func TestNodeUserNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys lifecycle.Keys
		node string
		want string
	}{
		{lifecycle.Keys{}, "node-1", "podlife-node@/podlife/nodes/node-1"},
		{lifecycle.Keys{Prefix: "/podlife/"}, "node-1", "podlife-node@/podlife/nodes/node-1"},
		{lifecycle.Keys{Prefix: "/cluster-a"}, "node-1", "podlife-node@/cluster-a/nodes/node-1"},
		{lifecycle.Keys{Prefix: "/a/nodes/b"}, "c", "podlife-node@/a/nodes/b/nodes/c"},
	} {
		assert.Equal(t, tc.want, etcdstore.NodeUser(tc.keys, tc.node))
	}
	assert.NotEqual(t, etcdstore.NodeUser(lifecycle.Keys{Prefix: "/a"}, "b.c"), etcdstore.NodeUser(lifecycle.Keys{Prefix: "/a/b"}, "c"))
}
