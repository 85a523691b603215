package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawControl finds the first character of s a terminal would act on: a C0 or C1 control other
// than newline and tab, DEL, a bidirectional control, or a byte that is not UTF-8.
func rawControl(s string) (rune, bool) {
	for i, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return r, true
			}
		case r < 0x20 || (r >= 0x7f && r < 0xa0), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return r, true
		}
	}
	return 0, false
}

// hostileManifest is a valid pod whose image, command, hook and probe text carry terminal escape
// sequences: the API server accepts all of them.
const hostileManifest = `apiVersion: v1
kind: Pod
metadata:
  name: evil
spec:
  containers:
  - name: app
    image: "busybox\e[2J\e[H"
    command: ["sh", "-c", "echo \e]0;owned\a"]
    readinessProbe:
      exec:
        command: ["cat", "/tmp/ready\e[1A"]
      periodSeconds: 10
    lifecycle:
      preStop:
        exec:
          command: ["printf", "\e[2J\rall good\u202e"]
`

// hostileScript fails the probe with a message a crafted runtime could send.
const hostileScript = `{"containers": {"app": {"probes": {"readiness": {"fail": true, "message": "\u001b[2J\u001b[Hall good\r"}}}}}`

// TestHostileInputReachesNoTerminal: what a crafted manifest and script put in images, commands
// and messages shows on stdout and stderr escaped, never as a raw control character; the SVG
// escapes it as XML and stays well-formed.
func TestHostileInputReachesNoTerminal(t *testing.T) {
	dir := t.TempDir()
	manifest, script, svg := filepath.Join(dir, "evil.yaml"), filepath.Join(dir, "evil.json"), filepath.Join(dir, "evil.svg")
	require.NoError(t, os.WriteFile(manifest, []byte(hostileManifest), 0o600))
	require.NoError(t, os.WriteFile(script, []byte(hostileScript), 0o600))
	code, out, stderr := runCmd(t, "-f", manifest, "-script", script, "-delete-at", "1m", "-until", "2m", "-svg", svg)
	require.Equal(t, exitOK, code, stderr)
	t.Log("\n" + out)
	for name, s := range map[string]string{"stdout": out, "stderr": stderr} {
		if r, ok := rawControl(s); ok {
			t.Errorf("a raw %U reaches %s", r, name)
		}
	}
	assert.Contains(t, out, `"busybox\x1b[2J\x1b[H"`, "the image, quoted and escaped")
	assert.Contains(t, out, `app preStop hook: exec printf "\x1b[2J\rall good\u202e"`)
	assert.Contains(t, out, `Readiness probe failed: \x1b[2J\x1b[Hall good\r`)

	f, err := os.Open(svg)
	require.NoError(t, err)
	defer f.Close()
	dec := xml.NewDecoder(f)
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
	}
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	if r, ok := rawControl(strings.ReplaceAll(string(b), "\r", "")); ok {
		t.Errorf("a raw %U reaches the SVG", r)
	}
}

// TestHostileManifestErrorReachesNoTerminal: a manifest that fails validation with escape
// sequences in its kind and name is reported on stderr with them escaped.
func TestHostileManifestErrorReachesNoTerminal(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "evil.yaml")
	require.NoError(t, os.WriteFile(manifest, []byte("apiVersion: v1\nkind: \"Pod\\e[2J\\e[H all good\"\nmetadata:\n  name: \"x\\e[31m\"\n"), 0o600))
	code, _, stderr := runCmd(t, "-f", manifest)
	require.Equal(t, exitUsage, code)
	t.Log(stderr)
	if r, ok := rawControl(stderr); ok {
		t.Errorf("a raw %U reaches stderr", r)
	}
	assert.Contains(t, stderr, `document 1 ("Pod\x1b[2J\x1b[H all good" "x\x1b[31m")`)
}
