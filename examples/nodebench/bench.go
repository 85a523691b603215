package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/podlife/podlife/internal/kubetest"
)

// bench is the control plane the runs share.
type bench struct {
	cfg       config
	s         *kubetest.APIServer
	scheduler *kubetest.Process
	progress  io.Writer
}

// result is one run: one implementation, one size.
type result struct {
	Node  string
	Round int
	Pods  int
	Nodes int
	// NodesReady is from the start of the node process to all its nodes Ready.
	NodesReady time.Duration
	// CreateToRunning is from the first create to every pod Running; CreateToReady to every
	// pod Ready too.
	CreateToRunning time.Duration
	CreateToReady   time.Duration
	// DeleteToGone is from the first delete to every pod gone from the API.
	DeleteToGone time.Duration
	// Create and Delete are what the phases cost: from the first create to all Running, from
	// the first delete to all gone.
	Create, Delete phaseCost
	// PeakRSS is the node process's peak resident memory over its whole life (VmHWM).
	PeakRSS uint64
}

// phaseCost is what one phase of a run cost.
type phaseCost struct {
	// NodeCPU, APIServerCPU and SchedulerCPU are each process's CPU time over the phase.
	NodeCPU, APIServerCPU, SchedulerCPU time.Duration
	// NodeWrites are the node process's writes the server answered, by verb and resource
	// ("patch pods/status"), from the audit log; the window ends a second after the phase, for
	// writes in flight.
	NodeWrites map[string]int
	// ServerWrites are the writes the server answered from every client (the harness, the
	// scheduler, the controller manager, the node process), from apiserver_request_total. The
	// counters lag the answers: a write answered near the end of a phase may count in the next.
	ServerWrites float64
}

// nodeWrites is the number of the node process's writes in the phase.
func (c phaseCost) nodeWrites() int {
	n := 0
	for _, w := range c.NodeWrites {
		n += w
	}
	return n
}

// benchPod is the pod every run creates, the same for every implementation.
func benchPod(name string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: v1.PodSpec{Containers: []v1.Container{{
			Name: "app", Image: "registry.example.com/bench/app:1",
		}}},
	}
}

// runOne runs one size on one implementation.
func (b *bench) runOne(ctx context.Context, node string, round int, sz size) (result, error) {
	impl, err := kubetest.NodeImplByName(node)
	if err != nil {
		return result{}, err
	}
	r := result{Node: node, Round: round + 1, Pods: sz.Pods, Nodes: sz.Nodes}
	group := fmt.Sprintf("%s-r%d-%d", node, round+1, sz.Nodes)
	if pn, ok := impl.(kubetest.PodlifeNode); ok && b.cfg.profiles != "" {
		pn.Args = append(pn.Args, "-cpuprofile="+filepath.Join(b.cfg.profiles, group+".cpu.pprof"))
		impl = pn
	}
	g, err := b.s.StartNodes(ctx, impl, kubetest.NodeOptions{Group: group, Count: sz.Nodes, User: node})
	if err != nil {
		return r, err
	}
	defer g.Delete(context.WithoutCancel(ctx)) //nolint:errcheck // a failed run reports its own error
	r.NodesReady = g.ReadyAfter

	c := b.s.Client()
	ns, err := c.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + group}}, metav1.CreateOptions{})
	if err != nil {
		return r, err
	}
	tr, err := b.track(ctx, ns.Name, sz.Pods)
	if err != nil {
		return r, err
	}
	defer tr.stop()

	names := make([]string, sz.Pods)
	for i := range names {
		names[i] = fmt.Sprintf("pod-%06d", i)
	}
	pods := c.CoreV1().Pods(ns.Name)
	before, err := b.snapshot(ctx, g)
	if err != nil {
		return r, err
	}
	err = b.parallel(ctx, names, func(ctx context.Context, name string) error {
		_, err := pods.Create(ctx, benchPod(name), metav1.CreateOptions{})
		return err
	})
	if err == nil {
		err = b.wait(ctx, g, tr.allRunning, "all Running", tr)
	}
	if err == nil {
		err = b.wait(ctx, g, tr.allReady, "all Ready", tr)
	}
	if err != nil {
		return r, err
	}
	running, err := b.snapshot(ctx, g)
	if err != nil {
		return r, err
	}
	r.CreateToRunning = tr.at(&tr.runningAt).Sub(before.at)
	r.CreateToReady = tr.at(&tr.readyAt).Sub(before.at)

	err = b.parallel(ctx, names, func(ctx context.Context, name string) error {
		return pods.Delete(ctx, name, metav1.DeleteOptions{})
	})
	if err == nil {
		err = b.wait(ctx, g, tr.allGone, "all gone", tr)
	}
	if err != nil {
		return r, err
	}
	gone, err := b.snapshot(ctx, g)
	if err != nil {
		return r, err
	}
	r.DeleteToGone = tr.at(&tr.goneAt).Sub(running.at)
	r.PeakRSS = gone.node.PeakRSS

	time.Sleep(time.Second) // the audit log's window for the last writes
	writes, err := b.s.AuditWrites()
	if err != nil {
		return r, err
	}
	// The server's request counters lag the audit log's answers by up to a second under load
	// (seen: 163 event writes counted when all were gone, 200 of the node's in the audit log
	// answered by then, 252 with the scheduler's a second later): the deletion's count ends with
	// the audit window.
	if gone.requests, err = b.s.RequestCounts(ctx); err != nil {
		return r, err
	}
	r.Create = cost(before, running, writes, node, running.at)
	r.Delete = cost(running, gone, writes, node, gone.at.Add(time.Second))
	return r, nil
}

