package etcdstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/phase"
)

// The agent on etcd, end to end, with the simulated runtime on the real clock and short
// durations: etcd's goroutines cannot live in a testing/synctest bubble.

const node = "node-1"

// agentRig is an agent for node on a store, over a simulated runtime that outlives agents, as
// containers outlive kubelet.
type agentRig struct {
	t      *testing.T
	store  *etcdstore.Store
	keys   lifecycle.Keys
	client lifecycle.Client
	rt     *simruntime.Runtime

	mu     sync.Mutex
	starts map[string]int // StartContainer actions by pod name
}

func newAgentRig(t *testing.T, s *etcdstore.Store, opts simruntime.WorldOptions) *agentRig {
	return &agentRig{t: t, store: s, client: lifecycle.Client{Store: s},
		rt: simruntime.NewRuntime(simruntime.NewWorld(opts), lifecycle.RealClock{}), starts: map[string]int{}}
}

// run starts an agent, holding the node's lease when ttl > 0; the returned func stops both and
// waits for the agent. Its logs go to logs.
func (r *agentRig) run(ttl time.Duration) (stop func(), logs *observer.ObservedLogs) {
	r.t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	if ttl > 0 {
		_, err := etcdstore.HoldLease(ctx, r.store.Client(), r.keys, node, etcdstore.LeaseOptions{TTL: ttl, RetryPeriod: 100 * time.Millisecond})
		require.NoError(r.t, err)
	}
	ag, err := lifecycle.NewAgent(lifecycle.AgentConfig{
		Node: node, Runtime: r.rt, Store: r.store, Setup: r.rt, Logger: zap.New(core), Keys: r.keys,
		RetryPeriod: 100 * time.Millisecond,
		Observe: func(ref lifecycle.PodRef, _ time.Time, rd lifecycle.Ready) {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, a := range rd.Actions {
				if a.Type == lifecycle.StartContainer {
					r.starts[ref.Name]++
				}
			}
		},
	})
	require.NoError(r.t, err)
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(r.t, err)
			case <-time.After(10 * time.Second):
				assert.Fail(r.t, "agent did not stop")
			}
		})
	}
	r.t.Cleanup(stop)
	return stop, logs
}

func (r *agentRig) startsOf(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.starts[name]
}

// status reads a pod's status record; ok is false while there is none that decodes.
func (r *agentRig) status(name string) (lifecycle.StatusRecord, bool) {
	st, err := r.client.Status(context.Background(), node, lifecycle.PodRef{Namespace: "default", Name: name})
	return st, err == nil
}

func (r *agentRig) waitStatus(name string, d time.Duration, what string, ok func(lifecycle.StatusRecord) bool) lifecycle.StatusRecord {
	r.t.Helper()
	var last lifecycle.StatusRecord
	eventually(r.t, d, func() bool {
		st, found := r.status(name)
		last = st
		return found && ok(st)
	}, "%s: %s; last status: %+v", name, what, last.Status)
	return last
}

func (r *agentRig) bind(name string, spec podlife.PodSpec) {
	r.t.Helper()
	_, err := r.client.Bind(r.t.Context(), node, lifecycle.PodRef{Namespace: "default", Name: name, UID: "uid-" + name}, spec)
	require.NoError(r.t, err)
}

func appSpec() podlife.PodSpec {
	return podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "busybox:1.36"}}}
}

func running(st lifecycle.StatusRecord) bool {
	return st.Status.Phase == phase.Running && len(st.Status.ContainerStatuses) == 1 &&
		st.Status.ContainerStatuses[0].State.Running != nil
}

