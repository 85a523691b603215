package localsetup_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/localsetup"
)

var pod = lifecycle.PodRef{Namespace: "default", Name: "web", UID: "0b5e-42"}

// env is a Setup on a fresh temporary tree: root, secrets and config maps.
type env struct {
	t                         *testing.T
	root, secrets, configMaps string
	s                         *localsetup.Setup
}

func newEnv(t *testing.T) *env {
	t.Helper()
	base := t.TempDir()
	e := &env{t: t, root: filepath.Join(base, "kubelet"), secrets: filepath.Join(base, "secrets"),
		configMaps: filepath.Join(base, "configmaps")}
	require.NoError(t, os.Mkdir(e.secrets, 0o755))
	require.NoError(t, os.Mkdir(e.configMaps, 0o755))
	s, err := localsetup.New(localsetup.Config{Root: e.root, Secrets: e.secrets, ConfigMaps: e.configMaps})
	require.NoError(t, err)
	e.s = s
	return e
}

// source writes the secret or config map name under dir, one file per key.
func (e *env) source(dir, name string, keys map[string]string) {
	e.t.Helper()
	d := filepath.Join(dir, name)
	require.NoError(e.t, os.MkdirAll(d, 0o755))
	for k, v := range keys {
		require.NoError(e.t, os.WriteFile(filepath.Join(d, k), []byte(v), 0o600))
	}
}

// contents is every regular file in dir by name; nil if dir does not exist.
func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	got := map[string]string{}
	for _, en := range entries {
		require.True(t, en.Type().IsRegular(), "%s is not a regular file", en.Name())
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		require.NoError(t, err)
		got[en.Name()] = string(b)
	}
	return got
}

// names is what is in dir, sorted; nil if dir does not exist.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, en := range entries {
		out = append(out, en.Name())
	}
	sort.Strings(out)
	return out
}

func specWith(vols ...podlife.Volume) *podlife.PodSpec {
	return &podlife.PodSpec{Containers: []podlife.Container{{Name: "app", Image: "nginx"}}, Volumes: vols}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     localsetup.Config
		wantErr string
	}{
		{"root required", localsetup.Config{}, "localsetup: Config.Root: Required value"},
		{"root absolute", localsetup.Config{Root: "var/lib/kubelet"},
			`localsetup: Config.Root: Invalid value: "var/lib/kubelet": must be an absolute path`},
		{"secrets absolute", localsetup.Config{Root: "/var/lib/kubelet", Secrets: "secrets"},
			`localsetup: Config.Secrets: Invalid value: "secrets": must be an absolute path`},
		{"config maps absolute", localsetup.Config{Root: "/var/lib/kubelet", ConfigMaps: "./cm"},
			`localsetup: Config.ConfigMaps: Invalid value: "./cm": must be an absolute path`},
		{"every problem at once", localsetup.Config{Secrets: "s"},
			"localsetup: Config.Root: Required value\nConfig.Secrets: Invalid value: \"s\": must be an absolute path"},
		{"minimal", localsetup.Config{Root: "/var/lib/kubelet"}, ""},
		{"full", localsetup.Config{Root: "/r/", Secrets: "/s", ConfigMaps: "/c"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := localsetup.New(tt.cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.EqualError(t, err, tt.wantErr)
			require.ErrorIs(t, err, podlife.ErrInvalid)
			require.Nil(t, s)
		})
	}
}

func TestNewDoesNotTouchDisk(t *testing.T) {
	root := filepath.Join(t.TempDir(), "kubelet")
	_, err := localsetup.New(localsetup.Config{Root: root})
	require.NoError(t, err)
	require.NoDirExists(t, root)
}

