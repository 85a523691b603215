package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/podlife/podlife/phase"
)

// SupervisorWriter is the StatusRecord.Writer of the records a Supervisor writes. The
// agent supersedes a record with a Writer, so its own report wins once it is back.
const SupervisorWriter = "supervisor"

// SupervisorConfig configures a Supervisor. Store is required.
type SupervisorConfig struct {
	// Store holds the nodes' keys. Any Store works; the lease keys are what makes it
	// useful, and those come from HoldLease on etcd. With etcd authentication on, the user needs
	// read and write on <prefix>/nodes/ (GrantSupervisor).
	Store Store
	// Keys is the key layout; the zero value is the default layout.
	Keys Keys
	// Clock stamps the records (UpdatedAt) and paces retries; nil means RealClock.
	Clock Clock
	// RetryPeriod is the wait before a failed watch or write is tried again; 0 means 1 s.
	RetryPeriod time.Duration
	// Logger: nil means zap.NewNop().
	Logger *zap.Logger
}

// Supervisor is node-liveness for a scheduler, the node lifecycle controller's part: it watches
// the lease keys of every node and, when one disappears (the lease expired or was revoked), marks
// each pod of that node whose phase is not terminal Unknown with reason NodeLost and Ready False
// (NodeLostRecord). Unknown is podlife's choice (SEMANTICS "Pod phase"): the API defines it as
// "the state of the pod could not be obtained, typically due to an error in communicating with
// the node", while upstream Kubernetes today leaves the phase, marks such pods Ready=False and
// evicts them after the default 300 s toleration. A node that has status records but no lease when
// the supervisor starts (or lists again after a lost watch) is lost too. etcd watches by prefix,
// not by suffix, so the supervisor watches all of <prefix>/nodes/, pod and status writes
// included, and looks only at the lease keys.
//
// The marks are compare-and-swap writes of the pod's status record with Seq one above the stored
// one and Writer SupervisorWriter, keeping the checkpoint, so that a returning agent restores from
// it and reports the true status above it. A record that changed under the supervisor (its agent
// wrote, so it is alive) is left alone, and so are records that do not decode (logged with their
// key), terminal ones and ones already marked.
type Supervisor struct {
	cfg   SupervisorConfig
	nodes string // <prefix>/nodes/
	log   *zap.Logger
}

// NewSupervisor checks cfg and fills in its defaults.
func NewSupervisor(cfg SupervisorConfig) (*Supervisor, error) {
	if cfg.Store == nil {
		return nil, errors.New("lifecycle: supervisor: Store: Required value")
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.RetryPeriod <= 0 {
		cfg.RetryPeriod = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	// Keys.Node("") is "<prefix>/nodes//".
	return &Supervisor{cfg: cfg, nodes: strings.TrimSuffix(cfg.Keys.Node(""), "/"), log: cfg.Logger}, nil
}

// Run supervises until ctx ends, then returns nil. It returns an error only when it cannot
// start: the first listing of the nodes fails.
func (s *Supervisor) Run(ctx context.Context) error {
	rev, alive, err := s.resync(ctx)
	if err != nil {
		return fmt.Errorf("lifecycle: supervisor: %w", err)
	}
	for {
		rev = s.follow(ctx, rev, alive)
		if ctx.Err() != nil {
			return nil
		}
		s.sleep(ctx)
		if r, a, err := s.resync(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("supervisor: listing the nodes failed; will retry", zap.Error(err))
			}
		} else {
			rev, alive = r, a
		}
	}
}

// resync lists every node's keys, marks the nodes that have statuses but no lease, and returns
// the revision to watch from and the nodes with a lease.
func (s *Supervisor) resync(ctx context.Context) (int64, map[string]bool, error) {
	kvs, rev, err := s.cfg.Store.List(ctx, s.nodes)
	if err != nil {
		return 0, nil, err
	}
	alive, statuses := map[string]bool{}, map[string]bool{}
	for _, kv := range kvs {
		node, rest, ok := s.parse(kv.Key)
		switch {
		case !ok:
		case rest == "lease":
			alive[node] = true
		case strings.HasPrefix(rest, "status/"):
			statuses[node] = true
		}
	}
	var lost []string
	for node := range statuses {
		if !alive[node] {
			lost = append(lost, node)
		}
	}
	slices.Sort(lost)
	for _, node := range lost {
		if err := s.markLost(ctx, node); err != nil {
			return 0, nil, err
		}
	}
	return rev, alive, nil
}

// follow watches the nodes' keys from rev+1 until the watch ends, marking nodes whose lease key
// goes, and returns the last revision seen.
func (s *Supervisor) follow(ctx context.Context, rev int64, alive map[string]bool) int64 {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for resp := range s.cfg.Store.Watch(ctx, s.nodes, rev+1) {
		if resp.Err != nil {
			if ctx.Err() == nil {
				s.log.Warn("supervisor: watch ended; listing again", zap.Int64("revision", rev), zap.Error(resp.Err))
			}
			return rev
		}
		for _, ev := range resp.Events {
			rev = ev.KV.Revision
			node, rest, ok := s.parse(ev.KV.Key)
			if !ok || rest != "lease" {
				continue
			}
			if ev.Type == WatchPut {
				if !alive[node] {
					s.log.Info("supervisor: node lease held", zap.String("node", node))
				}
				alive[node] = true
				continue
			}
			delete(alive, node)
			s.log.Warn("supervisor: node lease gone", zap.String("node", node))
			if err := s.markLost(ctx, node); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("supervisor: marking the pods of a lost node failed; will list again", zap.String("node", node), zap.Error(err))
				}
				return rev // the resync marks it again
			}
		}
	}
	return rev
}

