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
//
// A pod is its UID (see Keys): a ref with a UID names that pod only, and a call on a name that
// now holds another pod fails with a *UIDMismatchError; a ref without a UID names whatever pod
// holds the name. Names are checked as Bind checks them.
type Client struct {
	Store Store
	Keys  Keys
}

// Bind writes a new pod for node's agent to run and returns it as bound. A ref without a UID
// gets a new one (a random UUID), as the API server gives every pod it creates; a UID given is
// kept, and must not be one an earlier pod had. The names are checked as the API server checks
// them (namespace: RFC 1123 label; name and node: RFC 1123 subdomains), and the spec must be
// valid: every problem is reported at once, as podlife.ErrorList with the fields' paths
// (metadata.name, metadata.namespace, metadata.uid, spec.nodeName, spec.containers[0].image, ...).
// A pod that already holds the name gives a *ConflictError.
func (c Client) Bind(ctx context.Context, node string, ref PodRef, spec podlife.PodSpec) (PodRef, error) {
	errs := nameErrors(node, ref, true)
	var specErrs podlife.ErrorList
	if err := spec.Validate(); err != nil && !errors.As(err, &specErrs) {
		return PodRef{}, fmt.Errorf("lifecycle: binding a pod: %w", err)
	}
	if errs = append(errs, specErrs...); len(errs) > 0 {
		return PodRef{}, fmt.Errorf("lifecycle: binding a pod: %w", errs)
	}
	if ref.UID == "" {
		ref.UID = newUID()
	}
	b, err := EncodePod(PodRecord{Pod: ref, Node: node, Spec: spec})
	if err != nil {
		return PodRef{}, err
	}
	if _, err = c.Store.Put(ctx, c.Keys.Pod(node, ref), b, 0); err != nil {
		return PodRef{}, err
	}
	return ref, nil
}

// Delete asks node's agent to stop the pod with grace seconds (nil: the spec's
// terminationGracePeriodSeconds), as the API server's graceful deletion does: the record keeps
// the deletion with its grace always set, and a later call may shorten the grace, never lengthen
// it. Grace 0 is a forced deletion: the record is removed at once, and the agent stops the pod
// with a grace of 1 s. now is the request's time.
func (c Client) Delete(ctx context.Context, node string, ref PodRef, grace *int64, now time.Time) error {
	if errs := nameErrors(node, ref, true); len(errs) > 0 {
		return fmt.Errorf("lifecycle: deleting a pod: %w", errs)
	}
	if grace != nil && *grace < 0 {
		return fmt.Errorf("lifecycle: deleting pod %s: %w", ref, &podlife.FieldError{Field: "gracePeriodSeconds",
			Type: podlife.ErrorInvalid, BadValue: *grace, Detail: "must be greater than or equal to 0"})
	}
	if grace != nil && *grace == 0 {
		return c.remove(ctx, node, ref)
	}
	return c.update(ctx, node, ref, func(r *PodRecord) bool {
		if r.Deletion == nil {
			g := r.Spec.EffectiveGracePeriodSeconds()
			if grace != nil {
				g = *grace
			}
			r.Deletion = &Deletion{RequestedAt: now, GracePeriodSeconds: &g}
			return true
		}
		stored := r.Deletion.GracePeriodSeconds
		if stored == nil { // written by another writer: the spec's
			g := r.Spec.EffectiveGracePeriodSeconds()
			stored = &g
		}
		if grace == nil || *grace >= *stored {
			if r.Deletion.GracePeriodSeconds == nil {
				r.Deletion.GracePeriodSeconds = stored
				return true
			}
			return false
		}
		g := *grace
		r.Deletion.GracePeriodSeconds = &g
		return true
	})
}

// UpdateSpec replaces the pod's spec with one that changes only what the API server lets a pod
// update change (podlife.PodSpec.ValidateUpdate: container images and activeDeadlineSeconds,
// which is what kubelet acts on; see Machine.Step).
func (c Client) UpdateSpec(ctx context.Context, node string, ref PodRef, spec podlife.PodSpec) error {
	if errs := nameErrors(node, ref, true); len(errs) > 0 {
		return fmt.Errorf("lifecycle: updating a pod: %w", errs)
	}
	var invalid error
	err := c.update(ctx, node, ref, func(r *PodRecord) bool {
		if invalid = spec.ValidateUpdate(&r.Spec); invalid != nil || reflect.DeepEqual(r.Spec, spec) {
			return false
		}
		r.Spec = spec
		return true
	})
	if err == nil && invalid != nil {
		err = invalid
	}
	if err != nil {
		return fmt.Errorf("lifecycle: updating pod %s: %w", ref, err)
	}
	return nil
}

// Pod reads a pod's record and its revision.
func (c Client) Pod(ctx context.Context, node string, ref PodRef) (PodRecord, int64, error) {
	if errs := nameErrors(node, ref, true); len(errs) > 0 {
		return PodRecord{}, 0, fmt.Errorf("lifecycle: reading a pod: %w", errs)
	}
	key := c.Keys.Pod(node, ref)
	kv, err := c.Store.Get(ctx, key)
	if err != nil {
		return PodRecord{}, 0, err
	}
	r, err := DecodePod(kv.Value)
	if err != nil {
		return PodRecord{}, 0, fmt.Errorf("%s: %w", kv.Key, err)
	}
	if ref.UID != "" && r.Pod.UID != ref.UID {
		return PodRecord{}, 0, &UIDMismatchError{Key: key, Expected: ref.UID, Actual: r.Pod.UID}
	}
	return r, kv.Revision, nil
}

// Status reads the status the agent last reported for a pod. With a UID in ref it is that pod's
// status or a *UIDMismatchError (another pod of the name reported last, or the pod has not
// reported yet and an earlier one's status is still there); without one it is whichever pod of
// the name reported last: StatusRecord.Pod.UID says which.
func (c Client) Status(ctx context.Context, node string, ref PodRef) (StatusRecord, error) {
	if errs := nameErrors(node, ref, true); len(errs) > 0 {
		return StatusRecord{}, fmt.Errorf("lifecycle: reading a status: %w", errs)
	}
	key := c.Keys.Status(node, ref)
	kv, err := c.Store.Get(ctx, key)
	if err != nil {
		return StatusRecord{}, err
	}
	r, err := DecodeStatus(kv.Value)
	if err != nil {
		return StatusRecord{}, fmt.Errorf("%s: %w", kv.Key, err)
	}
	if ref.UID != "" && r.Pod.UID != ref.UID {
		return StatusRecord{}, &UIDMismatchError{Key: key, Expected: ref.UID, Actual: r.Pod.UID}
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

// remove deletes the pod's record at once: a forced deletion.
func (c Client) remove(ctx context.Context, node string, ref PodRef) error {
	for {
		_, rev, err := c.Pod(ctx, node, ref)
		if err != nil {
			return err
		}
		err = c.Store.Delete(ctx, c.Keys.Pod(node, ref), rev)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
}
