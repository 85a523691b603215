package kube

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// pod is a small valid Pod document named name.
func pod(name string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n"
}

// TestDefaultLimits: with the zero LoadOptions, a file over 16 MiB is refused before it is
// parsed, and so is a document over the API server's 3 MiB; a file of DefaultMaxObjects small
// Pods is read, one more is refused, each error matching ErrTooLarge and naming the limit.
func TestDefaultLimits(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		data := append([]byte(pod("a")+"---\n"), bytes.Repeat([]byte("# padding\n"), DefaultMaxFileBytes/10)...)
		path := writeFile(t, data)
		start := time.Now()
		_, err := LoadFile(path)
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Contains(t, err.Error(), "kube: input too large: "+path+": 16777317 bytes, more than the limit of 16777216 (16 MiB) (LoadOptions.MaxFileBytes)")
		assert.Less(t, time.Since(start), 5*time.Second, "refused before parsing")
		_, err = ParseManifests(data)
		require.ErrorIs(t, err, ErrTooLarge)
	})
	t.Run("object", func(t *testing.T) {
		huge := pod("big") + "  # " + strings.Repeat("x", DefaultMaxObjectBytes) + "\n"
		ms, err := LoadFileWith(writeFile(t, []byte(pod("a")+"---\n"+huge+"---\n"+pod("b"))), LoadOptions{})
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Contains(t, err.Error(), "m.yaml:10: document 2: kube: input too large: 3145")
		assert.Contains(t, err.Error(), "3145728 (3 MiB) for one object")
		assert.Empty(t, ms, "LoadFile returns nothing when a document is bad")
		ms, err = ParseManifests([]byte(pod("a") + "---\n" + huge + "---\n" + pod("b")))
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Len(t, ms, 2, "the other documents are read")
	})
	t.Run("objects", func(t *testing.T) {
		ms, err := ParseManifests(append(smallPods(DefaultMaxObjects), pod("one-more")...))
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Len(t, ms, DefaultMaxObjects, "the first 10,000 are read")
		assert.Contains(t, err.Error(), "document 10001: kube: input too large: more than 10000 objects")
	})
}

// TestLoadOptions: each limit can be lowered, and lifted with a negative value; the object
// limit counts documents and the items of List documents together.
func TestLoadOptions(t *testing.T) {
	three := pod("a") + "---\n" + pod("b") + "---\n# only a comment\n---\n" + pod("c") // 3 objects, 344 bytes
	list := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one}
  spec: {containers: [{name: app, image: busybox}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: two}
  spec: {containers: [{name: app, image: busybox}]}
`
	for name, tc := range map[string]struct {
		data    string
		opts    LoadOptions
		want    int    // manifests read
		wantErr string // "" for none
	}{
		"under every limit":       {three, LoadOptions{MaxObjects: 3}, 3, ""},
		"one object too many":     {three, LoadOptions{MaxObjects: 2}, 2, "line 21: document 3: kube: input too large: more than 2 objects (LoadOptions.MaxObjects); the rest of the input is not read"},
		"a list's items count":    {list, LoadOptions{MaxObjects: 2}, 0, "line 1: document 1 (List): kube: input too large: a List of 2 items"},
		"a list within the limit": {list, LoadOptions{MaxObjects: 3}, 2, ""},
		"a document too large":    {three, LoadOptions{MaxObjectBytes: 100}, 0, "line 1: document 1: kube: input too large: 103 bytes, more than the limit of 100 for one object"},
		"documents small enough":  {three, LoadOptions{MaxObjectBytes: 103}, 3, ""},
		"the input too large":     {three, LoadOptions{MaxFileBytes: 100}, 0, "kube: input too large: 338 bytes, more than the limit of 100 (LoadOptions.MaxFileBytes)"},
		"an input small enough":   {three, LoadOptions{MaxFileBytes: 338}, 3, ""},
		"no limits":               {three, LoadOptions{MaxFileBytes: -1, MaxObjectBytes: -1, MaxObjects: -1}, 3, ""},
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := ParseManifestsWith([]byte(tc.data), tc.opts)
			assert.Len(t, ms, tc.want)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrTooLarge)
			assert.Contains(t, err.Error(), tc.wantErr)
			var de *DocumentError
			if strings.Contains(tc.wantErr, "document") {
				require.True(t, errors.As(err, &de), "a document's error is a *DocumentError")
			}
		})
	}
}

// TestLoadOptionsDefaults: 0 is the default, a negative value no limit.
func TestLoadOptionsDefaults(t *testing.T) {
	assert.Equal(t, []int64{DefaultMaxFileBytes, DefaultMaxObjectBytes, DefaultMaxObjects},
		[]int64{LoadOptions{}.maxFileBytes(), LoadOptions{}.maxObjectBytes(), int64(LoadOptions{}.maxObjects())})
	lifted := LoadOptions{MaxFileBytes: -5, MaxObjectBytes: -1, MaxObjects: -1}
	assert.Equal(t, []int64{-1, -1, -1}, []int64{lifted.maxFileBytes(), lifted.maxObjectBytes(), int64(lifted.maxObjects())})
	assert.False(t, over(1<<40, -1), "no limit")
	assert.True(t, over(11, 10))
	assert.False(t, over(10, 10))
}

// TestLoadFileStopsAtTheLimit: a file that has no end (a device) is read up to the limit only.
func TestLoadFileStopsAtTheLimit(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here") // every CI machine of the project has one
	}
	_, err := LoadFileWith("/dev/zero", LoadOptions{MaxFileBytes: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "kube: input too large: /dev/zero: over 1048576 bytes, more than the limit of 1048576 (1 MiB)")
}
