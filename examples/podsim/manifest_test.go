package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManifestFlagRunsTheManifestsPod(t *testing.T) {
	code, out, stderr := runCmd(t, "-f", filepath.Join("..", "manifests", "web-server.yaml"), "-delete-at", "2m", "-until", "5m")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "Pod shop/web (manifest ")
	assert.Contains(t, out, "Killing web: Stopping container web")
	assert.Contains(t, out, "web preStop hook: sleep 5s")
	// Warnings name the fields podlife does not model, with their lines, in line order.
	warn := strings.Split(strings.TrimSpace(stderr), "\n")
	require.NotEmpty(t, warn)
	assert.Contains(t, warn[0], "web-server.yaml:12: warning: spec.replicas")
	assert.Contains(t, stderr, "containers[0].resources: not modelled by podlife")
}

func TestManifestFlagErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"with -spec":        {[]string{"-f", "x.yaml", "-spec", "y.json"}, "-f and -spec both give the pod"},
		"-name without -f":  {[]string{"-name", "web"}, "-name web needs -f"},
		"missing file":      {[]string{"-f", "testdata/nope.yaml"}, "no such file"},
		"unknown object":    {[]string{"-f", filepath.Join("..", "manifests", "web-server.yaml"), "-name", "nope"}, `no object named "nope"`},
		"invalid manifest":  {[]string{"-f", filepath.Join("..", "..", "lifecycle", "kube", "testdata", "invalid", "bad-probes.yaml")}, "bad-probes.yaml:"},
		"svg over manifest": {[]string{"-f", "m.yaml", "-svg", "m.yaml"}, "would overwrite an input file"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
