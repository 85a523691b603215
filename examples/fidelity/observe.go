package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/podlife/podlife/internal/kubetest"
)

// timeline is what the API server showed for one case, a row whenever something changed.
type timeline struct {
	Case, Node string
	Rows       []row
	// DeletedAt is when the harness deleted the pod, from the apply; zero if it did not.
	DeletedAt time.Duration
	// GoneAt is when the deleted pod was first seen gone, from the apply; zero if it was not.
	GoneAt time.Duration
}

// row is one object's state at one time.
type row struct {
	At     time.Duration // since the apply
	Object string        // pod/<name> or job/<name>
	State  string
}

func (tl *timeline) print(w io.Writer) {
	fmt.Fprintf(w, "== %s on %s (manifests/%s.yaml)\n", tl.Case, tl.Node, tl.Case)
	for _, r := range tl.Rows {
		fmt.Fprintf(w, "  %7s  %s  %s\n", "+"+fmtDur(r.At), r.Object, r.State)
	}
	if tl.DeletedAt > 0 {
		gone := "not gone"
		if tl.GoneAt > 0 {
			gone = "gone at +" + fmtDur(tl.GoneAt) + ", " + fmtDur(tl.GoneAt-tl.DeletedAt) + " after the delete"
		}
		fmt.Fprintf(w, "  deleted at +%s, %s\n", fmtDur(tl.DeletedAt), gone)
	}
}

func fmtDur(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s" }

// last is the latest state of object, "" if it was never seen.
func (tl *timeline) last(object string) string {
	for i := len(tl.Rows) - 1; i >= 0; i-- {
		if tl.Rows[i].Object == object {
			return tl.Rows[i].State
		}
	}
	return ""
}

// note adds a row if object's state changed.
func (tl *timeline) note(at time.Duration, object, state string) {
	if tl.last(object) != state {
		tl.Rows = append(tl.Rows, row{At: at, Object: object, State: state})
	}
}

// runCase applies the case's manifest in a namespace of its own and samples it.
func runCase(ctx context.Context, s *kubetest.APIServer, cfg config, tl *timeline) error {
	raw, err := manifests.ReadFile("manifests/" + tl.Case + ".yaml")
	if err != nil {
		return err
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", tl.Case, err)
	}
	c := s.Client()
	ns, err := c.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fidelity-" + tl.Case}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	var job string
	begin := time.Now()
	switch o := obj.(type) {
	case *v1.Pod:
		_, err = c.CoreV1().Pods(ns.Name).Create(ctx, o, metav1.CreateOptions{})
	case *batchv1.Job:
		job = o.Name
		_, err = c.BatchV1().Jobs(ns.Name).Create(ctx, o, metav1.CreateOptions{})
	default:
		err = fmt.Errorf("a %T, want a Pod or a Job", obj)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", tl.Case, err)
	}
	deleteWhenRunning := slices.Contains(deletedWhenRunning, tl.Case)
	tick := time.NewTicker(cfg.every)
	defer tick.Stop()
	for {
		at := time.Since(begin)
		// The columns and the status they were printed from, in one read.
		rows, err := kubetest.PodTable(ctx, c, ns.Name, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("%s: %w", tl.Case, err)
		}
		slices.SortFunc(rows, func(a, b kubetest.PodRow) int { return strings.Compare(a.Name, b.Name) })
		for _, r := range rows {
			if r.Pod == nil {
				return fmt.Errorf("%s: the server's table has no pod in row %s", tl.Case, r.Name)
			}
			tl.note(at, "pod/"+r.Name, podState(r))
		}
		if job != "" {
			j, err := c.BatchV1().Jobs(ns.Name).Get(ctx, job, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", tl.Case, err)
			}
			tl.note(at, "job/"+job, jobState(j))
		}
		if deleteWhenRunning && tl.DeletedAt == 0 && len(rows) == 1 && rows[0].Pod.Status.Phase == v1.PodRunning {
			if err := c.CoreV1().Pods(ns.Name).Delete(ctx, rows[0].Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s: %w", tl.Case, err)
			}
			tl.DeletedAt = time.Since(begin)
		}
		if tl.DeletedAt > 0 && len(rows) == 0 {
			tl.GoneAt = at
			return nil // nothing more to see
		}
		if at >= cfg.sample {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// podState is what the server shows of a pod, in sections separated by " | ": its kubectl
// columns (STATUS READY RESTARTS, the count without kubectl's "(10s ago)", which changes every
// second by itself); its phase (and reason, and "deleting" once deleted); its
// conditions, "!" before those not True; and its init and app containers' states.
func podState(r kubetest.PodRow) string {
	p := r.Pod
	restarts, _, _ := strings.Cut(r.Restarts, " ")
	columns := r.Status + " " + r.Ready + " " + restarts
	ph := "phase " + string(p.Status.Phase)
	if p.Status.Reason != "" {
		ph += " (" + p.Status.Reason + ")"
	}
	if p.DeletionTimestamp != nil {
		ph += " deleting"
	}
	var conds []string
	for _, c := range p.Status.Conditions {
		if c.Status == v1.ConditionTrue {
			conds = append(conds, string(c.Type))
		} else {
			conds = append(conds, "!"+string(c.Type))
		}
	}
	var ctrs []string
	for _, list := range [][]v1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			c := cs.Name + ": " + containerState(cs.State)
			if cs.Started != nil && *cs.Started {
				c += " started"
			}
			if cs.Ready {
				c += " ready"
			}
			if cs.LastTerminationState.Terminated != nil {
				c += " (last " + containerState(cs.LastTerminationState) + ")"
			}
			ctrs = append(ctrs, c)
		}
	}
	return strings.Join([]string{columns, ph, strings.Join(conds, " "), strings.Join(ctrs, ", ")}, " | ")
}

func containerState(s v1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return "waiting " + s.Waiting.Reason
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return fmt.Sprintf("terminated %s %d", s.Terminated.Reason, s.Terminated.ExitCode)
	}
	return "none"
}

// jobState is a Job's counts and true conditions.
func jobState(j *batchv1.Job) string {
	s := fmt.Sprintf("active %d succeeded %d failed %d", j.Status.Active, j.Status.Succeeded, j.Status.Failed)
	for _, c := range j.Status.Conditions {
		if c.Status == v1.ConditionTrue {
			s += fmt.Sprintf(" | %s (%s)", c.Type, c.Reason)
		}
	}
	return s
}
