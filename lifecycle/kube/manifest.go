package kube

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/lifecycle"
)

// Errors a DocumentError matches with errors.Is.
var (
	// ErrSyntax: the document is not YAML or JSON (a truncated file, a bad indent), or not an
	// object.
	ErrSyntax = errors.New("kube: syntax error")
	// ErrUnknownKind: the document's kind is not one podlife runs.
	ErrUnknownKind = errors.New("kube: unsupported kind")
	// ErrInvalid: a field has the wrong type, is unknown, or breaks a validation rule.
	ErrInvalid = errors.New("kube: invalid field")
)

// Manifest is one pod from a manifest file: a Pod, or the pod template of a workload (the
// template is what runs; the controller's own fields are warnings).
type Manifest struct {
	// Document is the document's number in the file, from 1, counting non-empty documents;
	// Item its index in a List document, -1 outside one.
	Document, Item int
	// Line is the line the object starts on, from 1.
	Line int
	// APIVersion and Kind say what the object is (v1 Pod, apps/v1 Deployment, ...).
	APIVersion, Kind string
	// Name and Namespace are the object's (for a workload, the workload's: its pods are named
	// after it). Namespace is empty when the manifest leaves it to the client.
	Name, Namespace string
	// Object is the decoded object: *v1.Pod, *appsv1.Deployment, *batchv1.Job, ...
	Object runtime.Object
	// SpecPath is where the pod spec sits in the object: spec, spec.template.spec,
	// spec.jobTemplate.spec.template.spec (prefixed with items[i] in a List).
	SpecPath string
	// PodSpec is the pod spec as written; Spec is podlife's conversion of it.
	PodSpec v1.PodSpec
	Spec    podlife.PodSpec
	// Warnings list every set field podlife does not model, with its line.
	Warnings Warnings

	root  *field.Path // items[i] in a List, nil otherwise
	lines *lineIndex
}

// Ref names the pod for a lifecycle.Machine: the object's name and namespace ("default" when
// the manifest has none), and its UID if set. An object with only metadata.generateName gets
// that prefix and "00000", where the API server would add five random characters, so that a
// run is reproducible.
func (m *Manifest) Ref() lifecycle.PodRef {
	ref := lifecycle.PodRef{Namespace: m.Namespace, Name: m.Name}
	if ref.Namespace == "" {
		ref.Namespace = metav1.NamespaceDefault
	}
	if o, ok := m.Object.(metav1.Object); ok {
		ref.UID = string(o.GetUID())
		if ref.Name == "" && o.GetGenerateName() != "" {
			ref.Name = o.GetGenerateName() + "00000"
		}
	}
	return ref
}

// LineOf is the line of the field at path in the file, or of its closest parent there; 0 when
// unknown (JSON that the line index could not read).
func (m *Manifest) LineOf(path string) int { return m.lines.lineOf(path) }

// kind describes an object kind podlife reads: where its pod spec is and which rules its
// template follows.
type kind struct {
	apiVersion string
	new        func() runtime.Object
	// specPath is the pod spec's path; controllerPaths are the controller specs above it,
	// whose fields other than the next step of specPath are warnings.
	specPath        []string
	controllerPaths [][]string
	// name validates metadata.name as the API server does for this kind.
	name apivalidation.ValidateNameFunc
	// policies are the pod restartPolicy values the kind allows in its template; nil is any.
	policies []v1.RestartPolicy
}

