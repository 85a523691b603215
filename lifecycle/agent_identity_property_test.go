package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// identityOp is one client's request at a virtual time.
type identityOp struct {
	at    time.Duration
	kind  string // bind, delete, force, forceStore, update, replace
	name  string
	byUID bool   // the ref carries the UID this client last bound at the name
	grace *int64 // delete's grace; nil: the spec's
	// bind's spec
	container string
	policy    podlife.RestartPolicy
	podGrace  int64
}

type identityScenario struct {
	clients    [][]identityOp
	restarts   [][2]time.Duration // agent stopped at [0], a new one started at [1]
	ignoreTerm bool
}

func genIdentityScenario(t *rapid.T) identityScenario {
	var s identityScenario
	s.ignoreTerm = rapid.Bool().Draw(t, "ignoreTerm")
	names := []string{"a", "b", "c"}[:rapid.IntRange(1, 3).Draw(t, "names")]
	for c := range rapid.IntRange(1, 3).Draw(t, "clients") {
		var ops []identityOp
		at := time.Duration(0)
		for i := range rapid.IntRange(1, 8).Draw(t, fmt.Sprintf("c%d/ops", c)) {
			l := fmt.Sprintf("c%d/%d/", c, i)
			at += time.Duration(rapid.IntRange(0, 15).Draw(t, l+"after")) * time.Second
			op := identityOp{at: at, name: rapid.SampledFrom(names).Draw(t, l+"name"),
				kind:  rapid.SampledFrom([]string{"bind", "bind", "delete", "force", "forceStore", "update", "replace"}).Draw(t, l+"kind"),
				byUID: rapid.Bool().Draw(t, l+"byUID")}
			switch op.kind {
			case "bind", "replace":
				op.container = rapid.SampledFrom([]string{"app", "job", "crash"}).Draw(t, l+"container")
				op.policy = rapid.SampledFrom([]podlife.RestartPolicy{podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, l+"policy")
				op.podGrace = int64(rapid.SampledFrom([]int{0, 1, 3, 10}).Draw(t, l+"podGrace"))
			case "delete":
				if rapid.Bool().Draw(t, l+"withGrace") {
					op.grace = ptr(int64(rapid.SampledFrom([]int{1, 2, 5, 30}).Draw(t, l+"grace")))
				}
			}
			ops = append(ops, op)
		}
		s.clients = append(s.clients, ops)
	}
	at := time.Duration(0)
	for i := range rapid.IntRange(0, 2).Draw(t, "restarts") {
		at += time.Duration(rapid.IntRange(1, 40).Draw(t, fmt.Sprintf("r%d/at", i))) * time.Second
		away := time.Duration(rapid.IntRange(0, 10).Draw(t, fmt.Sprintf("r%d/away", i))) * time.Second
		s.restarts = append(s.restarts, [2]time.Duration{at, at + away})
		at += away
	}
	return s
}

// recordingStore is the agent's view of the store: it notes every Delete the agent makes.
type recordingStore struct {
	lifecycle.Store
	mu      sync.Mutex
	deletes []agentDelete
}

type agentDelete struct {
	key string
	rev int64
	err error
}

func (s *recordingStore) Delete(ctx context.Context, key string, prev int64) error {
	err := s.Store.Delete(ctx, key, prev)
	s.mu.Lock()
	s.deletes = append(s.deletes, agentDelete{key, prev, err})
	s.mu.Unlock()
	return err
}

// playIdentity runs the clients concurrently against agents on one memstore and one simulated
// runtime, in a synctest bubble, lets everything settle and returns the problems found.
func playIdentity(t *testing.T, s identityScenario) (problems []string) {
	synctest.Test(t, func(t *testing.T) {
		world := simruntime.NewWorld(simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
			"app":   {Runs: []simruntime.Run{{IgnoreTerm: s.ignoreTerm}}},
			"job":   {Runs: []simruntime.Run{{For: 3 * time.Second}}},
			"crash": {Runs: []simruntime.Run{{For: 2 * time.Second, ExitCode: 1}}},
		}})
		sim := simruntime.NewRuntime(world, lifecycle.RealClock{})
		store := memstore.New()
		agentStore := &recordingStore{Store: store}
		client := lifecycle.Client{Store: store}
		keys := lifecycle.Keys{}
		start := time.Now()
		found := newFindings()
		problem := found.add
		rt := &startCounter{Runtime: sim, found: found}
		var allLogs []*observer.ObservedLogs // every agent's, for a problem's story
		defer func() {
			problems = found.all()
			if len(problems) > 0 && strings.Contains(problems[0], "started twice") {
				for i, l := range allLogs {
					for _, e := range l.All() {
						problems = append(problems, fmt.Sprintf("agent %d %s %s %v", i, e.Time.Sub(start), e.Message, e.ContextMap()))
					}
				}
			}
		}()

		// Everything written under the node, in order.
		wctx, cancelWatch := context.WithCancel(t.Context())
		var history []lifecycle.WatchEvent
		var watched sync.WaitGroup
		watched.Go(func() {
			for resp := range store.Watch(wctx, keys.Node(node), 1) {
				history = append(history, resp.Events...)
			}
		})

		var ag *lifecycle.Agent
		var logs *observer.ObservedLogs
		runAgent := func() func() {
			var err error
			var core zapcore.Core
			core, logs = observer.New(zap.DebugLevel)
			allLogs = append(allLogs, logs)
			ag, err = lifecycle.NewAgent(lifecycle.AgentConfig{Node: node, Runtime: rt, Store: agentStore, Setup: sim, Logger: zap.New(core)})
			if err != nil {
				problem("NewAgent: %v", err)
				return func() {}
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := ag.Run(ctx); err != nil {
					problem("Run: %v", err)
				}
			}()
			return func() { cancel(); <-done }
		}

		var clients sync.WaitGroup
		for c, ops := range s.clients {
			clients.Go(func() {
				bound := map[string]string{} // the UID this client last bound at each name
				n := 0
				bind := func(op identityOp) {
					n++
					uid := fmt.Sprintf("u%d-%d", c, n)
					spec := podlife.PodSpec{RestartPolicy: op.policy, TerminationGracePeriodSeconds: ptr(op.podGrace),
						Containers: []podlife.Container{{Name: op.container, Image: "busybox:1"}}}
					if _, err := client.Bind(t.Context(), node, lifecycle.PodRef{Namespace: "default", Name: op.name, UID: uid}, spec); err == nil {
						bound[op.name] = uid
					} else if !errors.Is(err, lifecycle.ErrConflict) {
						problem("bind %s: %v", uid, err)
					}
				}
				for _, op := range ops {
					time.Sleep(time.Until(start.Add(op.at)))
					ref := lifecycle.PodRef{Namespace: "default", Name: op.name}
					if op.byUID {
						ref.UID = bound[op.name]
					}
					var err error
					switch op.kind {
					case "bind":
						bind(op)
					case "delete":
						err = client.Delete(t.Context(), node, ref, op.grace, time.Now())
					case "force":
						err = client.Delete(t.Context(), node, ref, ptr(int64(0)), time.Now())
					case "forceStore": // the record removed straight from the store
						err = store.Delete(t.Context(), keys.Pod(node, ref), lifecycle.AnyRevision)
					case "update":
						// The spec read is that pod's: another client may replace the pod of the name
						// meanwhile, whose spec this one may not become (ValidateUpdate), so the
						// update names the UID read, as an API client's precondition would.
						var rec lifecycle.PodRecord
						if rec, _, err = client.Pod(t.Context(), node, ref); err == nil {
							rec.Spec.Containers[0].Image = fmt.Sprintf("busybox:%d", op.at/time.Second)
							err = client.UpdateSpec(t.Context(), node, rec.Pod, rec.Spec)
						}
					case "replace": // a forced deletion and, at once, a new pod of the name
						if err = client.Delete(t.Context(), node, ref, ptr(int64(0)), time.Now()); err == nil {
							bind(op)
						}
					}
					if err != nil && !errors.Is(err, lifecycle.ErrKeyNotFound) {
						problem("%s %s: %v", op.kind, ref, err)
					}
				}
			})
		}

		stop := runAgent()
		for _, r := range s.restarts {
			time.Sleep(time.Until(start.Add(r[0])))
			stop()
			time.Sleep(time.Until(start.Add(r[1])))
			stop = runAgent()
		}
		clients.Wait()
		time.Sleep(60 * time.Second) // every stop ends: grace at most 30 s, then the 2 s floor
		synctest.Wait()

		// logOf is what the last agent logged about a pod.
		logOf := func(ref lifecycle.PodRef) string {
			var said []string
			for _, e := range logs.All() {
				if e.ContextMap()["pod"] == ref.String() {
					said = append(said, fmt.Sprintf("%s %s %v", e.Time.Sub(start), e.Message, e.ContextMap()))
				}
			}
			return strings.Join(said, "\n")
		}

		// What is left: records, statuses, workers, the runtime.
		kvs, _, err := store.List(t.Context(), keys.Pods(node))
		if err != nil {
			problem("listing pods: %v", err)
		}
		current := map[lifecycle.PodRef]bool{}
		for _, kv := range kvs {
			rec, err := lifecycle.DecodePod(kv.Value)
			if err != nil {
				problem("pod record %s: %v", kv.Key, err)
				continue
			}
			current[rec.Pod] = true
			if rec.Deletion != nil {
				problem("%s: deleted 60 s ago and still there; its log:\n%s", rec.Pod, logOf(rec.Pod))
			}
			if _, err := client.Status(t.Context(), node, rec.Pod); err != nil {
				problem("%s: no status of its own: %v", rec.Pod, err)
			}
		}
		workers := lifecycle.AgentWorkers(ag)
		for _, w := range workers {
			if !current[w] {
				problem("worker of %s left behind; its log:\n%s", w, logOf(w))
			}
		}
		for ref := range current {
			if !slices.Contains(workers, ref) {
				problem("%s has no worker", ref)
			}
		}
		sim.With(func(w *simruntime.World) {
			for _, c := range w.Containers() {
				if !current[c.Pod] && c.State != lifecycle.ContainerStateExited {
					problem("container %s of %s, which has no record, is %s", c.ID, c.Pod, c.State)
				}
			}
			for _, sb := range w.Sandboxes() {
				if !current[sb.Pod] && sb.Ready {
					problem("sandbox %s of %s, which has no record, is ready", sb.ID, sb.Pod)
				}
			}
		})
		stop()
		cancelWatch()
		watched.Wait()

		// The history: the order in which UIDs took each name, the records the agent removed,
		// and every status written.
		gen := map[string]int{}                  // uid → its place among the pods of its name
		names := map[string]int{}                // name → pods bound so far
		byRev := map[int64]lifecycle.PodRecord{} // revision → the pod record written then
		statusGen := map[string]int{}            // name → the highest place that reported
		seq := map[string]uint64{}               // uid → its last Seq
		terminal := map[string]string{}          // uid → the terminal phase it reported
		for _, ev := range history {
			key := ev.KV.Key
			switch {
			case strings.HasPrefix(key, keys.Pods(node)) && ev.Type == lifecycle.WatchPut:
				rec, err := lifecycle.DecodePod(ev.KV.Value)
				if err != nil {
					continue
				}
				if _, ok := gen[rec.Pod.UID]; !ok {
					names[rec.Pod.Name]++
					gen[rec.Pod.UID] = names[rec.Pod.Name]
				}
				byRev[ev.KV.Revision] = rec
			case strings.HasPrefix(key, keys.Statuses(node)) && ev.Type == lifecycle.WatchPut:
				rec, err := lifecycle.DecodeStatus(ev.KV.Value)
				if err != nil {
					problem("status %s: %v", key, err)
					continue
				}
				uid, name := rec.Pod.UID, rec.Pod.Name
				g, ok := gen[uid]
				switch {
				case !ok:
					problem("status of %s, never bound", rec.Pod)
				case g < statusGen[name]:
					problem("status of %s (pod %d of its name) written after pod %d's", rec.Pod, g, statusGen[name])
				}
				statusGen[name] = max(statusGen[name], g)
				if rec.Seq <= seq[uid] {
					problem("%s: status seq %d after %d", rec.Pod, rec.Seq, seq[uid])
				}
				seq[uid] = rec.Seq
				if was := terminal[uid]; was != "" && string(rec.Status.Phase) != was {
					problem("%s left %s for %s", rec.Pod, was, rec.Status.Phase)
				}
				if rec.Status.Phase.IsTerminal() {
					terminal[uid] = string(rec.Status.Phase)
				}
			}
		}
		for _, d := range agentStore.deletes {
			if d.rev <= 0 {
				problem("the agent deleted %s at revision %d", d.key, d.rev)
				continue
			}
			rec, ok := byRev[d.rev]
			switch {
			case !ok:
				problem("the agent deleted %s at revision %d, which is no pod record", d.key, d.rev)
			case rec.Deletion == nil:
				problem("the agent deleted %s, revision %d, which nobody asked to delete", d.key, d.rev)
			}
		}
	})
	return problems
}

