package kube

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/phase"
)

// genStatus draws a podlife status of any shape; wholeSeconds keeps times at second precision
// in UTC, which is what survives JSON (metav1.Time is RFC 3339 without fractions).
func genStatus(t *rapid.T, wholeSeconds bool) phase.PodStatus {
	when := rapid.Custom(func(t *rapid.T) time.Time {
		if rapid.IntRange(0, 5).Draw(t, "zero") == 0 {
			return time.Time{}
		}
		s := rapid.Int64Range(1_600_000_000, 1_900_000_000).Draw(t, "unix")
		if wholeSeconds {
			return time.Unix(s, 0).UTC()
		}
		return time.Unix(s, rapid.Int64Range(0, 999_999_999).Draw(t, "ns")).In(time.FixedZone("X", 3600))
	})
	str := rapid.SampledFrom([]string{"", "a", "CrashLoopBackOff", "back-off 10s restarting failed container", "ünï"})
	state := rapid.Custom(func(t *rapid.T) phase.State {
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 1:
			return phase.State{Waiting: &phase.WaitingState{Reason: str.Draw(t, "reason"), Message: str.Draw(t, "message")}}
		case 2:
			return phase.State{Running: &phase.RunningState{StartedAt: when.Draw(t, "startedAt")}}
		case 3:
			return phase.State{Terminated: &phase.TerminatedState{
				ExitCode: rapid.Int32().Draw(t, "exitCode"), Signal: rapid.Int32Range(0, 64).Draw(t, "signal"),
				Reason: str.Draw(t, "reason"), Message: str.Draw(t, "message"),
				StartedAt: when.Draw(t, "startedAt"), FinishedAt: when.Draw(t, "finishedAt"), ContainerID: str.Draw(t, "id")}}
		}
		return phase.State{}
	})
	cs := rapid.Custom(func(t *rapid.T) phase.ContainerStatus {
		return phase.ContainerStatus{
			Name:  rapid.SampledFrom([]string{"app", "init", "sidecar"}).Draw(t, "name"),
			State: state.Draw(t, "state"), LastTerminationState: state.Draw(t, "lastState"),
			Ready: rapid.Bool().Draw(t, "ready"), Started: rapid.Ptr(rapid.Bool(), true).Draw(t, "started"),
			RestartCount: rapid.Int32Range(0, 1000).Draw(t, "restarts"),
			Image:        str.Draw(t, "image"), ContainerID: str.Draw(t, "id"),
		}
	})
	cond := rapid.Custom(func(t *rapid.T) phase.Condition {
		return phase.Condition{
			Type:   rapid.SampledFrom([]phase.ConditionType{phase.PodScheduled, phase.PodInitialized, phase.PodReady, phase.ContainersReady, "example.com/gate"}).Draw(t, "type"),
			Status: rapid.SampledFrom([]phase.ConditionStatus{phase.ConditionTrue, phase.ConditionFalse, phase.ConditionUnknown}).Draw(t, "status"),
			Reason: str.Draw(t, "reason"), Message: str.Draw(t, "message"), LastTransitionTime: when.Draw(t, "at"),
		}
	})
	nilOr := func(n int) bool { return n == 0 && rapid.Bool().Draw(t, "nil") }
	s := phase.PodStatus{
		Phase:      rapid.SampledFrom([]phase.Phase{"", phase.Pending, phase.Running, phase.Succeeded, phase.Failed, phase.Unknown}).Draw(t, "phase"),
		Conditions: rapid.SliceOfN(cond, 0, 4).Draw(t, "conditions"),
		Reason:     str.Draw(t, "reason"), Message: str.Draw(t, "message"),
		PodIP:                 rapid.SampledFrom([]string{"", "10.0.0.7", "fd00::7"}).Draw(t, "ip"),
		StartTime:             when.Draw(t, "startTime"),
		InitContainerStatuses: rapid.SliceOfN(cs, 0, 2).Draw(t, "init"),
		ContainerStatuses:     rapid.SliceOfN(cs, 0, 3).Draw(t, "apps"),
	}
	// rapid's empty slices are not nil; the API's often are: both must survive.
	if nilOr(len(s.Conditions)) {
		s.Conditions = nil
	}
	if nilOr(len(s.ContainerStatuses)) {
		s.ContainerStatuses = nil
	}
	return s
}

func TestPodStatusRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStatus(t, false)
		back, err := FromPodStatus(ToPodStatus(s))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(s, back); d != "" {
			t.Fatalf("round trip (-want +got):\n%s", d)
		}
	})
}

