package termination_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/termination"
)

func TestGracePeriod(t *testing.T) {
	ctr := termination.ContainerScope
	tests := []struct {
		name string
		req  termination.GraceRequest
		want termination.Grace
	}{
		// Whole-pod stops: kubelet pod_workers.go calculateEffectiveGracePeriod.
		{"delete: the delete request's grace is used",
			termination.GraceRequest{SpecSeconds: ptr(30), Deleted: true, DeleteSeconds: ptr(10)},
			termination.Grace{Period: s(10), Source: termination.SourceDeleteRequest}},
		{"delete: the request's grace may be longer than the spec's",
			termination.GraceRequest{SpecSeconds: ptr(30), Deleted: true, DeleteSeconds: ptr(90)},
			termination.Grace{Period: s(90), Source: termination.SourceDeleteRequest}},
		{"delete without a grace: the spec's terminationGracePeriodSeconds",
			termination.GraceRequest{SpecSeconds: ptr(45), Deleted: true},
			termination.Grace{Period: s(45), Source: termination.SourcePodSpec}},
		{"delete without a grace and spec nil: 30 s",
			termination.GraceRequest{Deleted: true},
			termination.Grace{Period: s(30), Source: termination.SourceDefault}},
		{"forced delete uses 1 s",
			termination.GraceRequest{SpecSeconds: ptr(30), Deleted: true, DeleteSeconds: ptr(0)},
			termination.Grace{Period: s(1), Source: termination.SourceForcedDelete, Raised: true}},
		{"negative delete grace counts as 1 s (API server)",
			termination.GraceRequest{Deleted: true, DeleteSeconds: ptr(-7)},
			termination.Grace{Period: s(1), Source: termination.SourceDeleteRequest}},
		{"delete with spec 0 is immediate: raised to 1 s",
			termination.GraceRequest{SpecSeconds: ptr(0), Deleted: true},
			termination.Grace{Period: s(1), Source: termination.SourcePodSpec, Raised: true}},
		{"override shorter than the delete grace wins",
			termination.GraceRequest{Deleted: true, DeleteSeconds: ptr(30), OverrideSeconds: ptr(10)},
			termination.Grace{Period: s(10), Source: termination.SourceAgentOverride}},
		{"override longer than the delete grace is ignored",
			termination.GraceRequest{Deleted: true, DeleteSeconds: ptr(10), OverrideSeconds: ptr(60)},
			termination.Grace{Period: s(10), Source: termination.SourceDeleteRequest}},
		{"override without delete is used as given, even longer than the spec's (upstream)",
			termination.GraceRequest{SpecSeconds: ptr(30), OverrideSeconds: ptr(60)},
			termination.Grace{Period: s(60), Source: termination.SourceAgentOverride}},
		{"override 0 (eviction, hard threshold) is raised to 1 s",
			termination.GraceRequest{OverrideSeconds: ptr(0)},
			termination.Grace{Period: s(1), Source: termination.SourceAgentOverride, Raised: true}},
		{"forced delete then override in the same update: 0 counts as unset upstream, override wins",
			termination.GraceRequest{Deleted: true, DeleteSeconds: ptr(0), OverrideSeconds: ptr(10)},
			termination.Grace{Period: s(10), Source: termination.SourceAgentOverride}},
		{"pod stop without delete or override (terminal pod): the spec's",
			termination.GraceRequest{SpecSeconds: ptr(20)},
			termination.Grace{Period: s(20), Source: termination.SourcePodSpec}},
		{"zero request: default 30 s",
			termination.GraceRequest{},
			termination.Grace{Period: s(30), Source: termination.SourceDefault}},
		{"pod stop with spec 0 is raised to 1 s",
			termination.GraceRequest{SpecSeconds: ptr(0)},
			termination.Grace{Period: s(1), Source: termination.SourcePodSpec, Raised: true}},
		{"huge grace is capped at MaxGracePeriod",
			termination.GraceRequest{SpecSeconds: ptr(1 << 62)},
			termination.Grace{Period: termination.MaxGracePeriod, Source: termination.SourcePodSpec}},

		// One container: kuberuntime_container.go setTerminationGracePeriod and killContainer.
		{"probe grace longer than pod grace is used",
			termination.GraceRequest{Scope: ctr, SpecSeconds: ptr(30), ProbeSeconds: ptr(120)},
			termination.Grace{Period: s(120), Source: termination.SourceProbe}},
		{"probe grace shorter than pod grace is used",
			termination.GraceRequest{Scope: ctr, SpecSeconds: ptr(30), ProbeSeconds: ptr(5)},
			termination.Grace{Period: s(5), Source: termination.SourceProbe}},
		{"container kill without probe grace: the spec's",
			termination.GraceRequest{Scope: ctr, SpecSeconds: ptr(30)},
			termination.Grace{Period: s(30), Source: termination.SourcePodSpec}},
		{"container kill with spec nil: 30 s",
			termination.GraceRequest{Scope: ctr},
			termination.Grace{Period: s(30), Source: termination.SourceDefault}},
		{"container kill with spec 0: grace 0, not raised (preStop skipped, 2 s floor)",
			termination.GraceRequest{Scope: ctr, SpecSeconds: ptr(0)},
			termination.Grace{Period: 0, Source: termination.SourcePodSpec}},
		{"deleted pod: the deletion grace wins over the probe's",
			termination.GraceRequest{Scope: ctr, Deleted: true, DeleteSeconds: ptr(10), ProbeSeconds: ptr(60)},
			termination.Grace{Period: s(10), Source: termination.SourceDeleteRequest}},
		{"deleted pod, forced: a container kill gets grace 0",
			termination.GraceRequest{Scope: ctr, Deleted: true, DeleteSeconds: ptr(0)},
			termination.Grace{Period: 0, Source: termination.SourceForcedDelete}},
		{"override replaces everything in a container kill, even when longer",
			termination.GraceRequest{Scope: ctr, SpecSeconds: ptr(30), ProbeSeconds: ptr(5), OverrideSeconds: ptr(40)},
			termination.Grace{Period: s(40), Source: termination.SourceAgentOverride}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := termination.GracePeriod(tc.req)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tc.want, got))
		})
	}
}

