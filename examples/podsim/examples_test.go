package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenAt compares got with the file at path (absolute), or rewrites it under -rewrite.
func goldenAt(t *testing.T, path, got string) {
	t.Helper()
	if *rewrite {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./examples/podsim -rewrite` to create it")
	require.Equal(t, string(want), got, "%s changed; if that is intended, run `go test ./examples/podsim -rewrite` and review the diff", path)
}

// TestScenarioExamples plays every scenario of examples/scenarios as a user does from the
// module's root (go run ./examples/podsim -scenario examples/scenarios/X.yaml) and holds its
// timeline to the X.txt beside it.
func TestScenarioExamples(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "examples", "scenarios", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	t.Chdir(root)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			rel, err := filepath.Rel(root, f)
			require.NoError(t, err)
			code, stdout, stderr := runCmd(t, "-scenario", rel)
			require.Equal(t, exitOK, code, stderr)
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if line != "" {
					assert.Contains(t, line, ": warning: ", "stderr has only the manifest's warnings")
				}
			}
			goldenAt(t, strings.TrimSuffix(f, ".yaml")+".txt", stdout)
		})
	}
}

// TestManifestExamples runs every manifest of examples/manifests with podsim's defaults (no
// script; deleted at 5 min) and holds its timeline to testdata/manifests/X.txt: init
// containers complete, a Job's containers complete, the others run until the deletion.
func TestManifestExamples(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	here, err := os.Getwd()
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "examples", "manifests", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	t.Chdir(root)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			rel, err := filepath.Rel(root, f)
			require.NoError(t, err)
			code, stdout, stderr := runCmd(t, "-f", rel)
			require.Equal(t, exitOK, code, stderr)
			goldenAt(t, filepath.Join(here, "testdata", "manifests", name+".txt"), stdout)
		})
	}
}
