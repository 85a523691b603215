package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/podlife/podlife/lifecycle"
)

// NodeUser is the etcd user, and role, that GrantNode makes for node under keys' prefix:
// "podlife-node@" followed by the node's key prefix without its last slash, for example
// podlife-node@/podlife/nodes/node-1 with the default prefix. The name is the key range the role
// covers, so it reads as what it grants, and it is unambiguous: a node name holds no '/', so
// the node is what follows the last '/' and the prefix what precedes the last "/nodes/"; two
// clusters sharing one etcd under two prefixes never share a node's user, role or password.
// etcd accepts any non-empty user name. With client-certificate authentication, etcd takes the
// certificate's common name as the user: issue a node's certificate with this common name
// (certificate tools limit a common name to 64 characters, which a short prefix and node fit).
func NodeUser(keys lifecycle.Keys, node string) string {
	return "podlife-node@" + strings.TrimSuffix(keys.Node(node), "/")
}

// supervisorRole is the role GrantSupervisor gives its user: named after the key range it
// covers, as NodeUser, so that one user granted under two prefixes holds two roles and a role
// never spans clusters.
func supervisorRole(keys lifecycle.Keys) string {
	return "podlife-supervisor@" + strings.TrimSuffix(keys.Node(""), "/")
}

// EnableAuth turns etcd authentication on, creating the root user (and its role) with
// rootPassword if it does not exist. From then on every request needs a user; root may do all.
func EnableAuth(ctx context.Context, cli *clientv3.Client, rootPassword string) error {
	if _, err := cli.UserAdd(ctx, "root", rootPassword); err != nil && !errors.Is(rpctypes.Error(err), rpctypes.ErrUserAlreadyExist) {
		return fmt.Errorf("etcdstore: adding user root: %w", err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		return fmt.Errorf("etcdstore: granting role root to root: %w", err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		return fmt.Errorf("etcdstore: enabling authentication: %w", err)
	}
	return nil
}

// GrantNode makes (or updates) the user and role NodeUser(keys, node), with read and write on
// the node's prefix <prefix>/nodes/<node>/ only: pods, statuses and the lease key. A client logged in
// as that user that reads or writes another node's keys gets an error wrapping
// ErrPermissionDenied that names the key. An empty password makes a user without one, for
// client-certificate authentication. It returns the user name. cli must be root's.
func GrantNode(ctx context.Context, cli *clientv3.Client, keys lifecycle.Keys, node, password string) (string, error) {
	if err := checkNode(node); err != nil {
		return "", err
	}
	user := NodeUser(keys, node)
	return user, grantPrefix(ctx, cli, user, user, password, keys.Node(node))
}

// GrantSupervisor makes (or updates) user with read and write on every node's keys,
// <prefix>/nodes/: what a Supervisor, and a scheduler binding pods, needs. The permission is a
// role of the prefix (podlife-supervisor@<prefix>/nodes), not of the user: the same user granted
// under a second prefix holds both roles, and an empty password keeps the user's password (or
// makes a user without one, for client-certificate authentication).
func GrantSupervisor(ctx context.Context, cli *clientv3.Client, keys lifecycle.Keys, user, password string) error {
	if user == "" {
		return fmt.Errorf("etcdstore: user: Required value: %w", ErrInvalidArgument)
	}
	return grantPrefix(ctx, cli, user, supervisorRole(keys), password, strings.TrimSuffix(keys.Node(""), "/"))
}

// grantPrefix gives user role, with readwrite on [prefix, its range end).
func grantPrefix(ctx context.Context, cli *clientv3.Client, user, role, password, prefix string) error {
	if _, err := cli.RoleAdd(ctx, role); err != nil && !errors.Is(rpctypes.Error(err), rpctypes.ErrRoleAlreadyExist) {
		return fmt.Errorf("etcdstore: adding role %q: %w", role, err)
	}
	if _, err := cli.RoleGrantPermission(ctx, role, prefix, clientv3.GetPrefixRangeEnd(prefix),
		clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
		return fmt.Errorf("etcdstore: granting role %q readwrite on %q: %w", role, prefix, err)
	}
	_, err := cli.UserAddWithOptions(ctx, user, password, &clientv3.UserAddOptions{NoPassword: password == ""})
	switch {
	case errors.Is(rpctypes.Error(err), rpctypes.ErrUserAlreadyExist):
		if password != "" {
			if _, err := cli.UserChangePassword(ctx, user, password); err != nil {
				return fmt.Errorf("etcdstore: changing the password of %q: %w", user, err)
			}
		}
	case err != nil:
		return fmt.Errorf("etcdstore: adding user %q: %w", user, err)
	}
	if _, err := cli.UserGrantRole(ctx, user, role); err != nil {
		return fmt.Errorf("etcdstore: granting role %q to %q: %w", role, user, err)
	}
	return nil
}
