package containerd

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeCRI is a scripted CRI server on a unix socket, for what a real containerd cannot be made
// to do on demand: an event stream (containerd 1.6 has none), failures of every kind, timeouts.
type fakeCRI struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	streams bool // GetContainerEvents is implemented
	events  chan *runtimeapi.ContainerEventResponse

	mu         sync.Mutex
	containers map[string]*runtimeapi.ContainerStatus
	sandboxOf  map[string]string
	sandboxes  map[string]*runtimeapi.PodSandboxStatus
	names      map[string]string // reserved name -> id
	images     map[string]bool
	pulls      []*runtimeapi.PullImageRequest
	stops      []stopCall
	kill       map[string]chan struct{} // a stop in progress ends when this closes
	fail       map[string]error         // method -> the error it returns
	nextID     int
}

type stopCall struct {
	id      string
	timeout int64
	at      time.Time
}

func newFake(streams bool) *fakeCRI {
	return &fakeCRI{streams: streams, events: make(chan *runtimeapi.ContainerEventResponse, 16),
		containers: map[string]*runtimeapi.ContainerStatus{}, sandboxOf: map[string]string{},
		sandboxes: map[string]*runtimeapi.PodSandboxStatus{}, names: map[string]string{}, images: map[string]bool{},
		kill: map[string]chan struct{}{}, fail: map[string]error{}}
}

// serve runs the fake on a socket in a temporary directory and returns its path.
func (f *fakeCRI) serve(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "cri.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, f)
	runtimeapi.RegisterImageServiceServer(srv, f)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return sock
}

func (f *fakeCRI) connect(t *testing.T, mod func(*Config)) *Runtime {
	t.Helper()
	cfg := Config{Socket: f.serve(t), Logger: zaptest.NewLogger(t), RelistPeriod: time.Hour, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	r, err := Connect(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func (f *fakeCRI) failing(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[method]
}

func (f *fakeCRI) setFail(method string, err error) {
	f.mu.Lock()
	f.fail[method] = err
	f.mu.Unlock()
}

func (f *fakeCRI) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{RuntimeName: "fake", RuntimeVersion: "1", RuntimeApiVersion: "v1"}, nil
}

func (f *fakeCRI) Status(context.Context, *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	if err := f.failing("Status"); err != nil {
		return nil, err
	}
	return &runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
		{Type: runtimeapi.NetworkReady, Status: false}, {Type: runtimeapi.RuntimeReady, Status: true}}}}, nil
}

func (f *fakeCRI) GetContainerEvents(_ *runtimeapi.GetEventsRequest, st grpc.ServerStreamingServer[runtimeapi.ContainerEventResponse]) error {
	if !f.streams {
		return status.Error(codes.Unimplemented, "method GetContainerEvents not implemented")
	}
	for {
		select {
		case <-st.Context().Done():
			return nil
		case ev := <-f.events:
			if err := st.Send(ev); err != nil {
				return err
			}
		}
	}
}

func (f *fakeCRI) id(prefix string) string {
	f.nextID++
	return fmt.Sprintf("%s%04d", prefix, f.nextID)
}

func (f *fakeCRI) RunPodSandbox(_ context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	if err := f.failing("RunPodSandbox"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := req.Config.Metadata
	name := fmt.Sprintf("%s_%s_%s_%d", m.Name, m.Namespace, m.Uid, m.Attempt)
	if id, ok := f.names[name]; ok {
		return nil, status.Errorf(codes.Unknown, "failed to reserve sandbox name %q: name %q is reserved for %q", name, name, id)
	}
	id := f.id("sb")
	f.names[name] = id
	f.sandboxes[id] = &runtimeapi.PodSandboxStatus{Id: id, Metadata: m, State: runtimeapi.PodSandboxState_SANDBOX_READY,
		Labels: req.Config.Labels, Annotations: req.Config.Annotations, Network: &runtimeapi.PodSandboxNetworkStatus{Ip: "10.88.0.7"}}
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: id}, nil
}

func (f *fakeCRI) PodSandboxStatus(_ context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.sandboxes[req.PodSandboxId]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "an error occurred when try to find sandbox %q: not found", req.PodSandboxId)
	}
	return &runtimeapi.PodSandboxStatusResponse{Status: st}, nil
}

