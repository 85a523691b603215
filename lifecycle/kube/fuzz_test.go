package kube

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// FuzzManifest feeds bytes through parsing, validation, the conversions and a short
// simulation: nothing may panic, a manifest that validates must be one podlife's machine
// accepts and runs without a Step error, and the conversions must agree with each other. The
// seed corpus (the example manifests and the invalid ones) runs as an ordinary test.
func FuzzManifest(f *testing.F) {
	for _, glob := range []string{filepath.Join("..", "..", "examples", "manifests", "*.yaml"), filepath.Join("testdata", "invalid", "*")} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: List}]\n"))
	f.Add([]byte("---\n---\n- 1\n---\n\"x\"\n---\nnull\n"))
	// A sleep preStop of math.MaxInt64 seconds with the same grace once overflowed hooks.SleepDuration.
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 9223372036854775807\n" +
		"  containers:\n  - name: c\n    image: busybox:1\n    lifecycle: {preStop: {sleep: {seconds: 9223372036854775807}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip("large inputs only slow the fuzzer down")
		}
		ms, err := ParseManifests(data)
		if err != nil && err.Error() == "" {
			t.Fatal("an error without a message")
		}
		for i := range ms {
			checkManifest(t, &ms[i])
		}
	})
}

func checkManifest(t *testing.T, m *Manifest) {
	// The podlife spec from any v1 spec is one v1 can hold: converting it back and forth again
	// gives it unchanged and adds no warning.
	again, ws, err := FromPodSpec(ToPodSpec(m.Spec))
	if err != nil || len(ws) > 0 {
		t.Fatalf("re-conversion: %v, warnings %v", err, ws)
	}
	if d := cmp.Diff(m.Spec, again); d != "" {
		t.Fatalf("re-conversion changed the spec (-first +again):\n%s", d)
	}
	if errs := m.Validate(); len(errs) > 0 {
		for _, e := range errs {
			if e.Error() == "" || m.LineOf(e.Field) < 0 {
				t.Fatalf("error without text or with a negative line: %#v", e)
			}
		}
		return
	}
	if err := m.Spec.Validate(); err != nil {
		t.Fatalf("the manifest validates but podlife's spec does not: %v", err)
	}
	s := simruntime.NewSim(simruntime.NewWorld(simruntime.WorldOptions{
		Default: simruntime.Script{Runs: []simruntime.Run{{For: 3 * time.Second, ExitCode: 1}, {For: 5 * time.Second}, {}}},
	}), t0)
	s.OnError = func(pod lifecycle.PodRef, ev lifecycle.Event, err error) { t.Fatalf("%s: %s: %v", pod, ev, err) }
	mach, err := s.AddPod(m.Ref(), m.Spec, lifecycle.Options{})
	if err != nil {
		t.Fatalf("lifecycle.New refused a valid manifest: %v", err)
	}
	if err := s.At(t0.Add(40*time.Second), m.Ref(), lifecycle.Event{Type: lifecycle.DeleteRequested}); err != nil {
		t.Fatal(err)
	}
	s.RunUntil(t0.Add(2 * time.Minute))
	st := mach.Status()
	back, err := FromPodStatus(ToPodStatus(st))
	if err != nil {
		t.Fatalf("the machine's status does not convert: %v", err)
	}
	if d := cmp.Diff(st, back); d != "" {
		t.Fatalf("status round trip (-machine +back):\n%s", d)
	}
}
