package main

import (
	"fmt"
	"os"
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

// TestInputLimits: every file podsim reads is bounded, by default and by the -max flags, and a
// file over a limit is a usage error naming the limit.
func TestInputLimits(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.yaml")
	doc := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n"
	require.NoError(t, os.WriteFile(two, []byte(fmt.Sprintf(doc, "a")+"---\n"+fmt.Sprintf(doc, "b")), 0o600))
	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, []byte(`{"containers": [{"name": "app", "image": "busybox"}]}`+strings.Repeat(" ", 2000)), 0o600))
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"within the limits":                 {[]string{"-f", two, "-until", "1m", "-delete-at", "0"}, exitOK, ""},
		"a manifest over -max-file-bytes":   {[]string{"-f", two, "-max-file-bytes", "100"}, exitUsage, "more than the limit of 100 (LoadOptions.MaxFileBytes)"},
		"a quantity":                        {[]string{"-f", two, "-max-file-bytes", "0.2k"}, exitUsage, "210 bytes, more than the limit of 200 (LoadOptions.MaxFileBytes)"},
		"a document over -max-object-bytes": {[]string{"-f", two, "-max-object-bytes", "100"}, exitUsage, "document 1: kube: input too large: 103 bytes, more than the limit of 100 for one object"},
		"more than -max-objects":            {[]string{"-f", two, "-max-objects", "1"}, exitUsage, "document 2: kube: input too large: more than 1 objects"},
		"a -spec over -max-file-bytes":      {[]string{"-spec", big, "-max-file-bytes", "1000"}, exitUsage, "big.json: more than 1000 bytes (-max-file-bytes)"},
		"no limit":                          {[]string{"-spec", big, "-max-file-bytes", "-1", "-until", "1m", "-delete-at", "0"}, exitOK, ""},
		"a bad size":                        {[]string{"-f", two, "-max-file-bytes", "lots"}, exitUsage, "want a number of bytes or a quantity such as 16Mi"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			if tc.want != "" {
				assert.Contains(t, stderr, tc.want)
			}
		})
	}
}
