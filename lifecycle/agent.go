package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// AgentConfig configures an Agent. Node, Runtime and Store are required; the rest have defaults.
type AgentConfig struct {
	// Node is the node this agent runs pods for: the pods bound to it in the Store.
	Node    string
	Runtime Runtime
	Store   Store
	// Setup prepares pods before their sandbox; nil means there is nothing to prepare.
	Setup PodSetup
	// Clock is the agent's time; nil means RealClock.
	Clock Clock
	// Logger receives the agent's logs; nil means zap.NewNop().
	Logger *zap.Logger
	// Keys is the key layout in Store; the zero value is the default layout.
	Keys Keys
	// Machine tunes every pod's Machine (back-off curves).
	Machine Options
	// CallTimeout bounds each runtime call that has no time limit of its own (sandbox, create,
	// start, remove); 0 means 4 minutes. Pulls, hooks, probes and stops have their own limits.
	CallTimeout time.Duration
	// RetryPeriod is the wait before a failed store write, watch or runtime event stream is tried
	// again; 0 means 1 s.
	RetryPeriod time.Duration
	// Observe, when set, sees everything each pod's Machine hands out, on that pod's goroutine,
	// before the actions are performed: for timelines and tests. It must not block for long.
	Observe func(ref PodRef, now time.Time, rd Ready)
}

// Agent is the imperative shell around Machines, kubelet's role: it runs every pod bound to its
// node in the Store, performs each machine's actions through the Runtime (each in its own
// goroutine, with a context and a time limit), feeds the results back as events, and persists
// each pod's status and checkpoint through the Store by compare-and-swap. On start it recovers:
// machines are rebuilt from the Store and the Runtime's list of containers (see Restore), so a
// container that already runs is adopted, never started twice.
type Agent struct {
	cfg    AgentConfig
	log    *zap.Logger
	clock  Clock
	client Client

	mu      sync.Mutex
	workers map[string]*worker // by namespace/name
	wg      sync.WaitGroup
}

// NewAgent checks cfg and fills in its defaults.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if err := checkRef(cfg.Node, PodRef{Namespace: "x", Name: "x"}); err != nil {
		return nil, fmt.Errorf("lifecycle: agent: %w", err)
	}
	if cfg.Runtime == nil {
		return nil, errors.New("lifecycle: agent: Runtime: Required value")
	}
	if cfg.Store == nil {
		return nil, errors.New("lifecycle: agent: Store: Required value")
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 4 * time.Minute
	}
	if cfg.RetryPeriod <= 0 {
		cfg.RetryPeriod = time.Second
	}
	return &Agent{cfg: cfg, log: cfg.Logger.With(zap.String("node", cfg.Node)), clock: cfg.Clock,
		client: Client{Store: cfg.Store, Keys: cfg.Keys}, workers: map[string]*worker{}}, nil
}

// Run recovers the node's pods and runs them until ctx ends, then waits for its goroutines and
// returns nil. It returns an error only when it cannot start: the Store or the Runtime cannot
// be listed.
func (a *Agent) Run(ctx context.Context) error {
	rev, err := a.recover(ctx)
	if err != nil {
		return err
	}
	a.wg.Add(3)
	go func() { defer a.wg.Done(); a.runtimeEvents(ctx) }()
	go func() { defer a.wg.Done(); a.watchPods(ctx, rev) }()
	go func() { defer a.wg.Done(); a.watchStatuses(ctx) }()
	<-ctx.Done()
	a.wg.Wait()
	return nil
}

// recover lists the store and the runtime, rebuilds every pod's machine and starts its worker.
// It returns the store revision to watch from.
func (a *Agent) recover(ctx context.Context) (int64, error) {
	pods, rev, err := a.cfg.Store.List(ctx, a.cfg.Keys.Pods(a.cfg.Node))
	if err != nil {
		return 0, fmt.Errorf("lifecycle: agent: listing pods: %w", err)
	}
	statuses, _, err := a.cfg.Store.List(ctx, a.cfg.Keys.Statuses(a.cfg.Node))
	if err != nil {
		return 0, fmt.Errorf("lifecycle: agent: listing statuses: %w", err)
	}
	sandboxes, err := a.cfg.Runtime.ListSandboxes(ctx)
	if err != nil {
		return 0, fmt.Errorf("lifecycle: agent: listing sandboxes: %w", err)
	}
	containers, err := a.cfg.Runtime.ListContainers(ctx)
	if err != nil {
		return 0, fmt.Errorf("lifecycle: agent: listing containers: %w", err)
	}
	observed := map[string]*Observed{}
	obs := func(ref PodRef) *Observed {
		k := podKey(ref)
		if observed[k] == nil {
			observed[k] = &Observed{}
		}
		return observed[k]
	}
	for _, s := range sandboxes {
		o := obs(s.Pod)
		o.Sandboxes = append(o.Sandboxes, s)
	}
	for _, c := range containers {
		o := obs(c.Pod)
		o.Containers = append(o.Containers, c)
	}
	reported := map[string]StatusRecord{}
	for _, kv := range statuses {
		r, err := DecodeStatus(kv.Value)
		if err != nil {
			a.log.Error("skipping a status record that does not decode", zap.String("key", kv.Key), zap.Error(err))
			continue
		}
		reported[podKey(r.Pod)] = r
	}
	for _, kv := range pods {
		rec, err := DecodePod(kv.Value)
		if err != nil {
			a.log.Error("skipping a pod record that does not decode", zap.String("key", kv.Key), zap.Error(err))
			continue
		}
		k := podKey(rec.Pod)
		o := observed[k]
		delete(observed, k)
		if o == nil {
			o = &Observed{}
		}
		st, had := reported[k]
		m, err := Restore(rec.Pod, rec.Spec, st.Status, st.Checkpoint, *o, a.clock.Now(), a.cfg.Machine)
		if err != nil {
			a.log.Error("skipping a pod that cannot run", zap.String("key", kv.Key), zap.Error(err))
			continue
		}
		if had {
			a.log.Info("recovered pod", zap.Stringer("pod", rec.Pod), zap.String("phase", string(m.Status().Phase)),
				zap.Int("containers", len(o.Containers)))
		}
		a.start(ctx, rec, m, st.Seq)
	}
	for _, o := range observed {
		a.removeOrphan(ctx, *o)
	}
	return rev, nil
}