// matches reports whether labels has everything sel asks for.
func matches(labels, sel map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (f *fakeCRI) ListPodSandbox(_ context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	if err := f.failing("List"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.PodSandbox
	for _, s := range f.sandboxes {
		if !matches(s.Labels, req.GetFilter().GetLabelSelector()) {
			continue
		}
		out = append(out, &runtimeapi.PodSandbox{Id: s.Id, Metadata: s.Metadata, State: s.State, Labels: s.Labels, Annotations: s.Annotations})
	}
	return &runtimeapi.ListPodSandboxResponse{Items: out}, nil
}

func (f *fakeCRI) StopPodSandbox(_ context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sandboxes[req.PodSandboxId]; ok {
		s.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

func (f *fakeCRI) RemovePodSandbox(_ context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sandboxes, req.PodSandboxId)
	for n, id := range f.names {
		if id == req.PodSandboxId {
			delete(f.names, n)
		}
	}
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}

func (f *fakeCRI) CreateContainer(_ context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	if err := f.failing("CreateContainer"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, sm := req.Config.Metadata, req.SandboxConfig.Metadata
	name := fmt.Sprintf("%s_%s_%s_%s_%d", m.Name, sm.Name, sm.Namespace, sm.Uid, m.Attempt)
	if id, ok := f.names[name]; ok {
		return nil, status.Errorf(codes.Unknown, "failed to reserve container name %q: name %q is reserved for %q", name, name, id)
	}
	id := f.id("c")
	f.names[name] = id
	f.sandboxOf[id] = req.PodSandboxId
	f.containers[id] = &runtimeapi.ContainerStatus{Id: id, Metadata: m, State: runtimeapi.ContainerState_CONTAINER_CREATED,
		CreatedAt: time.Now().UnixNano(), Labels: req.Config.Labels}
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}

func (f *fakeCRI) StartContainer(_ context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	if err := f.failing("StartContainer"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[req.ContainerId]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "container %q not found", req.ContainerId)
	}
	c.State, c.StartedAt = runtimeapi.ContainerState_CONTAINER_RUNNING, time.Now().UnixNano()
	return &runtimeapi.StartContainerResponse{}, nil
}

// exit makes a running container exit with code.
func (f *fakeCRI) exit(id string, code int32, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[id]
	c.State, c.ExitCode, c.Reason, c.FinishedAt = runtimeapi.ContainerState_CONTAINER_EXITED, code, reason, time.Now().UnixNano()
	if k, ok := f.kill[id]; ok {
		close(k)
		delete(f.kill, id)
	}
}

// StopContainer waits out the timeout (the container ignores SIGTERM) unless a kill (timeout 0)
// or an exit comes first; then the container exited 137.
func (f *fakeCRI) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	f.mu.Lock()
	f.stops = append(f.stops, stopCall{id: req.ContainerId, timeout: req.Timeout, at: time.Now()})
	c, ok := f.containers[req.ContainerId]
	if !ok {
		f.mu.Unlock()
		return nil, status.Errorf(codes.NotFound, "an error occurred when try to find container %q: not found", req.ContainerId)
	}
	if c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		f.mu.Unlock()
		return &runtimeapi.StopContainerResponse{}, nil
	}
	if req.Timeout == 0 {
		f.mu.Unlock()
		f.exit(req.ContainerId, 137, "Error")
		return &runtimeapi.StopContainerResponse{}, nil
	}
	k, ok := f.kill[req.ContainerId]
	if !ok {
		k = make(chan struct{})
		f.kill[req.ContainerId] = k
	}
	f.mu.Unlock()
	select {
	case <-k:
	case <-time.After(time.Duration(req.Timeout) * time.Second):
		f.exit(req.ContainerId, 137, "Error")
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &runtimeapi.StopContainerResponse{}, nil
}

func (f *fakeCRI) stopCalls() []stopCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stopCall(nil), f.stops...)
}

func (f *fakeCRI) RemoveContainer(_ context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.containers, req.ContainerId)
	for n, id := range f.names {
		if id == req.ContainerId {
			delete(f.names, n)
		}
	}
	return &runtimeapi.RemoveContainerResponse{}, nil
}

func (f *fakeCRI) ListContainers(_ context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	if err := f.failing("List"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.Container
	for id, c := range f.containers {
		if req.GetFilter().GetId() != "" && req.GetFilter().GetId() != id || !matches(c.Labels, req.GetFilter().GetLabelSelector()) {
			continue
		}
		out = append(out, &runtimeapi.Container{Id: id, PodSandboxId: f.sandboxOf[id], Metadata: c.Metadata, State: c.State,
			CreatedAt: c.CreatedAt, Labels: c.Labels})
	}
	return &runtimeapi.ListContainersResponse{Containers: out}, nil
}

func (f *fakeCRI) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[req.ContainerId]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "an error occurred when try to find container %q: not found", req.ContainerId)
	}
	return &runtimeapi.ContainerStatusResponse{Status: proto.Clone(c).(*runtimeapi.ContainerStatus)}, nil
}

// ExecSync answers "exit 7" to ["fail"], and runs until its timeout (DeadlineExceeded) for
// ["hang"]; anything else exits 0 with "ok" on stdout.
func (f *fakeCRI) ExecSync(ctx context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	switch req.Cmd[0] {
	case "fail":
		return &runtimeapi.ExecSyncResponse{ExitCode: 7, Stderr: []byte("bad")}, nil
	case "hang":
		t := time.NewTimer(time.Duration(req.Timeout) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
			return nil, status.Error(codes.DeadlineExceeded, "timeout 1s exceeded: context deadline exceeded")
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return &runtimeapi.ExecSyncResponse{Stdout: []byte("ok")}, nil
}

func (f *fakeCRI) ImageStatus(_ context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.images[req.Image.Image] {
		return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: "sha256:1", RepoTags: []string{req.Image.Image}}}, nil
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

func (f *fakeCRI) PullImage(_ context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	if err := f.failing("PullImage"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[req.Image.Image] = true
	f.pulls = append(f.pulls, req)
	return &runtimeapi.PullImageResponse{ImageRef: "sha256:1"}, nil
}
