package kube

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// ErrTooLarge is matched (errors.Is) by the error for input over a limit of LoadOptions: a file
// too large, a document too large, or too many objects.
var ErrTooLarge = errors.New("kube: input too large")

// Default limits, for the zero LoadOptions.
const (
	// DefaultMaxFileBytes bounds a manifest file: 16 MiB, five objects of the largest size the
	// API server takes, and a hundred times the largest real manifest in examples/manifests.
	DefaultMaxFileBytes = 16 << 20
	// DefaultMaxObjectBytes bounds one document: 3 MiB, the largest request body the API server
	// takes (ServerRunOptions.MaxRequestBodyBytes in k8s.io/apiserver), so a document kubectl
	// could not create is refused here too.
	DefaultMaxObjectBytes = 3 << 20
	// DefaultMaxObjects bounds the documents of a file and the items of its List documents
	// together: reading one costs some 40 µs and 20 KB, so 10,000 take under a second.
	DefaultMaxObjects = 10000
)

// LoadOptions bound what ParseManifestsWith and LoadFileWith read, so that a file made to exhaust
// memory or time (a 50 MB file of 400,000 tiny Pods, a document of gigabytes, /dev/zero) is
// refused with an error instead. The zero value is the defaults; a negative field lifts its
// limit.
type LoadOptions struct {
	// MaxFileBytes is the most bytes of the input; 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxObjectBytes is the most bytes of one document (a List document is one); 0 means
	// DefaultMaxObjectBytes.
	MaxObjectBytes int64
	// MaxObjects is the most documents and List items of the input; 0 means DefaultMaxObjects.
	MaxObjects int
}

func (o LoadOptions) maxFileBytes() int64   { return limit(o.MaxFileBytes, DefaultMaxFileBytes) }
func (o LoadOptions) maxObjectBytes() int64 { return limit(o.MaxObjectBytes, DefaultMaxObjectBytes) }
func (o LoadOptions) maxObjects() int       { return int(limit(int64(o.MaxObjects), DefaultMaxObjects)) }

// limit is v, def for 0, and no limit (-1) for a negative v.
func limit(v, def int64) int64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// over is whether n is over the limit max (-1: none).
func over(n, max int64) bool { return max >= 0 && n > max }

// readFile reads at most max bytes of path (a pipe or a device too, which Stat cannot size).
func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	defer f.Close()
	tooLarge := func(n string) error {
		return fmt.Errorf("%w: %s: %s bytes, more than the limit of %s (LoadOptions.MaxFileBytes)", ErrTooLarge, path, n, bytesText(max))
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && over(fi.Size(), max) {
		return nil, tooLarge(strconv.FormatInt(fi.Size(), 10))
	}
	r := io.Reader(f)
	if max >= 0 {
		r = io.LimitReader(f, max+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	if over(int64(len(data)), max) {
		return nil, tooLarge("over " + strconv.FormatInt(max, 10))
	}
	return data, nil
}

// bytesText is n bytes for a message: 16777216 (16 MiB).
func bytesText(n int64) string {
	s := strconv.FormatInt(n, 10)
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return s + " (" + strconv.FormatInt(n>>20, 10) + " MiB)"
	case n >= 1<<10 && n%(1<<10) == 0:
		return s + " (" + strconv.FormatInt(n>>10, 10) + " KiB)"
	}
	return s
}