// removeOrphan stops and removes what the runtime runs for a pod the store no longer has.
func (a *Agent) removeOrphan(ctx context.Context, o Observed) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for _, c := range o.Containers {
			if c.State == ContainerStateRunning || c.State == ContainerStateCreated {
				a.log.Info("stopping an orphaned container", zap.Stringer("pod", c.Pod), zap.String("container", c.Name))
				a.call(ctx, a.cfg.CallTimeout, func(ctx context.Context) error {
					return a.cfg.Runtime.StopContainer(ctx, c.ID, 2*time.Second)
				})
			}
			a.call(ctx, a.cfg.CallTimeout, func(ctx context.Context) error { return a.cfg.Runtime.RemoveContainer(ctx, c.ID) })
		}
		for _, s := range o.Sandboxes {
			a.call(ctx, a.cfg.CallTimeout, func(ctx context.Context) error { return a.cfg.Runtime.StopSandbox(ctx, s.ID) })
		}
	}()
}

// call runs f with a time limit and logs its error.
func (a *Agent) call(ctx context.Context, limit time.Duration, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := f(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("runtime call failed", zap.Error(err))
	}
}

func podKey(ref PodRef) string { return ref.Namespace + "/" + ref.Name }

// start runs a worker for the pod.
func (a *Agent) start(ctx context.Context, rec PodRecord, m *Machine, seq uint64) {
	w := newWorker(ctx, a, rec, m, seq)
	a.mu.Lock()
	a.workers[podKey(rec.Pod)] = w
	a.mu.Unlock()
	if rec.Deletion != nil {
		w.deleteRequested(rec.Deletion)
	}
	a.wg.Add(1)
	go func() { defer a.wg.Done(); w.run(ctx) }()
}

func (a *Agent) worker(ref PodRef) *worker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.workers[podKey(ref)]
}

// runtimeEvents routes the runtime's container exits, unknown states and sandbox losses to their
// pods. When the
// stream breaks (the runtime restarted), a relist after it is back catches the exits it missed;
// the machines drop those they already had as stale.
func (a *Agent) runtimeEvents(ctx context.Context) {
	for broken := false; ctx.Err() == nil; broken = true {
		evs, err := a.cfg.Runtime.Events(ctx)
		if err != nil {
			a.log.Warn("runtime event stream failed", zap.Error(err))
			a.sleep(ctx, a.cfg.RetryPeriod)
			continue
		}
		if broken {
			a.relistExits(ctx)
		}
		for ev := range evs {
			a.route(ev)
		}
		if ctx.Err() == nil {
			a.log.Warn("runtime event stream ended; reconnecting")
			a.sleep(ctx, a.cfg.RetryPeriod)
		}
	}
}

// relistExits reports every exited container the runtime lists, and every one in an unknown
// state.
func (a *Agent) relistExits(ctx context.Context) {
	cs, err := a.cfg.Runtime.ListContainers(ctx)
	if err != nil {
		a.log.Warn("relisting containers failed", zap.Error(err))
		return
	}
	for _, c := range cs {
		switch c.State {
		case ContainerStateExited:
			a.route(RuntimeEvent{Type: RuntimeContainerExited, Container: c})
		case ContainerStateUnknown:
			a.route(RuntimeEvent{Type: RuntimeContainerUnknown, Container: c})
		}
	}
}

