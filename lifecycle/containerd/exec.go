package containerd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/hooks"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/probe"
)

// userAgent is what kubelet's HTTP probes send.
const userAgent = "kube-probe/1.35"

// errTimedOut is an exec that ran past its time.
var errTimedOut = errors.New("command timed out")

// execResult is what ExecSync returned.
type execResult struct {
	exitCode       int
	stdout, stderr string
}

// exec runs cmd in the container with ExecSync, for as long as ctx lets it (CRI's timeout is the
// time left, in whole seconds rounded up; none without a deadline). Past its time it fails with
// an error wrapping errTimedOut.
func (r *Runtime) exec(ctx context.Context, containerID string, cmd []string) (execResult, error) {
	req := &runtimeapi.ExecSyncRequest{ContainerId: containerID, Cmd: cmd}
	if dl, ok := ctx.Deadline(); ok {
		req.Timeout = max(int64(math.Ceil(time.Until(dl).Seconds())), 1)
	}
	resp, err := r.rt.ExecSync(ctx, req)
	if err != nil {
		if status.Code(err) == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return execResult{}, fmt.Errorf("%w: %w", errTimedOut, wrapCRI(nil, err))
		}
		return execResult{}, wrapCRI(nil, err)
	}
	return execResult{exitCode: int(resp.ExitCode), stdout: string(resp.Stdout), stderr: string(resp.Stderr)}, nil
}

// podIP is where a probe or hook of t goes when its handler names no host.
func (r *Runtime) podIP(t lifecycle.Target) string {
	if t.PodIP != "" {
		return t.PodIP
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if sb := r.sandboxes[t.SandboxID]; sb != nil && sb.ip != "" {
		return sb.ip
	}
	return r.cfg.NodeIP
}

func ports(t lifecycle.Target) []podlife.Port {
	if t.Container == nil {
		return nil
	}
	return t.Container.Ports
}

func hookTarget(t lifecycle.Target) hooks.Target {
	name := ""
	if t.Container != nil {
		name = t.Container.Name
	}
	return hooks.Target{Pod: hooks.PodRef{Name: t.Pod.Name, Namespace: t.Pod.Namespace, UID: t.Pod.UID}, Container: name}
}

// RunHook runs a postStart or preStop handler: exec through ExecSync, an HTTP GET (any answer
// is a success, as in kubelet), or a sleep. ctx ends when the hook's time is up: an exec still
// running then, or a sleep cut short, fails.
func (r *Runtime) RunHook(ctx context.Context, target lifecycle.Target, _ lifecycle.Hook, h *podlife.LifecycleHandler) lifecycle.HookOutcome {
	t := hookTarget(target)
	kind, err := hooks.KindOf(h)
	if err != nil {
		return hooks.Outcome{Result: hooks.Failure, Message: fmt.Sprintf("lifecycle hook for Container %q in Pod %q: %v", t.Container, t.Pod, err)}
	}
	switch kind {
	case hooks.Exec:
		res, err := r.exec(ctx, target.ContainerID, h.Exec.Command)
		if err != nil {
			return hooks.ExecRunOutcome(t, h.Exec.Command, "", err)
		}
		return hooks.ExecOutcome(t, h.Exec.Command, res.exitCode, res.stdout, res.stderr)
	case hooks.HTTPGet:
		status, err := r.hookGet(ctx, target, h.HTTPGet)
		return hooks.HTTPOutcome(t, h.HTTPGet.Path, status, err)
	default: // hooks.Sleep
		d := hooks.SleepDuration(h.Sleep)
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return hooks.SleepOutcome(t, h.Sleep.Seconds, false)
		case <-ctx.Done():
			return hooks.SleepOutcome(t, h.Sleep.Seconds, true)
		}
	}
}

// hookGet sends a hook's GET and returns the status of the answer, without following redirects.
func (r *Runtime) hookGet(ctx context.Context, t lifecycle.Target, a *podlife.HTTPGetAction) (int, error) {
	u, hostHeader, err := r.httpURL(t, a)
	if err != nil {
		return 0, err
	}
	resp, err := doGet(ctx, newHTTPClient(), u, a.HTTPHeaders, hostHeader)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, probe.MaxOutputBytes))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// RunProbe runs one probe: exec through ExecSync (exit 0 succeeds; past timeoutSeconds it is a
