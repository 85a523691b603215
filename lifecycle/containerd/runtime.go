package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
)

// Config configures Connect. Socket is required; the rest have defaults.
type Config struct {
	// Socket is containerd's gRPC socket, e.g. /run/containerd/containerd.sock.
	Socket string
	// Timeout bounds connecting (the runtime must also report RuntimeReady by then) and every
	// CRI call whose ctx has no deadline of its own, except pulls; 0 means 10 s.
	Timeout time.Duration
	// Logger receives the adapter's logs; nil means zap.NewNop().
	Logger *zap.Logger
	// RelistPeriod is how often Events relists containers and sandboxes when containerd has no
	// event stream (containerd 1.6); 0 means 1 s, kubelet's PLEG period. With an event stream the
	// relist still runs, ten times less often, as a safety net.
	RelistPeriod time.Duration
	// Scope is the value of the label podlife.io/scope on everything this Runtime makes; its
	// lists see only that. Empty means "podlife".
	Scope string
	// NodeIP is the address of a host-network pod, where HTTP, TCP and gRPC probes and hooks go;
	// empty means 127.0.0.1.
	NodeIP string
	// VolumePath gives the node directory of a pod's volume (localsetup's Setup.VolumePath does).
	// When set, every volume of the pod is bind-mounted into each of its containers at
	// VolumeMountRoot/<volume name>; secret and configMap volumes read-only. Nil mounts nothing.
	VolumePath func(pod lifecycle.PodRef, volume string) string
	// VolumeMountRoot is where volumes appear inside containers; empty means /volumes.
	VolumeMountRoot string
	// LogDir, when set, keeps what containers write, in kubelet's layout:
	// LogDir/<namespace>_<name>_<uid>/<container>/<attempt>.log. Empty discards it.
	LogDir string
}

// Labels and annotations the adapter sets. The pod labels are kubelet's, so that containerd's
// own tools show the pods the way they show kubelet's.
const (
	LabelScope        = "podlife.io/scope"
	labelPodName      = "io.kubernetes.pod.name"
	labelPodNamespace = "io.kubernetes.pod.namespace"
	labelPodUID       = "io.kubernetes.pod.uid"
	labelContainer    = "io.kubernetes.container.name"
	annHostNetwork    = "podlife.io/host-network"
	annVolumes        = "podlife.io/volumes"
)

// EventSource says how Events learns about exits: "stream" (GetContainerEvents) or "relist".
type EventSource string

// Event sources.
const (
	EventsStream EventSource = "stream"
	EventsRelist EventSource = "relist"
)

// Runtime is a lifecycle.Runtime on containerd's CRI. It is safe for concurrent use. Close it to
// release the connection.
type Runtime struct {
	cfg       Config
	log       *zap.Logger
	conn      *grpc.ClientConn
	rt        runtimeapi.RuntimeServiceClient
	img       runtimeapi.ImageServiceClient
	source    EventSource
	imageName *regexp.Regexp
	version   string

	mu         sync.Mutex
	sandboxes  map[string]*sandboxState           // by ID
	containers map[string]lifecycle.ContainerInfo // the last state seen, by ID
	removed    map[string]time.Time               // containers and sandboxes we removed, by ID
	subs       map[*subscriber]struct{}
	backlog    []lifecycle.RuntimeEvent // exits seen while nobody subscribed
}

// sandboxState is what the adapter knows of a sandbox: the config CreateContainer must repeat,
// and whether it was ready when last seen.
type sandboxState struct {
	pod     lifecycle.PodRef
	attempt int32
	cfg     *runtimeapi.PodSandboxConfig
	vols    []podlife.Volume
	hostNet bool
	ip      string
	ready   bool
	since   time.Time // when the adapter first recorded it
}

var _ lifecycle.Runtime = (*Runtime)(nil)

// maxBacklog bounds the exits kept for a subscriber to come; older ones are dropped (the agent
// relists on start anyway).
const maxBacklog = 1024