// TestAgentOnEtcdSkipsForeignRecordsAndOutlivesAnOutage: the agent runs pods from etcd; values
// under its prefix that do not decode are logged with their key and skipped, before and after it
// starts, without ending its watch; while etcd is down its pods go on (a container exits and
// restarts), and once etcd is back the latest status is flushed, the sequence never going back.
func TestAgentOnEtcdSkipsForeignRecordsAndOutlivesAnOutage(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{RequestTimeout: 500 * time.Millisecond})
	ctx := background(t)
	r := newAgentRig(t, s, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
		"app": {Runs: []simruntime.Run{{For: 1500 * time.Millisecond, ExitCode: 2}, {}}},
	}})
	keys := lifecycle.Keys{}
	foreignPod := keys.Pod(node, lifecycle.PodRef{Namespace: "default", Name: "foreign"})
	corruptPod := keys.Pod(node, lifecycle.PodRef{Namespace: "default", Name: "corrupt"})
	corruptStatus := keys.Status(node, lifecycle.PodRef{Namespace: "default", Name: "web"})
	_, err := s.Put(ctx, foreignPod, []byte(`{"apiVersion":"other/v9","pod":{"namespace":"default","name":"foreign"}}`), 0)
	require.NoError(t, err)
	_, err = s.Put(ctx, corruptStatus, []byte("\x00\x01 not json"), 0)
	require.NoError(t, err)

	_, logs := r.run(0)
	_, err = s.Put(ctx, corruptPod, []byte(`{"apiVersion":`), 0) // through the watch
	require.NoError(t, err)
	r.bind("web", appSpec())
	first := r.waitStatus("web", 10*time.Second, "running", running)
	assert.Zero(t, first.Status.ContainerStatuses[0].RestartCount)

	eventually(t, 5*time.Second, func() bool {
		return len(logs.FilterMessage("skipping a pod record that does not decode").All()) == 2
	}, "both bad pod records reported")
	var skipped []string
	for _, e := range logs.FilterMessage("skipping a pod record that does not decode").All() {
		skipped = append(skipped, e.ContextMap()["key"].(string))
	}
	assert.ElementsMatch(t, []string{foreignPod, corruptPod}, skipped, "reported with their keys")
	bad := logs.FilterMessage("skipping a status record that does not decode").All()
	require.Len(t, bad, 1)
	assert.Equal(t, corruptStatus, bad[0].ContextMap()["key"])

	// etcd goes away; the container exits at 1.5 s and is restarted meanwhile.
	_, beforeRev, err := s.List(ctx, keys.Statuses(node))
	require.NoError(t, err)
	c.stop(0)
	eventually(t, 10*time.Second, func() bool { return r.startsOf("web") == 2 }, "the pod went on without the store")
	time.Sleep(300 * time.Millisecond) // a few failed writes
	c.start(0)
	c.waitReady(0)
	st := r.waitStatus("web", 15*time.Second, "the restart reported", func(st lifecycle.StatusRecord) bool {
		return running(st) && st.Status.ContainerStatuses[0].RestartCount == 1
	})
	term := st.Status.ContainerStatuses[0].LastTerminationState.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(2), term.ExitCode)
	assert.NotEmpty(t, logs.FilterMessage("writing the status failed; will retry").All(), "writes failed during the outage")

	// What etcd got for web since the outage began: sequence numbers only go up.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := s.Watch(wctx, corruptStatus, beforeRev+1)
	last := first.Seq
	for done := false; !done; {
		select {
		case resp := <-w:
			require.NoError(t, resp.Err)
			for _, ev := range resp.Events {
				rec, err := lifecycle.DecodeStatus(ev.KV.Value)
				require.NoError(t, err)
				assert.Greater(t, rec.Seq, last, "in order")
				last = rec.Seq
				done = rec.Seq == st.Seq
			}
		case <-time.After(5 * time.Second):
			require.FailNow(t, "the flushed status is not in the history")
		}
	}

	// The pod watch survived the outage and the junk: a new pod runs, and a deletion goes through.
	r.bind("web2", appSpec())
	r.waitStatus("web2", 10*time.Second, "running", running)
	require.NoError(t, r.client.Delete(ctx, node, lifecycle.PodRef{Namespace: "default", Name: "web2"}, new(int64), time.Now()))
	eventually(t, 10*time.Second, func() bool {
		_, _, err := r.client.Pod(ctx, node, lifecycle.PodRef{Namespace: "default", Name: "web2"})
		return err != nil
	}, "the agent removes the deleted pod's record")
}

