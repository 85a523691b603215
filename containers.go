package podlife

import "iter"

// ContainerKind says where a container sits in a pod. The zero value, KindNone, is "not in the
// spec".
type ContainerKind int

// Container kinds.
const (
	KindNone    ContainerKind = iota // not in the spec
	KindInit                         // a regular init container: runs to completion before the next
	KindSidecar                      // an init container with restartPolicy Always
	KindApp                          // an app container (spec.containers)
)

// String is the kind in lower case ("none", "init", "sidecar", "app").
func (k ContainerKind) String() string {
	switch k {
	case KindInit:
		return "init"
	case KindSidecar:
		return "sidecar"
	case KindApp:
		return "app"
	}
	return "none"
}

// AllContainers yields every container with its kind: init containers and sidecars in spec
// order, then app containers. The pointers alias s, so a change through them changes s. A nil s
// yields nothing.
func (s *PodSpec) AllContainers() iter.Seq2[ContainerKind, *Container] {
	return func(yield func(ContainerKind, *Container) bool) {
		if s == nil {
			return
		}
		for i := range s.InitContainers {
			c := &s.InitContainers[i]
			kind := KindInit
			if c.IsSidecar() {
				kind = KindSidecar
			}
			if !yield(kind, c) {
				return
			}
		}
		for i := range s.Containers {
			if !yield(KindApp, &s.Containers[i]) {
				return
			}
		}
	}
}

// ContainerByName finds a container of any kind by name; the pointer aliases s. With duplicate
// names (an invalid spec) the first in AllContainers order wins.
func (s *PodSpec) ContainerByName(name string) (*Container, bool) {
	c, kind := s.lookup(name)
	return c, kind != KindNone
}

// KindOf is the kind of the container called name, KindNone when there is none.
func (s *PodSpec) KindOf(name string) ContainerKind {
	_, kind := s.lookup(name)
	return kind
}

func (s *PodSpec) lookup(name string) (*Container, ContainerKind) {
	for kind, c := range s.AllContainers() {
		if c.Name == name {
			return c, kind
		}
	}
	return nil, KindNone
}

// EffectiveRestartPolicy is the pod's restartPolicy, Always when empty.
func (s *PodSpec) EffectiveRestartPolicy() RestartPolicy {
	if s == nil || s.RestartPolicy == "" {
		return RestartAlways
	}
	return s.RestartPolicy
}

// EffectiveGracePeriodSeconds is the pod's terminationGracePeriodSeconds as the API server keeps
// it: DefaultGracePeriodSeconds when nil, 1 when negative.
func (s *PodSpec) EffectiveGracePeriodSeconds() int64 {
	switch {
	case s == nil || s.TerminationGracePeriodSeconds == nil:
		return DefaultGracePeriodSeconds
	case *s.TerminationGracePeriodSeconds < 0:
		return 1
	}
	return *s.TerminationGracePeriodSeconds
}

// EffectivePullPolicy is c's imagePullPolicy, or DefaultPullPolicy(c.Image) when empty.
func (c *Container) EffectivePullPolicy() PullPolicy {
	if c.ImagePullPolicy != "" {
		return c.ImagePullPolicy
	}
	return DefaultPullPolicy(c.Image)
}
