package containerd_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife/lifecycle"
)

// BenchmarkStartToRunning compares, in one run on the same containerd, the time from binding a
// one-container pod to the agent seeing it Running (store watch, pod setup, RunSandbox,
// ImageStatus, CreateContainer, StartContainer through the adapter) with the raw CRI calls for
// the same pod: RunPodSandbox, CreateContainer, StartContainer, then ContainerStatus until
// RUNNING. The two alternate, each pod is torn down outside the timer, and containerd gets
// 100 ms to settle after each teardown. It reports the median of each (agent-ms, raw-ms), their
// ratio (goal: under 1.05), and the median time the agent spent outside the runtime calls that
// start the pod (agent-own-ms: the store, the setup, the machine, the hand-offs between
// goroutines), which the machine's other load hardly moves. The agent logs nothing here, and
// neither pod keeps container logs.
//
//	./scripts/containerd up /tmp/ctr &&
//	PODLIFE_CONTAINERD_SOCKET=/tmp/ctr/containerd.sock go test -run '^$' -bench StartToRunning -benchtime 60x ./lifecycle/containerd/
func BenchmarkStartToRunning(b *testing.B) {
	h := newHarnessLog(b, zap.NewNop(), false)
	cri := dialCRI(b)
	var agent, raw, own []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var a, r, o time.Duration
		if i%2 == 0 {
			a, o = h.agentStart(b, i)
			r = rawStart(b, cri, i)
		} else {
			r = rawStart(b, cri, i)
			a, o = h.agentStart(b, i)
		}
		agent, raw, own = append(agent, a), append(raw, r), append(own, o)
	}
	b.StopTimer()
	b.ReportMetric(ms(median(agent)), "agent-ms")
	b.ReportMetric(ms(median(raw)), "raw-ms")
	b.ReportMetric(float64(median(agent))/float64(median(raw)), "ratio")
	b.ReportMetric(ms(median(own)), "agent-own-ms")
}

// settle gives containerd time to finish what a teardown leaves running (shims exiting,
// snapshots removed), outside the timer.
func settle() { time.Sleep(100 * time.Millisecond) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// agentStart binds a pod and waits until the agent's status shows its container Running, and
// says how much of that was the agent's own; the pod is then deleted, outside the timer.
func (h *harness) agentStart(b *testing.B, i int) (took, own time.Duration) {
	ref, spec := pod(fmt.Sprintf("bench-agent-%d", i), sh("app", idle))
	h.tap.takeBusy()
	start := time.Now()
	h.bind(ref, spec)
	for took == 0 {
		select {
		case <-h.changed:
		case <-time.After(10 * time.Second):
			b.Fatalf("pod %s not running after 10 s: %s", ref.Name, describe(h.status(ref)))
		}
		for _, o := range h.observedStatuses(ref.Name) {
			if running(o.status, "app") {
				took = o.at.Sub(start)
				break
			}
		}
	}
	b.StopTimer()
	own = took - h.tap.takeBusy()
	zero := int64(0)
	h.delete(ref, &zero)
	h.waitGone(ref, 20*time.Second)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if sbs, cs := criList(b, ref); len(sbs)+len(cs) == 0 {
			break
		}
	}
	settle()
	b.StartTimer()
	return took, own
}

// rawStart runs the same pod with CRI calls only, as the adapter configures it (host network,
// a PID namespace per container), and removes it outside the timer.
func rawStart(b *testing.B, cri runtimeapi.RuntimeServiceClient, i int) time.Duration {
	ctx := context.Background()
	ref := lifecycle.PodRef{Namespace: "test", Name: fmt.Sprintf("bench-raw-%d", i), UID: fmt.Sprint(time.Now().UnixNano())}
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	labels := map[string]string{"io.kubernetes.pod.name": ref.Name, "io.kubernetes.pod.namespace": ref.Namespace, "io.kubernetes.pod.uid": ref.UID}
	sbCfg := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: ref.Name, Namespace: ref.Namespace, Uid: ref.UID},
		Labels:   labels,
		Linux:    &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: ns}},
	}
	start := time.Now()
	sb, err := cri.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sbCfg})
	require.NoError(b, err)
	c, err := cri.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.PodSandboxId, SandboxConfig: sbCfg,
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
			Image:    &runtimeapi.ImageSpec{Image: busybox},
			Command:  []string{"sh", "-c", idle},
			Labels:   labels,
			Linux:    &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: ns}},
		}})
	require.NoError(b, err)
	_, err = cri.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: c.ContainerId})
	require.NoError(b, err)
	for {
		st, err := cri.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.ContainerId})
		require.NoError(b, err)
		if st.Status.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			break
		}
	}
	took := time.Since(start)
	b.StopTimer()
	_, err = cri.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.ContainerId, Timeout: 0})
	require.NoError(b, err)
	_, err = cri.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId})
	require.NoError(b, err)
	_, err = cri.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId})
	require.NoError(b, err)
	settle()
	b.StartTimer()
	return took
}
