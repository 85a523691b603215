package kube

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// smallPods is a manifest of n small Pods, one container each: about 110 bytes a document, the
// shape of the 50 MB file that took 90 s to load before the reflection was cached.
func smallPods(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-%d\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n---\n", i)
	}
	return []byte(b.String())
}

// BenchmarkParseManifests is the cost per document of reading a file of 1,000 small Pods:
// ParseManifests alone, and with validation (ValidateManifests), which is what LoadFile does.
func BenchmarkParseManifests(b *testing.B) {
	const n = 1000
	data := smallPods(n)
	for _, validate := range []bool{false, true} {
		name := "parse"
		if validate {
			name = "parse+validate"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				ms, err := ParseManifests(data)
				if err == nil && validate {
					err = ValidateManifests(ms)
				}
				if err != nil || len(ms) != n {
					b.Fatalf("%d manifests: %v", len(ms), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/doc")
		})
	}
}

// BenchmarkManifestMemory reports the heap the manifests of 1,000 small Pods hold once read
// (retained-B/doc), beside what reading them allocates in all (B/op).
func BenchmarkManifestMemory(b *testing.B) {
	const n = 1000
	data := smallPods(n)
	var ms []Manifest
	var retained uint64
	b.ReportAllocs()
	for b.Loop() {
		before := liveHeap()
		var err error
		ms, err = ParseManifests(data)
		if err != nil {
			b.Fatal(err)
		}
		retained = liveHeap() - before
		runtime.KeepAlive(ms)
		ms = nil
	}
	b.ReportMetric(float64(retained)/n, "retained-B/doc")
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}