func TestPaths(t *testing.T) {
	s, err := localsetup.New(localsetup.Config{Root: "/var/lib/kubelet/"})
	require.NoError(t, err)
	assert.Equal(t, "/var/lib/kubelet/pods/default_web_0b5e-42", s.PodDir(pod))
	assert.Equal(t, "/var/lib/kubelet/pods/default_web_0b5e-42/volumes/data", s.VolumePath(pod, "data"))
	assert.Equal(t, "/var/lib/kubelet/pods/kube-system_dns_", s.PodDir(lifecycle.PodRef{Namespace: "kube-system", Name: "dns"}))
	for _, v := range []string{"", ".", "..", "../x", "a/b", "x..y"} {
		assert.Empty(t, s.VolumePath(pod, v), "volume %q", v)
	}
	assert.Empty(t, s.PodDir(lifecycle.PodRef{Namespace: "..", Name: "web"}))
	assert.Empty(t, s.VolumePath(lifecycle.PodRef{Namespace: "default", Name: "a/b"}, "data"))
}

func TestSetupVolumeKinds(t *testing.T) {
	tests := []struct {
		name string
		vol  podlife.Volume
		// prepare writes sources; it gets the env and a scratch host directory.
		prepare func(e *env, host string)
		// want is the files of the volume; wantMode its directory's permissions.
		want     map[string]string
		wantMode fs.FileMode
		// wantHost: VolumePath is the host directory itself.
		wantHost bool
	}{
		{name: "emptyDir", vol: podlife.Volume{Name: "scratch", Source: podlife.VolumeEmptyDir},
			want: map[string]string{}, wantMode: 0o777},
		{name: "empty source is an emptyDir", vol: podlife.Volume{Name: "scratch"},
			want: map[string]string{}, wantMode: 0o777},
		{name: "secret", vol: podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
			prepare: func(e *env, _ string) {
				e.source(e.secrets, "db", map[string]string{"username": "admin", "password": "s3cr3t", ".dockerconfigjson": "{}"})
			},
			want: map[string]string{"username": "admin", "password": "s3cr3t", ".dockerconfigjson": "{}"}, wantMode: 0o755},
		{name: "configMap", vol: podlife.Volume{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: "nginx-conf"},
			prepare: func(e *env, _ string) {
				e.source(e.configMaps, "nginx-conf", map[string]string{"nginx.conf": "events {}\n"})
			},
			want: map[string]string{"nginx.conf": "events {}\n"}, wantMode: 0o755},
		{name: "secret with no keys", vol: podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "empty"},
			prepare: func(e *env, _ string) { e.source(e.secrets, "empty", nil) },
			want:    map[string]string{}, wantMode: 0o755},
		{name: "secret: directories and ..-entries are not keys, links to files are",
			vol: podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
			prepare: func(e *env, _ string) {
				e.source(e.secrets, "db", map[string]string{"token": "t"})
				d := filepath.Join(e.secrets, "db")
				require.NoError(e.t, os.Mkdir(filepath.Join(d, "sub"), 0o755))
				require.NoError(e.t, os.Mkdir(filepath.Join(d, "..2026_01_01"), 0o755))
				require.NoError(e.t, os.WriteFile(filepath.Join(d, "..2026_01_01", "ca.crt"), []byte("CA"), 0o644))
				require.NoError(e.t, os.Symlink("..2026_01_01", filepath.Join(d, "..data")))
				require.NoError(e.t, os.Symlink("..data/ca.crt", filepath.Join(d, "ca.crt")))
				// A key may not start with "..", as in the API.
				require.NoError(e.t, os.WriteFile(filepath.Join(d, "..stale"), []byte("x"), 0o644))
			},
			want: map[string]string{"token": "t", "ca.crt": "CA"}, wantMode: 0o755},
		{name: "optional missing secret is an empty dir",
			vol:  podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "nope", Optional: true},
			want: map[string]string{}, wantMode: 0o755},
		{name: "optional missing configMap is an empty dir",
			vol:  podlife.Volume{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: "nope", Optional: true},
			want: map[string]string{}, wantMode: 0o755},
		{name: "optional present secret is copied",
			vol:     podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db", Optional: true},
			prepare: func(e *env, _ string) { e.source(e.secrets, "db", map[string]string{"k": "v"}) },
			want:    map[string]string{"k": "v"}, wantMode: 0o755},
		{name: "hostPath", vol: podlife.Volume{Name: "logs", Source: podlife.VolumeHostPath},
			prepare: func(e *env, host string) {
				require.NoError(e.t, os.WriteFile(filepath.Join(host, "syslog"), []byte("boot"), 0o644))
			},
			want: map[string]string{"syslog": "boot"}, wantHost: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			host := t.TempDir()
			if tt.prepare != nil {
				tt.prepare(e, host)
			}
			vol := tt.vol
			if vol.Source == podlife.VolumeHostPath {
				vol.Ref = host
			}
			require.NoError(t, e.s.Setup(context.Background(), pod, specWith(vol)))

			path := e.s.VolumePath(pod, vol.Name)
			if tt.wantHost {
				require.Equal(t, host, path)
			} else {
				require.Equal(t, filepath.Join(e.root, "pods", "default_web_0b5e-42", "volumes", vol.Name), path)
				fi, err := os.Stat(path)
				require.NoError(t, err)
				require.True(t, fi.IsDir())
				require.Equal(t, tt.wantMode, fi.Mode().Perm())
				entries, err := os.ReadDir(path)
				require.NoError(t, err)
				for _, en := range entries {
					fi, err := en.Info()
					require.NoError(t, err)
					require.Equal(t, fs.FileMode(0o644), fi.Mode().Perm(), en.Name())
				}
			}
			require.Equal(t, tt.want, contents(t, path))
			// Nothing else in volumes/: no temporaries left behind.
			require.Equal(t, []string{vol.Name}, names(t, filepath.Join(e.s.PodDir(pod), "volumes")))
		})
	}
}

