package termination

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestInstantPlusSaturates(t *testing.T) {
	require.Equal(t, instant(3*time.Second), instant(time.Second).plus(2*time.Second))
	require.Equal(t, never, never.plus(time.Second), "never stays never")
	require.Equal(t, never, (never - 5).plus(time.Second), "overflow saturates at never")
	require.Equal(t, 2*time.Second, wholeSeconds(instant(2900*time.Millisecond)), "kubelet truncates to whole seconds")
}