// kinds podlife runs. PodTemplate and ReplicationController come cheap with the rest.
var kinds = map[string]kind{
	"Pod": {apiVersion: "v1", new: func() runtime.Object { return &v1.Pod{} },
		specPath: []string{"spec"}, name: apivalidation.NameIsDNSSubdomain},
	"PodTemplate": {apiVersion: "v1", new: func() runtime.Object { return &v1.PodTemplate{} },
		specPath: []string{"template", "spec"}, name: apivalidation.NameIsDNSSubdomain},
	"ReplicationController": {apiVersion: "v1", new: func() runtime.Object { return &v1.ReplicationController{} },
		specPath: []string{"spec", "template", "spec"}, controllerPaths: [][]string{{"spec"}},
		name: apivalidation.NameIsDNSSubdomain, policies: []v1.RestartPolicy{v1.RestartPolicyAlways}},
	"Deployment": {apiVersion: "apps/v1", new: func() runtime.Object { return &appsv1.Deployment{} },
		specPath: []string{"spec", "template", "spec"}, controllerPaths: [][]string{{"spec"}},
		name: apivalidation.NameIsDNSSubdomain, policies: []v1.RestartPolicy{v1.RestartPolicyAlways}},
	"ReplicaSet": {apiVersion: "apps/v1", new: func() runtime.Object { return &appsv1.ReplicaSet{} },
		specPath: []string{"spec", "template", "spec"}, controllerPaths: [][]string{{"spec"}},
		name: apivalidation.NameIsDNSSubdomain, policies: []v1.RestartPolicy{v1.RestartPolicyAlways}},
	"StatefulSet": {apiVersion: "apps/v1", new: func() runtime.Object { return &appsv1.StatefulSet{} },
		specPath: []string{"spec", "template", "spec"}, controllerPaths: [][]string{{"spec"}},
		name: apivalidation.NameIsDNSLabel, policies: []v1.RestartPolicy{v1.RestartPolicyAlways}},
	"DaemonSet": {apiVersion: "apps/v1", new: func() runtime.Object { return &appsv1.DaemonSet{} },
		specPath: []string{"spec", "template", "spec"}, controllerPaths: [][]string{{"spec"}},
		name: apivalidation.NameIsDNSSubdomain, policies: []v1.RestartPolicy{v1.RestartPolicyAlways}},
	"Job": {apiVersion: "batch/v1", new: func() runtime.Object { return &batchv1.Job{} },
		specPath: []string{"spec", "template", "spec"}, controllerPaths: [][]string{{"spec"}},
		name: apivalidation.NameIsDNSSubdomain, policies: []v1.RestartPolicy{v1.RestartPolicyOnFailure, v1.RestartPolicyNever}},
	"CronJob": {apiVersion: "batch/v1", new: func() runtime.Object { return &batchv1.CronJob{} },
		specPath:        []string{"spec", "jobTemplate", "spec", "template", "spec"},
		controllerPaths: [][]string{{"spec"}, {"spec", "jobTemplate", "spec"}},
		name:            cronJobName, policies: []v1.RestartPolicy{v1.RestartPolicyOnFailure, v1.RestartPolicyNever}},
}

// cronJobName leaves room for the suffix the controller adds to a Job's name (ValidateCronJob).
func cronJobName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNSSubdomain(name, prefix)
	if len(name) > 52 {
		msgs = append(msgs, "must be no more than 52 characters")
	}
	return msgs
}

// supportedKinds lists the kinds for error messages; a List may hold any of them but a List.
func supportedKinds(withList bool) []string {
	out := slices.Sorted(maps.Keys(kinds))
	if withList {
		out = append(out, "List")
	}
	return out
}

// ParseManifests reads YAML or JSON (sigs.k8s.io/yaml, as kubectl does), one or more documents
// separated by "---" lines, and gives one Manifest per Pod and per workload's pod template,
// converted to podlife's spec with warnings for the fields podlife does not model. A List
// document gives one Manifest per item; empty documents are skipped.
//
// Decoding is strict, as kubectl's default: an unknown field, a value of the wrong type, a
// duplicate key, an unsupported kind or a syntax error fails the document. Every document is
// read and all their problems are returned at once, joined, each a *DocumentError naming the
// document, its line and the field paths (errors.Is matches ErrSyntax, ErrUnknownKind,
// ErrInvalid). The manifests of the good documents are returned beside the error.
// Of the metadata, only name, namespace and uid are read (Ref); labels, annotations and the
// rest are the object's identity, not its lifecycle, and give no warning. ParseManifests does
// not validate: see Manifest.Validate, ValidateManifests and LoadFile.
//
// The input is bounded by the default LoadOptions: see ParseManifestsWith.
func ParseManifests(data []byte) ([]Manifest, error) { return ParseManifestsWith(data, LoadOptions{}) }

