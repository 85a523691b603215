package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// YAMLDocument is a file of a program's own format read by DecodeYAML: it knows the line of
// every field path in it, for the problems the program finds in the values once they decoded.
type YAMLDocument struct {
	file  string
	lines *lineIndex
}

// DecodeYAML reads data, one YAML (or JSON) document, into v, a pointer to a Go value whose
// fields have json tags, as ParseManifests reads an object: strict YAML (no duplicate keys),
// and every key v has no field for and every value of the wrong type reported at once, each with
// its field path and line, in a *DocumentError (matching ErrSyntax or ErrInvalid). It is for
// files of a program's own format next to its manifests, so that they fail as manifests do
// (podsim's scenarios). file names the data in errors ("" for none). The YAMLDocument gives the
// lines of the file's paths for the program's own checks (Errors), also when it returns an
// error.
func DecodeYAML(file string, data []byte, v any) (*YAMLDocument, error) {
	d := &YAMLDocument{file: file, lines: newLineIndex(document{data: data, line: 1})}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return d, fmt.Errorf("kube: DecodeYAML needs a pointer, not %T", v)
	}
	docs := 0
	for _, doc := range splitDocuments(data) {
		if !hasContent(doc) {
			continue
		}
		if docs++; docs > 1 {
			line := firstContentLine(doc)
			return d, &DocumentError{File: file, Line: line, ErrLine: line,
				Err: fmt.Errorf("%w: a second document; the file holds one", ErrSyntax)}
		}
	}
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		return d, &DocumentError{File: file, Line: 1, ErrLine: lineIn(msg), Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
	}
	var obj any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		if err == nil {
			err = errors.New("the file is empty")
		}
		return d, &DocumentError{File: file, Line: 1, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	if _, ok := obj.(map[string]any); !ok && t.Elem().Kind() == reflect.Struct {
		return d, &DocumentError{File: file, Line: 1, Err: fmt.Errorf("%w: the file is %s, not an object", ErrSyntax, jsonKind(obj))}
	}
	var errs field.ErrorList
	checkTypes(t.Elem(), obj, nil, &errs, d.lines)
	if len(errs) > 0 {
		return d, d.Errors(errs)
	}
	if err := json.Unmarshal(j, v); err != nil {
		return d, d.Errors(field.ErrorList{field.InternalError(nil, err)})
	}
	return d, nil
}

// LineOf is the line of a field path in the file ("timeline[2].delete.grace"), or of its
// closest parent there; 0 when nothing is known.
func (d *YAMLDocument) LineOf(path string) int { return d.lines.lineOf(path) }

// Errors is errs as a *DocumentError that names each problem's line, as DecodeYAML's own; nil
// when errs is empty.
func (d *YAMLDocument) Errors(errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return newDocumentError(d.file, 0, 1, "", "", errs, d.lines)
}

// hasContent reports whether a document has a line that is neither blank nor a comment.
func hasContent(d document) bool {
	for text := range strings.Lines(string(d.data)) {
		if t := strings.TrimSpace(text); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}
