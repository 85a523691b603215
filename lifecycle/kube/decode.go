package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife/internal/quote"
)

// checkTypes reports, with their paths, every key of the decoded JSON value v that type t has
// no field for, and every value of the wrong JSON type, all at once. encoding/json stops at the
// first wrong type and names it without list indices; kubectl's strict decoding (the default
// of --validate) rejects unknown fields. Keys match field names case-sensitively, as in the API
// server (encoding/json alone would accept "Containers"). v is decoded with UseNumber. A key
// from the file goes into a path as quote.Value has it, so a crafted key prints as text.
func checkTypes(t reflect.Type, v any, p *field.Path, errs *field.ErrorList, lines *lineIndex) {
	if v == nil {
		return // null leaves the field at its zero value
	}
	info := infoOf(t)
	if info.unmarshaler {
		checkUnmarshal(t, v, p, errs)
		return
	}
	bad := func(want string) {
		*errs = append(*errs, field.TypeInvalid(p, shortValue(v), fmt.Sprintf("must be %s, not %s", want, jsonKind(v))))
	}
	switch t.Kind() {
	case reflect.Interface:
	case reflect.Pointer:
		checkTypes(t.Elem(), v, p, errs, lines)
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			i, ok := info.byName[k]
			if !ok {
				*errs = append(*errs, field.Forbidden(p.Child(quote.Value(k)), fmt.Sprintf("unknown field %q in %s", k, t)))
				continue
			}
			checkTypes(info.fields[i].typ, obj[k], p.Child(k), errs, lines)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			checkUnmarshal(t, v, p, errs) // []byte is base64 text
			return
		}
		list, ok := v.([]any)
		if !ok {
			bad("a list")
			return
		}
		for i, e := range list {
			checkTypes(t.Elem(), e, p.Index(i), errs, lines)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			checkTypes(t.Elem(), obj[k], p.Key(quote.Value(k)), errs, lines)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			bad("an integer")
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			text := asWritten(n, p, lines)
			_, err = strconv.ParseInt(text, 10, t.Bits())
			*errs = append(*errs, field.TypeInvalid(p, text, numberMsg(err, "an integer", t)))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			bad("an integer")
			return
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			text := asWritten(n, p, lines)
			_, err = strconv.ParseUint(text, 10, t.Bits())
			*errs = append(*errs, field.TypeInvalid(p, text, numberMsg(err, "an integer", t)))
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			bad("a number")
			return
		}
		if _, err := strconv.ParseFloat(n.String(), t.Bits()); err != nil {
			*errs = append(*errs, field.TypeInvalid(p, n.String(), numberMsg(err, "a number", t)))
		}
	default:
		*errs = append(*errs, field.TypeInvalid(p, field.OmitValueType{}, fmt.Sprintf("cannot be decoded into %s", t)))
	}
}

// asWritten is the number n at p as the file wrote it, when the file wrote an integer: the YAML
// decoder turns one too large for 64 bits into a float, 1e+23 or 18446744073709552000, and the
// user must see their own digits. Otherwise n as it is.
func asWritten(n json.Number, p *field.Path, lines *lineIndex) string {
	if s, ok := lines.integerText(p.String()); ok {
		return s
	}
	return n.String()
}

// numberMsg says whether a number is out of range or of the wrong form (1.5 for an integer).
func numberMsg(err error, want string, t reflect.Type) string {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Sprintf("must be %s that fits in %s", want, t.Kind())
	}
	return "must be " + want
}

// checkUnmarshal lets a type with its own decoding (IntOrString, Quantity, Time, []byte) judge
// the value.
func checkUnmarshal(t reflect.Type, v any, p *field.Path, errs *field.ErrorList) {
	data, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(data, reflect.New(t).Interface())
	}
	if err != nil {
		*errs = append(*errs, field.TypeInvalid(p, shortValue(v), fmt.Sprintf("cannot be decoded into %s: %v", t, unwrapJSON(err))))
	}
}

// unwrapJSON drops encoding/json's Go-centric prefix where it has a plainer cause.
func unwrapJSON(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return fmt.Errorf("a JSON %s is not accepted", ute.Value)
	}
	return err
}

// shortValue is what an error shows of a bad value: scalars as they are, objects and lists not
// at all (they can be long).
func shortValue(v any) any {
	switch v := v.(type) {
	case string, bool:
		return v
	case json.Number:
		return v.String()
	}
	return field.OmitValueType{}
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
