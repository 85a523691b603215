// Package strictjson decodes one JSON value strictly (no unknown fields, nothing after it), with
// errors that say where in the input the problem is, for files and annotations a user writes by
// hand.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Decode reads exactly one JSON value from data into v, refusing unknown fields and trailing
// data. Its errors say where the problem is (line L, column C), since encoding/json's field paths
// leave out map keys and array indexes, and its unknown-field errors have none.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: unexpected data after the JSON value", position(data, dec.InputOffset()))
	}
	return nil
}

// jsonError rewrites encoding/json's errors to name the place and, where it can, the field.
func jsonError(data []byte, offset int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty input, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of input")
	case errors.As(err, &syn):
		return fmt.Errorf("%s: invalid JSON: %v", position(data, syn.Offset), syn)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("%s: field %s: want %s, got JSON %s", position(data, typ.Offset), typ.Field,
			jsonType(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: want a JSON object, got JSON %s", position(data, typ.Offset), typ.Value)
	}
	return fmt.Errorf("%s: %s", position(data, offset), strings.TrimPrefix(err.Error(), "json: "))
}

// position is "line L, column C" (both from 1) of the last byte encoding/json read before it
// stopped, offset bytes into data.
func position(data []byte, offset int64) string {
	offset = min(max(offset, 1), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before[:len(before)-1], []byte("\n")) + 1
	col := len(before) - (bytes.LastIndexByte(before[:len(before)-1], '\n') + 1)
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonType names a Go kind as the JSON a user should write.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int32", "int64", "uint8":
		return "an integer"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return kind
}
