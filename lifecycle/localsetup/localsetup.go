// Package localsetup is a lifecycle.PodSetup that prepares pods on a local directory, laid out
// the way kubelet lays out /var/lib/kubelet/pods/<uid>/:
//
//	<Root>/pods/<namespace>_<name>_<uid>/
//	    volumes/<volume-name>/     one entry per volume of the pod
//
// What each volume kind becomes:
//
//   - emptyDir: an empty directory, mode 0777 as kubelet makes it so that any container user can
//     write. It is created once and kept across Setup calls, with whatever the pod wrote in it.
//   - secret, configMap: a copy of the files of <Secrets>/<ref>/ (or <ConfigMaps>/<ref>/), one
//     file per key, mode 0644 (kubelet's defaultMode). Keys are the regular files of the source
//     directory or links to them; directories and entries starting with ".." (which no key may
//     start with, and kubelet's own ..data) are skipped. The copy is written to a temporary
//     directory next to the volume and renamed into place, so the volume is either absent or
//     complete, never half written. The copy is made once: a later Setup keeps it as it is,
//     because replacing a directory cannot be atomic for a container that already mounted it
//     (its bind mount keeps the old directory, which would be emptied); Teardown and Setup make
//     a fresh copy. A missing source is an error wrapping ErrMissingSource (kubelet's
//     FailedMount), unless the volume is optional: then it is an empty directory.
//   - hostPath: nothing is created on the host; the path must exist (an error wrapping
//     ErrMissingSource otherwise). It is recorded as a symbolic link volumes/<volume-name> →
//     the path, so that VolumePath still answers after the process restarted.
//
// Teardown removes the pod directory (without following links: a hostPath is never touched).
package localsetup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
)

// Config configures a Setup.
type Config struct {
	// Root is the data directory, kubelet's /var/lib/kubelet; pods live under Root/pods. It is
	// required and must be absolute.
	Root string
	// Secrets holds one sub-directory per secret, named after it, with one file per key. Empty
	// means no secret exists on this node. If set, it must be absolute.
	Secrets string
	// ConfigMaps is the same for config maps.
	ConfigMaps string
	// Logger receives the logs; nil means zap.NewNop().
	Logger *zap.Logger
}

// ErrMissingSource is wrapped by the error for a volume whose source does not exist: a
// non-optional secret or config map, or a host path.
var ErrMissingSource = errors.New("volume source not found")

// MountError is the failure to set up one volume. It reads like kubelet's FailedMount event:
//
//	MountVolume.SetUp failed for volume "creds" : secret "db-password" not found
type MountError struct {
	Volume string
	Err    error
}

func (e *MountError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *MountError) Unwrap() error { return e.Err }

// notFoundError is a missing volume source, named the way kubelet names it.
type notFoundError struct {
	kind string // secret, configmap, hostPath
	name string
}

func (e *notFoundError) Error() string           { return fmt.Sprintf("%s %q not found", e.kind, e.name) }
func (e *notFoundError) Is(target error) bool    { return target == ErrMissingSource }
func missing(kind, name string) *notFoundError   { return &notFoundError{kind: kind, name: name} }
func mountErr(vol string, err error) *MountError { return &MountError{Volume: vol, Err: err} }
func notDir(path string) error                   { return fmt.Errorf("%s exists and is not a directory", path) }
func ctxErr(pod lifecycle.PodRef, err error) error {
	return fmt.Errorf("localsetup: pod %s: %w", pod, err)
}

// tmpPrefix starts the names of the temporary entries in a volumes directory. A volume name
// cannot contain "..", so they never collide with a volume.
const tmpPrefix = "..tmp-"

// Setup prepares pods in a local directory. It is safe for concurrent use; calls for the same
// pod are serialized.
type Setup struct {
	pods       string // Root/pods
	secrets    string
	configMaps string
	log        *zap.Logger

	mu    sync.Mutex
	locks map[string]*podLock // by pod directory name
}

type podLock struct {
	ch    chan struct{} // holds a token while the pod is locked
	users int
}

var _ lifecycle.PodSetup = (*Setup)(nil)