func TestGracePeriodRejects(t *testing.T) {
	tests := []struct {
		name  string
		req   termination.GraceRequest
		field string
	}{
		{"negative spec grace", termination.GraceRequest{SpecSeconds: ptr(-1)}, "spec.terminationGracePeriodSeconds"},
		{"probe grace must be > 0",
			termination.GraceRequest{Scope: termination.ContainerScope, ProbeSeconds: ptr(0)}, "probe.terminationGracePeriodSeconds"},
		{"probe grace only for a container kill",
			termination.GraceRequest{ProbeSeconds: ptr(10)}, "probe.terminationGracePeriodSeconds"},
		{"negative override", termination.GraceRequest{OverrideSeconds: ptr(-3)}, "override.gracePeriodSeconds"},
		{"delete grace without a deleted pod", termination.GraceRequest{DeleteSeconds: ptr(5)}, "deleteOptions.gracePeriodSeconds"},
		{"unknown scope", termination.GraceRequest{Scope: 7}, "scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := termination.GracePeriod(tc.req)
			require.ErrorIs(t, err, podlife.ErrInvalid)
			var fe *podlife.FieldError
			require.True(t, errors.As(err, &fe))
			require.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestGraceConstants(t *testing.T) {
	require.Equal(t, 2*time.Second, termination.MinimumStopTimeout, "kuberuntime minimumGracePeriodInSeconds = 2")
	require.Equal(t, time.Second, termination.MinimumPodGracePeriod, "pod worker: no matter what, a grace period of 1")
}
