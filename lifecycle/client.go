package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/podlife/podlife"
)

// Client is the other side of an Agent: it binds pods to a node, asks for their deletion and
// reads the statuses the agent reports, through the same Store, as a scheduler or an API server
// would. Every change is a compare-and-swap on the record's revision, retried on conflict.
type Client struct {
	Store Store
	Keys  Keys
}

// Bind writes a new pod for node's agent to run. The spec must be valid; an existing pod of that
// name gives a *ConflictError.
func (c Client) Bind(ctx context.Context, node string, ref PodRef, spec podlife.PodSpec) error {
	if err := checkRef(node, ref); err != nil {
		return err
	}
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("lifecycle: binding pod %s: %w", ref, err)
	}
	b, err := EncodePod(PodRecord{Pod: ref, Node: node, Spec: spec})
	if err != nil {
		return err
	}
	_, err = c.Store.Put(ctx, c.Keys.Pod(node, ref), b, 0)
	return err
}

// Delete asks node's agent to stop the pod with grace seconds (nil: the spec's). A later call
// may shorten the grace, never lengthen it, as with the API server.
func (c Client) Delete(ctx context.Context, node string, ref PodRef, grace *int64, now time.Time) error {
	if grace != nil && *grace < 0 {
		return fmt.Errorf("lifecycle: deleting pod %s: gracePeriodSeconds: must be >= 0, not %d", ref, *grace)
	}
	return c.update(ctx, node, ref, func(r *PodRecord) bool {
		if r.Deletion == nil {
			r.Deletion = &Deletion{RequestedAt: now, GracePeriodSeconds: grace}
			return true
		}
		if grace == nil || (r.Deletion.GracePeriodSeconds != nil && *r.Deletion.GracePeriodSeconds <= *grace) {
			return false
		}
		r.Deletion.GracePeriodSeconds = grace
		return true
	})
}

// UpdateSpec replaces the pod's spec (kubelet acts on image changes only; see Machine.Step).
func (c Client) UpdateSpec(ctx context.Context, node string, ref PodRef, spec podlife.PodSpec) error {
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("lifecycle: updating pod %s: %w", ref, err)
	}
	return c.update(ctx, node, ref, func(r *PodRecord) bool {
		if reflect.DeepEqual(r.Spec, spec) {
			return false
		}
		r.Spec = spec
		return true
	})
}

// Pod reads a pod's record and its revision.
func (c Client) Pod(ctx context.Context, node string, ref PodRef) (PodRecord, int64, error) {
	kv, err := c.Store.Get(ctx, c.Keys.Pod(node, ref))
	if err != nil {
		return PodRecord{}, 0, err
	}
	r, err := DecodePod(kv.Value)
	if err != nil {
		return PodRecord{}, 0, fmt.Errorf("%s: %w", kv.Key, err)
	}
	return r, kv.Revision, nil
}

// Status reads the status the agent last reported for a pod.
func (c Client) Status(ctx context.Context, node string, ref PodRef) (StatusRecord, error) {
	kv, err := c.Store.Get(ctx, c.Keys.Status(node, ref))
	if err != nil {
		return StatusRecord{}, err
	}
	r, err := DecodeStatus(kv.Value)
	if err != nil {
		return StatusRecord{}, fmt.Errorf("%s: %w", kv.Key, err)
	}
	return r, nil
}

func (c Client) update(ctx context.Context, node string, ref PodRef, change func(*PodRecord) bool) error {
	for {
		r, rev, err := c.Pod(ctx, node, ref)
		if err != nil {
			return err
		}
		if !change(&r) {
			return nil
		}
		b, err := EncodePod(r)
		if err != nil {
			return err
		}
		_, err = c.Store.Put(ctx, c.Keys.Pod(node, ref), b, rev)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
}

// checkRef refuses names that would break the key layout.
func checkRef(node string, ref PodRef) error {
	for _, f := range []struct{ name, v string }{{"node", node}, {"pod.namespace", ref.Namespace}, {"pod.name", ref.Name}} {
		if f.v == "" {
			return fmt.Errorf("lifecycle: %s: Required value", f.name)
		}
		for _, r := range f.v {
			if r == '/' || r < ' ' {
				return fmt.Errorf("lifecycle: %s: Invalid value %q: must not contain '/' or control characters", f.name, f.v)
			}
		}
	}
	return nil
}
