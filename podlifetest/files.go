package podlifetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FileOptions tune RunFiles.
type FileOptions struct {
	// Rewrite writes each file's trace from what the play does now instead of comparing; the
	// header (comments included) stays as it is. Set it from a flag of your own test:
	//
	//	var rewrite = flag.Bool("rewrite", false, "rewrite the traces in testdata/")
	//	...
	//	podlifetest.RunFiles(t, "testdata/*.txt", podlifetest.FileOptions{Rewrite: *rewrite})
	//
	// and read the diff before you keep it.
	Rewrite bool
	// Sim tunes the plays.
	Sim SimOptions
	// Invariants checks every play's timeline with Check too.
	Invariants bool
}

// RunFiles plays every scenario file matching pattern (filepath.Glob) on the Sim, each as a
// subtest named after the file, and fails where a trace differs from the file's (or, with
// Rewrite, writes it). It fails when nothing matches.
func RunFiles(t *testing.T, pattern string, opts FileOptions) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenario file matches %s", pattern)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) { RunFile(t, f, opts) })
	}
}

// RunFile plays one scenario file, as RunFiles does, and returns the play's timeline.
func RunFile(t *testing.T, path string, opts FileOptions) *Timeline {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tl, err := RunSim(f.Scenario, opts.Sim)
	if err != nil {
		t.Errorf("%s: %v", path, err)
	}
	if tl == nil {
		return nil
	}
	if opts.Invariants {
		for _, v := range Check(tl) {
			t.Errorf("%s: %s", path, v)
		}
	}
	got := tl.Trace()
	if opts.Rewrite {
		if err := os.WriteFile(path, f.Bytes(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return tl
	}
	if d := cmp.Diff(f.Trace, got); d != "" {
		t.Errorf("%s: the trace differs (-file +play); rewrite it once the change is meant:\n%s", path, d)
	}
	return tl
}