// ParseManifestsWith is ParseManifests within the limits of opts. Input over MaxFileBytes is
// refused whole; a document over MaxObjectBytes is a *DocumentError and is not parsed; past
// MaxObjects documents and List items, a *DocumentError says where reading stopped. Each
// matches ErrTooLarge.
func ParseManifestsWith(data []byte, opts LoadOptions) ([]Manifest, error) {
	if max := opts.maxFileBytes(); over(int64(len(data)), max) {
		return nil, fmt.Errorf("%w: %d bytes, more than the limit of %s (LoadOptions.MaxFileBytes)", ErrTooLarge, len(data), bytesText(max))
	}
	return parseManifests(data, "", opts)
}

// LoadFile reads a manifest file with ParseManifests and validates every manifest
// (Manifest.Validate). It returns the manifests only when all of them are good; otherwise an
// error with every problem, each line starting "FILE:LINE:". This is what `podsim -f FILE`
// calls. The file is bounded by the default LoadOptions: see LoadFileWith.
func LoadFile(path string) ([]Manifest, error) { return LoadFileWith(path, LoadOptions{}) }

// LoadFileWith is LoadFile within the limits of opts (see ParseManifestsWith). A file over
// MaxFileBytes is not read past the limit: a pipe or a device is bounded too.
func LoadFileWith(path string, opts LoadOptions) ([]Manifest, error) {
	data, err := readFile(path, opts.maxFileBytes())
	if err != nil {
		return nil, err
	}
	ms, perr := parseManifests(data, path, opts)
	// The documents that parsed are validated too, so that every problem shows at once.
	if err := errors.Join(perr, validateManifests(ms, path)); err != nil {
		return nil, err
	}
	return ms, nil
}

// ValidateManifests validates each manifest and joins the problems as *DocumentErrors, nil when
// every manifest is valid.
func ValidateManifests(ms []Manifest) error { return validateManifests(ms, "") }

func validateManifests(ms []Manifest, file string) error {
	var errs []error
	for i := range ms {
		m := &ms[i]
		if fe := m.Validate(); len(fe) > 0 {
			errs = append(errs, newDocumentError(file, m.Document, m.Line, m.Kind, m.Name, fe, m.lines))
		}
	}
	return errors.Join(errs...)
}

func parseManifests(data []byte, file string, opts LoadOptions) ([]Manifest, error) {
	var out []Manifest
	var errs []error
	n := 0
	maxObject, budget := opts.maxObjectBytes(), int64(opts.maxObjects())
	p := parser{file: file, budget: &budget}
	// next counts a document that is not empty; false, with the error said, past MaxObjects.
	next := func(line int) bool {
		n++
		if !p.take(1) {
			errs = append(errs, &DocumentError{File: file, Index: n, Line: line, Err: fmt.Errorf(
				"%w: more than %d objects (LoadOptions.MaxObjects); the rest of the input is not read", ErrTooLarge, opts.maxObjects())})
			return false
		}
		return true
	}
	for _, d := range splitDocuments(data) {
		line := firstContentLine(d)
		if over(int64(len(d.data)), maxObject) {
			if !next(line) {
				break
			}
			errs = append(errs, &DocumentError{File: file, Index: n, Line: line, Err: fmt.Errorf(
				"%w: %d bytes, more than the limit of %s for one object (LoadOptions.MaxObjectBytes; the API server takes at most 3 MiB)",
				ErrTooLarge, len(d.data), bytesText(maxObject))})
			continue
		}
		j, err := yaml.YAMLToJSONStrict(d.data)
		if err != nil {
			if !next(line) {
				break
			}
			msg := shiftLines(strings.Join(strings.Fields(err.Error()), " "), d.line-1)
			errs = append(errs, &DocumentError{File: file, Index: n, Line: line, ErrLine: lineIn(msg),
				Err: fmt.Errorf("%w: %s", ErrSyntax, msg)})
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			if !next(line) {
				break
			}
			errs = append(errs, &DocumentError{File: file, Index: n, Line: line, Err: fmt.Errorf("%w: %w", ErrSyntax, err)})
			continue
		}
		if v == nil {
			continue // only comments, or nothing
		}
		if !next(line) {
			break
		}
		p.doc, p.line, p.lines = n, line, newLineIndex(d)
		ms, derr := p.document(v)
		out = append(out, ms...)
		if derr != nil {
			errs = append(errs, derr)
		}
	}
	return out, errors.Join(errs...)
}

