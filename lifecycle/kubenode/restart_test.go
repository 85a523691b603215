package kubenode_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/podlife/podlife/internal/kubetest"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/kubenode"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// startCounter is a Runtime that counts the starts of each container.
type startCounter struct {
	lifecycle.Runtime
	mu     sync.Mutex
	starts map[string]int
}

func (r *startCounter) StartContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	r.starts[id]++
	r.mu.Unlock()
	return r.Runtime.StartContainer(ctx, id)
}

func (r *startCounter) twice() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, n := range r.starts {
		if n > 1 {
			out = append(out, id)
		}
	}
	return out
}

// The node's process stops mid-lifecycle and starts again on the same runtime (its containers
// went on meanwhile): the pods are recovered from the API server's statuses and the runtime. A
// running container is adopted (same ID, no restart), a job that finished meanwhile is
// Succeeded, a crash loop goes on counting, a deletion under way completes, and no container is
// ever started twice.
func TestNodeRestartRecoversPods(t *testing.T) {
	t.Parallel()
	rt := simruntime.NewRuntime(simruntime.NewWorld(simruntime.WorldOptions{}), lifecycle.RealClock{})
	counter := &startCounter{Runtime: rt, starts: map[string]int{}}
	ns := cp.Get(t).Namespace(t)
	e := newEnv(t, kubenode.NodeConfig{Name: ns + "-node", Runtime: counter, Setup: rt, Sim: rt})

	web := container("web")
	web.ReadinessProbe = execProbe(1)
	e.create(e.pod("web", v1.PodSpec{Containers: []v1.Container{web}}))
	e.create(scripted(e.pod("job", v1.PodSpec{RestartPolicy: v1.RestartPolicyNever, Containers: []v1.Container{container("work")}}),
		`{"containers": {"work": {"runs": [{"for": "4s"}]}}}`))
	e.create(scripted(e.pod("crash", v1.PodSpec{Containers: []v1.Container{container("app")}}),
		`{"containers": {"app": {"runs": [{"for": "1s", "exitCode": 1}]}}}`))
	drain := container("app")
	drain.Lifecycle = &v1.Lifecycle{PreStop: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"drain"}}}}
	e.create(scripted(e.pod("leaving", v1.PodSpec{Containers: []v1.Container{drain}}),
		`{"containers": {"app": {"preStop": {"took": "3s"}}}}`))
	before := e.waitFor("web", 20*time.Second, "ready", podReady)
	e.waitFor("job", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	e.waitFor("crash", 20*time.Second, "restarted", func(p *v1.Pod) bool { return p.Status.ContainerStatuses[0].RestartCount >= 1 })
	e.waitFor("leaving", 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
	require.NoError(t, e.c.CoreV1().Pods(e.ns).Delete(context.Background(), "leaving", metav1.DeleteOptions{}))
	time.Sleep(time.Second) // its preStop hook is under way

	e.stop()
	time.Sleep(4 * time.Second) // the job's container exits meanwhile
	e.start()

	job := e.waitFor("job", 20*time.Second, "Succeeded", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodSucceeded })
	assert.Equal(t, int32(0), job.Status.ContainerStatuses[0].RestartCount)
	e.waitGone("leaving", 20*time.Second)
	e.waitFor("crash", 20*time.Second, "restarting on", func(p *v1.Pod) bool { return p.Status.ContainerStatuses[0].RestartCount >= 2 })
	time.Sleep(2 * time.Second) // the probes of the restored pods run
	after, err := e.get("web")
	require.NoError(t, err)
	b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
	assert.Equal(t, b.ContainerID, a.ContainerID, "the running container is adopted")
	assert.Equal(t, int32(0), a.RestartCount)
	assert.True(t, a.Ready, "ready is kept and probed again")
	require.NotNil(t, a.State.Running)
	assert.Equal(t, b.State.Running.StartedAt, a.State.Running.StartedAt)
	assert.Empty(t, counter.twice(), "no container started twice")
}

