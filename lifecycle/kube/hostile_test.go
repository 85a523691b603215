package kube

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawControl finds the first character of s a terminal would act on or misrender: a C0 or C1
// control other than newline and tab, DEL, a bidirectional control, or a byte that is not UTF-8.
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

// TestHostileManifestText: a crafted manifest puts terminal escape sequences in its kind, its
// name, an unknown field's key, a map key, a container name and a line separator; every error
// line keeps them escaped and quoted, so a terminal shows them as text instead of clearing the
// screen and printing a fake "all good".
func TestHostileManifestText(t *testing.T) {
	const file = `apiVersion: v1
kind: "Pod\e[2J\e[H all good"
metadata:
  name: "x\e[31mred"
---
apiVersion: v1
kind: Pod
metadata:
  name: "web\e[2J\r\u202e"
spec:
  "sneaky\e]0;owned\a": 1
  nodeSelector:
    "disk\e[8m": 5
---
apiVersion: v1
kind: Pod
metadata:
  name: "web\e[2J\r\u202e"
spec:
  containers:
  - name: "c\e[2J"
    image: "busybox\e[1A"
`
	path := filepath.Join(t.TempDir(), "evil\x1b[2J.yaml")
	require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
	_, err := LoadFile(path)
	require.Error(t, err)
	msg := err.Error()
	t.Log("\n" + msg)
	if r, ok := rawControl(msg); ok {
		t.Fatalf("a raw %U reaches the message", r)
	}
	for _, want := range []string{
		`document 1 ("Pod\x1b[2J\x1b[H all good" "x\x1b[31mred")`,
		`kind: Unsupported value: "Pod\x1b[2J\x1b[H all good"`,
		`document 2 (Pod "web\x1b[2J\r\u202e")`,
		`document 3 (Pod "web\x1b[2J\r\u202e")`,
		`metadata.name: Invalid value: "web\x1b[2J\r\u202e"`,
		`spec."sneaky\x1b]0;owned\a": Forbidden: unknown field "sneaky\x1b]0;owned\a"`,
		`spec.nodeSelector["disk\x1b[8m"]: Invalid value: "5": must be a string`,
		`spec.containers[0].name: Invalid value: "c\x1b[2J"`,
		`evil\x1b[2J.yaml:11:`,                                                           // the file's name, escaped, and the line of the unknown field
		`evil\x1b[2J.yaml:13: document 2 (Pod "web\x1b[2J\r\u202e"): spec.nodeSelector[`, // the key's line, quoted
	} {
		assert.Contains(t, msg, want)
	}
}

// TestParentPathOfQuotedKeys: a key quote.Value quoted is one element of a path, whatever dots
// and brackets its text holds, so a problem under it is reported at its parent's line.
func TestParentPathOfQuotedKeys(t *testing.T) {
	for in, want := range map[string]string{
		"a.b[2]":                           "a.b",
		"a.b":                              "a",
		"metadata.labels[app.example/x]":   "metadata.labels",
		`spec."a.b c"`:                     "spec",
		`spec."x\x1b[2J"`:                  "spec",
		`spec.nodeSelector["disk\x1b[8m"]`: "spec.nodeSelector",
		`spec.nodeSelector["a\".b"]`:       "spec.nodeSelector",
	} {
		assert.Equal(t, want, parentPath(in), in)
	}
}

// TestIntegersKeepTheirDigits: an integer too large for its field is reported with the digits
// the file has, in YAML and in JSON, though the YAML decoder turns one too large for 64 bits
// into a float (1e+23, 18446744073709552000); a number written as a fraction stays as written.
func TestIntegersKeepTheirDigits(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"YAML, beyond int64": {"apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  terminationGracePeriodSeconds: 100000000000000000000000\n  containers: [{name: app, image: busybox}]\n",
			`line 5: document 1 (Pod big): spec.terminationGracePeriodSeconds: Invalid value: "100000000000000000000000": must be an integer that fits in int64`},
		"YAML, beyond uint64, in an int32": {"apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n  - name: app\n    image: busybox\n    ports: [{containerPort: 18446744073709551616}]\n",
			`line 8: document 1 (Pod big): spec.containers[0].ports[0].containerPort: Invalid value: "18446744073709551616": must be an integer that fits in int32`},
		"YAML, negative": {"apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  activeDeadlineSeconds: -99999999999999999999\n  containers: [{name: app, image: busybox}]\n",
			`spec.activeDeadlineSeconds: Invalid value: "-99999999999999999999": must be an integer that fits in int64`},
		"JSON": {`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"}, "spec": {"terminationGracePeriodSeconds": 123456789012345678901234567890, "containers": [{"name": "app", "image": "busybox"}]}}`,
			`spec.terminationGracePeriodSeconds: Invalid value: "123456789012345678901234567890": must be an integer that fits in int64`},
		"a fraction": {"apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  terminationGracePeriodSeconds: 1.5\n  containers: [{name: app, image: busybox}]\n",
			`spec.terminationGracePeriodSeconds: Invalid value: "1.5": must be an integer`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseManifests([]byte(tc.doc))
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "e+")
		})
	}
}
