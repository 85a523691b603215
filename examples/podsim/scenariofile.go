package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/internal/quote"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/kube"
	"github.com/podlife/podlife/lifecycle/simruntime"
	"github.com/podlife/podlife/scenario"
)

// scenarioVersion is the version of podsim's scenario format, the value of the file's
// "podsim-scenario" key. A file of another version is refused, never read as this one.
const scenarioVersion = "v1"

// scenarioFile is a -scenario file (see the package doc): a pod, what its containers do, and
// a timeline of operations.
type scenarioFile struct {
	Version  string                    `json:"podsim-scenario"`
	Pod      *scenarioPod              `json:"pod,omitempty"`
	Until    string                    `json:"until,omitempty"`
	Images   []string                  `json:"images,omitempty"`
	Script   *simruntime.PodScriptJSON `json:"script,omitempty"`
	Timeline []opJSON                  `json:"timeline,omitempty"`
}

// scenarioPod is the scenario's pod: a manifest (a path from the scenario file's directory, and
// which object of it), or a pod spec as a Pod manifest's spec.
type scenarioPod struct {
	Manifest  string      `json:"manifest,omitempty"`
	Name      string      `json:"name,omitempty"`
	Namespace string      `json:"namespace,omitempty"`
	Spec      *v1.PodSpec `json:"spec,omitempty"`
}

// opJSON is one operation of the timeline: at, and exactly one of the others.
type opJSON struct {
	At           string           `json:"at"`
	Delete       *deleteJSON      `json:"delete,omitempty"`
	SetImage     *setImageJSON    `json:"setImage,omitempty"`
	SetDeadline  *setDeadlineJSON `json:"setDeadline,omitempty"`
	Agent        string           `json:"agent,omitempty"`
	Node         string           `json:"node,omitempty"`
	Sandbox      string           `json:"sandbox,omitempty"`
	ImagePresent string           `json:"imagePresent,omitempty"`
}

type deleteJSON struct {
	// Grace is the request's grace period in seconds: nil is the spec's, 0 a forced deletion.
	Grace *int64 `json:"grace,omitempty"`
}

type setImageJSON struct {
	Container string `json:"container"`
	Image     string `json:"image"`
}

type setDeadlineJSON struct {
	// Seconds is the pod's new activeDeadlineSeconds, counted from its start.
	Seconds *int64 `json:"seconds"`
}

// loadedScenario is a scenario file read, before the pod is known: its own pod, if it has one,
// and the rest to be checked against the pod's spec (finish).
type loadedScenario struct {
	path  string
	file  scenarioFile
	doc   *kube.YAMLDocument
	pod   *plan // the file's pod: ref, spec, kind, what, notes; nil when it has none
	text  *scenario.Scenario
	until time.Duration // 0: the file says none
}

// readScenario decodes a -scenario file and reads its pod. A file of the test kit's text format
// (podlife-scenario: v1, podlife's golden traces) is read as that.
func readScenario(path string, data []byte, limits kube.LoadOptions) (*loadedScenario, error) {
	ls := &loadedScenario{path: path}
	if isTextScenario(data) {
		f, err := scenario.ParseFile(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sc := f.Scenario
		if sc.End() > maxUntil {
			return nil, fmt.Errorf("%s: until %s: at most %s", path, fmtDur(sc.End()), fmtDur(maxUntil))
		}
		ls.text = &sc
		ls.pod = &plan{ref: sc.Ref(), spec: sc.Spec, what: "scenario " + path}
		ls.until = sc.End()
		return ls, nil
	}
	doc, err := kube.DecodeYAML(path, data, &ls.file)
	if err != nil {
		return nil, err
	}
	ls.doc = doc
	var errs field.ErrorList
	switch v := ls.file.Version; v {
	case scenarioVersion:
	case "":
		errs = append(errs, field.Required(field.NewPath("podsim-scenario"), "want podsim-scenario: "+scenarioVersion))
	default:
		errs = append(errs, field.NotSupported(field.NewPath("podsim-scenario"), v, []string{scenarioVersion}))
	}
	if u := ls.file.Until; u != "" {
		ls.until = durationField(field.NewPath("until"), u, &errs)
		switch {
		case ls.until <= 0 && len(errs) == 0:
			errs = append(errs, field.Invalid(field.NewPath("until"), u, "want a positive duration"))
		case ls.until > maxUntil:
			errs = append(errs, field.Invalid(field.NewPath("until"), u, "at most "+fmtDur(maxUntil)))
		}
	}
	if err := doc.Errors(errs); err != nil {
		return nil, err
	}
	if p := ls.file.Pod; p != nil {
		pod, err := ls.readPod(p, limits)
		if err != nil {
			return nil, err
		}
		ls.pod = pod
	}
	return ls, nil
}

// isTextScenario reports whether data is a file of the test kit's format: its first line that
// is no comment is "podlife-scenario: ...".
func isTextScenario(data []byte) bool {
	for line := range bytes.Lines(data) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		return bytes.HasPrefix(t, []byte("podlife-scenario:"))
	}
	return false
}

