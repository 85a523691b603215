package probe

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/podlife/podlife"
)

// Port resolution errors; a run that fails to resolve its port is not counted (ErrorOutcome).
var (
	ErrPortNotFound   = errors.New("port not found")
	ErrPortOutOfRange = errors.New("invalid port number")
)

// ResolvePort gives the number ref designates among a container's ports. A name is looked up
// among ports; when no port has that name, a name that reads as a number is taken as that number
// (kubelet's "last ditch effort"). The number must be in 1..65535. Errors wrap ErrPortNotFound or
// ErrPortOutOfRange.
func ResolvePort(ref podlife.PortRef, ports []podlife.Port) (int32, error) {
	n := int64(ref.Number)
	if ref.Name != "" {
		found := false
		for _, p := range ports {
			if p.Name == ref.Name {
				n, found = int64(p.ContainerPort), true
				break
			}
		}
		if !found {
			v, err := strconv.Atoi(ref.Name)
			if err != nil {
				return 0, fmt.Errorf("port %s: %w", strconv.Quote(ref.Name), ErrPortNotFound)
			}
			n = int64(v)
		}
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w: %d", ErrPortOutOfRange, n)
	}
	return int32(n), nil
}
