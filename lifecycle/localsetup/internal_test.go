package localsetup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
)

// TestSetupWaitsForTheLockAsLongAsCtxLets: a Setup of a pod another call holds gives up when
// its ctx ends, and the lock is usable afterwards.
func TestSetupWaitsForTheLockAsLongAsCtxLets(t *testing.T) {
	s, err := New(Config{Root: t.TempDir()})
	require.NoError(t, err)
	pod := lifecycle.PodRef{Namespace: "default", Name: "web", UID: "1"}
	unlock, err := s.lock(context.Background(), "default_web_1")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Setup(ctx, pod, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoDirExists(t, s.PodDir(pod))

	// Another pod is not held up.
	require.NoError(t, s.Setup(context.Background(), lifecycle.PodRef{Namespace: "default", Name: "db", UID: "2"}, nil))

	unlock()
	require.NoError(t, s.Setup(context.Background(), pod, nil))
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Empty(t, s.locks, "locks are dropped once unused")
}

// TestProjectCancelledLeavesNothing: a copy interrupted by ctx leaves neither the volume nor
// a temporary directory.
func TestProjectCancelledLeavesNothing(t *testing.T) {
	base := t.TempDir()
	secrets := filepath.Join(base, "secrets")
	require.NoError(t, os.MkdirAll(filepath.Join(secrets, "db"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "db", "k"), []byte("v"), 0o644))
	s, err := New(Config{Root: filepath.Join(base, "root"), Secrets: secrets})
	require.NoError(t, err)
	volDir := filepath.Join(base, "volumes")
	require.NoError(t, os.Mkdir(volDir, 0o755))
	vol := &podlife.Volume{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, s.project(ctx, volDir, vol, "secret", secrets, zap.NewNop()), context.Canceled)
	entries, err := os.ReadDir(volDir)
	require.NoError(t, err)
	require.Empty(t, entries)

	// writeAll itself stops too, and project removes its temporary directory.
	tmp := t.TempDir()
	require.ErrorIs(t, writeAll(ctx, tmp, map[string][]byte{"k": []byte("v")}), context.Canceled)
	entries, err = os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, entries)
}