// Connect connects to containerd at cfg.Socket and waits, within cfg.Timeout, until it answers
// and reports RuntimeReady. A socket that does not exist or does not answer gives a
// *lifecycle.RuntimeError naming it and wrapping lifecycle.ErrRuntimeUnavailable, at once for a
// missing socket. It also finds out whether containerd streams container events.
func Connect(ctx context.Context, cfg Config) (*Runtime, error) {
	if cfg.Socket == "" {
		return nil, errors.New("containerd: Config.Socket: Required value")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.RelistPeriod <= 0 {
		cfg.RelistPeriod = time.Second
	}
	if cfg.Scope == "" {
		cfg.Scope = "podlife"
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = "127.0.0.1"
	}
	if cfg.VolumeMountRoot == "" {
		cfg.VolumeMountRoot = "/volumes"
	}
	down := func(format string, args ...any) error {
		return failf("Connect", cfg.Socket, lifecycle.ErrRuntimeUnavailable, format, args...)
	}
	// A socket that is not there would only make gRPC retry until the timeout.
	fi, err := os.Stat(cfg.Socket)
	if err != nil {
		return nil, down("%w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, down("not a unix socket")
	}
	conn, err := grpc.NewClient("unix://"+cfg.Socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			// Reconnect quickly after a containerd restart: at most 1 s between tries.
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: cfg.Timeout,
		}),
		// kubelet's limit: exec output and large lists fit.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)),
	)
	if err != nil {
		return nil, down("%w", err)
	}
	r := &Runtime{
		cfg: cfg, log: cfg.Logger.Named("containerd").With(zap.String("socket", cfg.Socket)), conn: conn,
		rt: runtimeapi.NewRuntimeServiceClient(conn), img: runtimeapi.NewImageServiceClient(conn),
		imageName: imageName(), sandboxes: map[string]*sandboxState{}, containers: map[string]lifecycle.ContainerInfo{},
		removed: map[string]time.Time{}, subs: map[*subscriber]struct{}{},
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	v, err := r.rt.Version(cctx, &runtimeapi.VersionRequest{})
	if err != nil {
		_ = conn.Close()
		return nil, &lifecycle.RuntimeError{Op: "Connect", ID: cfg.Socket, Err: wrapCRI(lifecycle.ErrRuntimeUnavailable, err)}
	}
	r.version = v.RuntimeName + " " + v.RuntimeVersion
	if err := r.WaitReady(cctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	r.source = r.detectEvents(cctx)
	r.log.Info("connected", zap.String("runtime", r.version), zap.String("cri", v.RuntimeApiVersion),
		zap.String("events", string(r.source)))
	return r, nil
}

// Close closes the connection. Calls in flight fail; Events streams end with their ctx.
func (r *Runtime) Close() error { return r.conn.Close() }

// Version is the runtime's name and version, as containerd reported them at Connect.
func (r *Runtime) Version() string { return r.version }

// EventSource says how Events learns of exits on this containerd, as found at Connect.
func (r *Runtime) EventSource() EventSource { return r.source }

// WaitReady polls CRI's Status until the condition RuntimeReady is true or ctx ends. After a
// restart containerd answers "server is not initialized yet" for a while; NetworkReady is not
// waited for (host-network pods need no CNI).
func (r *Runtime) WaitReady(ctx context.Context) error {
	var last error // the last answer; a call cut short by ctx says nothing
	for {
		resp, err := r.rt.Status(ctx, &runtimeapi.StatusRequest{})
		if err == nil {
			ready := false
			for _, c := range resp.GetStatus().GetConditions() {
				if c.Type == runtimeapi.RuntimeReady {
					ready = c.Status
					if !ready {
						err = fmt.Errorf("RuntimeReady is false: %s %s", c.Reason, c.Message)
					}
				}
			}
			if ready {
				return nil
			}
			if err == nil {
				err = errors.New("no RuntimeReady condition")
			}
		}
		// A call cut short by the deadline says nothing of the runtime: gRPC may report its own
		// DeadlineExceeded a moment before ctx is done, so look at the code too.
		if c := status.Code(err); ctx.Err() == nil && c != codes.DeadlineExceeded && c != codes.Canceled {
			last = err
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			said := "no answer"
			if last != nil {
				said = "last answer: " + message(last)
			}
			return &lifecycle.RuntimeError{Op: "WaitReady", ID: r.cfg.Socket,
				Err: fmt.Errorf("%w: not ready: %w (%s)", lifecycle.ErrRuntimeUnavailable, ctx.Err(), said)}
		case <-t.C:
		}
	}
}

// callCtx bounds a call whose ctx has no deadline by Config.Timeout.
func (r *Runtime) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, r.cfg.Timeout)
}