func (ls *loadedScenario) readPod(p *scenarioPod, limits kube.LoadOptions) (*plan, error) {
	root := field.NewPath("pod")
	switch {
	case p.Manifest != "" && p.Spec != nil:
		return nil, ls.doc.Errors(field.ErrorList{field.Invalid(root, field.OmitValueType{}, "give a manifest or a spec, not both")})
	case p.Manifest != "":
		if p.Namespace != "" {
			return nil, ls.doc.Errors(field.ErrorList{field.Forbidden(root.Child("namespace"), "the manifest says the namespace")})
		}
		file := p.Manifest
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(ls.path), file)
		}
		pod, err := loadManifest(file, p.Name, limits)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: pod.manifest: %w", ls.path, ls.doc.LineOf("pod.manifest"), err)
		}
		pod.what = "scenario " + ls.path + ", " + pod.what
		return pod, nil
	case p.Spec != nil:
		spec, ws, err := kube.FromPodSpec(*p.Spec)
		errs := kube.ValidatePodSpec(p.Spec, root.Child("spec"))
		if err != nil && len(errs) == 0 {
			errs = append(errs, field.Invalid(root.Child("spec"), field.OmitValueType{}, err.Error()))
		}
		ref := lifecycle.PodRef{Namespace: "default", Name: userPodName, UID: "uid"}
		if p.Name != "" {
			ref.Name = p.Name
		}
		if p.Namespace != "" {
			ref.Namespace = p.Namespace
		}
		for _, msg := range podlife.IsDNS1123Subdomain(ref.Name) {
			errs = append(errs, field.Invalid(root.Child("name"), ref.Name, msg))
		}
		for _, msg := range podlife.IsDNS1123Label(ref.Namespace) {
			errs = append(errs, field.Invalid(root.Child("namespace"), ref.Namespace, msg))
		}
		if err := ls.doc.Errors(errs); err != nil {
			return nil, err
		}
		pod := &plan{ref: ref, spec: spec, what: "scenario " + ls.path}
		for _, w := range ws {
			line := ls.doc.LineOf("pod." + w.Field)
			pod.notes = append(pod.notes, fmt.Sprintf("%s:%d: warning: pod.%s", ls.path, line, w))
		}
		return pod, nil
	}
	return nil, ls.doc.Errors(field.ErrorList{field.Required(root, "a manifest or a spec")})
}

// finish checks the file's script and timeline against the pod's spec and puts them into p.
func (ls *loadedScenario) finish(p *plan) error {
	if sc := ls.text; sc != nil {
		p.script, p.images, p.ops = sc.Script, sc.Images, sc.Ops
		return nil
	}
	var errs field.ErrorList
	if js := ls.file.Script; js != nil {
		ps, err := js.PodScript(&p.spec)
		var serrs simruntime.ScriptErrors
		switch {
		case errors.As(err, &serrs):
			for _, e := range serrs {
				errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: "script." + e.Path, BadValue: field.OmitValueType{}, Detail: e.Detail})
			}
		case err != nil:
			errs = append(errs, field.Invalid(field.NewPath("script"), field.OmitValueType{}, err.Error()))
		}
		p.script = ps
	}
	p.images = ls.file.Images
	for i, img := range p.images {
		if img == "" {
			errs = append(errs, field.Required(field.NewPath("images").Index(i), "an image reference"))
		}
	}
	p.ops = nil
	for i, o := range ls.file.Timeline {
		op, ok := o.op(field.NewPath("timeline").Index(i), p, &errs)
		if ok {
			p.ops = append(p.ops, op)
		}
	}
	if err := ls.doc.Errors(errs); err != nil {
		return err
	}
	// The API server refuses to raise or remove a deadline: a file that says so is wrong, not
	// an update that silently does nothing.
	spec := p.spec
	for _, i := range timeOrder(p.ops) {
		op := p.ops[i]
		if op.Kind != scenario.OpUpdateDeadline {
			continue
		}
		if next, ok := scenario.SpecAfter(spec, op); ok {
			spec = next
		} else if was := spec.ActiveDeadlineSeconds; was != nil {
			errs = append(errs, field.Invalid(field.NewPath("timeline").Index(i).Child("setDeadline", "seconds"), op.Deadline,
				fmt.Sprintf("activeDeadlineSeconds is %d by then, and may only be lowered", *was)))
		}
	}
	if err := ls.doc.Errors(errs); err != nil {
		return err
	}
	// The rules of a timeline as a whole (the agent stopped before it starts, the node lost
	// before it is back, every operation before the end), on the file's lines.
	sc := scenario.Scenario{Pod: p.ref, Spec: p.spec, Script: p.script, Images: p.images, Ops: p.ops, Until: p.until}
	if err := sc.Validate(); err != nil {
		oes := scenario.OpErrors(err)
		if len(oes) == 0 {
			return err
		}
		for _, oe := range oes {
			errs = append(errs, field.Invalid(field.NewPath("timeline").Index(oe.Index), field.OmitValueType{}, oe.Err.Error()))
		}
		return ls.doc.Errors(errs)
	}
	return nil
}