// The node registers with its capacity, conditions and addresses, keeps its lease, and
// several nodes run in one process, each with its own pods; the group counts what they do.
func TestNodesRegisterAndRunInOneProcess(t *testing.T) {
	t.Parallel()
	ns := cp.Get(t).Namespace(t)
	var nodes []kubenode.NodeConfig
	for _, name := range []string{ns + "-a", ns + "-b", ns + "-c"} {
		nodes = append(nodes, kubenode.SimNode(name, simruntime.WorldOptions{}))
	}
	e := newEnv(t, nodes...)
	for i, n := range nodes {
		node, err := e.c.CoreV1().Nodes().Get(context.Background(), n.Name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "true", node.Labels[kubenode.LabelNode])
		assert.Equal(t, "sim", node.Labels[kubenode.LabelRuntime])
		assert.Equal(t, kubenode.KubeletVersion, node.Status.NodeInfo.KubeletVersion)
		assert.Equal(t, "110", node.Status.Allocatable.Pods().String())
		assert.Contains(t, node.Status.Addresses, v1.NodeAddress{Type: v1.NodeInternalIP, Address: "127.0.0.1"})
		var ready *v1.NodeCondition
		for j := range node.Status.Conditions {
			if node.Status.Conditions[j].Type == v1.NodeReady {
				ready = &node.Status.Conditions[j]
			}
		}
		require.NotNil(t, ready)
		assert.Equal(t, v1.ConditionTrue, ready.Status)
		lease, err := e.c.CoordinationV1().Leases(v1.NamespaceNodeLease).Get(context.Background(), n.Name, metav1.GetOptions{})
		require.NoError(t, err, "the node controller holds the node's lease")
		require.NotNil(t, lease.Spec.HolderIdentity)
		assert.Equal(t, n.Name, *lease.Spec.HolderIdentity)
		assert.Equal(t, int32(40), *lease.Spec.LeaseDurationSeconds, "kubelet's lease duration by default")

		pod := e.pod(n.Name, v1.PodSpec{Containers: []v1.Container{container("app")}})
		pod.Spec.NodeName = nodes[i].Name
		e.create(pod)
	}
	for _, n := range nodes {
		p := e.waitFor(n.Name, 20*time.Second, "Running", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning })
		assert.Equal(t, "127.0.0.1", p.Status.HostIP)
	}
	st := e.group.Stats()
	assert.Equal(t, 3, st.Nodes)
	assert.Equal(t, 3, st.Pods)
	assert.Equal(t, 3, st.Phases[string(v1.PodRunning)])
	assert.GreaterOrEqual(t, st.Events, uint64(9), "Pulled, Created, Started on each")
	assert.GreaterOrEqual(t, st.StatusPushes, uint64(3))
	assert.Positive(t, st.API["PUT pods/status"], "the pod controllers write statuses: %v", st.API)
	assert.Positive(t, st.APIWrites())
	assert.Equal(t, []string{nodes[0].Name, nodes[1].Name, nodes[2].Name}, e.group.Names())
}

// A node the server shows NotReady while its process runs (the node lifecycle controller marks a
// node Unknown when its lease went stale, as after the process was paused) reports Ready again
// at once, as kubelet reports a status that differs from the server's, not at the node
// controller's next periodic update a minute later.
func TestNodeMarkedUnknownReportsReadyAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name := e.nodes[0].Name
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := e.c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for i := range node.Status.Conditions {
			c := &node.Status.Conditions[i]
			c.Status, c.Reason, c.Message = v1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
		}
		_, err = e.c.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
	require.NoError(t, err)
	marked := time.Now()
	require.Eventually(t, func() bool {
		node, err := e.c.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range node.Status.Conditions {
			if c.Status == v1.ConditionUnknown {
				return false
			}
		}
		return kubetest.NodeReady(node) == v1.ConditionTrue
	}, 10*time.Second, 50*time.Millisecond, "the node reports Ready again")
	t.Logf("Ready again %s after it was marked Unknown", time.Since(marked))
}
