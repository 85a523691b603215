package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/podlife/podlife/lifecycle"
)

// TestFailureMessage: the Agent shows a runtime failure in the runtime's own words, as kubelet
// does, not as the Go error chain around them.
func TestFailureMessage(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a RuntimeError's method, object and kind go", &lifecycle.RuntimeError{Op: "PullImage", ID: "app:1",
			Err: fmt.Errorf("%w: %s", lifecycle.ErrImagePull, `failed to pull and unpack image "app:1": not found`)},
			`failed to pull and unpack image "app:1": not found`},
		{"a kind below the frame goes", &lifecycle.RuntimeError{Op: "CreateContainer", ID: "app",
			Err: fmt.Errorf("%w: %w", lifecycle.ErrCreateContainerConfig, errors.New(`secret "creds" not found`))}, `secret "creds" not found`},
		{"a plain cause stays whole", &lifecycle.RuntimeError{Op: "Setup", ID: "web", Err: errors.New("MountVolume.SetUp failed")}, "MountVolume.SetUp failed"},
		{"an error without the frame keeps its text", fmt.Errorf("%w: %w", lifecycle.ErrRunContainer, context.DeadlineExceeded),
			"context deadline exceeded"},
		{"nil is empty", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, lifecycle.FailureMessage(c.err)) })
	}
}
