package containerd

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/podlife/podlife/lifecycle"
)

// criError is a failed CRI call. It wraps the lifecycle error it means for the pod (kind: what
// lifecycle.WaitingReason maps), the classes of its gRPC code that a caller tests for
// (lifecycle.ErrRuntimeUnavailable, lifecycle.ErrNotFound, context.DeadlineExceeded,
// context.Canceled) and the gRPC error itself.
type criError struct {
	marks []error
	err   error
}

func (e *criError) Error() string {
	var b strings.Builder
	for _, m := range e.marks {
		if m == context.DeadlineExceeded || m == context.Canceled || m == lifecycle.ErrNotFound || m == lifecycle.ErrRuntimeUnavailable {
			continue // the message says it already
		}
		b.WriteString(m.Error())
		b.WriteString(": ")
	}
	b.WriteString(message(e.err))
	return b.String()
}

func (e *criError) Unwrap() []error { return append(append([]error(nil), e.marks...), e.err) }

// message is a gRPC error's description without the "rpc error: code = ... desc =" frame, with
// the code's name where it says more than the text.
func message(err error) string {
	s, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	switch s.Code() {
	case codes.Unknown, codes.OK:
		return s.Message()
	}
	return s.Code().String() + ": " + s.Message()
}

// wrapCRI classifies err, a CRI call's error, under kind (nil: none).
func wrapCRI(kind, err error) error {
	if err == nil {
		return nil
	}
	var marks []error
	if kind != nil {
		marks = append(marks, kind)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), status.Code(err) == codes.DeadlineExceeded:
		marks = append(marks, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled), status.Code(err) == codes.Canceled:
		marks = append(marks, context.Canceled)
	case status.Code(err) == codes.NotFound:
		marks = append(marks, lifecycle.ErrNotFound)
	case unavailable(err):
		marks = append(marks, lifecycle.ErrRuntimeUnavailable)
	}
	return &criError{marks: marks, err: err}
}

// unavailable reports whether err says containerd cannot serve now: the socket is gone, or the
// CRI plugin is still starting after a restart ("server is not initialized yet").
func unavailable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable:
		return true
	case codes.Unknown:
		return strings.Contains(status.Convert(err).Message(), "not initialized")
	}
	return false
}

// fail is the error of Runtime method op on id.
func fail(op, id string, kind, err error) error {
	return &lifecycle.RuntimeError{Op: op, ID: id, Err: wrapCRI(kind, err)}
}

// failf is an error of op on id that did not come from CRI.
func failf(op, id string, kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if kind != nil {
		err = fmt.Errorf("%w: %w", kind, err)
	}
	return &lifecycle.RuntimeError{Op: op, ID: id, Err: err}
}

// reservedID is the ID in containerd's "already exists" answer to a RunPodSandbox or
// CreateContainer whose name (metadata and attempt) is taken:
//
//	failed to reserve container name "app_web_default_1_0": name "..." is reserved for "<id>"
func reservedID(err error) (string, bool) {
	msg := status.Convert(err).Message()
	const marker = `is reserved for "`
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return "", false
	}
	rest := msg[i+len(marker):]
	j := strings.IndexByte(rest, '"')
	if j <= 0 {
		return "", false
	}
	return rest[:j], true
}

// imageName matches a container image reference as distribution/reference's grammar has it:
// an optional domain[:port]/, lower-case path components, an optional tag and digest.
func imageName() *regexp.Regexp {
	const (
		comp   = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
		domain = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?`
		tag    = `[\w][\w.-]{0,127}`
		digest = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	)
	return regexp.MustCompile(`^(?:` + domain + `/)?` + comp + `(?:/` + comp + `)*(?::` + tag + `)?(?:@` + digest + `)?$`)
}
