package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// Strategy bounds a rolling update, as a Deployment's spec.strategy.rollingUpdate with absolute
// numbers: during the update at most Replicas+MaxSurge pods exist (terminating ones included,
// which is stricter than Kubernetes), and at least Replicas-MaxUnavailable are available (Ready
// and not being deleted).
type Strategy struct {
	Replicas       int
	MaxSurge       int
	MaxUnavailable int
}

// Validate refuses a strategy that cannot make progress, with the field at fault.
func (s Strategy) Validate() error {
	switch {
	case s.Replicas < 1:
		return fmt.Errorf("replicas %d: want at least 1", s.Replicas)
	case s.MaxSurge < 0 || s.MaxUnavailable < 0:
		return fmt.Errorf("maxSurge %d, maxUnavailable %d: want 0 or more", s.MaxSurge, s.MaxUnavailable)
	case s.MaxSurge == 0 && s.MaxUnavailable == 0:
		return errors.New("maxSurge and maxUnavailable are both 0: the update could never start")
	case s.MaxUnavailable > s.Replicas:
		return fmt.Errorf("maxUnavailable %d is more than the %d replicas", s.MaxUnavailable, s.Replicas)
	}
	return nil
}

// Controller rolls one set of pods on one node from revision to revision, through the Store
// the node's Agent runs from: it binds and deletes pods with a lifecycle.Client and reads their
// statuses as the agent reports them. It reconciles whenever something under the node's keys
// changes, so it never polls.
type Controller struct {
	Client   lifecycle.Client
	Node     string
	Name     string // the pods are <Name>-<revision>-<n> in Namespace
	Strategy Strategy
	// Clock gives the times of the timeline; nil means lifecycle.RealClock.
	Clock lifecycle.Clock
	// OnEvent, when set, sees every step of the rollout and every change it observed.
	OnEvent func(Event)

	next map[string]int // the number of the next pod, by revision
	seen map[string]observed
}

// Namespace is where the controller's pods live.
const Namespace = "default"

// Event is one line of the timeline: what happened and the counts right after.
type Event struct {
	At        time.Time
	Available int // Ready pods not being deleted
	Pods      int // pods bound whose records are still there (terminating ones included)
	Old, New  int // of Pods, those of another revision and of the one being rolled out
	What      string
}

// observed is one pod as the controller last saw it.
type observed struct {
	ref      lifecycle.PodRef
	revision string
	deleting bool
	ready    bool
	phase    phase.Phase
}

