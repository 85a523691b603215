package restart

import (
	"errors"
	"fmt"

	"github.com/podlife/podlife"
)

// DefaultPullPolicy is podlife.DefaultPullPolicy, kept here beside ShouldPull where a caller
// deciding about a pull looks for it.
func DefaultPullPolicy(image string) podlife.PullPolicy { return podlife.DefaultPullPolicy(image) }

// EffectivePullPolicy is c's imagePullPolicy, or DefaultPullPolicy of its image when empty.
// A nil c has no image: IfNotPresent.
func EffectivePullPolicy(c *podlife.Container) podlife.PullPolicy {
	if c == nil {
		return podlife.PullIfNotPresent
	}
	return c.EffectivePullPolicy()
}

// ErrImageNeverPull is ShouldPull's answer for policy Never and an image not on the node. Its
// text is the container's waiting reason, as kubelet's own error of that name.
var ErrImageNeverPull = errors.New("ErrImageNeverPull")

// ErrInvalidPullPolicy is wrapped by ShouldPull for a policy that is not Always, IfNotPresent or
// Never (an empty policy must be defaulted first, see EffectivePullPolicy).
var ErrInvalidPullPolicy = errors.New("invalid image pull policy")

// ShouldPull says whether kubelet pulls the image before creating the container, given whether
// the image is already on the node: Always pulls; IfNotPresent pulls only a missing image; Never
// never pulls and, for a missing image, returns ErrImageNeverPull (waiting reason
// ErrImageNeverPull, message ImageNeverPullMessage).
func ShouldPull(policy podlife.PullPolicy, present bool) (pull bool, err error) {
	switch policy {
	case podlife.PullAlways:
		return true, nil
	case podlife.PullIfNotPresent:
		return !present, nil
	case podlife.PullNever:
		if present {
			return false, nil
		}
		return false, ErrImageNeverPull
	}
	return false, fmt.Errorf("%w: %q", ErrInvalidPullPolicy, policy)
}

// ImageNeverPullMessage is kubelet's message (waiting message and ErrImageNeverPull event) for an
// image that is missing under policy Never.
func ImageNeverPullMessage(image string) string {
	return fmt.Sprintf("Container image %q is not present with pull policy of Never", image)
}