// parser reads one document.
type parser struct {
	file  string
	doc   int
	line  int
	lines *lineIndex
	// budget is how many more objects may be read (-1: no limit); each document and List item
	// takes one.
	budget *int64
}

// take takes n objects from the budget, false when there are not that many left.
func (p *parser) take(n int) bool {
	if *p.budget < 0 {
		return true
	}
	if int64(n) > *p.budget {
		*p.budget = 0
		return false
	}
	*p.budget -= int64(n)
	return true
}

func (p *parser) fail(kind, name string, errs field.ErrorList) *DocumentError {
	return newDocumentError(p.file, p.doc, p.line, kind, name, errs, p.lines)
}

func (p *parser) document(v any) ([]Manifest, *DocumentError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &DocumentError{File: p.file, Index: p.doc, Line: p.line,
			Err: fmt.Errorf("%w: the document is %s, not an object", ErrSyntax, jsonKind(v))}
	}
	kindName, _ := obj["kind"].(string)
	name := metadataName(obj)
	if kindName != "List" {
		m, errs := p.object(obj, nil)
		if len(errs) > 0 {
			return nil, p.fail(kindName, name, errs)
		}
		return []Manifest{m}, nil
	}
	var errs field.ErrorList
	if av, _ := obj["apiVersion"].(string); av != "v1" {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), obj["apiVersion"], []string{"v1"}))
	}
	for k := range obj {
		switch k {
		case "apiVersion", "kind", "items", "metadata":
		default:
			errs = append(errs, field.Forbidden(field.NewPath(quote.Value(k)), fmt.Sprintf("unknown field %q in v1.List", k)))
		}
	}
	items, ok := obj["items"].([]any)
	if !ok && obj["items"] != nil {
		errs = append(errs, field.TypeInvalid(field.NewPath("items"), field.OmitValueType{}, "must be a list, not "+jsonKind(obj["items"])))
	}
	if !p.take(len(items)) {
		return nil, &DocumentError{File: p.file, Index: p.doc, Line: p.line, Kind: kindName, Name: name, Err: fmt.Errorf(
			"%w: a List of %d items, more objects than the limit (LoadOptions.MaxObjects) leaves; none is read", ErrTooLarge, len(items))}
	}
	var out []Manifest
	for i, item := range items {
		root := field.NewPath("items").Index(i)
		io, ok := item.(map[string]any)
		if !ok {
			errs = append(errs, field.TypeInvalid(root, field.OmitValueType{}, "must be an object, not "+jsonKind(item)))
			continue
		}
		if k, _ := io["kind"].(string); k == "List" {
			errs = append(errs, field.NotSupported(root.Child("kind"), k, supportedKinds(false)))
			continue
		}
		m, ierrs := p.object(io, root)
		m.Item = i
		errs = append(errs, ierrs...)
		if len(ierrs) == 0 {
			out = append(out, m)
		}
	}
	if len(errs) > 0 {
		return out, p.fail(kindName, name, errs)
	}
	return out, nil
}

func metadataName(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}

