package podlife

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Validation follows the Kubernetes API server (pkg/apis/core/validation/validation.go,
// ValidatePodSpec and what it calls, v1.35) for the fields podlife has. Where it differs:
//   - it runs before the API server's defaulting, so a zero value the API would default is
//     accepted (an empty imagePullPolicy, pod restartPolicy, port protocol, volume source, HTTP
//     path or scheme; zero probe timings; a nil terminationGracePeriodSeconds);
//   - field paths name podlife's own JSON fields, which match the API's except where podlife
//     flattens them (env[i].secretKeyRef for env[i].valueFrom.secretKeyRef, volumes[i].source and
//     .ref, readinessGates[i] for readinessGates[i].conditionType), and are exact where upstream's
//     are not (sleep.seconds for sleep, httpHeaders[i].name for httpHeaders);
//   - a negative terminationGracePeriodSeconds is an error (the API server warns and treats it
//     as 1; Defaulted does the same), and restart rules without the ContainerRestartRules gate are
//     an error (the API server drops them);
//   - a pod may have at most MaxContainers containers, init containers included: the API server
//     sets no number (only its 3 MiB request and etcd's 1.5 MiB value bound a pod).

// MaxActiveDeadlineSeconds is the largest activeDeadlineSeconds the API server accepts
// (math.MaxInt32).
const MaxActiveDeadlineSeconds = 1<<31 - 1

// MaxRestartPolicyRules is the most restart rules one container may have.
const MaxRestartPolicyRules = 20

// MaxContainers is the most containers one pod may have, init and app containers together. The
// API server sets no such number; etcd's default 1.5 MiB bound on a value does, at about 2,000
// to 3,000 of the smallest containers in a pod object with its status, fewer with real images,
// IDs and messages. podlife keeps a pod's status (with its checkpoint) as one record of 190
// bytes per container (a running container with a short name) to 740 (a crash-looping one with
// a digest image, containerd IDs and its back-off message): at 1,000, 0.2 to 0.75 MB, half of
// etcd's bound; at 2,000 a record of crash-looping containers would not be stored. It also bounds the cost of a hostile or mistaken spec: a status names every
// container, so each event costs time linear in their number and a pod's whole life the square
// of it; at 1,000 a pod's start and stop take about a second of CPU (BENCHMARKS.md).
// Real pods have a handful of containers, the largest a few dozen.
const MaxContainers = 1000

// FeatureGates are the Kubernetes feature gates that change which pod specs are valid. The zero
// value has every gate off, which validates as an API server before these features existed;
// DefaultFeatureGates is what Validate uses.
type FeatureGates struct {
	// ContainerRestartRules (KEP-5307; alpha in 1.34, beta and on by default in 1.35) allows a
	// restartPolicy on app containers, restartPolicy Never or OnFailure on init containers, and
	// restartPolicyRules. Without it an init container's restartPolicy may only be Always.
	ContainerRestartRules bool
	// RestartAllContainersOnContainerExits (KEP-5532; alpha in 1.35) allows the rule action
	// RestartAllContainers, and restart rules on sidecars.
	RestartAllContainersOnContainerExits bool
}

// DefaultFeatureGates enables every gate podlife models: a 1.35 API server with
// RestartAllContainersOnContainerExits turned on.
func DefaultFeatureGates() FeatureGates {
	return FeatureGates{ContainerRestartRules: true, RestartAllContainersOnContainerExits: true}
}

// Validate checks s as the API server would on pod creation, with DefaultFeatureGates. It returns
// nil, or an ErrorList with every problem found (errors.As gives the list or a *FieldError;
// errors.Is(err, ErrInvalid) holds). Paths are rooted at "spec". A nil s is an empty spec.
func (s *PodSpec) Validate() error { return s.ValidateWith(DefaultFeatureGates()) }

// ValidateWith is Validate under the given feature gates.
func (s *PodSpec) ValidateWith(gates FeatureGates) error {
	if s == nil {
		s = &PodSpec{}
	}
	v := validator{gates: gates, grace: s.EffectiveGracePeriodSeconds()}
	v.podSpec(s, Path("spec"))
	return v.errs.AsError()
}

// ValidateUpdate checks s as the API server checks a pod's spec on an update from old
// (ValidatePodUpdate, and the spec's own rules again): s is valid as on creation;
// activeDeadlineSeconds may be set or lowered (to 1 at least), never raised or removed; and
// nothing else may change but container images (and their pull policies, which defaulting
// derives from the image). Compare specs alike: both defaulted, or both as written.
func (s *PodSpec) ValidateUpdate(old *PodSpec) error {
	if s == nil {
		s = &PodSpec{}
	}
	if old == nil {
		old = &PodSpec{}
	}
	v := validator{gates: DefaultFeatureGates(), grace: s.EffectiveGracePeriodSeconds()}
	p := Path("spec")
	v.podSpec(s, p)
	ap := p.Child("activeDeadlineSeconds")
	switch cur, prev := s.ActiveDeadlineSeconds, old.ActiveDeadlineSeconds; {
	case cur == nil && prev != nil:
		v.add(Invalid(ap, nil, "must not update from a positive integer to nil value"))
	case cur != nil && prev != nil && *cur > *prev:
		v.add(Invalid(ap, *cur, "must be less than or equal to previous value"))
	}
	if !sameStored(updatable(s), updatable(old)) {
		v.add(Forbidden(p, "pod updates may not change fields other than spec.containers[*].image, "+
			"spec.initContainers[*].image and spec.activeDeadlineSeconds"))
	}
	return v.errs.AsError()
}

// sameStored says whether a and b are the same spec as a store keeps it: JSON, where a nil and
// an empty list are one (the API server compares the decoded objects, so the same holds there). A
// spec read back from a record must compare equal to the one written.
func sameStored(a, b PodSpec) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// updatable is s without what an update may change: images, pull policies and
// activeDeadlineSeconds.
func updatable(s *PodSpec) PodSpec {
	out := *s
	out.ActiveDeadlineSeconds = nil
	out.InitContainers, out.Containers = slices.Clone(s.InitContainers), slices.Clone(s.Containers)
	for _, cs := range [][]Container{out.InitContainers, out.Containers} {
		for i := range cs {
			cs[i].Image, cs[i].ImagePullPolicy = "", ""
		}
	}
	return out
}

// validator collects the problems of one spec.
type validator struct {
	gates FeatureGates
	grace int64 // the pod's effective terminationGracePeriodSeconds, the bound for sleep actions
	errs  ErrorList
}

func (v *validator) add(e *FieldError) { v.errs = append(v.errs, e) }

// invalidEach adds one Invalid error per message, as upstream does.
func (v *validator) invalidEach(p Path, value any, msgs []string) {
	for _, msg := range msgs {
		v.add(Invalid(p, value, msg))
	}
}

func (v *validator) podSpec(s *PodSpec, p Path) {
	if n := len(s.InitContainers) + len(s.Containers); n > MaxContainers {
		// On the list that brings the count past the limit.
		at := p.Child("containers")
		if len(s.InitContainers) > MaxContainers {
			at = p.Child("initContainers")
		}
		v.add(&FieldError{Field: at.String(), Type: ErrorTooMany, BadValue: n,
			Detail: fmt.Sprintf("must have at most %d containers, init containers included (podlife's limit; this pod has %d)", MaxContainers, n)})
	}
	// Upstream reports a name shared by an init and an app container on the init container.
	names := make(map[string]bool, len(s.InitContainers)+len(s.Containers))
	for i := range s.Containers {
		names[s.Containers[i].Name] = true
	}
	v.initContainers(s.InitContainers, names, p.Child("initContainers"))
	v.appContainers(s.Containers, p.Child("containers"))
	v.podRestartPolicy(s.RestartPolicy, p.Child("restartPolicy"))
	if g := s.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		v.add(Invalid(p.Child("terminationGracePeriodSeconds"), *g,
			"must be greater than or equal to 0 (the API server accepts a negative value with a warning and treats it as 1)"))
	}
	if d := s.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > MaxActiveDeadlineSeconds) {
		v.add(Invalid(p.Child("activeDeadlineSeconds"), *d, fmt.Sprintf("must be between 1 and %d, inclusive", MaxActiveDeadlineSeconds)))
	}
	for i, gate := range s.ReadinessGates {
		if msgs := qualifiedNameErrors(gate); msgs != nil {
			v.invalidEach(p.Child("readinessGates").Index(i), gate, msgs)
		}
	}
	v.volumes(s.Volumes, p.Child("volumes"))
}