// op reads one operation of the timeline, at path.
func (o opJSON) op(path *field.Path, p *plan, errs *field.ErrorList) (scenario.Op, bool) {
	n := len(*errs)
	var at time.Duration
	if o.At == "" {
		*errs = append(*errs, field.Required(path.Child("at"), "when, from the pod's binding: e.g. 90s, 2m30s"))
	} else if at = durationField(path.Child("at"), o.At, errs); at < 0 {
		*errs = append(*errs, field.Invalid(path.Child("at"), o.At, "is negative"))
	}
	var ops []scenario.Op
	if d := o.Delete; d != nil {
		op := scenario.Delete(at)
		if d.Grace != nil {
			if *d.Grace < 0 {
				*errs = append(*errs, field.Invalid(path.Child("delete", "grace"), *d.Grace, "want 0 (a forced deletion) or more seconds"))
			}
			op = scenario.DeleteGrace(at, *d.Grace)
		}
		ops = append(ops, op)
	}
	if s := o.SetImage; s != nil {
		if _, ok := p.spec.ContainerByName(s.Container); !ok {
			var names []string
			for _, c := range p.spec.AllContainers() {
				names = append(names, c.Name)
			}
			*errs = append(*errs, field.NotSupported(path.Child("setImage", "container"), s.Container, names))
		}
		if s.Image == "" {
			*errs = append(*errs, field.Required(path.Child("setImage", "image"), "the new image"))
		}
		ops = append(ops, scenario.UpdateImage(at, s.Container, s.Image))
	}
	if d := o.SetDeadline; d != nil {
		sp := path.Child("setDeadline", "seconds")
		switch {
		case d.Seconds == nil:
			*errs = append(*errs, field.Required(sp, "the pod's new activeDeadlineSeconds"))
		case *d.Seconds < 1 || *d.Seconds > podlife.MaxActiveDeadlineSeconds:
			*errs = append(*errs, field.Invalid(sp, *d.Seconds, fmt.Sprintf("want 1 to %d seconds", podlife.MaxActiveDeadlineSeconds)))
		default:
			ops = append(ops, scenario.UpdateDeadline(at, *d.Seconds))
		}
	}
	word := func(name, value string, ops0 map[string]scenario.Op) {
		if value == "" {
			return
		}
		op, ok := ops0[value]
		if !ok {
			*errs = append(*errs, field.NotSupported(path.Child(name), value, slices.Sorted(mapsKeys(ops0))))
		}
		ops = append(ops, op)
	}
	word("agent", o.Agent, map[string]scenario.Op{"stop": scenario.StopAgent(at), "start": scenario.StartAgent(at)})
	word("node", o.Node, map[string]scenario.Op{"lost": scenario.LoseNode(at), "back": scenario.NodeBack(at)})
	word("sandbox", o.Sandbox, map[string]scenario.Op{"lost": scenario.LoseSandbox(at)})
	if o.ImagePresent != "" {
		ops = append(ops, scenario.AddImage(at, o.ImagePresent))
	}
	switch len(ops) {
	case 0:
		*errs = append(*errs, field.Required(path, "one operation: delete, setImage, setDeadline, agent, node, sandbox or imagePresent"))
	case 1:
	default:
		*errs = append(*errs, field.Invalid(path, field.OmitValueType{}, "one operation per entry; give each its own"))
	}
	if len(*errs) > n || len(ops) != 1 {
		return scenario.Op{}, false
	}
	return ops[0], true
}

// timeOrder is the indexes of ops in time order, those of one time in their order.
func timeOrder(ops []scenario.Op) []int {
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(ops[a].At - ops[b].At) })
	return order
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// durationField parses a Go duration at path.
func durationField(path *field.Path, s string, errs *field.ErrorList) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		*errs = append(*errs, field.Invalid(path, s, `not a duration (write e.g. "20s", "1m30s")`))
	}
	return d
}

// loadManifest reads the pod of a manifest file: the object named name, or the first.
func loadManifest(file, name string, limits kube.LoadOptions) (*plan, error) {
	ms, err := kube.LoadFileWith(file, limits)
	if err != nil {
		return nil, errors.New(err.Error()) // FILE:LINE: lines, one per problem
	}
	m, err := pick(ms, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p := &plan{ref: m.Ref(), spec: m.Spec, kind: m.Kind, what: "manifest " + file}
	ws := slices.Clone(m.Warnings)
	slices.SortStableFunc(ws, func(a, b kube.Warning) int { return a.Line - b.Line })
	for _, w := range ws {
		p.notes = append(p.notes, fmt.Sprintf("%s:%d: warning: %s", file, w.Line, w))
	}
	if len(ms) > 1 && name == "" {
		p.notes = append(p.notes, fmt.Sprintf("%s: %d objects; running the first, %s %s (pick another with -name)",
			file, len(ms), quote.Value(m.Kind), quote.Value(m.Name)))
	}
	return p, nil
}