// retry runs f until it succeeds, fails for another reason than containerd being unavailable,
// or ctx ends: for the calls whose failure nobody retries (stops and removes) while containerd
// restarts.
func (r *Runtime) retry(ctx context.Context, f func(context.Context) error) error {
	for {
		err := f(ctx)
		if err == nil || !unavailable(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (r *Runtime) podLabels(pod lifecycle.PodRef) map[string]string {
	return map[string]string{LabelScope: r.cfg.Scope, labelPodName: pod.Name, labelPodNamespace: pod.Namespace, labelPodUID: pod.UID}
}

func podOf(labels map[string]string) lifecycle.PodRef {
	return lifecycle.PodRef{Namespace: labels[labelPodNamespace], Name: labels[labelPodName], UID: labels[labelPodUID]}
}

// uid is the sandbox metadata's uid, which containerd requires.
func uid(pod lifecycle.PodRef) string {
	if pod.UID == "" {
		return "none"
	}
	return pod.UID
}

func attemptOf(a int32) uint32 { return uint32(max(a, 0)) }

// namespaces are kubelet's defaults: the pod's network (or the node's), one IPC namespace per
// pod, and one PID namespace per container (shareProcessNamespace false).
func namespaces(hostNet bool) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	if hostNet {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

func (r *Runtime) logDir(pod lifecycle.PodRef) string {
	if r.cfg.LogDir == "" {
		return ""
	}
	return filepath.Join(r.cfg.LogDir, pod.Namespace+"_"+pod.Name+"_"+pod.UID)
}

func (r *Runtime) sandboxConfig(pod lifecycle.PodRef, attempt int32, hostNet bool, vols []podlife.Volume) *runtimeapi.PodSandboxConfig {
	volJSON, _ := json.Marshal(vols) // plain strings: cannot fail
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: uid(pod), Attempt: attemptOf(attempt)},
		LogDirectory: r.logDir(pod),
		Labels:       r.podLabels(pod),
		Annotations:  map[string]string{annHostNetwork: strconv.FormatBool(hostNet), annVolumes: string(volJSON)},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaces(hostNet)},
		},
	}
	// runc cannot set a hostname without a UTS namespace of the pod's own.
	if !hostNet {
		cfg.Hostname = pod.Name
	}
	return cfg
}

// RunSandbox runs the pod's attempt-th sandbox. Asked again for the same pod and attempt (an
// agent that restarted mid-call), it returns the sandbox that exists if that one is ready.
func (r *Runtime) RunSandbox(ctx context.Context, pod lifecycle.PodRef, spec *podlife.PodSpec, attempt int32) (lifecycle.Sandbox, error) {
	var vols []podlife.Volume
	hostNet := false
	if spec != nil {
		vols, hostNet = spec.Volumes, spec.HostNetwork
	}
	cfg := r.sandboxConfig(pod, attempt, hostNet, vols)
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	id, err := r.runPodSandbox(ctx, cfg)
	if err != nil {
		return lifecycle.Sandbox{}, fail("RunSandbox", pod.String(), nil, err)
	}
	ip := r.cfg.NodeIP
	if !hostNet {
		st, err := r.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
		if err != nil {
			return lifecycle.Sandbox{}, fail("RunSandbox", id, nil, err)
		}
		ip = st.GetStatus().GetNetwork().GetIp()
	}
	r.mu.Lock()
	r.sandboxes[id] = &sandboxState{pod: pod, attempt: attempt, cfg: cfg, vols: vols, hostNet: hostNet, ip: ip, ready: true, since: time.Now()}
	r.mu.Unlock()
	r.log.Debug("sandbox ready", zap.Stringer("pod", pod), zap.Int32("attempt", attempt), zap.String("id", id))
	return lifecycle.Sandbox{ID: id, IP: ip}, nil
}

