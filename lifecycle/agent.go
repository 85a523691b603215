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
//
// A pod is its UID (see Keys for the rules): a pod bound under the name of an earlier one starts
// a new life, while the earlier one, if it still runs, is stopped as after a forced deletion and
// never reports again.
type Agent struct {
	cfg   AgentConfig
	log   *zap.Logger
	clock Clock
	pods  string // the prefix of the node's pod records

	mu sync.Mutex
	// byName is the worker of the pod that holds each name (namespace/name): the one the pod
	// records at that key are about.
	byName map[string]*worker
	// workers is every pod the agent has a worker for, by UID: those holding their name, and
	// those still stopping after another pod took it or their record went. A worker leaves once
	// its pod stopped and no record of it is left.
	workers map[PodRef]*worker
	wg      sync.WaitGroup
}

// maxStartBackoff caps the wait between two tries to start (list the store and the runtime),
// as kubelet's informers back off up to 30 s while the API server is away.
const maxStartBackoff = 30 * time.Second

// NewAgent checks cfg and fills in its defaults.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if errs := nodeErrors("Node", cfg.Node); len(errs) > 0 {
		return nil, fmt.Errorf("lifecycle: agent: %w", errs)
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
	return &Agent{cfg: cfg, log: cfg.Logger.With(zap.String("node", cfg.Node)), clock: cfg.Clock, pods: cfg.Keys.Pods(cfg.Node),
		byName: map[string]*worker{}, workers: map[PodRef]*worker{}}, nil
}