// object reads one Pod or workload, at root (nil at the top of a document).
func (p *parser) object(obj map[string]any, root *field.Path) (Manifest, field.ErrorList) {
	var errs field.ErrorList
	kindPath, avPath := child(root, "kind"), child(root, "apiVersion")
	kindName, kindOK := obj["kind"].(string)
	apiVersion, avOK := obj["apiVersion"].(string)
	switch {
	case obj["kind"] == nil:
		errs = append(errs, field.Required(kindPath, "must be one of "+strings.Join(supportedKinds(true), ", ")))
	case !kindOK:
		errs = append(errs, field.TypeInvalid(kindPath, shortValue(obj["kind"]), "must be a string"))
	}
	switch {
	case obj["apiVersion"] == nil:
		errs = append(errs, field.Required(avPath, ""))
	case !avOK:
		errs = append(errs, field.TypeInvalid(avPath, shortValue(obj["apiVersion"]), "must be a string"))
	}
	k, known := kinds[kindName]
	if kindOK && !known {
		errs = append(errs, field.NotSupported(kindPath, kindName, supportedKinds(true)))
	}
	if known && avOK && apiVersion != k.apiVersion {
		errs = append(errs, field.NotSupported(avPath, apiVersion, []string{k.apiVersion}))
	}
	if len(errs) > 0 {
		return Manifest{}, errs
	}
	o := k.new()
	checkTypes(reflect.TypeOf(o).Elem(), obj, root, &errs, p.lines)
	if len(errs) > 0 {
		return Manifest{}, errs
	}
	data, err := json.Marshal(obj)
	if err == nil {
		err = json.Unmarshal(data, o)
	}
	if err != nil {
		return Manifest{}, field.ErrorList{field.InternalError(root, fmt.Errorf("decoding %s: %w", kindName, err))}
	}
	meta := o.(metav1.Object)
	objv := reflect.ValueOf(o).Elem()
	spec := valueAt(objv, k.specPath).Addr().Interface().(*v1.PodSpec)
	specPath := child(root, k.specPath...)
	ps, ws, cerrs := convert(spec, specPath)
	for _, cp := range k.controllerPaths {
		controllerWarnings(&ws, child(root, cp...), valueAt(objv, cp), k.specPath[len(cp)])
	}
	if st := objv.FieldByName("Status"); st.IsValid() && isSet(st) {
		ws.add(child(root, "status"), "ignored: podlife computes the status")
	}
	for i := range ws {
		ws[i].Line = p.lines.lineOf(ws[i].Field)
	}
	m := Manifest{
		Document: p.doc, Item: -1, Line: p.line,
		APIVersion: apiVersion, Kind: kindName,
		Name: meta.GetName(), Namespace: meta.GetNamespace(),
		Object: o, SpecPath: specPath.String(),
		PodSpec: *spec, Spec: ps, Warnings: ws,
		root: root, lines: p.lines,
	}
	if root != nil {
		m.Line = p.lines.lineOf(root.String())
	}
	return m, cerrs
}

// controllerWarnings lists the set fields of a controller's spec (replicas, selector,
// backoffLimit, ...) other than keep, the step towards the pod template. They are the
// controller's business, not the pod's: podlife runs the template once.
func controllerWarnings(ws *Warnings, p *field.Path, v reflect.Value, keep string) {
	for _, f := range jsonFields(v.Type()) {
		if f.name == keep {
			continue
		}
		if fv := v.FieldByIndex(f.index); isSet(fv) {
			ws.add(p.Child(f.name), "a controller's field, not modelled by podlife: the pod template runs once")
		}
	}
}

// valueAt follows JSON field names from v.
func valueAt(v reflect.Value, path []string) reflect.Value {
	for _, name := range path {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		f, _ := fieldNamed(v.Type(), name)
		v = v.FieldByIndex(f.index)
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	return v
}

func child(root *field.Path, names ...string) *field.Path {
	if root == nil {
		return field.NewPath(names[0], names[1:]...)
	}
	return root.Child(names[0], names[1:]...)
}

// shiftLines turns the document-relative "line N" of a YAML error into the file's line.
func shiftLines(msg string, offset int) string {
	if offset == 0 {
		return msg
	}
	var b strings.Builder
	for {
		i := strings.Index(msg, "line ")
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+5])
		msg = msg[i+5:]
		j := 0
		for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(msg[:j]); err == nil {
			b.WriteString(strconv.Itoa(n + offset))
			msg = msg[j:]
		}
	}
}

func lineOr(line, def int) int {
	if line == 0 {
		return def
	}
	return line
}