// Concurrent clients bind, delete (gracefully and by force, through the Client and straight in
// the store), update and bind again under the same names with new UIDs, while the agent is
// restarted now and then: every pod's status is its own and a pod's status never follows a later
// pod's of the name, the agent removes only records a client asked to delete (compare-and-swap
// on a revision that had the deletion), every deletion completes, no container starts twice, and
// once everything settled no worker, container or sandbox of a pod without a record is left.
func TestAgentPodIdentity(t *testing.T) {
	checkPlays(t, genIdentityScenario, playIdentity)
}

// checkPlays plays generated scenarios and fails with the problems of one that has some.
func checkPlays[S any](t *testing.T, gen func(*rapid.T) S, play func(*testing.T, S) []string) {
	rapid.Check(t, func(rt *rapid.T) {
		if problems := play(t, gen(rt)); len(problems) > 0 {
			rt.Fatalf("%d problems, first: %s\nall:\n%s", len(problems), problems[0], strings.Join(problems, "\n"))
		}
	})
}

// findings collects what a played scenario shows wrong, each with its virtual time (in a
// synctest bubble, the time since the bubble started).
type findings struct {
	start  time.Time
	mu     sync.Mutex
	list   []string
	starts map[string]int
}

func newFindings() *findings { return &findings{start: time.Now(), starts: map[string]int{}} }

func (f *findings) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, fmt.Sprintf("%s: ", time.Since(f.start))+fmt.Sprintf(format, args...))
}

// startCounter is the agent's runtime: it finds a container the runtime is asked to start
// twice. It counts the calls that reach the runtime, not the StartContainer actions a machine
// issues: an agent stopped between issuing one and making the call never made it, and the next
// agent rightly starts the container it finds created.
type startCounter struct {
	*simruntime.Runtime
	found *findings
}

func (r *startCounter) StartContainer(ctx context.Context, id string) error {
	f := r.found
	f.mu.Lock()
	f.starts[id]++
	twice := f.starts[id] > 1
	f.mu.Unlock()
	state := "unknown to the runtime"
	r.With(func(w *simruntime.World) {
		if c, ok := w.Container(id); ok {
			state = c.State.String()
		}
	})
	err := r.Runtime.StartContainer(ctx, id)
	if twice {
		f.add("%s started twice (it was %s; the runtime answered %v)", id, state, err)
	}
	return err
}

func (f *findings) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list
}