// runPodSandbox runs cfg, or adopts the sandbox that already has its name when it is ready; a
// stale one of that name (not ready) is removed and the run tried once more.
func (r *Runtime) runPodSandbox(ctx context.Context, cfg *runtimeapi.PodSandboxConfig) (string, error) {
	for try := 0; ; try++ {
		resp, err := r.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
		if err == nil {
			return resp.PodSandboxId, nil
		}
		id, ok := reservedID(err)
		if !ok {
			return "", err
		}
		st, serr := r.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
		if serr == nil && st.GetStatus().GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
			return id, nil
		}
		if try > 0 {
			return "", err
		}
		r.log.Info("removing a stale sandbox that holds the name", zap.String("id", id))
		_, _ = r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
		if _, rerr := r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); rerr != nil {
			return "", err
		}
	}
}

// StopSandbox stops and removes the sandbox and what still runs in it. Stop the containers with
// their own timeouts first: containerd kills what is left without grace.
func (r *Runtime) StopSandbox(ctx context.Context, sandboxID string) error {
	if sandboxID == "" {
		return nil
	}
	r.mu.Lock()
	r.removed[sandboxID] = time.Now()
	r.mu.Unlock()
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	stop := func(ctx context.Context) error {
		_, err := r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sandboxID})
		if err == nil || isNotFound(err) {
			_, err = r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sandboxID})
		}
		return err
	}
	err := r.retry(ctx, stop)
	// A stop that races a dying shim fails once ("ttrpc: closed"); the next one finds it dead.
	for try := 0; try < 3 && err != nil && !isNotFound(err) && ctx.Err() == nil; try++ {
		r.log.Debug("stopping the sandbox failed; again", zap.String("id", sandboxID), zap.Error(err))
		time.Sleep(100 * time.Millisecond)
		err = r.retry(ctx, stop)
	}
	if err != nil && !isNotFound(err) {
		return fail("StopSandbox", sandboxID, nil, err)
	}
	r.mu.Lock()
	delete(r.sandboxes, sandboxID)
	for id, c := range r.containers {
		if c.SandboxID == sandboxID {
			delete(r.containers, id)
			r.removed[id] = time.Now()
		}
	}
	r.mu.Unlock()
	return nil
}

func isNotFound(err error) bool {
	return err != nil && (errors.Is(err, lifecycle.ErrNotFound) || status.Code(err) == codes.NotFound)
}