func (a *Agent) route(ev RuntimeEvent) {
	switch ev.Type {
	case RuntimeContainerExited:
		if w := a.worker(ev.Container.Pod); w != nil {
			c := ev.Container
			w.push(Event{Type: ContainerExited, ContainerID: c.ID, ExitCode: c.ExitCode, Signal: c.Signal, Reason: c.Reason, Message: c.Message})
		}
	case RuntimeSandboxLost:
		if w := a.worker(ev.Sandbox.Pod); w != nil {
			w.push(Event{Type: SandboxLost, SandboxID: ev.Sandbox.ID})
		}
	case RuntimeContainerUnknown:
		if w := a.worker(ev.Container.Pod); w != nil {
			w.push(Event{Type: ContainerUnknown, ContainerID: ev.Container.ID})
		}
	}
}

// watchPods follows the node's pod records: new pods start, changed specs and deletions go to
// their machines. A lost watch is resumed; a compacted one is answered with a relist.
func (a *Agent) watchPods(ctx context.Context, rev int64) {
	prefix := a.cfg.Keys.Pods(a.cfg.Node)
	for ctx.Err() == nil {
		for resp := range a.cfg.Store.Watch(ctx, prefix, rev+1) {
			if resp.Err != nil {
				if ctx.Err() == nil {
					a.log.Warn("pod watch ended", zap.Int64("revision", rev), zap.Error(resp.Err))
				}
				break
			}
			for _, ev := range resp.Events {
				rev = ev.KV.Revision
				a.podChanged(ctx, ev)
			}
		}
		if ctx.Err() != nil {
			return
		}
		a.sleep(ctx, a.cfg.RetryPeriod)
		if r, err := a.relist(ctx); err == nil {
			rev = r
		}
	}
}

// watchStatuses answers another writer's word on a pod this agent runs (a supervisor that took
// the node for lost while the agent ran on, cut off from the store) by reporting the pod's true
// status again at once, rather than at its next change.
func (a *Agent) watchStatuses(ctx context.Context) {
	prefix := a.cfg.Keys.Statuses(a.cfg.Node)
	for ctx.Err() == nil {
		// From now on (0): after a break, what came meanwhile is superseded by newer writes.
		for resp := range a.cfg.Store.Watch(ctx, prefix, 0) {
			if resp.Err != nil {
				break
			}
			for _, ev := range resp.Events {
				if ev.Type != WatchPut {
					continue
				}
				rec, err := DecodeStatus(ev.KV.Value)
				if err != nil || rec.Writer == "" {
					continue // our own writes; corrupt records are reported where pods are read
				}
				if w := a.worker(rec.Pod); w != nil && !w.isFinished() {
					a.log.Info("another writer reported the pod; reporting its true status", zap.Stringer("pod", rec.Pod), zap.String("writer", rec.Writer))
					w.status.reassert()
				}
			}
		}
		a.sleep(ctx, a.cfg.RetryPeriod)
	}
}

// relist reconciles with the whole list of pod records after a watch was lost.
func (a *Agent) relist(ctx context.Context) (int64, error) {
	kvs, rev, err := a.cfg.Store.List(ctx, a.cfg.Keys.Pods(a.cfg.Node))
	if err != nil {
		a.log.Warn("relisting pods failed", zap.Error(err))
		return 0, err
	}
	seen := map[string]bool{}
	for _, kv := range kvs {
		seen[kv.Key] = true
		a.podChanged(ctx, WatchEvent{Type: WatchPut, KV: kv})
	}
	a.mu.Lock()
	var gone []string
	for k, w := range a.workers {
		if !seen[a.cfg.Keys.Pod(a.cfg.Node, w.ref)] {
			gone = append(gone, k)
		}
	}
	a.mu.Unlock()
	for _, k := range gone {
		a.podChanged(ctx, WatchEvent{Type: WatchDelete, KV: KV{Key: a.cfg.Keys.Pods(a.cfg.Node) + k}})
	}
	return rev, nil
}

func (a *Agent) podChanged(ctx context.Context, ev WatchEvent) {
	if ev.Type == WatchDelete {
		// The key is <pods prefix><namespace>/<name>, which is the workers' map key.
		k := strings.TrimPrefix(ev.KV.Key, a.cfg.Keys.Pods(a.cfg.Node))
		a.mu.Lock()
		w := a.workers[k]
		if w != nil && w.isFinished() {
			delete(a.workers, k) // nothing runs and the record is gone: forget the pod
			w = nil
		}
		a.mu.Unlock()
		if w != nil {
			w.removed()
		}
		return
	}
	rec, err := DecodePod(ev.KV.Value)
	if err != nil {
		a.log.Error("skipping a pod record that does not decode", zap.String("key", ev.KV.Key), zap.Error(err))
		return
	}
	w := a.worker(rec.Pod)
	if w == nil {
		m, err := New(rec.Pod, rec.Spec, a.clock.Now(), a.cfg.Machine)
		if err != nil {
			a.log.Error("skipping a pod that cannot run", zap.String("key", ev.KV.Key), zap.Error(err))
			return
		}
		a.log.Info("pod bound", zap.Stringer("pod", rec.Pod))
		a.start(ctx, rec, m, 0)
		return
	}
	w.recordChanged(rec)
}

func (a *Agent) sleep(ctx context.Context, d time.Duration) {
	t := a.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}
