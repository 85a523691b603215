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

// NodeUser is the etcd user, and role, that GrantNode makes for node. With client-certificate
// authentication, etcd takes the certificate's common name as the user: issue a node's
// certificate with this common name.
func NodeUser(node string) string { return "podlife-node-" + node }

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

// GrantNode makes (or updates) the user and role NodeUser(node), with read and write on the
// node's prefix <prefix>/nodes/<node>/ only: pods, statuses and the lease key. A client logged in
// as that user that reads or writes another node's keys gets an error wrapping
// ErrPermissionDenied that names the key. An empty password makes a user without one, for
// client-certificate authentication. It returns the user name. cli must be root's.
func GrantNode(ctx context.Context, cli *clientv3.Client, keys lifecycle.Keys, node, password string) (string, error) {
	if err := checkNode(node); err != nil {
		return "", err
	}
	user := NodeUser(node)
	return user, grantPrefix(ctx, cli, user, password, keys.Node(node))
}

// GrantSupervisor makes (or updates) user with read and write on every node's keys,
// <prefix>/nodes/: what a Supervisor, and a scheduler binding pods, needs.
func GrantSupervisor(ctx context.Context, cli *clientv3.Client, keys lifecycle.Keys, user, password string) error {
	if user == "" {
		return fmt.Errorf("etcdstore: user: Required value: %w", ErrInvalidArgument)
	}
	return grantPrefix(ctx, cli, user, password, strings.TrimSuffix(keys.Node(""), "/"))
}

// grantPrefix gives user a role of the same name with readwrite on [prefix, its range end).
func grantPrefix(ctx context.Context, cli *clientv3.Client, user, password, prefix string) error {
	if _, err := cli.RoleAdd(ctx, user); err != nil && !errors.Is(rpctypes.Error(err), rpctypes.ErrRoleAlreadyExist) {
		return fmt.Errorf("etcdstore: adding role %q: %w", user, err)
	}
	if _, err := cli.RoleGrantPermission(ctx, user, prefix, clientv3.GetPrefixRangeEnd(prefix),
		clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
		return fmt.Errorf("etcdstore: granting role %q readwrite on %q: %w", user, prefix, err)
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
	if _, err := cli.UserGrantRole(ctx, user, user); err != nil {
		return fmt.Errorf("etcdstore: granting role %q to %q: %w", user, user, err)
	}
	return nil
}