// PullImage makes the request's image present under its policy, kubelet's way: Always pulls;
// IfNotPresent and Never look with ImageStatus first, and Never fails with
// lifecycle.ErrImageNeverPull when the image is missing. The pull carries the config of the
// request's sandbox when the adapter knows it, as kubelet's does (containerd uses it for the
// pod's runtime handler and, with image pull per runtime class, the snapshotter). A pull runs as
// long as ctx lets it.
func (r *Runtime) PullImage(ctx context.Context, req lifecycle.PullRequest) error {
	image, policy := req.Image, req.Policy
	if !r.imageName.MatchString(image) {
		return failf("PullImage", image, lifecycle.ErrInvalidImageName, "couldn't parse image name %q", image)
	}
	spec := &runtimeapi.ImageSpec{Image: image}
	if policy != podlife.PullAlways {
		sctx, cancel := r.callCtx(ctx)
		st, err := r.img.ImageStatus(sctx, &runtimeapi.ImageStatusRequest{Image: spec})
		cancel()
		if err != nil {
			return fail("PullImage", image, lifecycle.ErrImagePull, err)
		}
		if st.Image != nil {
			return nil
		}
		if policy == podlife.PullNever {
			return failf("PullImage", image, lifecycle.ErrImageNeverPull,
				"container image %q is not present with pull policy of Never", image)
		}
	}
	pull := &runtimeapi.PullImageRequest{Image: spec}
	if req.SandboxID != "" {
		r.mu.Lock()
		if sb := r.sandboxes[req.SandboxID]; sb != nil {
			pull.SandboxConfig = sb.cfg
		}
		r.mu.Unlock()
	}
	start := time.Now()
	if _, err := r.img.PullImage(ctx, pull); err != nil {
		return fail("PullImage", image, lifecycle.ErrImagePull, err)
	}
	r.log.Info("pulled image", zap.String("image", image), zap.Duration("took", time.Since(start)))
	return nil
}

// sandbox is what the adapter knows of a sandbox, asked from containerd when this Runtime did
// not run it (after a restart of the agent).
func (r *Runtime) sandbox(ctx context.Context, id string) (*sandboxState, error) {
	r.mu.Lock()
	sb := r.sandboxes[id]
	r.mu.Unlock()
	if sb != nil && sb.cfg != nil {
		return sb, nil
	}
	resp, err := r.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		return nil, err
	}
	sb = r.sandboxFromStatus(resp.GetStatus())
	r.mu.Lock()
	r.sandboxes[id] = sb
	r.mu.Unlock()
	return sb, nil
}

func (r *Runtime) sandboxFromStatus(st *runtimeapi.PodSandboxStatus) *sandboxState {
	hostNet := st.GetAnnotations()[annHostNetwork] == "true"
	var vols []podlife.Volume
	if s := st.GetAnnotations()[annVolumes]; s != "" {
		if err := json.Unmarshal([]byte(s), &vols); err != nil {
			r.log.Warn("sandbox has volumes we cannot read", zap.String("id", st.GetId()), zap.Error(err))
		}
	}
	pod := podOf(st.GetLabels())
	attempt := int32(st.GetMetadata().GetAttempt())
	ip := r.cfg.NodeIP
	if !hostNet {
		ip = st.GetNetwork().GetIp()
	}
	return &sandboxState{pod: pod, attempt: attempt, cfg: r.sandboxConfig(pod, attempt, hostNet, vols), vols: vols,
		hostNet: hostNet, ip: ip, ready: st.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY, since: time.Now()}
}

// containerConfig is c's CRI config in sb.
func (r *Runtime) containerConfig(sb *sandboxState, pod lifecycle.PodRef, c *podlife.Container, attempt int32) (*runtimeapi.ContainerConfig, error) {
	labels := r.podLabels(pod)
	labels[labelContainer] = c.Name
	cfg := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: attemptOf(attempt)},
		Image:    &runtimeapi.ImageSpec{Image: c.Image},
		Command:  c.Command,
		Args:     c.Args,
		Labels:   labels,
		Linux: &runtimeapi.LinuxContainerConfig{
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaces(sb.hostNet)},
		},
	}
	if sb.cfg.GetLogDirectory() != "" {
		cfg.LogPath = path.Join(c.Name, strconv.Itoa(int(attemptOf(attempt)))+".log")
	}
	for _, e := range c.Env {
		if e.SecretKeyRef != nil || e.ConfigMapKeyRef != nil {
			ref := e.SecretKeyRef
			kind := "secret"
			if ref == nil {
				ref, kind = e.ConfigMapKeyRef, "configmap"
			}
			if ref.Optional {
				continue
			}
			return nil, fmt.Errorf("%w: %s %q (key %q) for env %s: this adapter resolves no secrets or config maps in env",
				lifecycle.ErrCreateContainerConfig, kind, ref.Name, ref.Key, e.Name)
		}
		cfg.Envs = append(cfg.Envs, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
	}
	if r.cfg.VolumePath != nil {
		for _, v := range sb.vols {
			host := r.cfg.VolumePath(pod, v.Name)
			if host == "" {
				return nil, fmt.Errorf("%w: volume %q has no directory on the node", lifecycle.ErrCreateContainerConfig, v.Name)
			}
			cfg.Mounts = append(cfg.Mounts, &runtimeapi.Mount{
				ContainerPath: path.Join(r.cfg.VolumeMountRoot, v.Name),
				HostPath:      host,
				Readonly:      v.Source == podlife.VolumeSecret || v.Source == podlife.VolumeConfigMap,
			})
		}
	}
	return cfg, nil
}

