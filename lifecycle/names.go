package lifecycle

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/podlife/podlife"
)

// uidMaxLength bounds a UID given by the caller; a generated one is a 36-character UUID.
const uidMaxLength = 128

// nameErrors checks a pod's names as the API server checks a pod on create and a binding: the
// namespace is an RFC 1123 label, the name and the node RFC 1123 subdomains (so neither has a
// '/', a control character or a byte that is not UTF-8, and a key built from them is the key of
// that pod alone). A UID, when given, is up to 128 letters, digits, '-' and '_': it names
// directories and runtime labels. generatedUID says a missing UID is fine.
func nameErrors(node string, ref PodRef, generatedUID bool) podlife.ErrorList {
	var errs podlife.ErrorList
	if ref.Name == "" {
		errs = append(errs, &podlife.FieldError{Field: "metadata.name", Type: podlife.ErrorRequired, Detail: "name or generateName is required"})
	}
	for _, msg := range nonEmpty(ref.Name, podlife.IsDNS1123Subdomain) {
		errs = append(errs, &podlife.FieldError{Field: "metadata.name", Type: podlife.ErrorInvalid, BadValue: ref.Name, Detail: msg})
	}
	if ref.Namespace == "" {
		errs = append(errs, &podlife.FieldError{Field: "metadata.namespace", Type: podlife.ErrorRequired})
	}
	for _, msg := range nonEmpty(ref.Namespace, podlife.IsDNS1123Label) {
		errs = append(errs, &podlife.FieldError{Field: "metadata.namespace", Type: podlife.ErrorInvalid, BadValue: ref.Namespace, Detail: msg})
	}
	switch {
	case ref.UID == "" && !generatedUID:
		errs = append(errs, &podlife.FieldError{Field: "metadata.uid", Type: podlife.ErrorRequired})
	case ref.UID != "" && !validUID(ref.UID):
		errs = append(errs, &podlife.FieldError{Field: "metadata.uid", Type: podlife.ErrorInvalid, BadValue: ref.UID,
			Detail: "must be at most 128 letters, digits, '-' or '_'"})
	}
	return append(errs, nodeErrors("spec.nodeName", node)...)
}

func nodeErrors(field, node string) podlife.ErrorList {
	if node == "" {
		return podlife.ErrorList{{Field: field, Type: podlife.ErrorRequired}}
	}
	var errs podlife.ErrorList
	for _, msg := range podlife.IsDNS1123Subdomain(node) {
		errs = append(errs, &podlife.FieldError{Field: field, Type: podlife.ErrorInvalid, BadValue: node, Detail: msg})
	}
	return errs
}

// nonEmpty runs check on s unless s is empty (reported as Required instead).
func nonEmpty(s string, check func(string) []string) []string {
	if s == "" {
		return nil
	}
	return check(s)
}

func validUID(uid string) bool {
	if len(uid) > uidMaxLength {
		return false
	}
	for i := 0; i < len(uid); i++ {
		c := uid[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newUID is a random (version 4) UUID, as the API server gives every object it creates.
func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
