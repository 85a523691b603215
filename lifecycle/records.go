package lifecycle

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
)

// APIVersion tags every record the agent writes, so a reader can tell a foreign or future value
// from a corrupt one. Decoders refuse other versions.
const APIVersion = "podlife/v1"

// Keys is the key layout in a Store. Everything of one node lives under one prefix, so that a
// store with per-prefix permissions (etcd roles) can confine a node's agent to its own keys:
//
//	<Prefix>/nodes/<node>/pods/<namespace>/<name>     PodRecord: the spec bound to the node, and its deletion
//	<Prefix>/nodes/<node>/status/<namespace>/<name>   StatusRecord: the status the agent reports
//	<Prefix>/nodes/<node>/lease                        the node's liveness, under a store lease
//
// A pod is its UID, not its name. As the API server keeps one object per namespace/name and
// checks a UID precondition on writes, the keys are by name, one pod at a time per name, and
// every record carries the pod's UID (PodRef.UID):
//   - Client.Bind creates a pod record only where none is (revision 0), and gives the pod a new
//     UID when the caller gives none. A pod bound again under an earlier one's name (every
//     StatefulSet does this) is another pod, with a life of its own.
//   - Every write to a pod record is a compare-and-swap on the revision the writer read; a Client
//     call whose ref has a UID acts only on the pod of that UID (*UIDMismatchError otherwise).
//   - The agent removes a pod record only once that pod was asked to be deleted and has stopped,
//     by a compare-and-swap on the revision of the record it acted on, never AnyRevision; if the
//     record changed meanwhile it removes the new revision when it has seen it, and never a record
//     of another UID. A forced deletion (Client.Delete with grace 0) is the record removed by the
//     client: the agent then stops the pod and removes nothing.
//   - A status record belongs to the UID in it. The agent writes a pod's status only while that
//     pod holds its name: the first status of a new UID replaces whatever an earlier UID left
//     there, and a pod whose name another UID took never writes again, so a late write of an old
//     UID never lands on a new one. StatusRecord.Seq counts per UID. A restarted agent restores a
//     pod from the status record only when its UID is the pod's; otherwise the pod starts afresh.
//   - The runtime's containers and sandboxes carry the pod's UID: those of a UID that has no pod
//     record (an old pod of the name) are orphans, stopped and removed.
//
// After a deletion the pod record goes and its last status stays, for whoever wants to read how
// the pod ended, until a new pod of that name reports.
//
// The zero Keys uses the prefix "/podlife".
type Keys struct {
	Prefix string
}

func (k Keys) prefix() string {
	if k.Prefix == "" {
		return "/podlife"
	}
	return strings.TrimSuffix(k.Prefix, "/")
}

// Node is the prefix of everything of node.
func (k Keys) Node(node string) string { return k.prefix() + "/nodes/" + node + "/" }

// Pods is the prefix of the pod records of node.
func (k Keys) Pods(node string) string { return k.Node(node) + "pods/" }

// Statuses is the prefix of the status records of node.
func (k Keys) Statuses(node string) string { return k.Node(node) + "status/" }

// Pod is the key of a pod's record.
func (k Keys) Pod(node string, ref PodRef) string {
	return k.Pods(node) + ref.Namespace + "/" + ref.Name
}

// Lease is the key a node's agent keeps alive under a lease (lifecycle/etcdstore's HoldLease);
// when it is gone, a supervisor takes the node as lost.
func (k Keys) Lease(node string) string { return k.Node(node) + "lease" }

// Status is the key of a pod's status record.
func (k Keys) Status(node string, ref PodRef) string {
	return k.Statuses(node) + ref.Namespace + "/" + ref.Name
}

// PodRecord is a pod bound to a node: what a scheduler writes and the node's agent runs.
type PodRecord struct {
	APIVersion string          `json:"apiVersion"`
	Pod        PodRef          `json:"pod"`
	Node       string          `json:"node"`
	Spec       podlife.PodSpec `json:"spec"`
	// Deletion, once set, asks the agent to stop the pod; it stays set.
	Deletion *Deletion `json:"deletion,omitempty"`
}

// Deletion is a request to delete a pod, as the API server's deletionTimestamp and
// deletionGracePeriodSeconds.
type Deletion struct {
	// RequestedAt is when the first delete request came.
	RequestedAt time.Time `json:"requestedAt"`
	// GracePeriodSeconds is the grace the pod gets: the first request's, defaulted to the spec's
	// terminationGracePeriodSeconds, and lowered by every later request with a shorter one
	// (Client.Delete stores it always, as the API server stores deletionGracePeriodSeconds). An
	// agent gives it in full from when it sees it: a shorter one restarts the stop under way, and
	// an agent restarted during the stop starts it again with it (kubelet's
	// calculateEffectiveGracePeriod). nil, from other writers, means the spec's.
	GracePeriodSeconds *int64 `json:"gracePeriodSeconds,omitempty"`
}

// StatusRecord is what the agent reports for a pod.
type StatusRecord struct {
	APIVersion string `json:"apiVersion"`
	Pod        PodRef `json:"pod"`
	Node       string `json:"node"`
	// Seq grows with every status the agent reports for the pod (its UID), across agent
	// restarts: a writer never replaces a record of the same UID with a larger Seq.
	Seq uint64 `json:"seq"`
	// Writer is who wrote the record: "" for the node's agent, or another writer such as a
	// node-lease supervisor marking the pod Unknown. An agent always supersedes another writer's
	// record (with a larger Seq), so it reports the true status once it is back.
	Writer     string          `json:"writer,omitempty"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	Status     phase.PodStatus `json:"status"`
	Checkpoint Checkpoint      `json:"checkpoint"`
}

// EncodePod is a PodRecord's stored form.
func EncodePod(r PodRecord) ([]byte, error) {
	r.APIVersion = APIVersion
	return json.Marshal(r)
}

// DecodePod reads a PodRecord, refusing other versions and records without a pod name.
func DecodePod(b []byte) (PodRecord, error) {
	var r PodRecord
	if err := decode(b, &r, &r.APIVersion); err != nil {
		return PodRecord{}, err
	}
	if r.Pod.Name == "" || r.Pod.Namespace == "" {
		return PodRecord{}, fmt.Errorf("lifecycle: pod record without pod.namespace and pod.name")
	}
	return r, nil
}

// EncodeStatus is a StatusRecord's stored form.
func EncodeStatus(r StatusRecord) ([]byte, error) {
	r.APIVersion = APIVersion
	return json.Marshal(r)
}

// DecodeStatus reads a StatusRecord, refusing other versions.
func DecodeStatus(b []byte) (StatusRecord, error) {
	var r StatusRecord
	err := decode(b, &r, &r.APIVersion)
	return r, err
}

func decode(b []byte, v any, version *string) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("lifecycle: decoding record: %w", err)
	}
	if *version != APIVersion {
		return fmt.Errorf("lifecycle: record has apiVersion %q, want %q", *version, APIVersion)
	}
	return nil
}