// CreateContainer creates instance attempt of c in the sandbox. containerd refuses a second
// container of the same pod, name and attempt ("is reserved for"): that one is returned.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, pod lifecycle.PodRef, c *podlife.Container, attempt int32) (string, error) {
	if c == nil {
		return "", failf("CreateContainer", sandboxID, lifecycle.ErrCreateContainer, "no container spec")
	}
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	sb, err := r.sandbox(ctx, sandboxID)
	if err != nil {
		return "", fail("CreateContainer", c.Name, lifecycle.ErrCreateContainer, err)
	}
	cfg, err := r.containerConfig(sb, pod, c, attempt)
	if err != nil {
		return "", &lifecycle.RuntimeError{Op: "CreateContainer", ID: c.Name, Err: err}
	}
	req := &runtimeapi.CreateContainerRequest{PodSandboxId: sandboxID, Config: cfg, SandboxConfig: sb.cfg}
	var id string
	for try := 0; ; try++ {
		resp, err := r.rt.CreateContainer(ctx, req)
		if err == nil {
			id = resp.ContainerId
			break
		}
		old, ok := reservedID(err)
		if !ok || try > 0 {
			return "", fail("CreateContainer", c.Name, lifecycle.ErrCreateContainer, err)
		}
		same, running, lerr := r.containerIn(ctx, old, sandboxID)
		if lerr != nil {
			return "", fail("CreateContainer", c.Name, lifecycle.ErrCreateContainer, err)
		}
		if same {
			r.log.Debug("container exists already", zap.String("id", old), zap.String("container", c.Name), zap.Int32("attempt", attempt))
			id = old
			break
		}
		if running {
			return "", failf("CreateContainer", c.Name, lifecycle.ErrCreateContainer,
				"the name is held by the running container %s of another sandbox", old)
		}
		// The same name in an old sandbox, exited: kubelet would have removed it by now.
		if _, err := r.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: old}); err != nil {
			return "", fail("CreateContainer", c.Name, lifecycle.ErrCreateContainer, err)
		}
	}
	r.mu.Lock()
	if _, ok := r.containers[id]; !ok {
		r.containers[id] = lifecycle.ContainerInfo{ID: id, SandboxID: sandboxID, Pod: pod, Name: c.Name, Attempt: attempt,
			State: lifecycle.ContainerStateCreated, CreatedAt: time.Now()}
	}
	r.mu.Unlock()
	return id, nil
}

// containerIn reports whether container id is in sandboxID, and whether it runs.
func (r *Runtime) containerIn(ctx context.Context, id, sandboxID string) (same, running bool, err error) {
	resp, err := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{Id: id}})
	if err != nil {
		return false, false, err
	}
	for _, c := range resp.Containers {
		if c.Id == id {
			return c.PodSandboxId == sandboxID, c.State == runtimeapi.ContainerState_CONTAINER_RUNNING, nil
		}
	}
	return false, false, fmt.Errorf("container %s holds the name but is not listed", id)
}

