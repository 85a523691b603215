package kubetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/podlife/podlife/internal/kubetest"
	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/phase"
)

// cp is the API server the tests of this package share; TestMain stops it.
var cp = kubetest.NewShared(kubetest.Options{})

func TestMain(m *testing.M) {
	if os.Getenv(envOrphanChild) != "" {
		orphanChild() // never returns
	}
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func TestAPIServerServesTheReleaseAndTheKubeconfigWorks(t *testing.T) {
	s := cp.Get(t)
	t.Logf("ready in %s", s.StartDuration)
	v, err := s.Client().Discovery().ServerVersion()
	require.NoError(t, err)
	require.Equal(t, "v1.37.2", v.GitVersion, "the version ldflags of scripts/kube-tools")

	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	require.NoError(t, err)
	c, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	ns := s.Namespace(t)
	_, err = c.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	require.NoError(t, err, "the kubeconfig's user reads what the admin client created")

	// kubectl of the same build talks to it with the kubeconfig, without a skew warning.
	out, err := exec.Command(filepath.Join(kubetest.BinDir(t), kubetest.KubectlBin), "--kubeconfig", s.Kubeconfig,
		"version", "-o", "json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var versions struct{ ClientVersion, ServerVersion struct{ GitVersion string } }
	require.NoError(t, json.Unmarshal(out, &versions), "%s", out)
	require.Equal(t, "v1.37.2", versions.ClientVersion.GitVersion)
	require.Equal(t, "v1.37.2", versions.ServerVersion.GitVersion)
}

// columnsCase is a pod and a status podlife could write for it.
type columnsCase struct {
	name   string
	spec   v1.PodSpec
	status phase.PodStatus
	// deleteGrace, when set, deletes the pod with this grace before the columns are read: a pod
	// bound to a node stays, being deleted, until the node removes it.
	deleteGrace *int64
	// wantReady and wantStatus are what kubectl prints, as upstream's printPod gives them.
	wantReady, wantStatus string
}

// TestServerColumnsMatchKubectlColumns writes podlife statuses (kube.ToPodStatus) to pods of the
// real API server and compares its `kubectl get pods` columns with phase.KubectlColumns of the
// same status: the API server's printer is the oracle.
func TestServerColumnsMatchKubectlColumns(t *testing.T) {
	s := cp.Get(t)
	ns := s.Namespace(t)
	c := s.Client()
	// The API keeps times to the second.
	t0 := time.Now().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	ctr := func(name string) v1.Container { return v1.Container{Name: name, Image: "busybox"} }
	sidecar := func(name string) v1.Container {
		c := ctr(name)
		c.RestartPolicy = new(v1.ContainerRestartPolicyAlways)
		return c
	}
	cond := func(t phase.ConditionType, ok bool, reason string) phase.Condition {
		s := phase.ConditionFalse
		if ok {
			s = phase.ConditionTrue
		}
		return phase.Condition{Type: t, Status: s, Reason: reason, LastTransitionTime: ago(time.Minute)}
	}
	readyConds := []phase.Condition{cond(phase.PodScheduled, true, ""), cond(phase.PodInitialized, true, ""),
		cond(phase.ContainersReady, true, ""), cond(phase.PodReady, true, "")}
	notReadyConds := []phase.Condition{cond(phase.PodScheduled, true, ""), cond(phase.PodInitialized, true, ""),
		cond(phase.ContainersReady, false, phase.ReasonContainersNotReady), cond(phase.PodReady, false, phase.ReasonContainersNotReady)}
	waiting := func(name, reason string) phase.ContainerStatus {
		return phase.ContainerStatus{Name: name, Image: "busybox", State: phase.State{Waiting: &phase.WaitingState{Reason: reason}}}
	}
	running := func(name string, ready bool) phase.ContainerStatus {
		return phase.ContainerStatus{Name: name, Image: "busybox", Ready: ready, Started: new(true),
			State: phase.State{Running: &phase.RunningState{StartedAt: ago(time.Minute)}}}
	}
	terminated := func(name string, code, signal int32, reason string) phase.ContainerStatus {
		return phase.ContainerStatus{Name: name, Image: "busybox", Started: new(false), State: phase.State{Terminated: &phase.TerminatedState{
			ExitCode: code, Signal: signal, Reason: reason, StartedAt: ago(time.Minute), FinishedAt: ago(10 * time.Second)}}}
	}
	crashLooping := func(name string, restarts int32, lastFinished time.Duration) phase.ContainerStatus {
		cs := waiting(name, phase.ReasonCrashLoopBackOff)
		cs.Started = new(false)
		cs.RestartCount = restarts
		cs.LastTerminationState = phase.State{Terminated: &phase.TerminatedState{
			ExitCode: 1, Reason: phase.ReasonError, StartedAt: ago(lastFinished + time.Second), FinishedAt: ago(lastFinished)}}
		return cs
	}
	one := v1.PodSpec{Containers: []v1.Container{ctr("app")}}
	two := v1.PodSpec{Containers: []v1.Container{ctr("a"), ctr("b")}}
	grace := int64(30)

	cases := []columnsCase{
		{name: "pending: first of two init containers running", wantReady: "0/1", wantStatus: "Init:0/2",
			spec: v1.PodSpec{InitContainers: []v1.Container{ctr("init-a"), ctr("init-b")}, Containers: []v1.Container{ctr("app")}},
			status: phase.PodStatus{Phase: phase.Pending, StartTime: ago(time.Minute),
				Conditions:            []phase.Condition{cond(phase.PodScheduled, true, ""), cond(phase.PodInitialized, false, phase.ReasonContainersNotInitialized)},
				InitContainerStatuses: []phase.ContainerStatus{running("init-a", false), waiting("init-b", phase.ReasonPodInitializing)},
				ContainerStatuses:     []phase.ContainerStatus{waiting("app", phase.ReasonPodInitializing)}}},
		{name: "pending: init container in CrashLoopBackOff", wantReady: "0/1", wantStatus: "Init:CrashLoopBackOff",
			spec: v1.PodSpec{InitContainers: []v1.Container{ctr("init")}, Containers: []v1.Container{ctr("app")}},
			status: phase.PodStatus{Phase: phase.Pending, StartTime: ago(time.Minute),
				Conditions:            []phase.Condition{cond(phase.PodScheduled, true, ""), cond(phase.PodInitialized, false, phase.ReasonContainersNotInitialized)},
				InitContainerStatuses: []phase.ContainerStatus{crashLooping("init", 3, 20*time.Second)},
				ContainerStatuses:     []phase.ContainerStatus{waiting("app", phase.ReasonPodInitializing)}}},
		{name: "running and ready", wantReady: "1/1", wantStatus: "Running", spec: one,
			status: phase.PodStatus{Phase: phase.Running, StartTime: ago(time.Minute), PodIP: "10.1.0.7", Conditions: readyConds,
				ContainerStatuses: []phase.ContainerStatus{running("app", true)}}},
		{name: "running, readiness probe failing", wantReady: "0/1", wantStatus: "Running", spec: one,
			status: phase.PodStatus{Phase: phase.Running, StartTime: ago(time.Minute), Conditions: notReadyConds,
				ContainerStatuses: []phase.ContainerStatus{running("app", false)}}},
		{name: "started sidecar and app, both ready", wantReady: "2/2", wantStatus: "Running",
			spec: v1.PodSpec{InitContainers: []v1.Container{sidecar("proxy")}, Containers: []v1.Container{ctr("app")}},
			status: phase.PodStatus{Phase: phase.Running, StartTime: ago(time.Minute), Conditions: readyConds,
				InitContainerStatuses: []phase.ContainerStatus{running("proxy", true)},
				ContainerStatuses:     []phase.ContainerStatus{running("app", true)}}},
		{name: "CrashLoopBackOff with restarts", wantReady: "0/1", wantStatus: "CrashLoopBackOff", spec: one,
			status: phase.PodStatus{Phase: phase.Running, StartTime: ago(time.Minute), Conditions: notReadyConds,
				ContainerStatuses: []phase.ContainerStatus{crashLooping("app", 4, 30*time.Second)}}},
		{name: "Completed", wantReady: "0/1", wantStatus: "Completed", spec: one,
			status: phase.PodStatus{Phase: phase.Succeeded, StartTime: ago(time.Minute),
				Conditions:        []phase.Condition{cond(phase.PodReady, false, phase.ReasonPodCompleted)},
				ContainerStatuses: []phase.ContainerStatus{terminated("app", 0, 0, phase.ReasonCompleted)}}},
		{name: "Error", wantReady: "0/1", wantStatus: "Error", spec: one,
			status: phase.PodStatus{Phase: phase.Failed, StartTime: ago(time.Minute),
				Conditions:        []phase.Condition{cond(phase.PodReady, false, phase.ReasonPodFailed)},
				ContainerStatuses: []phase.ContainerStatus{terminated("app", 1, 0, phase.ReasonError)}}},
		{name: "killed by a signal without a reason", wantReady: "0/1", wantStatus: "Signal:9", spec: one,
			status: phase.PodStatus{Phase: phase.Failed, StartTime: ago(time.Minute),
				ContainerStatuses: []phase.ContainerStatus{terminated("app", 137, 9, "")}}},
		{name: "first container Completed, second failed: the failure shows", wantReady: "0/2", wantStatus: "Error", spec: two,
			status: phase.PodStatus{Phase: phase.Failed, StartTime: ago(time.Minute),
				ContainerStatuses: []phase.ContainerStatus{terminated("a", 0, 0, phase.ReasonCompleted), terminated("b", 2, 0, phase.ReasonError)}}},
		{name: "first container Completed, second running and ready in a Ready pod", wantReady: "1/2", wantStatus: "Running", spec: two,
			status: phase.PodStatus{Phase: phase.Running, StartTime: ago(time.Minute), Conditions: readyConds,
				ContainerStatuses: []phase.ContainerStatus{terminated("a", 0, 0, phase.ReasonCompleted), running("b", true)}}},
		{name: "Terminating", wantReady: "1/1", wantStatus: "Terminating", spec: one, deleteGrace: &grace,
			status: phase.PodStatus{Phase: phase.Running, StartTime: ago(time.Minute), Conditions: readyConds,
				ContainerStatuses: []phase.ContainerStatus{running("app", true)}}},
		{name: "being deleted on a lost node: Unknown", wantReady: "1/1", wantStatus: "Unknown", spec: one, deleteGrace: &grace,
			status: phase.PodStatus{Phase: phase.Running, Reason: phase.ReasonNodeLost, StartTime: ago(time.Minute), Conditions: readyConds,
				ContainerStatuses: []phase.ContainerStatus{running("app", true)}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			pods := c.CoreV1().Pods(ns)
			tc.spec.NodeName = "node-1" // no scheduler: bound at creation
			pod, err := pods.Create(ctx, &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i)}, Spec: tc.spec}, metav1.CreateOptions{})
			require.NoError(t, err)
			pod.Status = kube.ToPodStatus(tc.status)
			pod, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
			require.NoError(t, err)
			if tc.deleteGrace != nil {
				require.NoError(t, pods.Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: tc.deleteGrace}))
				pod, err = pods.Get(ctx, pod.Name, metav1.GetOptions{})
				require.NoError(t, err, "a pod bound to a node stays until the node deletes it")
				require.NotNil(t, pod.DeletionTimestamp)
			}
			// The server stored what podlife wrote.
			stored, err := kube.FromPodStatus(pod.Status)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tc.status, stored), "status round trip through the API server")
			spec, _, err := kube.FromPodSpec(pod.Spec)
			require.NoError(t, err)

			from := time.Now()
			row, err := kubetest.PodColumnsOf(ctx, c, ns, pod.Name)
			to := time.Now()
			require.NoError(t, err)
			require.Equal(t, ns, row.Namespace)
			require.Equal(t, pod.Name, row.Name)
			require.Equal(t, tc.wantReady, row.Ready, "the server's READY")
			require.Equal(t, tc.wantStatus, row.Status, "the server's STATUS")
			var del *time.Time
			if pod.DeletionTimestamp != nil {
				del = &pod.DeletionTimestamp.Time
			}
			require.NoError(t, kubetest.MatchColumns(row.Columns, phase.ColumnsInput{Spec: &spec, Status: &tc.status, DeletionTimestamp: del}, from, to))
		})
	}

	// The list form gives the same rows.
	rows, err := kubetest.PodColumns(context.Background(), c, ns, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, rows, len(cases))
}