func TestSetupSeveralVolumesAndNilSpec(t *testing.T) {
	e := newEnv(t)
	e.source(e.secrets, "db", map[string]string{"password": "pw"})
	e.source(e.configMaps, "app", map[string]string{"mode": "prod"})
	host := t.TempDir()
	spec := specWith(
		podlife.Volume{Name: "scratch", Source: podlife.VolumeEmptyDir},
		podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
		podlife.Volume{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: "app"},
		podlife.Volume{Name: "host", Source: podlife.VolumeHostPath, Ref: host},
	)
	require.NoError(t, e.s.Setup(context.Background(), pod, spec))
	require.Equal(t, []string{"cfg", "creds", "host", "scratch"}, names(t, filepath.Join(e.s.PodDir(pod), "volumes")))
	require.Equal(t, map[string]string{"password": "pw"}, contents(t, e.s.VolumePath(pod, "creds")))
	require.Equal(t, map[string]string{"mode": "prod"}, contents(t, e.s.VolumePath(pod, "cfg")))
	require.Equal(t, host, e.s.VolumePath(pod, "host"))

	// A second Setup instance on the same root (a restarted agent) still knows the host path.
	s2, err := localsetup.New(localsetup.Config{Root: e.root})
	require.NoError(t, err)
	require.Equal(t, host, s2.VolumePath(pod, "host"))

	other := lifecycle.PodRef{Namespace: "default", Name: "bare", UID: "1"}
	require.NoError(t, e.s.Setup(context.Background(), other, nil))
	require.DirExists(t, filepath.Join(e.root, "pods", "default_bare_1", "volumes"))
	require.Empty(t, names(t, filepath.Join(e.root, "pods", "default_bare_1", "volumes")))
}