// New checks cfg and returns a Setup. It does not touch the disk: Root is created by the first
// Setup.
func New(cfg Config) (*Setup, error) {
	var errs podlife.ErrorList
	abs := func(field, v string, required bool) string {
		switch {
		case v == "" && required:
			errs = append(errs, podlife.Required(podlife.Path("Config").Child(field), ""))
		case v != "" && !filepath.IsAbs(v):
			errs = append(errs, podlife.Invalid(podlife.Path("Config").Child(field), v, "must be an absolute path"))
		case v != "":
			return filepath.Clean(v)
		}
		return ""
	}
	root := abs("Root", cfg.Root, true)
	secrets := abs("Secrets", cfg.Secrets, false)
	configMaps := abs("ConfigMaps", cfg.ConfigMaps, false)
	if err := errs.AsError(); err != nil {
		return nil, fmt.Errorf("localsetup: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Setup{
		pods:       filepath.Join(root, "pods"),
		secrets:    secrets,
		configMaps: configMaps,
		log:        log.Named("localsetup"),
		locks:      make(map[string]*podLock),
	}, nil
}

// PodDir is the pod's directory, Root/pods/<namespace>_<name>_<uid>, or "" if pod is not a
// valid reference (see Setup).
func (s *Setup) PodDir(pod lifecycle.PodRef) string {
	name, err := podDirName(pod)
	if err != nil {
		return ""
	}
	return filepath.Join(s.pods, name)
}

// VolumePath is where the pod's volume is on this node, the directory an adapter mounts into
// the containers: PodDir/volumes/<volume>, or for a hostPath volume that Setup recorded, the
// host path itself. It is "" if pod or volume is not valid (see Setup). It does not check that
// Setup ran.
func (s *Setup) VolumePath(pod lifecycle.PodRef, volume string) string {
	dir := s.PodDir(pod)
	if dir == "" || unsafeName(volume) {
		return ""
	}
	p := filepath.Join(dir, "volumes", volume)
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := os.Readlink(p); err == nil {
			return target
		}
	}
	return p
}

// Setup creates the pod's directory and its volumes. It is idempotent: the volumes that exist
// are kept as they are (an emptyDir with what the pod wrote in it, a secret or config map
// volume with the copy first made), only the missing ones are made.
//
// pod's namespace and name are required and may contain neither '/', '_' (which separates them
// in the directory name) nor ".."; its UID may contain neither '/' nor "..". Volume names and
// the refs of secret and config map volumes may contain neither '/' nor ".."; a hostPath ref
// must be an absolute path without a ".." element. Such problems are podlife.FieldErrors
// (errors.Is(err, podlife.ErrInvalid)) found before anything is touched. The first volume that
// cannot be set up ends Setup with a *MountError; one whose source is missing wraps
// ErrMissingSource. When ctx ends, Setup stops and returns an error wrapping ctx.Err().
func (s *Setup) Setup(ctx context.Context, pod lifecycle.PodRef, spec *podlife.PodSpec) error {
	if err := ctx.Err(); err != nil {
		return ctxErr(pod, err)
	}
	name, err := podDirName(pod)
	if err != nil {
		return fmt.Errorf("localsetup: %w", err)
	}
	var vols []podlife.Volume
	if spec != nil {
		vols = spec.Volumes
	}
	if err := checkVolumes(vols); err != nil {
		return fmt.Errorf("localsetup: pod %s: %w", pod, err)
	}
	unlock, err := s.lock(ctx, name)
	if err != nil {
		return ctxErr(pod, err)
	}
	defer unlock()

	log := s.log.With(zap.Stringer("pod", pod))
	volDir := filepath.Join(s.pods, name, "volumes")
	if err := os.MkdirAll(volDir, 0o750); err != nil {
		return fmt.Errorf("localsetup: pod %s: %w", pod, err)
	}
	removeTemporaries(volDir, log)
	for i := range vols {
		vol := &vols[i]
		if err := ctx.Err(); err != nil {
			return ctxErr(pod, err)
		}
		dst := filepath.Join(volDir, vol.Name)
		var err error
		switch vol.Source {
		case "", podlife.VolumeEmptyDir:
			err = emptyDir(dst)
		case podlife.VolumeSecret:
			err = s.project(ctx, volDir, vol, "secret", s.secrets, log)
		case podlife.VolumeConfigMap:
			err = s.project(ctx, volDir, vol, "configmap", s.configMaps, log)
		case podlife.VolumeHostPath:
			err = hostPath(volDir, vol)
		}
		if err != nil {
			if ce := ctx.Err(); ce != nil && errors.Is(err, ce) {
				return ctxErr(pod, err)
			}
			log.Info("volume setup failed", zap.String("volume", vol.Name), zap.Error(err))
			return mountErr(vol.Name, err)
		}
		log.Debug("volume ready", zap.String("volume", vol.Name), zap.String("source", string(vol.Source)))
	}
	log.Info("pod set up", zap.Int("volumes", len(vols)))
	return nil
}