// parse splits <prefix>/nodes/<node>/<rest>.
func (s *Supervisor) parse(key string) (node, rest string, ok bool) {
	tail, ok := strings.CutPrefix(key, s.nodes)
	if !ok {
		return "", "", false
	}
	return strings.Cut(tail, "/")
}

// markLost marks every non-terminal pod of node Unknown.
func (s *Supervisor) markLost(ctx context.Context, node string) error {
	kvs, _, err := s.cfg.Store.List(ctx, s.cfg.Keys.Statuses(node))
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if err := s.markPod(ctx, node, kv); err != nil {
			return err
		}
	}
	return nil
}

func (s *Supervisor) markPod(ctx context.Context, node string, kv KV) error {
	rec, err := DecodeStatus(kv.Value)
	if err != nil {
		s.log.Error("supervisor: skipping a status record that does not decode", zap.String("key", kv.Key), zap.Error(err))
		return nil
	}
	marked, ok := NodeLostRecord(rec, node, s.cfg.Clock.Now())
	if !ok {
		return nil
	}
	b, err := EncodeStatus(marked)
	if err != nil {
		return fmt.Errorf("lifecycle: supervisor: encoding %s: %w", kv.Key, err)
	}
	_, err = s.cfg.Store.Put(ctx, kv.Key, b, kv.Revision)
	switch {
	case errors.Is(err, ErrConflict):
		s.log.Info("supervisor: status changed meanwhile; leaving it", zap.String("key", kv.Key))
		return nil
	case err != nil:
		return err
	}
	s.log.Info("supervisor: pod marked Unknown, node lost", zap.String("node", node), zap.Stringer("pod", rec.Pod),
		zap.String("was", string(rec.Status.Phase)))
	return nil
}

// NodeLostRecord is rec as a Supervisor writes it once rec's node is lost: one Seq above, by
// SupervisorWriter, stamped now, with phase Unknown, reason NodeLost and Ready False (what
// upstream's node controller does, MarkPodsNotReady); the container statuses and the checkpoint
// as last reported, so that a returning agent restores from them. A simulation that plays a lost
// node (podlife/scenario) writes the same record. It reports false, and rec as it is, for a
// record the supervisor leaves alone: a terminal pod's, or one it marked already.
func NodeLostRecord(rec StatusRecord, node string, now time.Time) (StatusRecord, bool) {
	if rec.Status.Phase.IsTerminal() || (rec.Status.Phase == phase.Unknown && rec.Writer == SupervisorWriter) {
		return rec, false
	}
	rec.Seq++
	rec.Writer = SupervisorWriter
	rec.UpdatedAt = now
	rec.Status.Phase = phase.Unknown
	rec.Status.Reason = phase.ReasonNodeLost
	rec.Status.Message = fmt.Sprintf("Node %s which was running pod %s is unresponsive", node, rec.Pod.Name)
	rec.Status.Conditions = slices.Clone(rec.Status.Conditions)
	for i, c := range rec.Status.Conditions {
		if c.Type == phase.PodReady && c.Status != phase.ConditionFalse {
			rec.Status.Conditions[i].Status = phase.ConditionFalse
			rec.Status.Conditions[i].LastTransitionTime = now
		}
	}
	return rec, true
}

func (s *Supervisor) sleep(ctx context.Context) {
	t := s.cfg.Clock.NewTimer(s.cfg.RetryPeriod)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}
