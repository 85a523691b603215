package podlife_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/podlifetest"
)

// genSpec draws a valid spec, every field set or left to its default, from the test kit.
func genSpec(t *rapid.T) podlife.PodSpec {
	return podlifetest.Spec(podlifetest.SpecOptions{}).Draw(t, "spec")
}

func TestValidateAcceptsDefaultedValidSpecs(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		require.NoError(t, s.Validate(), "generated spec")
		d := s.Defaulted()
		require.NoError(t, d.Validate(), "defaulted spec")
	})
}

func TestDefaultedIsIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genSpec(t).Defaulted()
		require.Empty(t, cmp.Diff(d, d.Defaulted()))
	})
}

func TestDefaultedLeavesNoDefaultableZero(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := genSpec(t).Defaulted()
		require.NotEmpty(t, d.RestartPolicy)
		require.NotNil(t, d.TerminationGracePeriodSeconds)
		for _, v := range d.Volumes {
			require.NotEmpty(t, v.Source)
		}
		for _, c := range d.AllContainers() {
			require.NotEmpty(t, c.ImagePullPolicy)
			for _, p := range c.Ports {
				require.NotEmpty(t, p.Protocol)
			}
			for _, p := range []*podlife.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
				if p == nil {
					continue
				}
				require.Positive(t, p.TimeoutSeconds)
				require.Positive(t, p.PeriodSeconds)
				require.Positive(t, p.SuccessThreshold)
				require.Positive(t, p.FailureThreshold)
				if p.HTTPGet != nil {
					require.NotEmpty(t, p.HTTPGet.Path)
					require.NotEmpty(t, p.HTTPGet.Scheme)
				}
				if p.GRPC != nil {
					require.NotNil(t, p.GRPC.Service)
				}
			}
		}
	})
}

func TestDefaultedNeitherMutatesNorAliases(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSpec(t)
		before := mustJSON(t, s)
		d := s.Defaulted()
		require.Equal(t, before, mustJSON(t, s), "Defaulted changed its input")
		scribble(&d)
		require.Equal(t, before, mustJSON(t, s), "the result shares memory with the input")
	})
}

func mustJSON(t require.TestingT, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// scribble changes every value reachable from p, through pointers and slices, so that a test can
// see whether another value shared any of that memory.
func scribble(p any) { scribbleValue(reflect.ValueOf(p).Elem()) }

func scribbleValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scribbleValue(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribbleValue(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			scribbleValue(v.Field(i))
		}
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(v.Int() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	}
}

func TestScribbleChangesEverything(t *testing.T) {
	s := fullSpec()
	before := mustJSON(t, s)
	scribble(&s)
	require.NotEqual(t, before, mustJSON(t, s))
	require.Equal(t, "web!", s.Containers[0].Name)
	require.Equal(t, int64(91), *s.Containers[0].LivenessProbe.TerminationGracePeriodSeconds)
}
