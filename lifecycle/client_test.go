package lifecycle_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
)

// Bind checks names as the API server checks a pod on create and a binding, and writes nothing
// when one is wrong: a name that is not UTF-8 would otherwise be rewritten by JSON, its status
// land under another key, and its record never be removed.
func TestBindRefusesNamesTheAPIServerRefuses(t *testing.T) {
	type want struct {
		field string
		typ   podlife.ErrorType
	}
	ok := lifecycle.PodRef{Namespace: "default", Name: "web", UID: "uid-1"}
	with := func(f func(*lifecycle.PodRef)) lifecycle.PodRef { r := ok; f(&r); return r }
	for _, tc := range []struct {
		name string
		node string
		ref  lifecycle.PodRef
		want []want
	}{
		{"name is not UTF-8", node, with(func(r *lifecycle.PodRef) { r.Name = "web\xff" }), []want{{"metadata.name", podlife.ErrorInvalid}}},
		{"name has upper case", node, with(func(r *lifecycle.PodRef) { r.Name = "Web" }), []want{{"metadata.name", podlife.ErrorInvalid}}},
		{"name has a slash", node, with(func(r *lifecycle.PodRef) { r.Name = "a/b" }), []want{{"metadata.name", podlife.ErrorInvalid}}},
		{"name has a control character", node, with(func(r *lifecycle.PodRef) { r.Name = "a\nb" }), []want{{"metadata.name", podlife.ErrorInvalid}}},
		{"name over 253 characters", node, with(func(r *lifecycle.PodRef) { r.Name = strings.Repeat("a", 254) }), []want{{"metadata.name", podlife.ErrorInvalid}}},
		{"name starts with a dash", node, with(func(r *lifecycle.PodRef) { r.Name = "-web" }), []want{{"metadata.name", podlife.ErrorInvalid}}},
		{"name required", node, with(func(r *lifecycle.PodRef) { r.Name = "" }), []want{{"metadata.name", podlife.ErrorRequired}}},
		{"namespace is a label: no dot", node, with(func(r *lifecycle.PodRef) { r.Namespace = "a.b" }), []want{{"metadata.namespace", podlife.ErrorInvalid}}},
		{"namespace over 63 characters", node, with(func(r *lifecycle.PodRef) { r.Namespace = strings.Repeat("a", 64) }), []want{{"metadata.namespace", podlife.ErrorInvalid}}},
		{"namespace is not UTF-8", node, with(func(r *lifecycle.PodRef) { r.Namespace = "d\xc3" }), []want{{"metadata.namespace", podlife.ErrorInvalid}}},
		{"namespace required", node, with(func(r *lifecycle.PodRef) { r.Namespace = "" }), []want{{"metadata.namespace", podlife.ErrorRequired}}},
		{"uid with a slash", node, with(func(r *lifecycle.PodRef) { r.UID = "a/../b" }), []want{{"metadata.uid", podlife.ErrorInvalid}}},
		{"uid over 128 characters", node, with(func(r *lifecycle.PodRef) { r.UID = strings.Repeat("u", 129) }), []want{{"metadata.uid", podlife.ErrorInvalid}}},
		{"node is a subdomain", "Node_1", ok, []want{{"spec.nodeName", podlife.ErrorInvalid}}},
		{"node is not UTF-8", "node-\xff", ok, []want{{"spec.nodeName", podlife.ErrorInvalid}}},
		{"node required", "", ok, []want{{"spec.nodeName", podlife.ErrorRequired}}},
		{"every problem at once", "Node", lifecycle.PodRef{Namespace: "A", Name: "B"},
			[]want{{"metadata.name", podlife.ErrorInvalid}, {"metadata.namespace", podlife.ErrorInvalid}, {"spec.nodeName", podlife.ErrorInvalid}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.New()
			c := lifecycle.Client{Store: st}
			_, err := c.Bind(t.Context(), tc.node, tc.ref, appSpec())
			require.Error(t, err)
			assert.ErrorIs(t, err, podlife.ErrInvalid)
			var list podlife.ErrorList
			require.ErrorAs(t, err, &list)
			var got []want
			for _, fe := range list {
				got = append(got, want{fe.Field, fe.Type})
			}
			assert.Equal(t, tc.want, got, "%v", err)
			kvs, _, err := st.List(t.Context(), "/")
			require.NoError(t, err)
			assert.Empty(t, kvs, "nothing written")
		})
	}
	t.Run("names and spec in one list", func(t *testing.T) {
		c := lifecycle.Client{Store: memstore.New()}
		_, err := c.Bind(t.Context(), node, with(func(r *lifecycle.PodRef) { r.Name = "web\xff" }), podlife.PodSpec{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `metadata.name: Invalid value: "web\xff": a lowercase RFC 1123 subdomain`)
		assert.Contains(t, err.Error(), "spec.containers: Required value")
	})
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Bind gives a pod without a UID a new one, as the API server does on create, and keeps one
// given.
func TestBindGivesEveryPodAUID(t *testing.T) {
	c := lifecycle.Client{Store: memstore.New()}
	a, err := c.Bind(t.Context(), node, lifecycle.PodRef{Namespace: "default", Name: "a"}, appSpec())
	require.NoError(t, err)
	assert.Regexp(t, uuidV4, a.UID)
	b, err := c.Bind(t.Context(), node, lifecycle.PodRef{Namespace: "default", Name: "b"}, appSpec())
	require.NoError(t, err)
	assert.NotEqual(t, a.UID, b.UID)
	rec, _, err := c.Pod(t.Context(), node, lifecycle.PodRef{Namespace: "default", Name: "a"})
	require.NoError(t, err)
	assert.Equal(t, a, rec.Pod, "the record has the UID Bind returned")
	given, err := c.Bind(t.Context(), node, podRef, appSpec())
	require.NoError(t, err)
	assert.Equal(t, podRef, given)
	_, err = c.Bind(t.Context(), node, lifecycle.PodRef{Namespace: "default", Name: "web", UID: "uid-2"}, appSpec())
	assert.ErrorIs(t, err, lifecycle.ErrConflict, "one pod at a time per name")
}

// A ref with a UID names that pod only, as the API server's UID precondition: a call on a name
// that now holds another pod fails with a *UIDMismatchError and changes nothing.
func TestClientUIDPrecondition(t *testing.T) {
	st := memstore.New()
	c := lifecycle.Client{Store: st}
	_, err := c.Bind(t.Context(), node, podRef, appSpec())
	require.NoError(t, err)
	other := lifecycle.PodRef{Namespace: podRef.Namespace, Name: podRef.Name, UID: "uid-old"}
	before := st.Revision()
	spec := appSpec()
	spec.Containers[0].Image = "busybox:1.37"
	for name, call := range map[string]func() error{
		"Delete":        func() error { return c.Delete(t.Context(), node, other, nil, time.Now()) },
		"forced Delete": func() error { return c.Delete(t.Context(), node, other, ptr(int64(0)), time.Now()) },
		"UpdateSpec":    func() error { return c.UpdateSpec(t.Context(), node, other, spec) },
		"Pod":           func() error { _, _, err := c.Pod(t.Context(), node, other); return err },
	} {
		err := call()
		var mismatch *lifecycle.UIDMismatchError
		require.ErrorAs(t, err, &mismatch, name)
		assert.Equal(t, "uid-old", mismatch.Expected, name)
		assert.Equal(t, "uid-1", mismatch.Actual, name)
		assert.ErrorIs(t, err, lifecycle.ErrUIDMismatch, name)
		assert.ErrorIs(t, err, lifecycle.ErrKeyNotFound, "%s: the pod named is not there", name)
	}
	assert.Equal(t, before, st.Revision(), "nothing written")
	rec, _, err := c.Pod(t.Context(), node, podRef)
	require.NoError(t, err)
	assert.Nil(t, rec.Deletion)

	b, err := lifecycle.EncodeStatus(lifecycle.StatusRecord{Pod: other, Node: node, Seq: 9})
	require.NoError(t, err)
	_, err = st.Put(t.Context(), lifecycle.Keys{}.Status(node, podRef), b, 0)
	require.NoError(t, err)
	_, err = c.Status(t.Context(), node, podRef)
	assert.ErrorIs(t, err, lifecycle.ErrUIDMismatch, "the status there is an earlier pod's")
	any, err := c.Status(t.Context(), node, lifecycle.PodRef{Namespace: podRef.Namespace, Name: podRef.Name})
	require.NoError(t, err, "without a UID: whichever pod reported last")
	assert.Equal(t, "uid-old", any.Pod.UID)
}

// Client.Delete stores the grace the pod gets, always, as the API server stores
// deletionGracePeriodSeconds: the first request's (the spec's by default), lowered by a shorter
// later one, never raised. Grace 0 removes the record at once.
func TestClientDeleteStoresTheGrace(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   *int64
		graces []*int64
		want   int64
	}{
		{"the spec's by default", ptr(int64(60)), []*int64{nil}, 60},
		{"30 s when the spec has none", nil, []*int64{nil}, 30},
		{"the request's", ptr(int64(60)), []*int64{ptr(int64(90))}, 90},
		{"a shorter second request lowers it", ptr(int64(60)), []*int64{nil, ptr(int64(5))}, 5},
		{"a longer second request does not raise it", ptr(int64(60)), []*int64{nil, ptr(int64(120))}, 60},
		{"a second request without grace keeps it", ptr(int64(60)), []*int64{ptr(int64(10)), nil}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := lifecycle.Client{Store: memstore.New()}
			spec := appSpec()
			spec.TerminationGracePeriodSeconds = tc.spec
			_, err := c.Bind(t.Context(), node, podRef, spec)
			require.NoError(t, err)
			first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, g := range tc.graces {
				require.NoError(t, c.Delete(t.Context(), node, podRef, g, first.Add(time.Duration(i)*time.Second)))
			}
			rec, _, err := c.Pod(t.Context(), node, podRef)
			require.NoError(t, err)
			require.NotNil(t, rec.Deletion)
			require.NotNil(t, rec.Deletion.GracePeriodSeconds)
			assert.Equal(t, tc.want, *rec.Deletion.GracePeriodSeconds)
			assert.Equal(t, first, rec.Deletion.RequestedAt, "the first request's time")
		})
	}
	t.Run("grace 0 removes the record at once", func(t *testing.T) {
		c := lifecycle.Client{Store: memstore.New()}
		_, err := c.Bind(t.Context(), node, podRef, appSpec())
		require.NoError(t, err)
		require.NoError(t, c.Delete(t.Context(), node, podRef, ptr(int64(60)), time.Now()))
		require.NoError(t, c.Delete(t.Context(), node, podRef, ptr(int64(0)), time.Now()))
		_, _, err = c.Pod(t.Context(), node, podRef)
		assert.ErrorIs(t, err, lifecycle.ErrKeyNotFound)
	})
	t.Run("a negative grace is refused", func(t *testing.T) {
		c := lifecycle.Client{Store: memstore.New()}
		err := c.Delete(t.Context(), node, podRef, ptr(int64(-1)), time.Now())
		var fe *podlife.FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "gracePeriodSeconds", fe.Field)
		assert.False(t, errors.Is(err, lifecycle.ErrKeyNotFound))
	})
}
