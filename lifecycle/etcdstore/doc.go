// Package etcdstore is the etcd adapter of lifecycle.Store (go.etcd.io/etcd/client/v3), so that
// several agents and a scheduler share pod specs and statuses the way kubelet and the API server
// do, without an API server. It behaves as lifecycle/memstore, the reference: both pass the same
// conformance tests (lifecycle/storetest).
//
// # Keys and values
//
// The key layout and the encoding are lifecycle's (lifecycle.Keys, lifecycle.EncodePod,
// lifecycle.EncodeStatus): this package stores those bytes as they are, under those keys, and
// adds one key per node, its lease. With the default prefix:
//
//	/podlife/nodes/node-1/pods/default/web     PodRecord JSON {"apiVersion":"podlife/v1",...}: the spec bound to node-1
//	/podlife/nodes/node-1/status/default/web   StatusRecord JSON: what node-1's agent reports, with Seq and Writer
//	/podlife/nodes/node-1/lease                LeaseRecord JSON, attached to an etcd lease (HoldLease)
//
// Everything of a node is under /podlife/nodes/<node>/, so one etcd role on that prefix confines
// the node's agent to its own keys (GrantNode). The user and the role are named after that key
// prefix (NodeUser: podlife-node@/podlife/nodes/node-1), so clusters sharing one etcd under
// different prefixes each have their own node-1. A revision is etcd's: Put's prevRevision is
// compared with the key's mod revision in a transaction, and a key's Revision is its mod
// revision. Values under the prefix that do not decode (another program's, a future version's)
// are the reader's business: the agent logs them with their key and skips them.
//
// # Errors
//
// Errors wrap lifecycle's sentinels, and name the operation and the key: ErrKeyNotFound, a
// *lifecycle.ConflictError with the revision that won, a *lifecycle.CompactedError with etcd's
// compact revision, an *UnavailableError (wrapping lifecycle.ErrStoreUnavailable) naming the
// endpoints when the cluster does not answer within the request timeout, and ErrPermissionDenied
// naming the key and the user when etcd's authentication refuses a request.
//
// # Node liveness
//
// An agent holds a lease (HoldLease) on its node's lease key and keeps it alive. A Supervisor
// (lifecycle.Supervisor, which works on any lifecycle.Store; its names here are aliases), run by
// a scheduler, watches the lease keys of all nodes; when one disappears (the lease
// expired), it marks the node's pods that are not terminal phase Unknown with reason NodeLost.
// That is podlife's choice, as SEMANTICS.md ("Pod phase") says: the API defines Unknown as "the
// state of the pod could not be obtained, typically due to an error in communicating with the
// node", while upstream Kubernetes today leaves the phase, marks such pods Ready=False and evicts
// them after the default 300 s toleration. When the agent comes back it reports the true status,
// which supersedes the supervisor's (lifecycle.StatusRecord.Writer): a restarted agent as it
// recovers; an agent that kept running while its lease lapsed (the cluster unreachable for
// longer than the TTL) as soon as it sees the supervisor's record, since it watches its status
// records for other writers.
package etcdstore