// StartContainer starts a created container.
func (r *Runtime) StartContainer(ctx context.Context, containerID string) error {
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	if _, err := r.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: containerID}); err != nil {
		return fail("StartContainer", containerID, lifecycle.ErrRunContainer, err)
	}
	r.mu.Lock()
	if c, ok := r.containers[containerID]; ok && c.State != lifecycle.ContainerStateExited {
		c.State = lifecycle.ContainerStateRunning
		r.containers[containerID] = c
	}
	r.mu.Unlock()
	return nil
}

// StopContainer sends the stop signal now and SIGKILL once timeout has passed, and returns when
// the container exited; the exit is streamed by Events at once. CRI counts the timeout in whole
// seconds: for a fraction, CRI gets the next whole second and a timer here sends SIGKILL (a
// StopContainer with timeout 0) at timeout exactly. A container that already exited is not an
// error; an unknown one wraps lifecycle.ErrNotFound.
func (r *Runtime) StopContainer(ctx context.Context, containerID string, timeout time.Duration) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, max(timeout, 0)+r.cfg.Timeout)
		defer cancel()
	}
	secs := int64(0)
	if timeout > 0 {
		secs = int64(math.Ceil(timeout.Seconds()))
	}
	if timeout > 0 && time.Duration(secs)*time.Second != timeout {
		kctx, cancel := context.WithCancel(ctx)
		defer cancel()
		t := time.AfterFunc(timeout, func() {
			if _, err := r.rt.StopContainer(kctx, &runtimeapi.StopContainerRequest{ContainerId: containerID, Timeout: 0}); err != nil && kctx.Err() == nil {
				r.log.Debug("SIGKILL at the timeout failed", zap.String("id", containerID), zap.Error(err))
			}
		})
		defer t.Stop()
	}
	err := r.retry(ctx, func(ctx context.Context) error {
		_, err := r.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: containerID, Timeout: secs})
		return err
	})
	if err != nil {
		return fail("StopContainer", containerID, nil, err)
	}
	info, err := r.containerStatus(ctx, containerID, "")
	if err != nil {
		r.log.Debug("status after stop failed; the relist will report the exit", zap.String("id", containerID), zap.Error(err))
		return nil
	}
	r.observe(info)
	return nil
}

// RemoveContainer removes a container (a running one is killed first); it is idempotent.
func (r *Runtime) RemoveContainer(ctx context.Context, containerID string) error {
	r.mu.Lock()
	r.forgetRemoved(time.Now())
	r.removed[containerID] = time.Now()
	r.mu.Unlock()
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	err := r.retry(ctx, func(ctx context.Context) error {
		_, err := r.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: containerID})
		return err
	})
	if err != nil && !isNotFound(err) {
		return fail("RemoveContainer", containerID, nil, err)
	}
	r.mu.Lock()
	delete(r.containers, containerID)
	r.mu.Unlock()
	return nil
}

func nsTime(ns int64) time.Time {
	if ns <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func stateOf(s runtimeapi.ContainerState) lifecycle.ContainerState {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return lifecycle.ContainerStateCreated
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return lifecycle.ContainerStateRunning
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return lifecycle.ContainerStateExited
	}
	return lifecycle.ContainerStateUnknown
}

// infoOf maps a CRI container status to podlife's. CRI reports no signal (a container killed by
// one exits with 128+n, which a process can also return on its own), so Signal stays 0, as in
// kubelet's statuses.
func infoOf(st *runtimeapi.ContainerStatus, sandboxID string) lifecycle.ContainerInfo {
	info := lifecycle.ContainerInfo{
		ID:         st.GetId(),
		SandboxID:  sandboxID,
		Pod:        podOf(st.GetLabels()),
		Name:       st.GetMetadata().GetName(),
		Attempt:    int32(st.GetMetadata().GetAttempt()),
		State:      stateOf(st.GetState()),
		CreatedAt:  nsTime(st.GetCreatedAt()),
		StartedAt:  nsTime(st.GetStartedAt()),
		FinishedAt: nsTime(st.GetFinishedAt()),
		Reason:     st.GetReason(),
		Message:    st.GetMessage(),
	}
	if info.State == lifecycle.ContainerStateExited {
		info.ExitCode = st.GetExitCode()
	}
	return info
}

