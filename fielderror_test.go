package podlife_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife"
)

func TestFieldErrorText(t *testing.T) {
	p := podlife.Path("spec").Child("containers").Index(1).Child("image")
	cases := []struct {
		rule string
		err  *podlife.FieldError
		want string
	}{
		{"Required shows no value", podlife.Required(p, ""), "spec.containers[1].image: Required value"},
		{"Required with detail", podlife.Required(p, "must be set"), "spec.containers[1].image: Required value: must be set"},
		{"Invalid shows the value", podlife.Invalid(p, int32(-1), "must be >= 0"), "spec.containers[1].image: Invalid value: -1: must be >= 0"},
		{"Invalid quotes a string value", podlife.Invalid(p, "x y", "bad"), `spec.containers[1].image: Invalid value: "x y": bad`},
		{"Duplicate shows the value", podlife.Duplicate(p, "app"), `spec.containers[1].image: Duplicate value: "app"`},
		{"NotSupported lists the supported values", podlife.NotSupported(p, podlife.PullPolicy("X"), podlife.PullAlways, podlife.PullNever),
			`spec.containers[1].image: Unsupported value: "X": supported values: "Always", "Never"`},
		{"Forbidden shows no value", podlife.Forbidden(p, "may not be set"), "spec.containers[1].image: Forbidden: may not be set"},
		{"TooMany shows the limit", podlife.TooMany(p, 21, 20), "spec.containers[1].image: Too many: must have at most 20 items"},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			require.Equal(t, tc.want, tc.err.Error())
			require.ErrorIs(t, tc.err, podlife.ErrInvalid)
		})
	}
}

func TestFieldErrorIsOnlyErrInvalid(t *testing.T) {
	err := podlife.Required(podlife.Path("spec"), "")
	require.False(t, errors.Is(err, errors.New("invalid")))
	require.True(t, errors.Is(fmt.Errorf("wrapped: %w", err), podlife.ErrInvalid))
}

func TestErrorList(t *testing.T) {
	var empty podlife.ErrorList
	require.NoError(t, empty.AsError(), "an empty list is no error, not a typed nil")
	require.NoError(t, podlife.ErrorList{}.AsError())

	a := podlife.Required(podlife.Path("spec").Child("a"), "")
	b := podlife.Forbidden(podlife.Path("spec").Child("b"), "no")
	err := podlife.ErrorList{a, b}.AsError()
	require.EqualError(t, err, "spec.a: Required value\nspec.b: Forbidden: no")
	require.ErrorIs(t, err, podlife.ErrInvalid)

	var first *podlife.FieldError
	require.ErrorAs(t, err, &first)
	require.Same(t, a, first)

	wrapped := fmt.Errorf("create pod: %w", err)
	var list podlife.ErrorList
	require.ErrorAs(t, wrapped, &list)
	require.Len(t, list, 2)
	require.Len(t, list.Unwrap(), 2)
}

func TestPath(t *testing.T) {
	require.Equal(t, "spec", podlife.Path("").Child("spec").String())
	require.Equal(t, "spec.initContainers[0].restartPolicyRules[2].exitCodes.values",
		podlife.Path("spec").Child("initContainers").Index(0).Child("restartPolicyRules").Index(2).
			Child("exitCodes").Child("values").String())
}

func TestSpecTypeHelpers(t *testing.T) {
	require.Equal(t, "http", podlife.PortName("http").String())
	require.Equal(t, "8080", podlife.PortNumber(8080).String())
	c := podlife.Container{}
	require.False(t, c.IsSidecar())
	c.RestartPolicy = ptr(podlife.RestartNever)
	require.False(t, c.IsSidecar())
	c.RestartPolicy = ptr(podlife.RestartAlways)
	require.True(t, c.IsSidecar())
}

func TestValidateLifecycleHandlerNamesThePath(t *testing.T) {
	p := podlife.Path("spec").Child("containers").Index(0).Child("lifecycle").Child("preStop")
	errs := podlife.ValidateLifecycleHandler(nil, nil, p)
	if len(errs) != 1 || errs[0].Field != p.String() || errs[0].Type != podlife.ErrorRequired {
		t.Fatalf("nil handler: got %v", errs)
	}
	grace := int64(5)
	errs = podlife.ValidateLifecycleHandler(&podlife.LifecycleHandler{Sleep: &podlife.SleepAction{Seconds: 6}}, &grace, p)
	if len(errs) != 1 || errs[0].Field != p.Child("sleep").Child("seconds").String() {
		t.Fatalf("sleep above grace: got %v", errs)
	}
}
