package kubenode

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// bareProvider is a provider without an agent or an API server, for what CreatePod decides
// before anything runs.
func bareProvider(t *testing.T) (*provider, *record.FakeRecorder, *[]*v1.Pod) {
	t.Helper()
	store := memstore.New()
	rec := record.NewFakeRecorder(10)
	p := &provider{node: "node-1", log: zap.NewNop(), store: store, client: lifecycle.Client{Store: store},
		recorder: rec, stats: &counters{}, pods: map[string]*entry{}}
	var pushed []*v1.Pod
	p.notify = func(pod *v1.Pod) { pushed = append(pushed, pod) }
	return p, rec, &pushed
}

// A pod podlife cannot run is rejected as kubelet's admission rejects one: a Warning event, a
// Failed status with a reason and message, no error for the pod controller to retry, nothing
// bound. (The API server refuses such a spec; a pod reaches a node like this only from another
// source, or from a podlife stricter than the server.)
func TestCreatePodRejectsWhatPodlifeCannotRun(t *testing.T) {
	p, rec, pushed := bareProvider(t)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bad", UID: "u1"},
		Spec:   v1.PodSpec{NodeName: "node-1", Containers: []v1.Container{{Name: "app"}}},
		Status: v1.PodStatus{QOSClass: v1.PodQOSBestEffort}}
	require.NoError(t, p.CreatePod(context.Background(), pod))
	require.Len(t, *pushed, 1)
	st := (*pushed)[0].Status
	assert.Equal(t, v1.PodFailed, st.Phase)
	assert.Equal(t, ReasonUnsupported, st.Reason)
	assert.Equal(t, "Pod was rejected: podlife cannot run it: spec.containers[0].image: Required value", st.Message)
	assert.Equal(t, v1.PodQOSBestEffort, st.QOSClass)
	assert.Equal(t, "Warning "+ReasonUnsupported+" "+st.Message, <-rec.Events)
	kvs, _, err := p.store.List(context.Background(), "/")
	require.NoError(t, err)
	assert.Empty(t, kvs, "nothing is bound")

	got, err := p.GetPod(context.Background(), "default", "bad")
	require.NoError(t, err)
	assert.Equal(t, ReasonUnsupported, got.Status.Reason)
	require.NoError(t, p.DeletePod(context.Background(), pod))
	_, err = p.GetPod(context.Background(), "default", "bad")
	require.Error(t, err, "a deleted rejected pod is forgotten")
}

func TestSurfacedLeavesOutWhatEveryPodHas(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{
		NodeName: "n", SchedulerName: "default-scheduler", DNSPolicy: v1.DNSClusterFirst, EnableServiceLinks: ptr(true),
		Tolerations:     []v1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute}},
		SecurityContext: &v1.PodSecurityContext{RunAsUser: ptr(int64(1000))},
		Containers: []v1.Container{{Name: "app", Image: "app:1", TerminationMessagePath: "/dev/termination-log",
			TerminationMessagePolicy: v1.TerminationMessageReadFile,
			Resources:                v1.ResourceRequirements{Limits: v1.ResourceList{v1.ResourceMemory: resource.MustParse("1Gi")}},
			VolumeMounts:             []v1.VolumeMount{{Name: "kube-api-access-x1", MountPath: "/var/run"}}}},
		Volumes: []v1.Volume{
			{Name: "kube-api-access-x1", VolumeSource: v1.VolumeSource{Projected: &v1.ProjectedVolumeSource{}}},
			{Name: "data", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "d"}}},
		},
	}}
	_, ws, err := kube.FromPodSpec(pod.Spec)
	require.NoError(t, err)
	shown, quiet := surfaced(pod, ws)
	assert.Equal(t, []string{"spec.volumes[1].persistentVolumeClaim", "spec.containers[0].resources"}, shown.Fields())
	assert.Contains(t, quiet.Fields(), "spec.volumes[0].projected")
	assert.Contains(t, quiet.Fields(), "spec.dnsPolicy")
	assert.Contains(t, quiet.Fields(), "spec.containers[0].terminationMessagePath")
}

func TestNotModelledMessageIsBounded(t *testing.T) {
	var ws kube.Warnings
	for range 100 {
		ws = append(ws, kube.Warning{Field: "spec.containers[0].resources", Detail: "not modelled by podlife; no limit is enforced"})
	}
	msg := notModelledMessage(ws)
	assert.LessOrEqual(t, len(msg), maxEventMessage+60)
	assert.True(t, strings.HasPrefix(msg, "podlife does not model spec.containers[0].resources: "))
	assert.Contains(t, msg, "more (see the node's log)")
	assert.Equal(t, "podlife does not model spec.x: y", notModelledMessage(kube.Warnings{{Field: "spec.x", Detail: "y"}}))
}

func TestUnmodelledChanges(t *testing.T) {
	old := &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "app", Image: "app:1"}}}}
	cur := old.DeepCopy()
	cur.Spec.Containers[0].Image = "app:2"
	cur.Spec.ActiveDeadlineSeconds = ptr(int64(60))
	assert.Empty(t, unmodelledChanges(old, cur), "images and the deadline go to the machine")
	cur.Labels = map[string]string{"a": "b"}
	cur.Spec.Tolerations = []v1.Toleration{{Key: "k", Operator: v1.TolerationOpExists}}
	assert.Equal(t, []string{"metadata.labels", "spec.tolerations"}, unmodelledChanges(old, cur))
}