// "command timed out" failure), HTTP GET with kubelet's redirect rules and status ranges, a TCP
// connect, or a gRPC health check, against the pod's address. A run that cannot be made for a
// reason on the agent's side (a named port that does not resolve, containerd unavailable) is not
// counted.
func (r *Runtime) RunProbe(ctx context.Context, target lifecycle.Target, _ probe.Kind, p *podlife.Probe) lifecycle.Outcome {
	if p == nil {
		return probe.ErrorOutcome(errors.New("no probe"))
	}
	switch {
	case p.Exec != nil:
		res, err := r.exec(ctx, target.ContainerID, p.Exec.Command)
		switch {
		case errors.Is(err, errTimedOut):
			return probe.ExecOutcome(0, true, "")
		case err != nil:
			return probe.ErrorOutcome(err)
		}
		return probe.ExecOutcome(res.exitCode, false, res.stdout+res.stderr)
	case p.HTTPGet != nil:
		return r.httpProbe(ctx, target, p.HTTPGet)
	case p.TCPSocket != nil:
		port, err := probe.ResolvePort(p.TCPSocket.Port, ports(target))
		if err != nil {
			return probe.ErrorOutcome(err)
		}
		host := p.TCPSocket.Host
		if host == "" {
			host = r.podIP(target)
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
		if err == nil {
			_ = conn.Close()
		}
		return probe.TCPOutcome(err)
	case p.GRPC != nil:
		return r.grpcProbe(ctx, target, p.GRPC)
	}
	return probe.ErrorOutcome(errors.New("probe has no handler"))
}

// httpURL is where an httpGet handler goes, and the Host header it asks for.
func (r *Runtime) httpURL(t lifecycle.Target, a *podlife.HTTPGetAction) (*url.URL, string, error) {
	port, err := probe.ResolvePort(a.Port, ports(t))
	if err != nil {
		return nil, "", err
	}
	host := a.Host
	if host == "" {
		host = r.podIP(t)
	}
	scheme := strings.ToLower(a.Scheme)
	if scheme == "" {
		scheme = "http"
	}
	p := a.Path
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u, err := url.Parse(p)
	if err != nil {
		return nil, "", err
	}
	u.Scheme, u.Host = scheme, net.JoinHostPort(host, strconv.Itoa(int(port)))
	hostHeader := ""
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			hostHeader = h.Value
		}
	}
	return u, hostHeader, nil
}

// newHTTPClient is a client as kubelet's prober has: no proxy, no keep-alive, TLS without
// verification, and no redirect followed on its own (httpProbe follows them by probe's rules).
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:             nil,
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // kubelet's probes do not verify either
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func doGet(ctx context.Context, c *http.Client, u *url.URL, headers []podlife.HTTPHeader, hostHeader string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	for _, h := range headers {
		if !strings.EqualFold(h.Name, "Host") {
			req.Header.Add(h.Name, h.Value)
		}
	}
	if hostHeader != "" {
		req.Host = hostHeader
	}
	return c.Do(req)
}

// httpProbe GETs the probe's URL and follows same-host redirects up to probe.MaxRedirectRequests
// requests, and lets probe.HTTPOutcome judge the replies.
func (r *Runtime) httpProbe(ctx context.Context, t lifecycle.Target, a *podlife.HTTPGetAction) probe.Outcome {
	u, hostHeader, err := r.httpURL(t, a)
	if err != nil {
		return probe.ErrorOutcome(err)
	}
	origin := u.Host
	client := newHTTPClient()
	var replies []probe.HTTPReply
	for {
		resp, err := doGet(ctx, client, u, a.HTTPHeaders, hostHeader)
		if err != nil {
			return probe.FailureOutcome(err.Error())
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, probe.MaxOutputBytes))
		_ = resp.Body.Close()
		if err != nil {
			return probe.ErrorOutcome(err)
		}
		reply := probe.HTTPReply{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(body)}
		replies = append(replies, reply)
		next, follow := nextHop(u, origin, reply)
		if !follow || len(replies) >= probe.MaxRedirectRequests {
			return probe.HTTPOutcome(origin, replies...)
		}
		u = next
	}
}

// nextHop is where a redirect reply leads when the probe follows it: a redirect status with a
// Location that parses, to the same host name.
func nextHop(cur *url.URL, origin string, r probe.HTTPReply) (*url.URL, bool) {
	switch r.Status {
	case 301, 302, 303, 307, 308:
	default:
		return nil, false
	}
	if r.Location == "" {
		return nil, false
	}
	loc, err := url.Parse(r.Location)
	if err != nil {
		return nil, false
	}
	next := cur.ResolveReference(loc)
	if next.Hostname() != (&url.URL{Host: origin}).Hostname() {
		return nil, false
	}
	return next, true
}

// grpcProbe asks the gRPC health service at the pod's address.
func (r *Runtime) grpcProbe(ctx context.Context, t lifecycle.Target, a *podlife.GRPCAction) probe.Outcome {
	if a.Port < 1 || a.Port > 65535 {
		return probe.ErrorOutcome(fmt.Errorf("%w: %d", probe.ErrPortOutOfRange, a.Port))
	}
	addr := net.JoinHostPort(r.podIP(t), strconv.Itoa(int(a.Port)))
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent(userAgent))
	if err != nil {
		return probe.FailureOutcome(err.Error())
	}
	defer func() { _ = conn.Close() }()
	service := ""
	if a.Service != nil {
		service = *a.Service
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return probe.FailureOutcome(fmt.Sprintf("failed to connect service %q: %v", addr, err))
	}
	return probe.GRPCOutcome(resp.GetStatus().String())
}