// Teardown removes the pod's directory, without following symbolic links. A pod that has none
// is not an error.
func (s *Setup) Teardown(ctx context.Context, pod lifecycle.PodRef) error {
	if err := ctx.Err(); err != nil {
		return ctxErr(pod, err)
	}
	name, err := podDirName(pod)
	if err != nil {
		return fmt.Errorf("localsetup: %w", err)
	}
	unlock, err := s.lock(ctx, name)
	if err != nil {
		return ctxErr(pod, err)
	}
	defer unlock()
	if err := os.RemoveAll(filepath.Join(s.pods, name)); err != nil {
		return fmt.Errorf("localsetup: pod %s: %w", pod, err)
	}
	s.log.Info("pod torn down", zap.Stringer("pod", pod))
	return nil
}

// lock waits, as long as ctx lets it, until no other call works on the pod directory name.
func (s *Setup) lock(ctx context.Context, name string) (func(), error) {
	s.mu.Lock()
	l := s.locks[name]
	if l == nil {
		l = &podLock{ch: make(chan struct{}, 1)}
		s.locks[name] = l
	}
	l.users++
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		if l.users--; l.users == 0 {
			delete(s.locks, name)
		}
		s.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// podDirName is <namespace>_<name>_<uid>, once pod is known to be safe in a path.
func podDirName(pod lifecycle.PodRef) (string, error) {
	var errs podlife.ErrorList
	for _, f := range []struct {
		field, v   string
		underscore bool // '_' allowed
	}{{"pod.namespace", pod.Namespace, false}, {"pod.name", pod.Name, false}, {"pod.uid", pod.UID, true}} {
		switch {
		case f.v == "" && f.field != "pod.uid":
			errs = append(errs, podlife.Required(podlife.Path(f.field), ""))
		case strings.Contains(f.v, "/") || strings.Contains(f.v, ".."):
			errs = append(errs, podlife.Invalid(podlife.Path(f.field), f.v, "must not contain '/' or '..'"))
		case !f.underscore && strings.Contains(f.v, "_"):
			errs = append(errs, podlife.Invalid(podlife.Path(f.field), f.v, "must not contain '_'"))
		case hasControl(f.v):
			errs = append(errs, podlife.Invalid(podlife.Path(f.field), f.v, "must not contain control characters"))
		}
	}
	if err := errs.AsError(); err != nil {
		return "", err
	}
	return pod.Namespace + "_" + pod.Name + "_" + pod.UID, nil
}

// checkVolumes finds, before anything is touched, every volume that cannot be laid out safely.
func checkVolumes(vols []podlife.Volume) error {
	var errs podlife.ErrorList
	seen := make(map[string]bool, len(vols))
	p := podlife.Path("spec").Child("volumes")
	for i := range vols {
		vol := &vols[i]
		at := p.Index(i)
		before := len(errs)
		switch {
		case vol.Name == "":
			errs = append(errs, podlife.Required(at.Child("name"), ""))
		case unsafeName(vol.Name):
			errs = append(errs, podlife.Invalid(at.Child("name"), vol.Name, "must not contain '/' or '..'"))
		case seen[vol.Name]:
			errs = append(errs, podlife.Duplicate(at.Child("name"), vol.Name))
		}
		switch vol.Source {
		case "", podlife.VolumeEmptyDir:
		case podlife.VolumeSecret, podlife.VolumeConfigMap:
			if vol.Ref == "" {
				errs = append(errs, podlife.Required(at.Child("ref"), "must name the "+string(vol.Source)))
			} else if unsafeName(vol.Ref) {
				errs = append(errs, podlife.Invalid(at.Child("ref"), vol.Ref, "must not contain '/' or '..'"))
			}
		case podlife.VolumeHostPath:
			switch {
			case vol.Ref == "":
				errs = append(errs, podlife.Required(at.Child("ref"), "must be the path on the host"))
			case !filepath.IsAbs(vol.Ref):
				errs = append(errs, podlife.Invalid(at.Child("ref"), vol.Ref, "must be an absolute path"))
			case slices.Contains(strings.Split(vol.Ref, "/"), ".."):
				errs = append(errs, podlife.Invalid(at.Child("ref"), vol.Ref, "must not contain '..'"))
			}
		default:
			errs = append(errs, podlife.NotSupported(at.Child("source"), vol.Source,
				podlife.VolumeConfigMap, podlife.VolumeEmptyDir, podlife.VolumeHostPath, podlife.VolumeSecret))
		}
		if len(errs) == before {
			seen[vol.Name] = true
		}
	}
	return errs.AsError()
}

// unsafeName reports whether s cannot be one path element of its own.
func unsafeName(s string) bool {
	return s == "" || s == "." || strings.Contains(s, "/") || strings.Contains(s, "..") ||
		strings.ContainsRune(s, 0) || strings.ContainsRune(s, filepath.Separator)
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// removeTemporaries removes what an interrupted Setup left in volDir.
func removeTemporaries(volDir string, log *zap.Logger) {
	entries, err := os.ReadDir(volDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(volDir, e.Name())); err != nil {
				log.Warn("removing a leftover temporary failed", zap.String("path", e.Name()), zap.Error(err))
			}
		}
	}
}

