package kubetest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ModulePath is the path of the module podlife-node is built from.
const ModulePath = "github.com/podlife/podlife"

// PodlifeNodeBin is the name of the podlife-node binary PodlifeNode runs.
const PodlifeNodeBin = "podlife-node"

// PodlifeNode is podlife-node (cmd/podlife-node) as a NodeImpl: one process whose simulated
// nodes run every pod by kubelet's rules (probes, back-off, grace periods, hooks), each pod
// scripted by its podlife.io/script annotation. Its writes go through client-go as a kubelet's
// do (status updates, events, the final deletion of a stopped pod).
type PodlifeNode struct {
	// Bin is the podlife-node binary; default $PODLIFE_NODE_BIN (EnvPodlifeNodeBin), else the
	// one BuildPodlifeNode builds from this module.
	Bin string
	// Args are more podlife-node flags, after the defaults (the last of a repeated flag wins).
	// The defaults give each node room for 1,000 pods (KWOK's hold any number) and client rates
	// of 500 requests and 500 events a second (burst twice that), so that neither binds in the
	// benchmarks (KWOK's client has no limit; a kubelet's is 50).
	Args []string
}

// Name is "podlife".
func (PodlifeNode) Name() string { return "podlife" }

// EnvPodlifeNodeBin names a podlife-node binary for PodlifeNode to run instead of building one:
// an installed one, or another version's to compare with.
const EnvPodlifeNodeBin = "PODLIFE_NODE_BIN"

// bin is the binary to run: Bin, $PODLIFE_NODE_BIN, or a build.
func (pn PodlifeNode) bin() (string, error) {
	switch {
	case pn.Bin != "":
		return pn.Bin, nil
	case os.Getenv(EnvPodlifeNodeBin) != "":
		return os.Getenv(EnvPodlifeNodeBin), nil
	}
	return BuildPodlifeNode()
}

// Prepare builds podlife-node, unless a binary is given (Bin, $PODLIFE_NODE_BIN).
func (pn PodlifeNode) Prepare(*APIServer) error {
	_, err := pn.bin()
	return err
}

// Start starts podlife-node for the group's nodes, which it registers itself, and waits until
// its /healthz answers, which it serves once every node is registered and Ready.
func (pn PodlifeNode) Start(ctx context.Context, s *APIServer, opts NodeOptions) (*Process, error) {
	bin, err := pn.bin()
	if err != nil {
		return nil, err
	}
	kubeconfig, err := s.KubeconfigFor(opts.User)
	if err != nil {
		return nil, err
	}
	// podlife-node names one node -name itself and N > 1 nodes NAME-0 ... NAME-(N-1); the group's
	// nodes are always numbered (NodeNames).
	name := opts.Group
	if opts.Count == 1 {
		name += "-0"
	}
	args := []string{
		"-kubeconfig=" + kubeconfig,
		"-runtime=sim",
		"-nodes=" + strconv.Itoa(opts.Count),
		"-name=" + name,
		"-labels=" + NodeGroupLabel + "=" + opts.Group,
		"-max-pods=1000",
		"-qps=500", "-burst=1000",
		"-event-qps=500", "-event-burst=1000",
		"-max-lifetime=" + s.opts.MaxLifetime.String(),
		"-stats-interval=0",
	}
	if opts.LeaseDuration > 0 {
		args = append(args, "-lease-duration="+max(time.Second, opts.LeaseDuration.Round(time.Second)).String())
	}
	return s.startOnPort(ctx, "podlife-"+opts.Group, bin, func(port int) []string {
		return append(append(args, "-metrics=127.0.0.1:"+strconv.Itoa(port)), pn.Args...)
	}, func(ctx context.Context, p *Process, port int) error {
		return waitUntil(ctx, p, "healthy", s.opts.StartTimeout, func(ctx context.Context) error {
			return httpOK(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz")
		})
	})
}

// podlifeBuild is BuildPodlifeNode's result, once per process.
var podlifeBuild struct {
	once sync.Once
	path string
	err  error
}

// BuildPodlifeNode builds cmd/podlife-node from the podlife module this package was compiled
// from (or, without its sources, the one around the working directory) once per process, and
// returns the binary's path. The binary is cached by a hash of the module's sources (go.mod,
// go.sum and every non-test Go file outside nested modules) and the Go version, under
// $PODLIFE_NODE_CACHE, by default the user's cache directory's podlife/podlife-node: the test
// binaries of other packages, and later runs, reuse it. Cached builds unused for a day are
// removed when a new one is made.
func BuildPodlifeNode() (string, error) {
	podlifeBuild.once.Do(func() { podlifeBuild.path, podlifeBuild.err = buildPodlifeNode() })
	if podlifeBuild.err == nil {
		now := time.Now() // marks it used, for the pruning of other processes
		_ = os.Chtimes(filepath.Dir(podlifeBuild.path), now, now)
	}
	return podlifeBuild.path, podlifeBuild.err
}

func buildPodlifeNode() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goVersion, err := exec.Command("go", "env", "GOVERSION", "GOOS", "GOARCH").Output()
	if err != nil {
		return "", fmt.Errorf("building podlife-node: go env: %w", err)
	}
	sum, err := sourceHash(root, goVersion)
	if err != nil {
		return "", fmt.Errorf("building podlife-node: %w", err)
	}
	cache := os.Getenv("PODLIFE_NODE_CACHE")
	if cache == "" {
		user, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("building podlife-node: %w (set PODLIFE_NODE_CACHE)", err)
		}
		cache = filepath.Join(user, "podlife", "podlife-node")
	}
	dir := filepath.Join(cache, sum[:16])
	bin := filepath.Join(dir, PodlifeNodeBin)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("building podlife-node: %w", err)
	}
	pruneBuilds(cache, dir, 24*time.Hour)
	// Built to a name of its own and renamed, so that test binaries building at once never see
	// half a file.
	tmp := bin + ".tmp" + strconv.Itoa(os.Getpid())
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", tmp, "./cmd/podlife-node")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("building podlife-node in %s: %w\n%s", root, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("building podlife-node: %w", err)
	}
	return bin, nil
}

// moduleRoot is the directory of the podlife module: the one this file was compiled from, or
// else the one around the working directory.
func moduleRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if isModule(filepath.Join(d, "go.mod")) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("building podlife-node: no module %s around %v: run from within its sources", ModulePath, starts)
}

// isModule reports whether the go.mod file at path is ModulePath's.
func isModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == ModulePath
		}
	}
	return false
}

// sourceHash is a hash of what a build of the module reads: go.mod, go.sum and every Go file
// that is not a test, outside nested modules, testdata and hidden directories; and extra.
func sourceHash(root string, extra []byte) (string, error) {
	h := sha256.New()
	h.Write(extra)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" ||
				fileExists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		isSource := strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
		if !isSource && (path != filepath.Join(root, name) || (name != "go.mod" && name != "go.sum")) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00", rel)
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// pruneBuilds removes the cached builds in cache, other than keep, unused for longer than age.
func pruneBuilds(cache, keep string, age time.Duration) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(cache, e.Name())
		info, err := e.Info()
		if err != nil || !e.IsDir() || dir == keep || time.Since(info.ModTime()) < age {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
