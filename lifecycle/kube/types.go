package kube

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
)

// typeInfo is what decoding and the warnings need of a type: for a struct, its JSON fields and
// an index of them by name; whether the type decodes itself.
type typeInfo struct {
	fields      []jsonField
	byName      map[string]int // into fields
	unmarshaler bool
}

// typeTable holds the typeInfo of every type reachable from the kinds podlife reads (v1.Pod,
// the workloads, their fields' types, transitively). The reflection over the v1 types was a
// quarter of the time to read a manifest when it was redone for every object; now it is done
// once per process, on first use.
//
// It is a package-level value, but no mutable state: the table is a function of the compiled
// types alone, the same in every run, built completely under sync.OnceValue (so concurrent first
// uses are safe) and never written after. A cache filled type by type (a sync.Map) would be
// state that grows with the calls; a table per call would redo the reflection for every
// single-object conversion (ToPodSpec), which reads one object at a time.
var typeTable = sync.OnceValue(func() map[reflect.Type]*typeInfo {
	table := map[reflect.Type]*typeInfo{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		if _, ok := table[t]; ok {
			return
		}
		info := &typeInfo{unmarshaler: implementsUnmarshaler(t)}
		table[t] = info
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			add(t.Elem())
		case reflect.Map:
			add(t.Key())
			add(t.Elem())
		case reflect.Struct:
			info.fields = computeJSONFields(t)
			info.byName = make(map[string]int, len(info.fields))
			for i, f := range info.fields {
				info.byName[f.name] = i
				add(f.typ)
			}
		}
	}
	for _, root := range []reflect.Type{
		reflect.TypeFor[v1.Pod](), reflect.TypeFor[v1.PodTemplate](), reflect.TypeFor[v1.ReplicationController](),
		reflect.TypeFor[appsv1.Deployment](), reflect.TypeFor[appsv1.ReplicaSet](), reflect.TypeFor[appsv1.StatefulSet](),
		reflect.TypeFor[appsv1.DaemonSet](), reflect.TypeFor[batchv1.Job](), reflect.TypeFor[batchv1.CronJob](),
	} {
		add(root)
	}
	return table
})

// infoOf is t's typeInfo: from the table, or computed (for a type no kind reaches, which only a
// test would ask about).
func infoOf(t reflect.Type) *typeInfo {
	if info, ok := typeTable()[t]; ok {
		return info
	}
	info := &typeInfo{unmarshaler: implementsUnmarshaler(t)}
	if t.Kind() == reflect.Struct {
		info.fields = computeJSONFields(t)
		info.byName = make(map[string]int, len(info.fields))
		for i, f := range info.fields {
			info.byName[f.name] = i
		}
	}
	return info
}

// jsonFields lists the JSON fields of struct type t in declaration order, with fields of
// embedded inline structs flattened in place, as encoding/json sees them. The slice is shared:
// do not modify it.
func jsonFields(t reflect.Type) []jsonField { return infoOf(t).fields }

// fieldNamed is t's JSON field name, false when t has none of that name.
func fieldNamed(t reflect.Type, name string) (jsonField, bool) {
	info := infoOf(t)
	i, ok := info.byName[name]
	if !ok {
		return jsonField{}, false
	}
	return info.fields[i], true
}

type jsonField struct {
	name  string
	index []int
	typ   reflect.Type
}

func computeJSONFields(t reflect.Type) []jsonField {
	var out []jsonField
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			idx := append(append([]int(nil), index...), i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if tag == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out = append(out, jsonField{name: name, index: idx, typ: f.Type})
		}
	}
	walk(t, nil)
	// encoding/json: a field of the outer struct hides an embedded one with the same name.
	seen := make(map[string]bool, len(out))
	kept := out[:0]
	for _, f := range out {
		if seen[f.name] {
			continue
		}
		seen[f.name] = true
		kept = append(kept, f)
	}
	return kept
}

func implementsUnmarshaler(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	for _, u := range [...]reflect.Type{reflect.TypeFor[json.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()} {
		if t.Implements(u) || pt.Implements(u) {
			return true
		}
	}
	return false
}
