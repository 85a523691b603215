package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// per1000 is d for every 1,000 of n, in seconds.
func per1000(d time.Duration, n int) float64 { return d.Seconds() * 1000 / float64(n) }

// printTable prints one row a run, then the node processes' writes by kind, then, with more
// than one implementation, each one's throughput per node CPU second against the first's.
func printTable(w io.Writer, results []result) {
	if len(results) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tpods/nodes\tround\tnodes Ready\tcreate→Running\tpods/s\tnode CPU s/1k pods\tpods/node CPU s\tpeak RSS MiB\tnode writes/pod\tdelete→gone\tnode CPU s/1k (delete)\tnode writes/pod (delete)\tnode CPU s/1k (both)\tpods/node CPU s (both)\tapiserver CPU s/1k\tscheduler CPU s/1k\tall writes/pod\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t%s\t%.0f\t%.3f\t%.0f\t%.1f\t%.2f\t%s\t%.3f\t%.2f\t%.3f\t%.0f\t%.2f\t%.2f\t%.2f\t\n",
			r.Node, r.Pods, r.Nodes, r.Round, r.NodesReady.Round(time.Millisecond), r.CreateToRunning.Round(time.Millisecond),
			float64(r.Pods)/r.CreateToRunning.Seconds(), per1000(r.Create.NodeCPU, r.Pods), podsPerCPUSecond(r),
			float64(r.PeakRSS)/(1<<20), float64(r.Create.nodeWrites())/float64(r.Pods),
			r.DeleteToGone.Round(time.Millisecond), per1000(r.Delete.NodeCPU, r.Pods), float64(r.Delete.nodeWrites())/float64(r.Pods),
			per1000(r.Create.NodeCPU+r.Delete.NodeCPU, r.Pods), podsPerCPUSecondBoth(r),
			per1000(r.Create.APIServerCPU+r.Delete.APIServerCPU, r.Pods), per1000(r.Create.SchedulerCPU+r.Delete.SchedulerCPU, r.Pods),
			(r.Create.ServerWrites+r.Delete.ServerWrites)/float64(r.Pods))
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nnode writes per pod by kind (create→Running | delete→gone):")
	for _, r := range results {
		fmt.Fprintf(w, "  %s %d/%d round %d: %s | %s\n", r.Node, r.Pods, r.Nodes, r.Round,
			writesByKind(r.Create.NodeWrites, r.Pods), writesByKind(r.Delete.NodeWrites, r.Pods))
	}

	impls := implsInOrder(results)
	if len(impls) < 2 {
		return
	}
	for _, m := range []struct {
		what string
		of   func(result) float64
	}{{"create→Running", podsPerCPUSecond}, {"create→Running and delete→gone", podsPerCPUSecondBoth}} {
		fmt.Fprintf(w, "\npods per node CPU second (%s), mean over rounds, against %s:\n", m.what, impls[0])
		for _, sz := range sizesInOrder(results) {
			base := meanOf(results, impls[0], sz, m.of)
			var parts []string
			for _, impl := range impls {
				v := meanOf(results, impl, sz, m.of)
				parts = append(parts, fmt.Sprintf("%s %.0f (×%.2f)", impl, v, v/base))
			}
			fmt.Fprintf(w, "  %s: %s\n", sz, strings.Join(parts, ", "))
		}
	}
}

// podsPerCPUSecond is the throughput per node CPU second of the create phase.
func podsPerCPUSecond(r result) float64 { return float64(r.Pods) / r.Create.NodeCPU.Seconds() }

// podsPerCPUSecondBoth is the throughput per node CPU second of a pod's whole life, created and
// deleted: a node's writes that lag behind the pods it makes Running (a kubelet's events, as
// podlife's) fall into the deletion's window.
func podsPerCPUSecondBoth(r result) float64 {
	return float64(r.Pods) / (r.Create.NodeCPU + r.Delete.NodeCPU).Seconds()
}

func writesByKind(writes map[string]int, pods int) string {
	if len(writes) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(writes)) {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, float64(writes[k])/float64(pods)))
	}
	return strings.Join(parts, ", ")
}

func implsInOrder(results []result) []string {
	var impls []string
	for _, r := range results {
		if !slices.Contains(impls, r.Node) {
			impls = append(impls, r.Node)
		}
	}
	return impls
}

func sizesInOrder(results []result) []size {
	var sizes []size
	for _, r := range results {
		if sz := (size{r.Pods, r.Nodes}); !slices.Contains(sizes, sz) {
			sizes = append(sizes, sz)
		}
	}
	return sizes
}

// meanOf is the mean of of over the rounds of impl at size sz.
func meanOf(results []result, impl string, sz size, of func(result) float64) float64 {
	sum, n := 0.0, 0
	for _, r := range results {
		if r.Node == impl && r.Pods == sz.Pods && r.Nodes == sz.Nodes {
			sum += of(r)
			n++
		}
	}
	return sum / float64(n)
}
