package podlifetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// RigOptions configure a Rig. The zero value is a node named Node where every container starts
// at once and runs until it is stopped.
type RigOptions struct {
	// Node is the node's name; "" means Node.
	Node string
	// World scripts the simulated runtime (see simruntime.WorldOptions); Rig.Runtime.With
	// changes scripts later, per pod too.
	World simruntime.WorldOptions
	// Observe, when set, sees every Ready of every pod's machine (lifecycle.AgentConfig.Observe).
	Observe func(pod lifecycle.PodRef, now time.Time, rd lifecycle.Ready)
	// Logger receives the agent's logs; nil means none.
	Logger *zap.Logger
	// Machine tunes every pod's machine (back-off curves).
	Machine lifecycle.Options
	// NoAgent starts no agent: StartAgent starts one, or a test runs an agent of its own on the
	// rig's Runtime and Store.
	NoAgent bool
	// Supervise runs a lifecycle.Supervisor over the store, as a scheduler does, and keeps the
	// node's lease key (lifecycle.Keys.Lease) while the node is up: LoseNode removes it, as etcd
	// does when the lease of an agent that is gone expires, and the supervisor marks the node's
	// pods Unknown (NodeLost); StartAgent writes it again.
	Supervise bool
}

// Rig is a node for a test of code that drives pods through a store, a controller or a
// scheduler: a lifecycle.Agent running pods by kubelet's rules on a simulated runtime
// (simruntime.Runtime) from an in-memory store (memstore), and the lifecycle.Client the code
// under test binds, deletes and reads pods with. Inside a testing/synctest bubble time is
// virtual: a pod's ten minutes take milliseconds and every timing is exact.
type Rig struct {
	Node    string
	Client  lifecycle.Client
	Store   *memstore.Store
	Runtime *simruntime.Runtime

	ctx       context.Context
	cfg       lifecycle.AgentConfig
	supervise bool
	mu        sync.Mutex
	stop      context.CancelFunc // the running agent's, nil while none runs
	done      chan error
	lost      bool               // LoseNode removed the lease key
	supStop   context.CancelFunc // the supervisor's, when Supervise
	supDone   chan error
}

// NewRig starts a node: its agent runs until ctx ends, Stop or StopAgent.
func NewRig(ctx context.Context, opts RigOptions) (*Rig, error) {
	node := opts.Node
	if node == "" {
		node = Node
	}
	rt := simruntime.NewRuntime(simruntime.NewWorld(opts.World), lifecycle.RealClock{})
	store := memstore.New()
	r := &Rig{Node: node, Client: lifecycle.Client{Store: store}, Store: store, Runtime: rt, ctx: ctx,
		cfg: lifecycle.AgentConfig{Node: node, Runtime: rt, Store: store, Setup: rt, Logger: opts.Logger,
			Machine: opts.Machine, Observe: opts.Observe}, supervise: opts.Supervise}
	if opts.Supervise {
		// The agent's lease, as etcdstore.HoldLease writes it.
		if _, err := store.Put(ctx, r.cfg.Keys.Lease(node), []byte(node), 0); err != nil {
			return nil, fmt.Errorf("podlifetest: the node's lease: %w", err)
		}
		sup, err := lifecycle.NewSupervisor(lifecycle.SupervisorConfig{Store: store, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("podlifetest: %w", err)
		}
		sctx, cancel := context.WithCancel(ctx)
		r.supStop, r.supDone = cancel, make(chan error, 1)
		go func() { r.supDone <- sup.Run(sctx) }()
	}
	if opts.NoAgent {
		return r, nil
	}
	if err := r.StartAgent(); err != nil {
		return nil, err
	}
	return r, nil
}

// StartRig starts a node for t (NewRig with t's context) and stops it when t ends. Call it
// inside synctest.Test for virtual time.
func StartRig(t testing.TB, opts RigOptions) *Rig {
	t.Helper()
	r, err := NewRig(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// ErrAgentRunning is StartAgent's error while the rig's agent runs.
var ErrAgentRunning = errors.New("podlifetest: the rig's agent is running")

// StartAgent starts a new agent, which recovers the node's pods from the store and the runtime
// as a restarted kubelet does; it waits for a store that is down (see lifecycle.Agent.Run). After
// LoseNode it writes the node's lease key again first, and fails while the store is down.
func (r *Rig) StartAgent() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		return ErrAgentRunning
	}
	agent, err := lifecycle.NewAgent(r.cfg)
	if err != nil {
		return fmt.Errorf("podlifetest: %w", err)
	}
	if r.lost {
		// The node is back: its new agent's lease. A store that is down refuses it, and the
		// agent is not started.
		if _, err := r.Store.Put(r.ctx, r.cfg.Keys.Lease(r.Node), []byte(r.Node), lifecycle.AnyRevision); err != nil {
			return fmt.Errorf("podlifetest: the node's lease: %w", err)
		}
		r.lost = false
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	r.stop, r.done = cancel, done
	return nil
}

// StopAgent stops the agent and waits until it returned; the runtime goes on, and the pods'
// containers with it. It returns what Agent.Run returned.
func (r *Rig) StopAgent() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop == nil {
		return nil
	}
	r.stop()
	err := <-r.done
	r.stop, r.done = nil, nil
	return err
}

// ErrNotSupervised is LoseNode's error on a rig without RigOptions.Supervise.
var ErrNotSupervised = errors.New("podlifetest: the rig runs no supervisor (RigOptions.Supervise)")

// LoseNode loses the node: its agent stops (the runtime runs on) and its lease key goes, as when
// the lease expires, so that the rig's supervisor marks its pods Unknown, reason NodeLost.
// StartAgent brings the node back. It needs RigOptions.Supervise.
func (r *Rig) LoseNode() error {
	if !r.supervise {
		return ErrNotSupervised
	}
	stopErr := r.StopAgent()
	if err := r.Store.Delete(r.ctx, r.cfg.Keys.Lease(r.Node), lifecycle.AnyRevision); err != nil {
		return fmt.Errorf("podlifetest: the node's lease: %w", err)
	}
	r.mu.Lock()
	r.lost = true
	r.mu.Unlock()
	return stopErr
}

// Stop stops the agent, if one runs, and the supervisor.
func (r *Rig) Stop() {
	_ = r.StopAgent()
	if r.supStop != nil {
		r.supStop()
		<-r.supDone
		r.supStop = nil
	}
}