// TestNodeLostAndBack: an agent holds its node's lease (2 s TTL) under a Supervisor; when the
// agent stops, the lease expires and the supervisor marks its running pod Unknown (NodeLost) and
// leaves the finished one; a new agent on the same node adopts the running container and reports
// the true status over the supervisor's.
func TestNodeLostAndBack(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	s := c.store(etcdstore.Config{})
	r := newAgentRig(t, s, simruntime.WorldOptions{Scripts: map[string]simruntime.Script{
		"job": {Runs: []simruntime.Run{{For: 200 * time.Millisecond}}},
	}})
	core, supLogs := observer.New(zap.InfoLevel)
	sup, err := etcdstore.NewSupervisor(etcdstore.SupervisorConfig{Store: s, RetryPeriod: 100 * time.Millisecond, Logger: zap.New(core)})
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(t.Context())
	supDone := make(chan error, 1)
	go func() { supDone <- sup.Run(sctx) }()
	defer func() { cancel(); assert.NoError(t, <-supDone) }()

	stop, _ := r.run(2 * time.Second)
	r.bind("web", appSpec())
	job := podlife.PodSpec{RestartPolicy: podlife.RestartNever, Containers: []podlife.Container{{Name: "job", Image: "busybox:1.36"}}}
	r.bind("job", job)
	r.waitStatus("web", 10*time.Second, "running", running)
	done := r.waitStatus("job", 10*time.Second, "succeeded", func(st lifecycle.StatusRecord) bool { return st.Status.Phase == phase.Succeeded })

	stop()
	stopped := time.Now()
	lost := r.waitStatus("web", 10*time.Second, "marked Unknown", func(st lifecycle.StatusRecord) bool { return st.Status.Phase == phase.Unknown })
	t.Logf("marked Unknown %v after the agent stopped (lease TTL 2 s)", time.Since(stopped).Round(10*time.Millisecond))
	assert.Equal(t, phase.ReasonNodeLost, lost.Status.Reason)
	assert.Equal(t, etcdstore.SupervisorWriter, lost.Writer)
	assert.NotEmpty(t, lost.Checkpoint.Sandbox.ID, "the checkpoint is kept for the returning agent")
	assert.NotEmpty(t, supLogs.FilterMessage("supervisor: node lease gone").All())
	still, _ := r.status("job")
	assert.Equal(t, done, still, "a terminal pod is left as it was")

	r.run(2 * time.Second)
	back := r.waitStatus("web", 10*time.Second, "reported by the agent again", func(st lifecycle.StatusRecord) bool {
		return st.Writer == "" && running(st)
	})
	assert.Greater(t, back.Seq, lost.Seq, "above the supervisor's record")
	assert.Empty(t, back.Status.Reason)
	assert.Equal(t, 1, r.startsOf("web"), "the running container was adopted, not started again")
	assert.Equal(t, lost.Status.ContainerStatuses[0].ContainerID, back.Status.ContainerStatuses[0].ContainerID)
	_, err = s.Get(t.Context(), etcdstore.LeaseKey(lifecycle.Keys{}, node))
	require.NoError(t, err, "the new agent holds the lease")
}

// TestAgentWithNodeCredentials: with authentication on, an agent logged in as GrantNode's user
// runs its pods (list, watch, status writes, lease all inside its prefix), and a scheduler with
// GrantSupervisor's user binds pods and supervises every node.
func TestAgentWithNodeCredentials(t *testing.T) {
	t.Parallel()
	c := startCluster(t, clusterOptions{})
	ctx := background(t)
	require.NoError(t, etcdstore.EnableAuth(ctx, c.client(), "rootpw"))
	root := c.store(etcdstore.Config{Username: "root", Password: "rootpw"})
	keys := lifecycle.Keys{}
	user, err := etcdstore.GrantNode(ctx, root.Client(), keys, node, "nodepw")
	require.NoError(t, err)
	require.NoError(t, etcdstore.GrantSupervisor(ctx, root.Client(), keys, "scheduler", "schedpw"))

	agentStore := c.store(etcdstore.Config{Username: user, Password: "nodepw"})
	sched := c.store(etcdstore.Config{Username: "scheduler", Password: "schedpw"})
	r := newAgentRig(t, agentStore, simruntime.WorldOptions{})
	r.client = lifecycle.Client{Store: sched} // the scheduler binds and reads
	sup, err := etcdstore.NewSupervisor(etcdstore.SupervisorConfig{Store: sched})
	require.NoError(t, err)
	sctx, cancel := context.WithCancel(ctx)
	supDone := make(chan error, 1)
	go func() { supDone <- sup.Run(sctx) }()
	defer func() { cancel(); assert.NoError(t, <-supDone) }()

	_, logs := r.run(5 * time.Second)
	r.bind("web", appSpec())
	st := r.waitStatus("web", 10*time.Second, "running", running)
	assert.Empty(t, st.Writer)
	assert.Empty(t, logs.FilterMessage("writing the status failed; will retry").All())
	assert.Empty(t, logs.FilterMessage("pod watch ended").All())

	// The agent's credentials reach nothing of another node.
	_, err = agentStore.Put(ctx, keys.Pod("node-2", lifecycle.PodRef{Namespace: "default", Name: "web"}), []byte("{}"), 0)
	require.ErrorIs(t, err, etcdstore.ErrPermissionDenied)
}
