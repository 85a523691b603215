package podlife_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
)

func threeKindSpec() podlife.PodSpec {
	return podlife.PodSpec{
		InitContainers: []podlife.Container{app("migrate"), sidecar("proxy")},
		Containers:     []podlife.Container{app("web"), app("worker")},
	}
}

func TestAllContainersOrderAndKinds(t *testing.T) {
	s := threeKindSpec()
	var got []string
	for kind, c := range s.AllContainers() {
		got = append(got, kind.String()+":"+c.Name)
	}
	require.Equal(t, []string{"init:migrate", "sidecar:proxy", "app:web", "app:worker"}, got,
		"init containers and sidecars in spec order, then app containers")
}

func TestAllContainersStopsEarly(t *testing.T) {
	s := threeKindSpec()
	for _, stopAt := range []string{"migrate", "web"} {
		var seen []string
		for _, c := range s.AllContainers() {
			seen = append(seen, c.Name)
			if c.Name == stopAt {
				break
			}
		}
		require.Equal(t, stopAt, seen[len(seen)-1])
	}
}

func TestAllContainersAliasesTheSpec(t *testing.T) {
	s := threeKindSpec()
	for _, c := range s.AllContainers() {
		c.Image = "changed"
	}
	require.Equal(t, "changed", s.InitContainers[0].Image)
	require.Equal(t, "changed", s.Containers[1].Image)
}

func TestContainerByNameAndKindOf(t *testing.T) {
	s := threeKindSpec()
	cases := []struct {
		name  string
		kind  podlife.ContainerKind
		found bool
	}{
		{"migrate", podlife.KindInit, true},
		{"proxy", podlife.KindSidecar, true},
		{"worker", podlife.KindApp, true},
		{"missing", podlife.KindNone, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := s.ContainerByName(tc.name)
			require.Equal(t, tc.found, ok)
			require.Equal(t, tc.kind, s.KindOf(tc.name))
			if tc.found {
				require.Equal(t, tc.name, c.Name)
			} else {
				require.Nil(t, c)
			}
		})
	}
	c, _ := s.ContainerByName("web")
	c.Image = "edited"
	require.Equal(t, "edited", s.Containers[0].Image, "ContainerByName returns a pointer into the spec")
}

func TestContainerKindString(t *testing.T) {
	require.Equal(t, "none", podlife.KindNone.String())
	require.Equal(t, "none", podlife.ContainerKind(99).String())
	require.Equal(t, "init", podlife.KindInit.String())
	require.Equal(t, "sidecar", podlife.KindSidecar.String())
	require.Equal(t, "app", podlife.KindApp.String())
}

func TestNilSpecHelpers(t *testing.T) {
	var s *podlife.PodSpec
	for range s.AllContainers() {
		t.Fatal("a nil spec has no containers")
	}
	_, ok := s.ContainerByName("x")
	require.False(t, ok)
	require.Equal(t, podlife.RestartAlways, s.EffectiveRestartPolicy())
	require.Equal(t, podlife.DefaultGracePeriodSeconds, s.EffectiveGracePeriodSeconds())
}

func TestEffectiveHelpers(t *testing.T) {
	s := baseSpec()
	require.Equal(t, podlife.RestartAlways, s.EffectiveRestartPolicy(), "empty pod restartPolicy is Always")
	s.RestartPolicy = podlife.RestartNever
	require.Equal(t, podlife.RestartNever, s.EffectiveRestartPolicy())

	c := podlife.Container{Image: "nginx"}
	require.Equal(t, podlife.PullAlways, c.EffectivePullPolicy(), "empty pull policy comes from the image")
	c.ImagePullPolicy = podlife.PullNever
	require.Equal(t, podlife.PullNever, c.EffectivePullPolicy())
}