// lineIn finds the first "line N" in a parser's message.
func lineIn(msg string) int {
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	msg = msg[i+5:]
	j := 0
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(msg[:j])
	return n
}

// DocumentError is every problem found in one document of a manifest file.
type DocumentError struct {
	// File is the file's name when it was read by LoadFile.
	File string
	// Index is the document's number in the file, from 1, counting non-empty documents; 0 for a
	// file of one document of a program's own format (DecodeYAML).
	Index int
	// Line is the line the document starts on.
	Line int
	// Kind and Name are the object's, when they could be read.
	Kind, Name string
	// Fields are the problems with fields, with their paths in the object; Lines holds the line
	// of each (0 when unknown).
	Fields field.ErrorList
	Lines  []int
	// Err is a problem with the document as a whole (ErrSyntax), nil otherwise; ErrLine is its
	// line when the parser said (0 otherwise).
	Err     error
	ErrLine int
}

func newDocumentError(file string, doc, line int, kind, name string, errs field.ErrorList, idx *lineIndex) *DocumentError {
	e := &DocumentError{File: file, Index: doc, Line: line, Kind: kind, Name: name, Fields: errs, Lines: make([]int, len(errs))}
	for i, fe := range errs {
		e.Lines[i] = idx.lineOf(fe.Field)
	}
	return e
}

// Error gives one problem per line, "FILE:LINE: document N (Kind name): problem", or "line
// LINE: ..." without a file, so an editor can jump to each. Values from the file are quoted
// when they are not plain names (quote.Value), and no control character of the file reaches
// the text raw: a crafted kind or name cannot drive the reader's terminal.
func (e *DocumentError) Error() string {
	what := "document " + strconv.Itoa(e.Index)
	switch {
	case e.Kind != "" && e.Name != "":
		what += " (" + quote.Value(e.Kind) + " " + quote.Value(e.Name) + ")"
	case e.Kind != "" || e.Name != "":
		what += " (" + quote.Value(e.Kind+e.Name) + ")"
	case e.Index == 0:
		what = "" // a file of one document, not a manifest (DecodeYAML)
	}
	at := func(line int) string {
		if line == 0 {
			line = e.Line
		}
		if e.File != "" {
			return quote.Text(e.File) + ":" + strconv.Itoa(line)
		}
		return "line " + strconv.Itoa(line)
	}
	type row struct {
		line int
		text string
	}
	var rows []row
	if e.Err != nil {
		rows = append(rows, row{e.ErrLine, e.Err.Error()})
	}
	for i, fe := range e.Fields {
		rows = append(rows, row{e.Lines[i], fe.Error()})
	}
	// In file order, as an editor lists them; problems on one line keep their field order.
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(lineOr(a.line, e.Line), lineOr(b.line, e.Line)) })
	lines := make([]string, len(rows))
	for i, r := range rows {
		// The text quotes the values it names; quote.Text escapes what a validator or parser
		// may have printed raw, and a newline, which would fake a line of its own.
		prefix := at(r.line) + ": "
		if what != "" {
			prefix += what + ": "
		}
		lines[i] = prefix + quote.Text(strings.ReplaceAll(r.text, "\n", `\n`))
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives the field errors and Err to errors.As and errors.Is.
func (e *DocumentError) Unwrap() []error {
	out := make([]error, 0, len(e.Fields)+1)
	if e.Err != nil {
		out = append(out, e.Err)
	}
	for _, fe := range e.Fields {
		out = append(out, fe)
	}
	return out
}

// Is matches ErrInvalid when a field has a problem and ErrUnknownKind when the kind is one
// podlife does not run.
func (e *DocumentError) Is(target error) bool {
	switch target {
	case ErrInvalid:
		return len(e.Fields) > 0
	case ErrUnknownKind:
		for _, fe := range e.Fields {
			if fe.Type == field.ErrorTypeNotSupported && (fe.Field == "kind" || strings.HasSuffix(fe.Field, ".kind")) {
				return true
			}
		}
	}
	return false
}
