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
	playExamples(t, "scenarios", "-scenario", func(_, file string) string { return strings.TrimSuffix(file, ".yaml") + ".txt" })
}

// TestManifestExamples runs every manifest of examples/manifests with podsim's defaults (no
// script; deleted at 5 min) and holds its timeline to testdata/manifests/X.txt: init
// containers complete, a Job's containers complete, the others run until the deletion.
func TestManifestExamples(t *testing.T) {
	playExamples(t, "manifests", "-f", func(here, file string) string {
		return filepath.Join(here, "testdata", "manifests", strings.TrimSuffix(filepath.Base(file), ".yaml")+".txt")
	})
}

// playExamples runs podsim with flag on every examples/dir/*.yaml from the module's root, as a
// user does, and holds each output to the file expected names (from this package's directory
// and the example's absolute path). Only a manifest's warnings may reach stderr.
func playExamples(t *testing.T, dir, flag string, expected func(here, file string) string) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	here, err := os.Getwd()
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, "examples", dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	t.Chdir(root)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			rel, err := filepath.Rel(root, f)
			require.NoError(t, err)
			code, stdout, stderr := runCmd(t, flag, rel)
			require.Equal(t, exitOK, code, stderr)
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if line != "" {
					assert.Contains(t, line, ": warning: ", "stderr has only the manifest's warnings")
				}
			}
			goldenAt(t, expected(here, f), stdout)
		})
	}
}