func TestSetupMissingSource(t *testing.T) {
	tests := []struct {
		name    string
		noDirs  bool // Config without Secrets and ConfigMaps
		prepare func(e *env)
		vol     podlife.Volume
		wantErr string
	}{
		{name: "secret", vol: podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db-password"},
			wantErr: `MountVolume.SetUp failed for volume "creds" : secret "db-password" not found`},
		{name: "configMap", vol: podlife.Volume{Name: "config-volume", Source: podlife.VolumeConfigMap, Ref: "special-config"},
			wantErr: `MountVolume.SetUp failed for volume "config-volume" : configmap "special-config" not found`},
		{name: "secret named like a config map that exists",
			prepare: func(e *env) { e.source(e.configMaps, "shared", map[string]string{"k": "v"}) },
			vol:     podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "shared"},
			wantErr: `MountVolume.SetUp failed for volume "creds" : secret "shared" not found`},
		{name: "no secrets directory configured", noDirs: true,
			vol:     podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
			wantErr: `MountVolume.SetUp failed for volume "creds" : secret "db" not found`},
		{name: "no config map directory configured", noDirs: true,
			vol:     podlife.Volume{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: "app"},
			wantErr: `MountVolume.SetUp failed for volume "cfg" : configmap "app" not found`},
		{name: "hostPath", vol: podlife.Volume{Name: "logs", Source: podlife.VolumeHostPath, Ref: "/nonexistent/podlife/logs"},
			wantErr: `MountVolume.SetUp failed for volume "logs" : hostPath "/nonexistent/podlife/logs" not found`},
		{name: "hostPath optional is still required",
			vol:     podlife.Volume{Name: "logs", Source: podlife.VolumeHostPath, Ref: "/nonexistent/podlife/logs", Optional: true},
			wantErr: `MountVolume.SetUp failed for volume "logs" : hostPath "/nonexistent/podlife/logs" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.s
			if tt.noDirs {
				var err error
				s, err = localsetup.New(localsetup.Config{Root: e.root})
				require.NoError(t, err)
			}
			if tt.prepare != nil {
				tt.prepare(e)
			}
			err := s.Setup(context.Background(), pod, specWith(tt.vol))
			require.EqualError(t, err, tt.wantErr)
			require.ErrorIs(t, err, localsetup.ErrMissingSource)
			var me *localsetup.MountError
			require.ErrorAs(t, err, &me)
			require.Equal(t, tt.vol.Name, me.Volume)
			// Nothing half made: no volume and no temporaries.
			require.Empty(t, names(t, filepath.Join(s.PodDir(pod), "volumes")))
		})
	}
}

func TestSetupStopsAtFirstFailedVolume(t *testing.T) {
	e := newEnv(t)
	spec := specWith(
		podlife.Volume{Name: "a", Source: podlife.VolumeEmptyDir},
		podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
		podlife.Volume{Name: "z", Source: podlife.VolumeEmptyDir},
	)
	err := e.s.Setup(context.Background(), pod, spec)
	require.EqualError(t, err, `MountVolume.SetUp failed for volume "creds" : secret "db" not found`)
	require.Equal(t, []string{"a"}, names(t, filepath.Join(e.s.PodDir(pod), "volumes")))

	// Once the secret appears, the retry completes.
	e.source(e.secrets, "db", map[string]string{"password": "pw"})
	require.NoError(t, e.s.Setup(context.Background(), pod, spec))
	require.Equal(t, []string{"a", "creds", "z"}, names(t, filepath.Join(e.s.PodDir(pod), "volumes")))
}

func TestSetupSourceErrorsThatAreNotMissing(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(e *env, dst string)
		vol     podlife.Volume
		wantErr string // a prefix, the rest names temporary paths
	}{
		{name: "secret is a file, not a directory",
			prepare: func(e *env, _ string) {
				require.NoError(e.t, os.WriteFile(filepath.Join(e.secrets, "db"), []byte("x"), 0o644))
			},
			vol:     podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
			wantErr: `MountVolume.SetUp failed for volume "creds" : secret "db": `},
		{name: "emptyDir where a file is",
			prepare: func(e *env, dst string) {
				require.NoError(e.t, os.MkdirAll(filepath.Dir(dst), 0o755))
				require.NoError(e.t, os.WriteFile(dst, []byte("x"), 0o644))
			},
			vol:     podlife.Volume{Name: "scratch"},
			wantErr: `MountVolume.SetUp failed for volume "scratch" : `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.prepare(e, e.s.VolumePath(pod, tt.vol.Name))
			err := e.s.Setup(context.Background(), pod, specWith(tt.vol))
			require.Error(t, err)
			require.Contains(t, err.Error(), "exists and is not a directory")
			require.Equal(t, tt.wantErr, err.Error()[:len(tt.wantErr)])
			require.NotErrorIs(t, err, localsetup.ErrMissingSource)
		})
	}
}

func TestSetupIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.source(e.secrets, "db", map[string]string{"password": "one"})
	e.source(e.configMaps, "app", map[string]string{"mode": "prod"})
	spec := specWith(
		podlife.Volume{Name: "scratch"},
		podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
		podlife.Volume{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: "app"},
		podlife.Volume{Name: "opt", Source: podlife.VolumeSecret, Ref: "later", Optional: true},
	)
	require.NoError(t, e.s.Setup(ctx, pod, spec))

	// The pod writes into its emptyDir.
	scratch := e.s.VolumePath(pod, "scratch")
	require.NoError(t, os.WriteFile(filepath.Join(scratch, "cache"), []byte("warm"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(scratch, "sub"), 0o755))
	dirs := map[string]os.FileInfo{}
	for _, v := range []string{"scratch", "creds", "cfg", "opt"} {
		fi, err := os.Stat(e.s.VolumePath(pod, v))
		require.NoError(t, err)
		dirs[v] = fi
	}

	steps := []struct {
		name   string
		change func()
	}{
		{name: "nothing changed", change: func() {}},
		{name: "sources changed", change: func() {
			e.source(e.secrets, "db", map[string]string{"password": "two", "user": "admin"})
			e.source(e.configMaps, "app", map[string]string{"mode": "dev"})
			e.source(e.secrets, "later", map[string]string{"x": "y"})
		}},
		{name: "sources deleted", change: func() {
			require.NoError(t, os.RemoveAll(filepath.Join(e.secrets, "db")))
			require.NoError(t, os.RemoveAll(filepath.Join(e.configMaps, "app")))
		}},
	}
	for _, st := range steps {
		st.change()
		require.NoError(t, e.s.Setup(ctx, pod, spec), st.name)
		require.Equal(t, map[string]string{"cache": "warm"}, filesOnly(t, scratch), st.name)
		require.DirExists(t, filepath.Join(scratch, "sub"), st.name)
		// The copies first made are kept, not rewritten.
		require.Equal(t, map[string]string{"password": "one"}, contents(t, e.s.VolumePath(pod, "creds")), st.name)
		require.Equal(t, map[string]string{"mode": "prod"}, contents(t, e.s.VolumePath(pod, "cfg")), st.name)
		require.Equal(t, map[string]string{}, contents(t, e.s.VolumePath(pod, "opt")), st.name)
		for v, before := range dirs {
			now, err := os.Stat(e.s.VolumePath(pod, v))
			require.NoError(t, err)
			require.True(t, os.SameFile(before, now), "%s: volume %s was replaced", st.name, v)
		}
		require.Equal(t, []string{"cfg", "creds", "opt", "scratch"}, names(t, filepath.Join(e.s.PodDir(pod), "volumes")), st.name)
	}

	// A volume removed by hand is made again, from the current source.
	e.source(e.secrets, "db", map[string]string{"password": "three"})
	require.NoError(t, os.RemoveAll(e.s.VolumePath(pod, "creds")))
	require.NoError(t, e.s.Setup(ctx, pod, spec))
	require.Equal(t, map[string]string{"password": "three"}, contents(t, e.s.VolumePath(pod, "creds")))

	// Teardown and Setup give fresh copies.
	e.source(e.secrets, "later", map[string]string{"x": "y"})
	e.source(e.configMaps, "app", map[string]string{"mode": "dev"})
	require.NoError(t, e.s.Teardown(ctx, pod))
	require.NoError(t, e.s.Setup(ctx, pod, spec))
	require.Equal(t, map[string]string{"x": "y"}, contents(t, e.s.VolumePath(pod, "opt")))
	require.Equal(t, map[string]string{"mode": "dev"}, contents(t, e.s.VolumePath(pod, "cfg")))
	require.Empty(t, names(t, scratch))
}

// filesOnly is contents without sub-directories.
func filesOnly(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	got := map[string]string{}
	for _, en := range entries {
		if en.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, en.Name()))
			require.NoError(t, err)
			got[en.Name()] = string(b)
		}
	}
	return got
}

func TestSetupHostPathChanged(t *testing.T) {
	e := newEnv(t)
	one, two := t.TempDir(), t.TempDir()
	require.NoError(t, e.s.Setup(context.Background(), pod, specWith(podlife.Volume{Name: "h", Source: podlife.VolumeHostPath, Ref: one})))
	require.Equal(t, one, e.s.VolumePath(pod, "h"))
	require.NoError(t, e.s.Setup(context.Background(), pod, specWith(podlife.Volume{Name: "h", Source: podlife.VolumeHostPath, Ref: two + "/"})))
	require.Equal(t, two, e.s.VolumePath(pod, "h"))
	require.NoDirExists(t, filepath.Join(one, "h"), "nothing is created on the host")
	require.Empty(t, names(t, one))
}

func TestSetupRemovesLeftoverTemporaries(t *testing.T) {
	e := newEnv(t)
	e.source(e.secrets, "db", map[string]string{"password": "pw"})
	vols := filepath.Join(e.s.PodDir(pod), "volumes")
	// What a Setup killed between writing and renaming leaves behind.
	require.NoError(t, os.MkdirAll(filepath.Join(vols, "..tmp-creds-123456"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(vols, "..tmp-creds-123456", "password"), []byte("p"), 0o644))
	require.NoError(t, e.s.Setup(context.Background(), pod, specWith(podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"})))
	require.Equal(t, []string{"creds"}, names(t, vols))
}

func TestTeardown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "keep"), []byte("me"), 0o644))
	e.source(e.secrets, "db", map[string]string{"password": "pw"})
	other := lifecycle.PodRef{Namespace: "default", Name: "other", UID: "2"}
	spec := specWith(
		podlife.Volume{Name: "scratch"},
		podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
		podlife.Volume{Name: "host", Source: podlife.VolumeHostPath, Ref: host},
	)
	require.NoError(t, e.s.Setup(ctx, pod, spec))
	require.NoError(t, e.s.Setup(ctx, other, spec))
	require.NoError(t, os.WriteFile(filepath.Join(e.s.VolumePath(pod, "scratch"), "f"), []byte("x"), 0o644))

	for i := range 3 { // idempotent
		require.NoError(t, e.s.Teardown(ctx, pod), "teardown %d", i)
		require.NoDirExists(t, e.s.PodDir(pod))
	}
	// The host path is not followed, the source and the other pod are untouched.
	require.Equal(t, map[string]string{"keep": "me"}, contents(t, host))
	require.Equal(t, map[string]string{"password": "pw"}, contents(t, filepath.Join(e.secrets, "db")))
	require.DirExists(t, e.s.VolumePath(other, "scratch"))

	// A pod never set up, on a root that does not exist yet.
	fresh, err := localsetup.New(localsetup.Config{Root: filepath.Join(t.TempDir(), "none")})
	require.NoError(t, err)
	require.NoError(t, fresh.Teardown(ctx, pod))

	// Setup after Teardown starts from scratch.
	require.NoError(t, e.s.Setup(ctx, pod, spec))
	require.Empty(t, names(t, e.s.VolumePath(pod, "scratch")))
}

func TestRejectsUnsafeNames(t *testing.T) {
	tests := []struct {
		name    string
		pod     lifecycle.PodRef
		vols    []podlife.Volume
		wantErr string
	}{
		{name: "volume name with ..", vols: []podlife.Volume{{Name: "../../etc"}},
			wantErr: `spec.volumes[0].name: Invalid value: "../../etc": must not contain '/' or '..'`},
		{name: "volume name ..", vols: []podlife.Volume{{Name: "ok"}, {Name: ".."}},
			wantErr: `spec.volumes[1].name: Invalid value: "..": must not contain '/' or '..'`},
		{name: "volume name with /", vols: []podlife.Volume{{Name: "a/b", Source: podlife.VolumeSecret, Ref: "db"}},
			wantErr: `spec.volumes[0].name: Invalid value: "a/b": must not contain '/' or '..'`},
		{name: "volume name .", vols: []podlife.Volume{{Name: "."}},
			wantErr: `spec.volumes[0].name: Invalid value: ".": must not contain '/' or '..'`},
		{name: "volume name required", vols: []podlife.Volume{{Source: podlife.VolumeEmptyDir}},
			wantErr: `spec.volumes[0].name: Required value`},
		{name: "duplicate volume", vols: []podlife.Volume{{Name: "d"}, {Name: "d"}},
			wantErr: `spec.volumes[1].name: Duplicate value: "d"`},
		{name: "secret ref with ..", vols: []podlife.Volume{{Name: "creds", Source: podlife.VolumeSecret, Ref: "../configmaps/app"}},
			wantErr: `spec.volumes[0].ref: Invalid value: "../configmaps/app": must not contain '/' or '..'`},
		{name: "configMap ref with /", vols: []podlife.Volume{{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: "/etc"}},
			wantErr: `spec.volumes[0].ref: Invalid value: "/etc": must not contain '/' or '..'`},
		{name: "configMap ref ..", vols: []podlife.Volume{{Name: "cfg", Source: podlife.VolumeConfigMap, Ref: ".."}},
			wantErr: `spec.volumes[0].ref: Invalid value: "..": must not contain '/' or '..'`},
		{name: "secret ref required", vols: []podlife.Volume{{Name: "creds", Source: podlife.VolumeSecret}},
			wantErr: `spec.volumes[0].ref: Required value: must name the secret`},
		{name: "hostPath with ..", vols: []podlife.Volume{{Name: "h", Source: podlife.VolumeHostPath, Ref: "/var/log/../../etc"}},
			wantErr: `spec.volumes[0].ref: Invalid value: "/var/log/../../etc": must not contain '..'`},
		{name: "hostPath relative", vols: []podlife.Volume{{Name: "h", Source: podlife.VolumeHostPath, Ref: "var/log"}},
			wantErr: `spec.volumes[0].ref: Invalid value: "var/log": must be an absolute path`},
		{name: "unknown source", vols: []podlife.Volume{{Name: "n", Source: "nfs"}},
			wantErr: `spec.volumes[0].source: Unsupported value: "nfs": supported values: "configMap", "emptyDir", "hostPath", "secret"`},
		{name: "every problem at once",
			vols: []podlife.Volume{{Name: "ok"}, {Name: "../x", Source: podlife.VolumeSecret, Ref: "a/b"}},
			wantErr: "spec.volumes[1].name: Invalid value: \"../x\": must not contain '/' or '..'\n" +
				"spec.volumes[1].ref: Invalid value: \"a/b\": must not contain '/' or '..'"},
		{name: "pod name with /", pod: lifecycle.PodRef{Namespace: "default", Name: "../../x", UID: "1"},
			wantErr: `pod.name: Invalid value: "../../x": must not contain '/' or '..'`},
		{name: "namespace ..", pod: lifecycle.PodRef{Namespace: "..", Name: "web", UID: "1"},
			wantErr: `pod.namespace: Invalid value: "..": must not contain '/' or '..'`},
		{name: "uid with /", pod: lifecycle.PodRef{Namespace: "default", Name: "web", UID: "a/../../b"},
			wantErr: `pod.uid: Invalid value: "a/../../b": must not contain '/' or '..'`},
		{name: "namespace with _", pod: lifecycle.PodRef{Namespace: "a_b", Name: "web", UID: "1"},
			wantErr: `pod.namespace: Invalid value: "a_b": must not contain '_'`},
		{name: "pod name required", pod: lifecycle.PodRef{Namespace: "default", UID: "1"},
			wantErr: `pod.name: Required value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.source(e.secrets, "db", map[string]string{"k": "v"})
			e.source(e.configMaps, "app", map[string]string{"k": "v"})
			ref := tt.pod
			if ref == (lifecycle.PodRef{}) {
				ref = pod
			}
			err := e.s.Setup(context.Background(), ref, specWith(tt.vols...))
			prefix := "localsetup: pod web_default(0b5e-42): "
			if tt.pod != (lifecycle.PodRef{}) {
				prefix = "localsetup: "
			}
			require.EqualError(t, err, prefix+tt.wantErr)
			require.ErrorIs(t, err, podlife.ErrInvalid)
			require.NotErrorIs(t, err, localsetup.ErrMissingSource)
			require.NoDirExists(t, e.root, "nothing may be created for a rejected pod")
			if tt.pod != (lifecycle.PodRef{}) {
				err := e.s.Teardown(context.Background(), ref)
				require.Error(t, err)
				require.ErrorIs(t, err, podlife.ErrInvalid)
			}
		})
	}
}

