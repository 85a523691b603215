package lifecycle_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/podlifetest"
)

// The machine's behaviour is written down as scenario files in testdata/*.txt, in the format
// package scenario documents (ParseFile): a spec, the simulated runtime's script and operations,
// and the trace of what happens, played on the Sim. `go test ./lifecycle -run Golden -rewrite`
// rewrites the traces: read the diff before you keep it.
var rewrite = flag.Bool("rewrite", false, "rewrite the expected traces of the scenario files in testdata/")

// TestGolden plays every scenario file, checks podlifetest's invariants on the play, and at
// every Ready checks the machine's insides (lifecycle.ReadyChecker, a test-only hook).
func TestGolden(t *testing.T) {
	var check *lifecycle.ReadyChecker
	podlifetest.RunFiles(t, filepath.Join("testdata", "*.txt"), podlifetest.FileOptions{Rewrite: *rewrite, Invariants: true,
		Sim: podlifetest.SimOptions{
			NewMachine: func(ref lifecycle.PodRef, spec podlife.PodSpec, now time.Time) (*lifecycle.Machine, error) {
				check = &lifecycle.ReadyChecker{}
				return lifecycle.New(ref, spec, now, lifecycle.Options{})
			},
			OnReady: func(m *lifecycle.Machine, now time.Time, rd lifecycle.Ready) {
				if err := check.Check(m, rd); err != nil {
					t.Fatalf("at %s: %v", now.Sub(podlifetest.Epoch()), err)
				}
			},
		}})
}

// TestGoldenFromTemplate plays every scenario on a machine made from a Template, beside a
// sibling machine of the same template: the trace is the file's, and neither an image change of
// the first nor anything else reaches the template's spec or the sibling's.
func TestGoldenFromTemplate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.txt (%v)", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			var tmpl *lifecycle.Template
			var sibling *lifecycle.Machine
			var pristine podlife.PodSpec
			podlifetest.RunFile(t, f, podlifetest.FileOptions{Sim: podlifetest.SimOptions{
				NewMachine: func(ref lifecycle.PodRef, spec podlife.PodSpec, now time.Time) (*lifecycle.Machine, error) {
					var err error
					if tmpl, err = lifecycle.NewTemplate(spec); err != nil {
						return nil, err
					}
					pristine = spec.Defaulted()
					sibling = tmpl.New(lifecycle.PodRef{Namespace: ref.Namespace, Name: "sibling"}, now, lifecycle.Options{})
					return tmpl.New(ref, now, lifecycle.Options{}), nil
				}}})
			if diff := cmp.Diff(pristine, *tmpl.Spec()); diff != "" {
				t.Errorf("the template's spec changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(pristine, *sibling.Spec()); diff != "" {
				t.Errorf("the sibling's spec changed (-before +after):\n%s", diff)
			}
		})
	}
}