func TestRequestKind(t *testing.T) {
	for raw, want := range map[string]string{
		"PUT /api/v1/namespaces/ns/pods/p/status":                              "PUT pods/status",
		"POST /api/v1/namespaces/ns/events":                                    "POST events",
		"PATCH /api/v1/namespaces/ns/events/e":                                 "PATCH events",
		"GET /api/v1/pods?watch=true&fieldSelector=x":                          "WATCH pods",
		"GET /api/v1/pods?limit=500":                                           "GET pods",
		"PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n": "PUT leases",
		"PATCH /api/v1/nodes/n/status":                                         "PATCH nodes/status",
		"DELETE /api/v1/namespaces/ns/pods/p":                                  "DELETE pods",
		"GET /version":                                                         "GET /version",
	} {
		method, rest, _ := strings.Cut(raw, " ")
		u, err := url.Parse(rest)
		require.NoError(t, err)
		assert.Equal(t, want, requestKind(method, u), raw)
	}
	s := Stats{API: map[string]uint64{"PUT pods/status": 3, "POST events": 2, "GET pods": 7, "WATCH pods": 1, "DELETE pods": 1}}
	assert.Equal(t, uint64(6), s.APIWrites())
}

func ptr[T any](v T) *T { return &v }

// Start checks its options before it reaches the API server: every problem at once, each naming
// its field.
func TestStartValidatesOptions(t *testing.T) {
	sim := SimNode("node-1", simruntime.WorldOptions{})
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"nothing", Options{}, []string{"Config: Required value", "Nodes: Required value"}},
		{"lease of a fraction of a second", Options{Config: &rest.Config{}, Nodes: []NodeConfig{sim}, LeaseDuration: 1500 * time.Millisecond},
			[]string{"LeaseDuration: Invalid value: 1.5s: whole seconds, at least 1"}},
		{"lease under a second", Options{Config: &rest.Config{}, Nodes: []NodeConfig{sim}, LeaseDuration: time.Millisecond},
			[]string{"LeaseDuration: Invalid value: 1ms"}},
		{"two nodes of a name", Options{Config: &rest.Config{}, Nodes: []NodeConfig{sim, sim}},
			[]string{`Nodes[1].Name: Duplicate value: "node-1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(context.Background(), tc.opts)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// instantStop is a store in which a pod record goes as soon as a deletion is written to it, as
// when the agent stops a pod at once, and the provider hears of it (changed) before the
// deletion's write returns.
type instantStop struct {
	*memstore.Store
	p *provider
}

func (s instantStop) Put(ctx context.Context, key string, value []byte, prev int64) (int64, error) {
	rev, err := s.Store.Put(ctx, key, value, prev)
	if rec, derr := lifecycle.DecodePod(value); err == nil && derr == nil && rec.Deletion != nil {
		if err := s.Store.Delete(ctx, key, lifecycle.AnyRevision); err != nil {
			return rev, err
		}
		s.p.changed(ctx, lifecycle.WatchEvent{Type: lifecycle.WatchDelete, KV: lifecycle.KV{Key: key}})
	}
	return rev, err
}

// A pod whose stop ends before the provider's deletion call returns still has its API object
// deleted by the provider: the entry is marked deleting before the agent can see the deletion.
// (Marked after, the record's removal found the entry not deleting, nobody deleted the object,
// and the pod controller's own deletion was held for ever: one pod in 10,000 on a loaded
// machine.) A deletion that finds the record already gone finishes the same way.
func TestDeletionWhoseStopEndsAtOnce(t *testing.T) {
	for _, gone := range []bool{false, true} {
		t.Run(fmt.Sprintf("record gone before the deletion: %v", gone), func(t *testing.T) {
			p, _, _ := bareProvider(t)
			store := instantStop{Store: memstore.New(), p: p}
			p.store, p.client = store.Store, lifecycle.Client{Store: store}
			pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "u1"},
				Spec: v1.PodSpec{NodeName: "node-1", Containers: []v1.Container{{Name: "app", Image: "nginx"}}}}
			api := fake.NewClientset(pod.DeepCopy())
			p.api = api
			ctx := context.Background()
			require.NoError(t, p.CreatePod(ctx, pod))
			if gone {
				require.NoError(t, store.Store.Delete(ctx, p.keys.Pod(p.node, refOf(pod)), lifecycle.AnyRevision))
			}
			deleting := pod.DeepCopy()
			deleting.DeletionTimestamp, deleting.DeletionGracePeriodSeconds = &metav1.Time{Time: time.Now()}, ptr(int64(30))
			require.NoError(t, p.DeletePod(ctx, deleting))
			require.Eventually(t, func() bool {
				_, err := api.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			}, 5*time.Second, 10*time.Millisecond, "the provider deletes the stopped pod's API object")
			p.mu.Lock()
			defer p.mu.Unlock()
			assert.True(t, p.pods["default/web"].final, "finalized once")
		})
	}
}