// Rollout brings the pods to revision with spec and returns once Replicas pods of it are
// available and no pod of another revision is left. It starts from whatever the store holds:
// on an empty node it is the first deployment.
func (c *Controller) Rollout(ctx context.Context, revision string, spec podlife.PodSpec) error {
	if err := c.Strategy.Validate(); err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	if c.Clock == nil {
		c.Clock = lifecycle.RealClock{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := c.Client.Keys.Node(c.Node)
	_, rev, err := c.Client.Store.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	changes := c.Client.Store.Watch(ctx, prefix, rev+1)
	for {
		done, err := c.reconcile(ctx, revision, spec)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rollout: %w", ctx.Err())
		case resp, ok := <-changes:
			switch {
			case resp.Err != nil:
				return fmt.Errorf("rollout: watching %s: %w", prefix, resp.Err)
			case !ok && ctx.Err() != nil:
				return fmt.Errorf("rollout: %w", ctx.Err())
			case !ok:
				return fmt.Errorf("rollout: watching %s: the watch ended", prefix)
			}
		}
	}
}

// reconcile looks at every pod and takes every step the strategy allows now.
func (c *Controller) reconcile(ctx context.Context, revision string, spec podlife.PodSpec) (bool, error) {
	pods, err := c.observe(ctx, revision)
	if err != nil {
		return false, err
	}
	s := c.Strategy
	count := func() (available, total, old, cur, curAvailable int) {
		for _, p := range pods {
			total++
			if p.revision == revision {
				cur++
			} else {
				old++
			}
			if p.ready && !p.deleting {
				available++
				if p.revision == revision {
					curAvailable++
				}
			}
		}
		return
	}
	available, total, old, cur, curAvailable := count()
	if old == 0 && curAvailable >= s.Replicas && total == s.Replicas {
		c.emit(pods, revision, fmt.Sprintf("rollout to %s done", revision))
		return true, nil
	}
	// Surge: new pods while the pod count allows, up to the replicas of the new revision.
	for total < s.Replicas+s.MaxSurge && cur < s.Replicas {
		if c.next == nil {
			c.next = map[string]int{}
		}
		ref := lifecycle.PodRef{Namespace: Namespace, Name: c.Name + "-" + revision + "-" + strconv.Itoa(c.next[revision])}
		c.next[revision]++
		ref, err := c.Client.Bind(ctx, c.Node, ref, spec)
		if err != nil {
			return false, fmt.Errorf("rollout: binding %s: %w", ref.Name, err)
		}
		pods = append(pods, observed{ref: ref, revision: revision})
		total++
		cur++
		c.emit(pods, revision, "bound "+ref.Name)
	}
	// Scale down the old revision: pods that are not available first (it costs nothing), then
	// available ones while availability stays at Replicas-MaxUnavailable or more.
	order := slices.Clone(pods)
	slices.SortStableFunc(order, func(a, b observed) int {
		return boolInt(a.ready) - boolInt(b.ready)
	})
	for _, p := range order {
		if p.revision == revision || p.deleting {
			continue
		}
		if p.ready && available-1 < s.Replicas-s.MaxUnavailable {
			continue
		}
		if err := c.Client.Delete(ctx, c.Node, p.ref, nil, c.Clock.Now()); err != nil && !errors.Is(err, lifecycle.ErrKeyNotFound) {
			return false, fmt.Errorf("rollout: deleting %s: %w", p.ref.Name, err)
		}
		for i := range pods {
			if pods[i].ref == p.ref {
				pods[i].deleting = true
			}
		}
		if p.ready {
			available--
		}
		c.emit(pods, revision, "deleting "+p.ref.Name)
	}
	return false, nil
}

// observe reads the controller's pods and their statuses, and reports what changed since the
// last look.
func (c *Controller) observe(ctx context.Context, revision string) ([]observed, error) {
	kvs, _, err := c.Client.Store.List(ctx, c.Client.Keys.Pods(c.Node))
	if err != nil {
		return nil, fmt.Errorf("rollout: listing pods: %w", err)
	}
	var pods []observed
	for _, kv := range kvs {
		rec, err := lifecycle.DecodePod(kv.Value)
		if err != nil || rec.Pod.Namespace != Namespace || !strings.HasPrefix(rec.Pod.Name, c.Name+"-") {
			continue // not ours
		}
		p := observed{ref: rec.Pod, revision: revisionOf(rec.Pod.Name), deleting: rec.Deletion != nil}
		st, err := c.Client.Status(ctx, c.Node, rec.Pod)
		switch {
		case errors.Is(err, lifecycle.ErrKeyNotFound): // not reported yet
		case err != nil:
			return nil, fmt.Errorf("rollout: reading the status of %s: %w", rec.Pod.Name, err)
		default:
			p.ready = phase.IsConditionTrue(st.Status.Conditions, phase.PodReady)
			p.phase = st.Status.Phase
		}
		pods = append(pods, p)
	}
	if c.seen == nil {
		c.seen = map[string]observed{}
	}
	now := map[string]bool{}
	for _, p := range pods {
		now[p.ref.Name] = true
		before, known := c.seen[p.ref.Name]
		c.seen[p.ref.Name] = p
		switch {
		case p.ready && (!known || !before.ready):
			c.emit(pods, revision, p.ref.Name+" Ready")
		case !p.ready && known && before.ready:
			c.emit(pods, revision, p.ref.Name+" not Ready")
		}
	}
	var gone []string
	for name, p := range c.seen {
		if now[name] {
			continue
		}
		// The agent removes a deleted pod's record once it stopped; its last status stays.
		ph := p.phase
		if st, err := c.Client.Status(ctx, c.Node, p.ref); err == nil {
			ph = st.Status.Phase
		}
		gone = append(gone, name+" gone ("+string(ph)+")")
		delete(c.seen, name)
	}
	slices.Sort(gone)
	for _, g := range gone {
		c.emit(pods, revision, g)
	}
	return pods, nil
}

func (c *Controller) emit(pods []observed, revision, what string) {
	if c.OnEvent == nil {
		return
	}
	ev := Event{At: c.Clock.Now(), What: what}
	for _, p := range pods {
		ev.Pods++
		if p.revision == revision {
			ev.New++
		} else {
			ev.Old++
		}
		if p.ready && !p.deleting {
			ev.Available++
		}
	}
	c.OnEvent(ev)
}

// revisionOf is the revision in a pod name <name>-<revision>-<n>.
func revisionOf(name string) string {
	j := strings.LastIndexByte(name, '-')
	i := strings.LastIndexByte(name[:max(j, 0)], '-')
	if i < 0 || j < 0 {
		return ""
	}
	return name[i+1 : j]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
