package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMEScenarioPlays: the scenario the README shows plays, beside the manifest it names.
func TestREADMEScenarioPlays(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "```yaml\npodsim-scenario: v1\n")
	require.True(t, ok, "the README shows a scenario")
	body, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "manifests"), 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "scenarios"), 0o755))
	manifest, err := os.ReadFile(filepath.Join("..", "manifests", "crashloop.yaml"))
	require.NoError(t, err)
	writeFile(t, filepath.Join(dir, "manifests"), "crashloop.yaml", string(manifest))
	path := writeFile(t, filepath.Join(dir, "scenarios"), "readme.yaml", "podsim-scenario: v1\n"+body)
	code, out, stderr := runCmd(t, "-scenario", path)
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{"spec updated: api image", "Unknown  ", "supervisor: Node node-1 which was running pod api-broken-config is unresponsive",
		"node back: a new agent starts", "DeleteRequested: grace 30s", "The pod stopped at 4m"} {
		assert.Contains(t, out, want)
	}
	t.Log("\n" + out)
}