// TestPodStatusJSONRoundTrip goes through the API's JSON too, as a status read back from a
// cluster would: go-cmp compares times with time.Time.Equal, so the zone does not matter.
func TestPodStatusJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genStatus(t, true)
		data, err := json.Marshal(ToPodStatus(s))
		if err != nil {
			t.Fatal(err)
		}
		var st v1.PodStatus
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		back, err := FromPodStatus(st)
		if err != nil {
			t.Fatal(err)
		}
		// JSON has no nil/empty distinction for omitempty lists.
		if len(s.Conditions) == 0 {
			s.Conditions = back.Conditions
		}
		if len(s.InitContainerStatuses) == 0 {
			s.InitContainerStatuses = back.InitContainerStatuses
		}
		if len(s.ContainerStatuses) == 0 {
			s.ContainerStatuses = back.ContainerStatuses
		}
		if d := cmp.Diff(s, back); d != "" {
			t.Fatalf("JSON round trip (-want +got):\n%s\n%s", d, data)
		}
	})
}

func TestToPodStatusShape(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 12, 0, 5, 0, time.UTC)
	started := true
	st := ToPodStatus(phase.PodStatus{
		Phase:      phase.Running,
		Conditions: []phase.Condition{{Type: phase.PodReady, Status: phase.ConditionFalse, Reason: "ContainersNotReady", Message: "containers with unready status: [app]", LastTransitionTime: t1}},
		PodIP:      "10.0.0.7",
		StartTime:  t0,
		ContainerStatuses: []phase.ContainerStatus{{
			Name: "app", Image: "app:1", ContainerID: "containerd://abc", RestartCount: 2, Started: &started,
			State:                phase.State{Running: &phase.RunningState{StartedAt: t1}},
			LastTerminationState: phase.State{Terminated: &phase.TerminatedState{ExitCode: 137, Signal: 9, Reason: "OOMKilled", StartedAt: t0, FinishedAt: t1}},
		}},
	})
	want := v1.PodStatus{
		Phase: v1.PodRunning,
		Conditions: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionFalse, Reason: "ContainersNotReady",
			Message: "containers with unready status: [app]", LastTransitionTime: metav1.NewTime(t1)}},
		PodIP:     "10.0.0.7",
		PodIPs:    []v1.PodIP{{IP: "10.0.0.7"}},
		StartTime: ptr(metav1.NewTime(t0)),
		ContainerStatuses: []v1.ContainerStatus{{
			Name: "app", Image: "app:1", ContainerID: "containerd://abc", RestartCount: 2, Started: &started,
			State:                v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(t1)}},
			LastTerminationState: v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: 137, Signal: 9, Reason: "OOMKilled", StartedAt: metav1.NewTime(t0), FinishedAt: metav1.NewTime(t1)}},
		}},
	}
	assert.Empty(t, cmp.Diff(want, st))
	assert.Nil(t, ToPodStatus(phase.PodStatus{Phase: phase.Pending}).StartTime, "a zero time is unset")
	data, err := json.Marshal(ToPodStatus(phase.PodStatus{Phase: phase.Pending}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"phase":"Pending"}`, string(data))
}

func TestFromPodStatusErrors(t *testing.T) {
	_, err := FromPodStatus(v1.PodStatus{
		Phase:      "Sleeping",
		Conditions: []v1.PodCondition{{Type: v1.PodReady, Status: "Maybe"}, {Status: v1.ConditionTrue}},
		ContainerStatuses: []v1.ContainerStatus{{Name: "app", State: v1.ContainerState{
			Running: &v1.ContainerStateRunning{}, Terminated: &v1.ContainerStateTerminated{ExitCode: 1}}}, {}},
	})
	require.Error(t, err)
	for _, want := range []string{
		`status.phase: Unsupported value: "Sleeping"`,
		`status.conditions[0].status: Unsupported value: "Maybe"`,
		`status.conditions[1].type: Required value`,
		`status.containerStatuses[0].state: Invalid value: 2: may have only one of waiting, running and terminated`,
		`status.containerStatuses[1].name: Required value`,
	} {
		assert.Contains(t, err.Error(), want)
	}

	got, err := FromPodStatus(v1.PodStatus{Phase: v1.PodRunning, PodIPs: []v1.PodIP{{IP: "fd00::1"}, {IP: "10.0.0.1"}}, HostIP: "192.0.2.1", QOSClass: v1.PodQOSBurstable})
	require.NoError(t, err)
	assert.Equal(t, phase.PodStatus{Phase: phase.Running, PodIP: "fd00::1"}, got, "podIPs[0] stands in for podIP; node fields are not podlife's")
}