// snapshot is what the processes and the server had used at one instant.
type snapshot struct {
	at                   time.Time
	node, api, scheduler kubetest.Usage
	requests             map[kubetest.Request]float64
}

func (b *bench) snapshot(ctx context.Context, g *kubetest.NodeGroup) (snapshot, error) {
	var s snapshot
	var errs [4]error
	s.requests, errs[0] = b.s.RequestCounts(ctx)
	s.at = time.Now()
	s.node, errs[1] = g.Usage()
	s.api, errs[2] = b.s.Usage()
	s.scheduler, errs[3] = b.scheduler.Usage()
	return s, errors.Join(errs[:]...)
}

// cost is what happened between two snapshots; the node's writes are those received in
// [from.at, writesUntil).
func cost(from, to snapshot, writes []kubetest.Write, user string, writesUntil time.Time) phaseCost {
	c := phaseCost{
		NodeCPU:      to.node.CPU - from.node.CPU,
		APIServerCPU: to.api.CPU - from.api.CPU,
		SchedulerCPU: to.scheduler.CPU - from.scheduler.CPU,
		NodeWrites:   map[string]int{},
	}
	for _, w := range writes {
		if w.User == user && !w.Received.Before(from.at) && w.Received.Before(writesUntil) {
			c.NodeWrites[w.What()]++
		}
	}
	for req, n := range to.requests {
		if req.IsWrite() {
			c.ServerWrites += n - from.requests[req]
		}
	}
	return c
}

// parallel calls f for every name on cfg.workers goroutines and returns the first error.
func (b *bench) parallel(ctx context.Context, names []string, f func(context.Context, string) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var wg sync.WaitGroup
	for range b.cfg.workers {
		wg.Go(func() {
			for name := range work {
				if err := f(ctx, name); err != nil {
					cancel(fmt.Errorf("%s: %w", name, err))
				}
			}
		})
	}
	for _, name := range names {
		select {
		case work <- name:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// wait waits for done, failing when the node process exits or the phase's timeout passes.
func (b *bench) wait(ctx context.Context, g *kubetest.NodeGroup, done <-chan struct{}, what string, tr *tracker) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-g.Done():
		return fmt.Errorf("the node process exited before %s; log %s ends:\n%s", what, g.LogPath, g.LogTail(20))
	case err := <-tr.failed:
		return err
	case <-time.After(b.cfg.timeout):
		return fmt.Errorf("not %s within %s: %s", what, b.cfg.timeout, tr.state())
	}
}

// tracker follows the pods of a namespace through a watch and notes when all of them are
// Running, Ready and gone.
type tracker struct {
	want int
	w    watch.Interface

	mu                            sync.Mutex
	running, ready                map[string]bool
	created, gone                 int
	runningAt, readyAt, goneAt    time.Time
	allRunning, allReady, allGone chan struct{}
	failed                        chan error
}

func (b *bench) track(ctx context.Context, ns string, want int) (*tracker, error) {
	pods := b.s.Client().CoreV1().Pods(ns)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return pods.Watch(ctx, o)
		},
	})
	if err != nil {
		return nil, err
	}
	t := &tracker{want: want, w: w, running: map[string]bool{}, ready: map[string]bool{},
		allRunning: make(chan struct{}), allReady: make(chan struct{}), allGone: make(chan struct{}), failed: make(chan error, 1)}
	go t.follow()
	return t, nil
}

func (t *tracker) stop() { t.w.Stop() }

func (t *tracker) follow() {
	for ev := range t.w.ResultChan() {
		p, ok := ev.Object.(*v1.Pod)
		if !ok {
			t.failed <- fmt.Errorf("pods watch: %s %T %v", ev.Type, ev.Object, ev.Object)
			return
		}
		now := time.Now()
		t.mu.Lock()
		switch ev.Type {
		case watch.Added:
			t.created++
			t.note(p, now)
		case watch.Modified:
			t.note(p, now)
		case watch.Deleted:
			t.gone++
			if t.gone == t.want {
				t.goneAt = now
				close(t.allGone)
			}
		}
		t.mu.Unlock()
	}
}

// note counts a pod Running and Ready the first time it is seen so.
func (t *tracker) note(p *v1.Pod, now time.Time) {
	if p.Status.Phase == v1.PodRunning && !t.running[p.Name] {
		t.running[p.Name] = true
		if len(t.running) == t.want {
			t.runningAt = now
			close(t.allRunning)
		}
	}
	if !t.ready[p.Name] && podReady(p) {
		t.ready[p.Name] = true
		if len(t.ready) == t.want {
			t.readyAt = now
			close(t.allReady)
		}
	}
}

func (t *tracker) at(tm *time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return *tm
}

func (t *tracker) state() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strconv.Itoa(t.created) + " created, " + strconv.Itoa(len(t.running)) + " Running, " +
		strconv.Itoa(len(t.ready)) + " Ready, " + strconv.Itoa(t.gone) + " gone, of " + strconv.Itoa(t.want)
}

func podReady(p *v1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}
