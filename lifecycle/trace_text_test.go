package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTraceLinesQuoteValues: an image, a runtime's reason or message with a space, a quote or a
// control character is quoted in a trace line, so the line stays one line of text that a
// terminal prints as it is.
func TestTraceLinesQuoteValues(t *testing.T) {
	for _, tc := range []struct {
		rule string
		got  string
		want string
	}{
		{"a plain image stays as it is",
			Action{Type: PullImage, Container: "app", Image: "busybox:1.36"}.String(), "PullImage container=app image=busybox:1.36"},
		{"an image with an escape sequence is quoted and escaped",
			Action{Type: PullImage, Container: "app", Image: "busybox\x1b[2J"}.String(), `PullImage container=app image="busybox\x1b[2J"`},
		{"a reason with spaces is quoted, as before",
			Action{Type: StopContainer, Container: "app", Reason: "Stopping container app"}.String(), `StopContainer container=app reason="Stopping container app"`},
		{"a runtime's reason with a carriage return is escaped",
			Event{Type: ImagePullFailed, Container: "app", Reason: "ErrImagePull\rall good"}.String(), `ImagePullFailed container=app reason="ErrImagePull\rall good"`},
		{"a message with a newline stays on its line",
			Event{Type: SetupFailed, Message: "mount failed\nall good"}.String(), `SetupFailed message="mount failed\nall good"`},
		{"a record's message with an escape sequence is escaped",
			Record{Kind: Warning, Reason: "Unhealthy", Container: "app", Message: "probe failed: \x1b[2J"}.String(), `Warning Unhealthy container=app "probe failed: \x1b[2J"`},
	} {
		assert.Equal(t, tc.want, tc.got, tc.rule)
	}
}