// containerStatus is one container's status; sandboxID is filled from what the adapter knows
// when empty.
func (r *Runtime) containerStatus(ctx context.Context, id, sandboxID string) (lifecycle.ContainerInfo, error) {
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	resp, err := r.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return lifecycle.ContainerInfo{}, fail("ContainerStatus", id, nil, err)
	}
	if sandboxID == "" {
		r.mu.Lock()
		sandboxID = r.containers[id].SandboxID
		r.mu.Unlock()
	}
	return infoOf(resp.GetStatus(), sandboxID), nil
}

// ContainerStatus is one container's status as containerd reports it now.
func (r *Runtime) ContainerStatus(ctx context.Context, containerID string) (lifecycle.ContainerInfo, error) {
	info, err := r.containerStatus(ctx, containerID, "")
	if err == nil {
		r.observe(info)
	}
	return info, err
}

func (r *Runtime) scopeSelector() map[string]string {
	return map[string]string{LabelScope: r.cfg.Scope}
}

// ListSandboxes lists the sandboxes of this Runtime's scope, oldest first.
func (r *Runtime) ListSandboxes(ctx context.Context) ([]lifecycle.SandboxInfo, error) {
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	resp, err := r.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: r.scopeSelector()}})
	if err != nil {
		return nil, fail("ListSandboxes", r.cfg.Scope, nil, err)
	}
	items := resp.Items
	slices.SortFunc(items, func(a, b *runtimeapi.PodSandbox) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.Id, b.Id) })
	out := make([]lifecycle.SandboxInfo, 0, len(items))
	for _, s := range items {
		info := lifecycle.SandboxInfo{ID: s.Id, Pod: podOf(s.Labels), Attempt: int32(s.GetMetadata().GetAttempt()),
			Ready: s.State == runtimeapi.PodSandboxState_SANDBOX_READY}
		if s.Annotations[annHostNetwork] == "true" {
			info.IP = r.cfg.NodeIP
		} else if info.Ready {
			if st, err := r.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: s.Id}); err == nil {
				info.IP = st.GetStatus().GetNetwork().GetIp()
			}
		}
		r.mu.Lock()
		if sb := r.sandboxes[s.Id]; sb != nil {
			sb.ready = info.Ready
		} else if _, gone := r.removed[s.Id]; !gone {
			r.sandboxes[s.Id] = &sandboxState{pod: info.Pod, attempt: info.Attempt, ip: info.IP, ready: info.Ready,
				hostNet: s.Annotations[annHostNetwork] == "true", since: time.Now()}
		}
		r.mu.Unlock()
		out = append(out, info)
	}
	return out, nil
}

func compareCreated(a, b int64, ida, idb string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	switch {
	case ida < idb:
		return -1
	case ida > idb:
		return 1
	}
	return 0
}

// ListContainers lists the containers of this Runtime's scope with their full status, oldest
// first. An exit it is the first to see is also streamed by Events.
func (r *Runtime) ListContainers(ctx context.Context) ([]lifecycle.ContainerInfo, error) {
	ctx, cancel := r.callCtx(ctx)
	defer cancel()
	resp, err := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: r.scopeSelector()}})
	if err != nil {
		return nil, fail("ListContainers", r.cfg.Scope, nil, err)
	}
	items := resp.Containers
	slices.SortFunc(items, func(a, b *runtimeapi.Container) int { return compareCreated(a.CreatedAt, b.CreatedAt, a.Id, b.Id) })
	out := make([]lifecycle.ContainerInfo, 0, len(items))
	for _, c := range items {
		info, err := r.containerStatus(ctx, c.Id, c.PodSandboxId)
		if isNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fail("ListContainers", c.Id, nil, err)
		}
		r.observe(info)
		out = append(out, info)
	}
	return out, nil
}