func (v *validator) podRestartPolicy(rp RestartPolicy, p Path) {
	switch rp {
	case "", RestartAlways, RestartOnFailure, RestartNever:
	default:
		v.add(NotSupported(p, rp, RestartAlways, RestartOnFailure, RestartNever))
	}
}

func (v *validator) volumes(vols []Volume, p Path) {
	names := make(map[string]bool, len(vols))
	for i := range vols {
		vol := &vols[i]
		at := func(field string) Path { return p.Index(i).Child(field) }
		before := len(v.errs)
		if vol.Name == "" {
			v.add(Required(at("name"), ""))
		} else if msgs := dns1123LabelErrors(vol.Name); msgs != nil {
			v.invalidEach(at("name"), vol.Name, msgs)
		}
		if names[vol.Name] {
			v.add(Duplicate(at("name"), vol.Name))
		}
		v.volumeSource(vol, at)
		// As upstream, only a volume without problems claims its name.
		if len(v.errs) == before {
			names[vol.Name] = true
		}
	}
}

func (v *validator) volumeSource(vol *Volume, at func(string) Path) {
	switch vol.Source {
	case "", VolumeEmptyDir: // an empty source is defaulted to emptyDir
	case VolumeSecret, VolumeConfigMap:
		if vol.Ref == "" {
			v.add(Required(at("ref"), "must name the "+string(vol.Source)))
		}
	case VolumeHostPath:
		if vol.Ref == "" {
			v.add(Required(at("ref"), "must be the path on the host"))
		} else if hasBackstep(vol.Ref) {
			v.add(Invalid(at("ref"), vol.Ref, "must not contain '..'"))
		}
	default:
		v.add(NotSupported(at("source"), vol.Source, VolumeConfigMap, VolumeEmptyDir, VolumeHostPath, VolumeSecret))
	}
}

// hasSurroundingSpace reports whether s starts or ends with white space.
func hasSurroundingSpace(s string) bool { return strings.TrimSpace(s) != s }