// Run recovers the node's pods and runs them until ctx ends, then waits for its goroutines and
// returns nil. Like kubelet waiting for its API server, it starts only once it could list the
// Store and the Runtime: until then it tries again, waiting RetryPeriod, then twice as long each
// time up to 30 s, and logs why ("cannot start yet; will retry"). If ctx ends first, it returns
// an error wrapping ctx's cause and the last failure.
func (a *Agent) Run(ctx context.Context) error {
	rev, err := a.recoverRetrying(ctx)
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

// recoverRetrying recovers, trying again with back-off while the store or the runtime cannot be
// listed.
func (a *Agent) recoverRetrying(ctx context.Context) (int64, error) {
	wait := a.cfg.RetryPeriod
	for {
		rev, err := a.recover(ctx)
		if err == nil {
			return rev, nil
		}
		if ctx.Err() == nil {
			a.log.Warn("cannot start yet; will retry", zap.Error(err), zap.Duration("retryIn", wait))
			a.sleep(ctx, wait)
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("lifecycle: agent: stopped before it could start (%w): %w", context.Cause(ctx), err)
		}
		wait = min(2*wait, max(maxStartBackoff, a.cfg.RetryPeriod))
	}
}

// recover lists the store and the runtime, rebuilds every pod's machine and starts its worker.
// It returns the store revision to watch from. It starts nothing unless every list succeeded.
func (a *Agent) recover(ctx context.Context) (int64, error) {
	pods, rev, err := a.cfg.Store.List(ctx, a.pods)
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
	// What the runtime has, by pod UID: an earlier pod of a name is another pod.
	observed := map[PodRef]*Observed{}
	obs := func(ref PodRef) *Observed {
		if observed[ref] == nil {
			observed[ref] = &Observed{}
		}
		return observed[ref]
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
		rec, ok := a.decodePod(kv)
		if !ok {
			continue
		}
		o := observed[rec.Pod]
		delete(observed, rec.Pod)
		if o == nil {
			o = &Observed{}
		}
		st, had := reported[podKey(rec.Pod)]
		if had && st.Pod.UID != rec.Pod.UID {
			a.log.Info("the status at the pod's name is an earlier pod's; the pod starts afresh",
				zap.Stringer("pod", rec.Pod), zap.String("earlierUID", st.Pod.UID))
			st, had = StatusRecord{}, false
		}
		cp := st.Checkpoint
		if d := rec.Deletion; d != nil && cp.Deleting == nil {
			// Deleted (maybe while no agent ran): the restored machine goes on stopping the pod
			// and starts nothing, rather than starting what the deletion then stops.
			cp.Deleting = &DeletingCheckpoint{GracePeriodSeconds: d.GracePeriodSeconds}
		}
		m, err := Restore(rec.Pod, rec.Spec, st.Status, cp, *o, a.clock.Now(), a.cfg.Machine)
		if err != nil {
			a.log.Error("skipping a pod that cannot run", zap.String("key", kv.Key), zap.Error(err))
			continue
		}
		if had {
			a.log.Info("recovered pod", zap.Stringer("pod", rec.Pod), zap.String("phase", string(m.Status().Phase)),
				zap.Int("containers", len(o.Containers)))
		}
		a.start(ctx, newWorker(ctx, a, rec, kv.Revision, m, st.Seq))
	}
	for ref, o := range observed {
		a.removeOrphan(ctx, ref, *o)
	}
	return rev, nil
}

// decodePod reads a pod record, logging and skipping one that does not decode or lies under the
// key of another pod.
func (a *Agent) decodePod(kv KV) (PodRecord, bool) {
	rec, err := DecodePod(kv.Value)
	if err == nil && !a.isPodKey(kv.Key, rec.Pod) {
		err = fmt.Errorf("lifecycle: the record is of pod %s, not of its key", rec.Pod)
	}
	if err != nil {
		a.log.Error("skipping a pod record that does not decode", zap.String("key", kv.Key), zap.Error(err))
		return PodRecord{}, false
	}
	return rec, true
}

// isPodKey reports whether key is Keys.Pod of ref on this node, without building that key.
func (a *Agent) isPodKey(key string, ref PodRef) bool {
	rest, ok := strings.CutPrefix(key, a.pods)
	ns, name, _ := strings.Cut(rest, "/")
	return ok && ns == ref.Namespace && name == ref.Name
}

// removeOrphan stops and removes what the runtime runs for a pod the store no longer has, an
// earlier pod of a name included, and releases what its setup made.
func (a *Agent) removeOrphan(ctx context.Context, ref PodRef, o Observed) {
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
		if a.cfg.Setup != nil {
			a.call(ctx, a.cfg.CallTimeout, func(ctx context.Context) error { return a.cfg.Setup.Teardown(ctx, ref) })
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

// start registers w as the pod holding its name and runs it.
func (a *Agent) start(ctx context.Context, w *worker) {
	a.mu.Lock()
	a.register(w)
	a.mu.Unlock()
	a.launch(ctx, w)
}

// register makes w the worker of its pod and of its name; a.mu is held.
func (a *Agent) register(w *worker) {
	a.byName[podKey(w.ref)] = w
	a.workers[w.ref] = w
}

// launch hands w its deletion, if the record has one, and starts its goroutine.
func (a *Agent) launch(ctx context.Context, w *worker) {
	if d := w.record().Deletion; d != nil {
		w.deleteRequested(d)
	}
	a.wg.Add(1)
	go func() { defer a.wg.Done(); w.run(ctx) }()
}

// worker is the worker of the pod ref (its UID included), or nil.
func (a *Agent) worker(ref PodRef) *worker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.workers[ref]
}

// runtimeEvents routes the runtime's container exits, unknown states and sandbox losses to their
// pods. A relist after each subscription catches what the stream did not carry: the changes
// between the agent's recovery and its first subscription, and those while a broken stream (the
// runtime restarted) was away; the machines drop those they already had as stale.
func (a *Agent) runtimeEvents(ctx context.Context) {
	for ctx.Err() == nil {
		evs, err := a.cfg.Runtime.Events(ctx)
		if err != nil {
			a.log.Warn("runtime event stream failed", zap.Error(err))
			a.sleep(ctx, a.cfg.RetryPeriod)
			continue
		}
		a.relistExits(ctx)
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
	prefix := a.pods
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
	prefix := a.pods
	kvs, rev, err := a.cfg.Store.List(ctx, prefix)
	if err != nil {
		a.log.Warn("relisting pods failed", zap.Error(err))
		return 0, err
	}
	seen := map[string]bool{}
	for _, kv := range kvs {
		seen[strings.TrimPrefix(kv.Key, prefix)] = true
		a.podChanged(ctx, WatchEvent{Type: WatchPut, KV: kv})
	}
	a.mu.Lock()
	var gone []string
	for name := range a.byName {
		if !seen[name] {
			gone = append(gone, name)
		}
	}
	a.mu.Unlock()
	for _, name := range gone {
		a.podChanged(ctx, WatchEvent{Type: WatchDelete, KV: KV{Key: prefix + name}})
	}
	return rev, nil
}

// podChanged acts on a change of a pod record: a new pod starts; a changed spec or a deletion
// goes to the pod's machine; a record removed, or replaced by another pod's, stops the pod that
// held the name as a forced deletion does.
func (a *Agent) podChanged(ctx context.Context, ev WatchEvent) {
	if ev.Type == WatchDelete {
		// The key is <pods prefix><namespace>/<name>, which is the byName key.
		name := strings.TrimPrefix(ev.KV.Key, a.pods)
		a.mu.Lock()
		w := a.byName[name]
		stopping := w != nil && a.release(w, false)
		a.mu.Unlock()
		if stopping {
			w.removed()
		}
		return
	}
	rec, ok := a.decodePod(ev.KV)
	if !ok {
		return
	}
	a.mu.Lock()
	w := a.byName[podKey(rec.Pod)]
	if w != nil && w.ref == rec.Pod && !w.isGone() {
		a.mu.Unlock()
		w.recordChanged(rec, ev.KV.Revision)
		return
	}
	// Another pod takes the name: the one that held it, whose record is gone or replaced now,
	// is deleted by force and never reports again (marked before the new pod's worker exists).
	stopping := w != nil && w.ref != rec.Pod && a.release(w, true)
	if old := a.workers[rec.Pod]; old != nil {
		// The same UID bound again while its pod still stops after its record went: it starts
		// afresh once stopped, as kubelet restarts a pod whose UID comes back while it terminates.
		a.byName[podKey(rec.Pod)] = old
		old.rebind(rec, ev.KV.Revision)
		a.mu.Unlock()
		if stopping {
			w.removed()
		}
		return
	}
	a.mu.Unlock()
	if stopping {
		a.log.Info("another pod took the name of a pod that still runs; stopping it", zap.Stringer("pod", w.ref), zap.String("newUID", rec.Pod.UID))
		w.removed()
	}
	m, err := New(rec.Pod, rec.Spec, a.clock.Now(), a.cfg.Machine)
	if err != nil {
		a.log.Error("skipping a pod that cannot run", zap.String("key", ev.KV.Key), zap.Error(err))
		return
	}
	a.log.Info("pod bound", zap.Stringer("pod", rec.Pod))
	a.start(ctx, newWorker(ctx, a, rec, ev.KV.Revision, m, 0))
}

// release marks w's record gone (replaced: another pod's took its key) and reports whether w
// still runs and must be stopped; a stopped w leaves the agent. A w that still runs keeps its
// name until it stops or another pod takes it, so that the next pod of the name can mark it
// replaced. a.mu is held.
func (a *Agent) release(w *worker, replaced bool) (stopping bool) {
	wasGone, finished := w.leave(replaced)
	if finished || replaced {
		if a.byName[podKey(w.ref)] == w {
			delete(a.byName, podKey(w.ref))
		}
	}
	if finished {
		delete(a.workers, w.ref)
		return false
	}
	return !wasGone
}

func (a *Agent) sleep(ctx context.Context, d time.Duration) {
	t := a.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}
