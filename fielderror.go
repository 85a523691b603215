package podlife

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorType classifies a FieldError, with the words the Kubernetes API server uses.
type ErrorType string

// Field error types.
const (
	ErrorRequired     ErrorType = "Required value"
	ErrorInvalid      ErrorType = "Invalid value"
	ErrorDuplicate    ErrorType = "Duplicate value"
	ErrorNotSupported ErrorType = "Unsupported value"
	ErrorForbidden    ErrorType = "Forbidden"
	ErrorTooMany      ErrorType = "Too many"
)

// ErrInvalid is matched by every FieldError, so callers can test errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid")

// FieldError is one problem with one field, named by its path from the pod
// (for example spec.containers[1].livenessProbe.periodSeconds).
type FieldError struct {
	Field    string
	Type     ErrorType
	BadValue any
	Detail   string
}

// Error reads like the API server's: "path: Invalid value: -1: must be ...".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(string(e.Type))
	if e.Type == ErrorInvalid || e.Type == ErrorNotSupported || e.Type == ErrorDuplicate {
		fmt.Fprintf(&b, ": %#v", e.BadValue)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ErrorList is every problem found at once, in field order. A nil list is no error.
type ErrorList []*FieldError

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the single problems to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// AsError is l as an error, nil when l is empty (avoiding a typed nil inside an interface).
func (l ErrorList) AsError() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Path builds field paths: Path("spec").Child("containers").Index(1).Child("image").
type Path string

// Child appends ".name".
func (p Path) Child(name string) Path {
	if p == "" {
		return Path(name)
	}
	return Path(string(p) + "." + name)
}

// Index appends "[i]".
func (p Path) Index(i int) Path { return Path(fmt.Sprintf("%s[%d]", p, i)) }

// String is the path as text.
func (p Path) String() string { return string(p) }

// Required, Invalid, Duplicate, NotSupported, Forbidden and TooMany build FieldErrors.
func Required(p Path, detail string) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrorRequired, Detail: detail}
}

// Invalid reports a value that breaks a rule.
func Invalid(p Path, v any, detail string) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrorInvalid, BadValue: v, Detail: detail}
}

// Duplicate reports a value that must be unique.
func Duplicate(p Path, v any) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrorDuplicate, BadValue: v}
}

// NotSupported reports a value outside an enumeration.
func NotSupported[T ~string](p Path, v T, valid ...T) *FieldError {
	quoted := make([]string, len(valid))
	for i, s := range valid {
		quoted[i] = fmt.Sprintf("%q", string(s))
	}
	return &FieldError{Field: p.String(), Type: ErrorNotSupported, BadValue: string(v),
		Detail: "supported values: " + strings.Join(quoted, ", ")}
}

// Forbidden reports a field that may not be set here.
func Forbidden(p Path, detail string) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrorForbidden, Detail: detail}
}

// TooMany reports a list longer than allowed.
func TooMany(p Path, got, limit int) *FieldError {
	return &FieldError{Field: p.String(), Type: ErrorTooMany, BadValue: got,
		Detail: fmt.Sprintf("must have at most %d items", limit)}
}