// emptyDir makes dst an empty directory, or keeps the one that is there.
func emptyDir(dst string) error {
	fi, err := os.Lstat(dst)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return notDir(dst)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := os.Mkdir(dst, 0o777); err != nil {
		return err
	}
	return os.Chmod(dst, 0o777) // past the umask, as kubelet does
}

// hostPath checks that the volume's path exists and records it as the link volDir/<name>.
func hostPath(volDir string, vol *podlife.Volume) error {
	target := filepath.Clean(vol.Ref)
	if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
		return missing("hostPath", vol.Ref)
	} else if err != nil {
		return err
	}
	dst := filepath.Join(volDir, vol.Name)
	if cur, err := os.Readlink(dst); err == nil && cur == target {
		return nil
	}
	if fi, err := os.Lstat(dst); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s exists and is not a hostPath record", dst)
	}
	tmp := filepath.Join(volDir, tmpPrefix+vol.Name+".link")
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// project makes volDir/<vol.Name> a complete copy of the secret or config map vol.Ref found in
// srcRoot, unless a copy is there already.
func (s *Setup) project(ctx context.Context, volDir string, vol *podlife.Volume, kind, srcRoot string, log *zap.Logger) error {
	dst := filepath.Join(volDir, vol.Name)
	if fi, err := os.Lstat(dst); err == nil {
		if !fi.IsDir() {
			return notDir(dst)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	files, err := readSource(ctx, kind, srcRoot, vol.Ref, log)
	if errors.Is(err, ErrMissingSource) && vol.Optional {
		files, err = map[string][]byte{}, nil
	}
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(volDir, tmpPrefix+vol.Name+"-")
	if err != nil {
		return err
	}
	if err := writeAll(ctx, tmp, files); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	log.Debug("volume copied", zap.String("volume", vol.Name), zap.String(kind, vol.Ref), zap.Int("keys", len(files)))
	return nil
}

// readSource reads the keys of the secret or config map name: the regular files (or links to
// them) in srcRoot/name. Entries starting with ".." (kubelet's atomic writer's own) and
// directories are skipped.
func readSource(ctx context.Context, kind, srcRoot, name string, log *zap.Logger) (map[string][]byte, error) {
	if srcRoot == "" {
		return nil, missing(kind, name)
	}
	dir := filepath.Join(srcRoot, name)
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missing(kind, name)
	} else if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s %q: %w", kind, name, notDir(dir))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	files := make(map[string][]byte, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		key := e.Name()
		if strings.HasPrefix(key, "..") {
			continue
		}
		p := filepath.Join(dir, key)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", kind, name, err)
		}
		if !fi.Mode().IsRegular() {
			log.Debug("skipping a non-file key", zap.String(kind, name), zap.String("key", key))
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", kind, name, err)
		}
		files[key] = data
	}
	return files, nil
}

// writeAll writes files into the (temporary) directory dir and flushes them and dir to disk.
func writeAll(ctx context.Context, dir string, files map[string][]byte) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(dir, k), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, err = f.Write(files[k])
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o644) // past the umask
		}
		if err != nil {
			return err
		}
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
