package etcdstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/etcdstore"
	"github.com/podlife/podlife/phase"
)

// benchStatus is the encoded status record of a running two-container pod, about the size the
// agent writes.
func benchStatus(b *testing.B, seq uint64) []byte {
	b.Helper()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cs := func(name string) phase.ContainerStatus {
		return phase.ContainerStatus{Name: name, Image: "busybox:1.36",
			ContainerID: "sim://" + name + "-0", Ready: true, Started: ptr(true), RestartCount: 3,
			State: phase.State{Running: &phase.RunningState{StartedAt: now}}}
	}
	rec := lifecycle.StatusRecord{
		Pod: lifecycle.PodRef{Namespace: "default", Name: "web", UID: "4f1c2b7e-1d2a-4e5b-9c8d-0a1b2c3d4e5f"}, Node: node, Seq: seq, UpdatedAt: now,
		Status: phase.PodStatus{Phase: phase.Running, PodIP: "10.0.0.7", StartTime: now, Conditions: []phase.Condition{
			{Type: phase.PodReadyToStartContainers, Status: phase.ConditionTrue, LastTransitionTime: now},
			{Type: phase.PodInitialized, Status: phase.ConditionTrue, LastTransitionTime: now},
			{Type: phase.ContainersReady, Status: phase.ConditionTrue, LastTransitionTime: now},
			{Type: phase.PodReady, Status: phase.ConditionTrue, LastTransitionTime: now},
			{Type: phase.PodScheduled, Status: phase.ConditionTrue, LastTransitionTime: now},
		}, ContainerStatuses: []phase.ContainerStatus{cs("app"), cs("sidecar")}},
		Checkpoint: lifecycle.Checkpoint{Sandbox: lifecycle.SandboxCheckpoint{ID: "sb-1", IP: "10.0.0.7", Attempt: 1}, InitDone: true,
			Containers: []lifecycle.ContainerCheckpoint{{Name: "app", Attempt: 3}, {Name: "sidecar", Attempt: 3}}},
	}
	v, err := lifecycle.EncodeStatus(rec)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// BenchmarkStatusWrite compares status writes through the store (Put of an encoded StatusRecord
// with compare-and-swap on the key's previous revision, a transaction) with raw clientv3 Puts of
// the same bytes, on one embedded member (fsync on), sequential and from 16 writers with a key
// each. Compare the writes/s of each pair: BENCHMARKS.md has the numbers.
func BenchmarkStatusWrite(b *testing.B) {
	c := startCluster(b, clusterOptions{})
	s := c.store(etcdstore.Config{})
	cli := s.Client()
	ctx := context.Background()
	val := benchStatus(b, 1)
	b.Logf("record: %d bytes", len(val))
	keys := lifecycle.Keys{}
	key := func(i int64) string {
		return keys.Status(node, lifecycle.PodRef{Namespace: "default", Name: fmt.Sprintf("pod-%d", i)})
	}
	perSec := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	}
	// Every run starts on a compacted history, as a cluster with auto-compaction has, so that the
	// runs after the first do not pay for the revisions of those before.
	compact := func(b *testing.B) {
		_, rev, err := s.List(ctx, "/none")
		if err == nil {
			err = s.Compact(ctx, rev)
		}
		if err != nil {
			b.Fatal(err)
		}
	}

	b.Run("sequential/store-CAS", func(b *testing.B) {
		compact(b)
		k := key(0)
		prev, err := s.Put(ctx, k, val, lifecycle.AnyRevision)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if prev, err = s.Put(ctx, k, val, prev); err != nil {
				b.Fatal(err)
			}
		}
		perSec(b)
	})
	b.Run("sequential/raw-put", func(b *testing.B) {
		compact(b)
		k := key(1)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cli.Put(ctx, k, string(val)); err != nil {
				b.Fatal(err)
			}
		}
		perSec(b)
	})
	var ids atomic.Int64
	b.Run("16-writers/store-CAS", func(b *testing.B) {
		compact(b)
		b.ReportAllocs()
		b.SetParallelism(8) // 16 writers on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			k := key(100 + ids.Add(1))
			prev, err := s.Put(ctx, k, val, lifecycle.AnyRevision)
			if err != nil {
				b.Error(err)
				return
			}
			for pb.Next() {
				if prev, err = s.Put(ctx, k, val, prev); err != nil {
					b.Error(err)
					return
				}
			}
		})
		perSec(b)
	})
	b.Run("16-writers/raw-put", func(b *testing.B) {
		compact(b)
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			k := key(200 + ids.Add(1))
			for pb.Next() {
				if _, err := cli.Put(ctx, k, string(val)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		perSec(b)
	})

	// Interleaved: each writer alternates a store write and a raw one and times each, so that the
	// load of a shared machine falls on both alike. Writers wait for their own writes, so the
	// ratio of mean latencies, raw over store, is the ratio of throughputs, store over raw.
	interleaved := func(b *testing.B, writers int) {
		compact(b)
		var storeNs, rawNs, ops atomic.Int64
		write := func(next func() bool) {
			id := ids.Add(1)
			ks, kr := key(300+id), key(400+id)
			prev, err := s.Put(ctx, ks, val, lifecycle.AnyRevision)
			if err != nil {
				b.Error(err)
				return
			}
			for next() {
				t0 := time.Now()
				if prev, err = s.Put(ctx, ks, val, prev); err != nil {
					b.Error(err)
					return
				}
				t1 := time.Now()
				if _, err := cli.Put(ctx, kr, string(val)); err != nil {
					b.Error(err)
					return
				}
				storeNs.Add(int64(t1.Sub(t0)))
				rawNs.Add(int64(time.Since(t1)))
				ops.Add(1)
			}
		}
		b.ReportAllocs()
		if writers == 1 {
			write(b.Loop)
		} else {
			b.SetParallelism(writers / runtime.GOMAXPROCS(0))
			b.RunParallel(func(pb *testing.PB) { write(pb.Next) })
		}
		if ops.Load() == 0 {
			return
		}
		store, raw := float64(storeNs.Load())/float64(ops.Load()), float64(rawNs.Load())/float64(ops.Load())
		b.ReportMetric(store/1e3, "store-µs/write")
		b.ReportMetric(raw/1e3, "raw-µs/write")
		b.ReportMetric(raw/store, "ratio")
	}
	b.Run("interleaved/1-writer", func(b *testing.B) { interleaved(b, 1) })
	b.Run("interleaved/16-writers", func(b *testing.B) { interleaved(b, 16) })
}