func TestContextDone(t *testing.T) {
	spec := specWith(podlife.Volume{Name: "scratch"}, podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline passed", expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.source(e.secrets, "db", map[string]string{"k": "v"})
			err := e.s.Setup(tt.ctx, pod, spec)
			require.ErrorIs(t, err, tt.want)
			require.Equal(t, "localsetup: pod web_default(0b5e-42): "+tt.want.Error(), err.Error())
			require.NoDirExists(t, e.root)

			require.NoError(t, e.s.Setup(context.Background(), pod, spec))
			err = e.s.Teardown(tt.ctx, pod)
			require.ErrorIs(t, err, tt.want)
			require.DirExists(t, e.s.PodDir(pod), "a cancelled Teardown removes nothing")
		})
	}
}

func TestConcurrentSetupOfOnePod(t *testing.T) {
	e := newEnv(t)
	keys := map[string]string{}
	for i := range 20 {
		keys["k"+strconv.Itoa(i)] = strconv.Itoa(i)
	}
	e.source(e.secrets, "db", keys)
	spec := specWith(podlife.Volume{Name: "scratch"}, podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = e.s.Setup(context.Background(), pod, spec) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, keys, contents(t, e.s.VolumePath(pod, "creds")))
	require.Equal(t, []string{"creds", "scratch"}, names(t, filepath.Join(e.s.PodDir(pod), "volumes")))
}

// TestSecretVolumeNeverHalfWritten sets up a secret of many keys again and again while a
// reader lists the volume: each listing is absent or complete.
func TestSecretVolumeNeverHalfWritten(t *testing.T) {
	e := newEnv(t)
	const n = 50
	keys := map[string]string{}
	for i := range n {
		keys["key"+strconv.Itoa(i)] = strings.Repeat("x", 1000)
	}
	e.source(e.secrets, "db", keys)
	spec := specWith(podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"})
	path := e.s.VolumePath(pod, "creds")

	var bad []int
	complete := 0
	for range 20 {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := os.Open(path)
				if err != nil {
					continue // not there yet
				}
				got, err := d.Readdirnames(-1)
				d.Close()
				if err != nil {
					continue
				}
				if len(got) != n {
					if len(bad) < 5 {
						bad = append(bad, len(got))
					}
				} else {
					complete++
				}
			}
		})
		require.NoError(t, e.s.Setup(context.Background(), pod, spec))
		close(stop)
		wg.Wait()
		require.NoError(t, e.s.Teardown(context.Background(), pod))
	}
	require.Empty(t, bad, "listings with the wrong number of keys (the first 5)")
	t.Logf("%d complete listings seen", complete)
}
