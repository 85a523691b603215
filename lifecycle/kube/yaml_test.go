package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A format of a program's own, as podsim's scenarios: a map of names, lists, scalars.
type testFormat struct {
	Version string                `json:"version"`
	Items   []testItem            `json:"items,omitempty"`
	ByName  map[string]testItem   `json:"byName,omitempty"`
	Extra   *struct{ N int32 }    `json:"extra,omitempty"`
	Tags    map[string]string     `json:"tags,omitempty"`
	Nested  map[string][]testItem `json:"nested,omitempty"`
}

type testItem struct {
	At    string `json:"at"`
	Count int    `json:"count,omitempty"`
}

// TestDecodeYAML: a file of a program's own format fails as a manifest does, every problem at
// once with its field path and line, without "document N"; the program's own checks name
// lines through the YAMLDocument.
func TestDecodeYAML(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // lines of the error, in order
		is         error
	}{
		{"unknown keys and wrong types, each on its line",
			"version: v1\nitems:\n- at: 1s\n  count: lots\n- at: 2s\n  cuont: 3\n",
			[]string{`f.yaml:4: items[0].count: Invalid value: "lots": must be an integer, not a string`,
				`f.yaml:6: items[1].cuont: Forbidden: unknown field "cuont" in kube.testItem`}, ErrInvalid},
		{"a value under a map key is on its own line",
			"version: v1\nbyName:\n  web:\n    at: 1s\n    count: [1]\n",
			[]string{`f.yaml:5: byName[web].count: Invalid value: must be an integer, not a list`}, ErrInvalid},
		{"a list under a map key", "version: v1\nnested:\n  a:\n  - at: x\n  - at: 3\n",
			[]string{`f.yaml:5: nested[a][1].at: Invalid value: "3": must be a string, not a number`}, ErrInvalid},
		{"a duplicate key is a syntax error with its line", "version: v1\nversion: v2\n",
			[]string{`f.yaml:2: kube: syntax error: yaml: unmarshal errors: line 2: key "version" already set in map`}, ErrSyntax},
		{"a second document", "version: v1\n---\n# two\nversion: v2\n",
			[]string{`f.yaml:4: kube: syntax error: a second document; the file holds one`}, ErrSyntax},
		{"nothing but comments", "# nothing\n\n", []string{`f.yaml:1: kube: syntax error: the file is empty`}, ErrSyntax},
		{"not an object", "- a\n- b\n", []string{`f.yaml:1: kube: syntax error: the file is a list, not an object`}, ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v testFormat
			_, err := DecodeYAML("f.yaml", []byte(tc.text), &v)
			require.Error(t, err)
			var de *DocumentError
			require.True(t, errors.As(err, &de))
			assert.Equal(t, tc.want, splitLines(err.Error()))
			assert.ErrorIs(t, err, tc.is)
		})
	}

	var v testFormat
	doc, err := DecodeYAML("f.yaml", []byte("# a comment\nversion: v1\nitems:\n- at: 1s\n- at: 2s\n  count: 3\nbyName:\n  web: {at: 4s}\n"), &v)
	require.NoError(t, err)
	assert.Equal(t, testFormat{Version: "v1", Items: []testItem{{At: "1s"}, {At: "2s", Count: 3}}, ByName: map[string]testItem{"web": {At: "4s"}}}, v)
	assert.Equal(t, 5, doc.LineOf("items[1].at"))
	assert.Equal(t, 6, doc.LineOf("items[1].count"))
	assert.Equal(t, 8, doc.LineOf("byName[web].at"), "a map key as field.Path's Key writes it")
	assert.Equal(t, 8, doc.LineOf("byName.web"), "and as a child")
	assert.Equal(t, 5, doc.LineOf("items[1].when"), "a field the file does not have is at its parent's line")
	err = doc.Errors(field.ErrorList{field.Invalid(field.NewPath("items").Index(1).Child("at"), "2s", "after the end")})
	assert.EqualError(t, err, `f.yaml:5: items[1].at: Invalid value: "2s": after the end`)
	assert.NoError(t, doc.Errors(nil))

	_, err = DecodeYAML("", []byte("version: v1\n"), v)
	assert.ErrorContains(t, err, "needs a pointer")
}

func TestDottedKeys(t *testing.T) {
	for in, want := range map[string]string{
		"a.b":                          "a.b",
		"a[2].b":                       "a[2].b",
		"a[web].b[0]":                  "a.web.b[0]",
		"metadata.labels[app]":         "metadata.labels.app",
		`spec.nodeSelector["a]b c"].x`: `spec.nodeSelector."a]b c".x`,
		"a[unclosed":                   "a[unclosed",
	} {
		assert.Equal(t, want, dottedKeys(in), in)
	}
}

func splitLines(s string) []string { return strings.Split(s, "\n") }
