package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife"
)

// problems flattens an error from LoadFile or ParseManifests to "line path: type" rows (and
// "line syntax: message" for a document that did not parse), in the order Error prints them.
func problems(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		var de *DocumentError
		if errors.As(err, &de) && err == error(de) {
			for _, l := range strings.Split(de.Error(), "\n") {
				loc, rest, _ := strings.Cut(l, ": ")
				_, rest, _ = strings.Cut(rest, ": ") // "document N (...)"
				line := loc[strings.LastIndexByte(loc, ':')+1:]
				if strings.HasPrefix(loc, "line ") {
					line = strings.TrimPrefix(loc, "line ")
				}
				if strings.HasPrefix(rest, "kube: syntax error: ") {
					out = append(out, line+" syntax: "+strings.TrimPrefix(rest, "kube: syntax error: "))
					continue
				}
				path, body, _ := strings.Cut(rest, ": ")
				typ, _, _ := strings.Cut(body, ":")
				out = append(out, line+" "+path+": "+typ)
			}
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// TestInvalidManifests: every file in testdata/invalid fails LoadFile with every problem at
// once, each with its field path, its line and the API server's error type.
func TestInvalidManifests(t *testing.T) {
	want := map[string][]string{
		"missing-image.yaml": {"7 spec.containers[0].image: Required value"},
		"duplicate-names.yaml": {
			"7 spec.initContainers[0].name: Duplicate value",
			"12 spec.containers[1].name: Duplicate value",
			"17 spec.volumes[1].name: Duplicate value",
		},
		"bad-probes.yaml": {
			"12 spec.containers[0].livenessProbe.httpGet.port: Invalid value",
			"13 spec.containers[0].livenessProbe.periodSeconds: Invalid value",
			"14 spec.containers[0].livenessProbe.successThreshold: Invalid value",
			"18 spec.containers[0].readinessProbe.tcpSocket: Forbidden",
			"20 spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value",
			"21 spec.containers[0].startupProbe: Required value",
		},
		"unknown-restart-policy.yaml": {
			"6 spec.restartPolicy: Unsupported value",
			"10 spec.containers[0].restartPolicy: Unsupported value",
			"11 spec.containers[1].restartPolicy: Required value",
			"14 spec.containers[1].restartPolicyRules[0].action: Unsupported value",
			"16 spec.containers[1].restartPolicyRules[0].exitCodes.operator: Unsupported value",
		},
		"wrong-types.yaml": {
			"6 spec.terminationGracePeriodSeconds: Invalid value",
			"7 spec.hostNetwork: Invalid value",
			"12 spec.containers[0].ports[0].containerPort: Invalid value",
			"15 spec.containers[0].env[0].value: Invalid value",
			"18 spec.containers[1].command: Invalid value",
			"19 spec.initContainers: Invalid value",
		},
		"truncated.yaml":      {"9 syntax: yaml: line 9: found unexpected end of stream"},
		"truncated.json":      {"2 syntax: yaml: line 2: found unexpected end of stream"},
		"duplicate-keys.yaml": {`9 syntax: yaml: unmarshal errors: line 9: key "image" already set in map`},
		"not-an-object.yaml":  {"1 syntax: the document is a list, not an object"},
		"unknown-field.yaml": {
			"9 spec.containers[0].livenesProbe: Forbidden",
			"12 spec.restartpolicy: Forbidden",
		},
		"unknown-kind.yaml": {
			"11 kind: Unsupported value",
			"17 apiVersion: Unsupported value",
			"22 kind: Required value",
			"22 apiVersion: Required value",
		},
		"workload-policies.yaml": {
			"7 spec.template.spec.restartPolicy: Required value",
			"23 spec.template.spec.restartPolicy: Unsupported value",
			"31 metadata.name: Invalid value",
		},
		"bad-names.yaml": {
			"4 metadata.name: Invalid value",
			"5 metadata.namespace: Invalid value",
			"6 metadata.labels: Invalid value",
			"10 spec.readinessGates[0].conditionType: Invalid value",
			"12 spec.containers[0].name: Invalid value",
			"13 spec.containers[0].image: Invalid value",
			"15 spec.containers[0].ports[0].name: Invalid value",
			"16 spec.containers[0].ports[0].containerPort: Invalid value",
		},
		"lost-rules.yaml": {
			"6 spec.ephemeralContainers: Forbidden",
			"15 spec.containers[0].env[0].valueFrom: Invalid value",
			"19 spec.containers[0].env[1].valueFrom: Invalid value",
			"24 spec.containers[0].lifecycle.postStart.tcpSocket: Forbidden",
			"29 spec.volumes[0].hostPath: Forbidden",
			"32 spec.volumes[1].secret.secretName: Required value",
		},
		"list-items.yaml": {
			"19 items[2]: Invalid value",
			"18 items[1].spec.containers[0].image: Required value",
		},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*"))
	require.NoError(t, err)
	require.Len(t, files, len(want), "a new invalid manifest needs its row here")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ms, err := LoadFile(f)
			require.Error(t, err)
			assert.Nil(t, ms, "nothing to run when a document is bad")
			assert.Equal(t, want[filepath.Base(f)], problems(err))
			assert.True(t, strings.HasPrefix(err.Error(), f+":"), "every line names the file: %s", err)
		})
	}
}

func TestErrorsIs(t *testing.T) {
	load := func(name string) error {
		_, err := LoadFile(filepath.Join("testdata", "invalid", name))
		return err
	}
	assert.ErrorIs(t, load("truncated.yaml"), ErrSyntax)
	assert.NotErrorIs(t, load("truncated.yaml"), ErrInvalid)
	assert.ErrorIs(t, load("unknown-kind.yaml"), ErrUnknownKind)
	assert.ErrorIs(t, load("missing-image.yaml"), ErrInvalid)
	assert.NotErrorIs(t, load("missing-image.yaml"), ErrUnknownKind)
	var fe *field.Error
	require.ErrorAs(t, load("missing-image.yaml"), &fe)
	assert.Equal(t, field.ErrorTypeRequired, fe.Type)
	assert.Equal(t, "spec.containers[0].image", fe.Field)

	_, err := LoadFile(filepath.Join("testdata", "no-such-file.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseManifestsKinds(t *testing.T) {
	tmpl := func(policy string) string {
		return fmt.Sprintf("    metadata: {labels: {app: x}}\n    spec:\n      restartPolicy: %s\n      containers: [{name: c, image: i:1}]\n", policy)
	}
	docs := []struct {
		doc, kind, specPath string
	}{
		{"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i:1}]\n", "Pod", "spec"},
		{"apiVersion: v1\nkind: PodTemplate\nmetadata: {name: p}\ntemplate:\n  spec:\n    containers: [{name: c, image: i:1}]\n", "PodTemplate", "template.spec"},
		{"apiVersion: v1\nkind: ReplicationController\nmetadata: {name: p}\nspec:\n  template:\n" + tmpl("Always"), "ReplicationController", "spec.template.spec"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p}\nspec:\n  template:\n" + tmpl("Always"), "Deployment", "spec.template.spec"},
		{"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: p}\nspec:\n  template:\n" + tmpl("Always"), "ReplicaSet", "spec.template.spec"},
		{"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: p}\nspec:\n  template:\n" + tmpl("Always"), "StatefulSet", "spec.template.spec"},
		{"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: p}\nspec:\n  template:\n" + tmpl("Always"), "DaemonSet", "spec.template.spec"},
		{"apiVersion: batch/v1\nkind: Job\nmetadata: {name: p}\nspec:\n  template:\n" + tmpl("Never"), "Job", "spec.template.spec"},
		{"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: p}\nspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n" +
			"        spec:\n          restartPolicy: OnFailure\n          containers: [{name: c, image: i:1}]\n", "CronJob", "spec.jobTemplate.spec.template.spec"},
	}
	require.Len(t, docs, len(kinds), "every kind once")
	for _, d := range docs {
		t.Run(d.kind, func(t *testing.T) {
			ms, err := ParseManifests([]byte(d.doc))
			require.NoError(t, err, d.doc)
			require.Len(t, ms, 1)
			m := ms[0]
			assert.Equal(t, d.kind, m.Kind)
			assert.Equal(t, "p", m.Name)
			assert.Equal(t, d.specPath, m.SpecPath)
			assert.Equal(t, -1, m.Item)
			require.Len(t, m.Spec.Containers, 1)
			assert.Equal(t, "i:1", m.Spec.Containers[0].Image)
			assert.Empty(t, m.Validate())
			assert.Equal(t, "default", m.Ref().Namespace)
			if d.kind == "CronJob" {
				assert.Equal(t, []string{"spec.schedule"}, m.Warnings.Fields())
			}
		})
	}
}

// TestParseManifestsDocuments: separators, comments, empty documents, JSON, a List; document
// numbers count the non-empty ones; lines are the file's.
func TestParseManifestsDocuments(t *testing.T) {
	data := `# leading comment
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: "1234"}
spec:
  replicas: 2
  template:
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: web, image: web:1}]
--- # the next one is JSON
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"},
 "spec": {"containers": [{"name": "a", "image": "a:1", "tty": true}]}}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: first}
  spec: {containers: [{name: a, image: a:1}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: second}
  spec: {containers: [{name: a, image: a:1}], hostIPC: true}
`
	ms, err := ParseManifests([]byte(data))
	require.NoError(t, err)
	require.Len(t, ms, 4)
	type row struct {
		Doc, Item, Line int
		Kind, Name      string
		Warnings        []string
		WarningLines    []int
	}
	var got []row
	for _, m := range ms {
		r := row{m.Document, m.Item, m.Line, m.Kind, m.Name, m.Warnings.Fields(), nil}
		for _, w := range m.Warnings {
			r.WarningLines = append(r.WarningLines, w.Line)
		}
		got = append(got, r)
	}
	assert.Equal(t, []row{
		{1, -1, 4, "Deployment", "web", []string{"spec.template.spec.nodeSelector", "spec.replicas"}, []int{11, 8}},
		{2, -1, 14, "Pod", "j", []string{"spec.containers[0].tty"}, []int{15}},
		{3, 0, 20, "Pod", "first", nil, nil},
		{3, 1, 24, "Pod", "second", []string{"items[1].spec.hostIPC"}, []int{27}},
	}, got)
	assert.Equal(t, "shop", ms[0].Ref().Namespace)
	assert.Equal(t, "1234", ms[0].Ref().UID)
	assert.IsType(t, &appsv1.Deployment{}, ms[0].Object)
	assert.Equal(t, 12, ms[0].LineOf("spec.template.spec.containers[0].image"))
	assert.Equal(t, 12, ms[0].LineOf("spec.template.spec.containers[0].livenessProbe"), "a missing field is at its parent")
	require.NoError(t, ValidateManifests(ms))

	ms, err = ParseManifests([]byte("apiVersion: v1\nkind: Pod\nmetadata: {generateName: batch-}\nspec: {containers: [{name: a, image: a:1}]}\n"))
	require.NoError(t, err)
	require.NoError(t, ValidateManifests(ms), "generateName stands in for name")
	assert.Equal(t, "batch-00000", ms[0].Ref().Name)

	ms, err = ParseManifests([]byte("\n# nothing but comments\n---\n\n"))
	require.NoError(t, err)
	assert.Empty(t, ms)
}

func TestParseManifestsKeepsGoodDocuments(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "invalid", "unknown-kind.yaml"))
	require.NoError(t, err)
	ms, err := ParseManifests(data)
	require.Error(t, err)
	require.Len(t, ms, 1, "the Pod parses; the other documents fail")
	assert.Equal(t, "fine", ms[0].Name)
	assert.Contains(t, err.Error(), "line 11: document 2 (ConfigMap settings): kind: Unsupported value")
}

// TestValidatePodSpecPaths: podlife's flattened fields are reported at the API's paths, under
// any root.
func TestValidatePodSpecPaths(t *testing.T) {
	s := v1.PodSpec{
		Containers: []v1.Container{{Name: "app", Image: "app:1", Env: []v1.EnvVar{
			{Name: "A", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{Key: "k"}}},
			{Name: "B", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "c"}}}},
		}}},
		ReadinessGates: []v1.PodReadinessGate{{ConditionType: "-bad-"}},
		Volumes: []v1.Volume{
			{Name: "s", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{}}},
			{Name: "c", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{}}},
			{Name: "h", VolumeSource: v1.VolumeSource{HostPath: &v1.HostPathVolumeSource{Path: "/a/../b"}}},
		},
	}
	var fields []string
	for _, e := range ValidatePodSpec(&s, field.NewPath("spec", "template", "spec")) {
		fields = append(fields, e.Field+" "+string(e.Type))
	}
	assert.Equal(t, []string{
		"spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name FieldValueInvalid",
		"spec.template.spec.containers[0].env[1].valueFrom.configMapKeyRef.key FieldValueRequired",
		"spec.template.spec.readinessGates[0].conditionType FieldValueInvalid",
		"spec.template.spec.volumes[0].secret.secretName FieldValueRequired",
		"spec.template.spec.volumes[1].configMap.name FieldValueRequired",
		"spec.template.spec.volumes[2].hostPath.path FieldValueInvalid",
	}, fields)

	errs := ValidatePodSpec(nil, nil)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.containers: Required value: must have at least one container", errs[0].Error())
}

// TestValidateAgreesWithPodlife: a spec that passes ValidatePodSpec passes podlife's own
// validation (lifecycle.New would accept it), for every example.
func TestValidateAgreesWithPodlife(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "manifests", "*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		ms, err := LoadFile(f)
		require.NoError(t, err)
		for _, m := range ms {
			assert.NoError(t, m.Spec.Validate(), f)
			assert.NoError(t, m.Spec.ValidateWith(podlife.DefaultFeatureGates()), f)
		}
	}
}

func ExampleParseManifests() {
	ms, err := ParseManifests([]byte(`
apiVersion: batch/v1
kind: Job
metadata:
  name: report
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: report
          image: reports:1.0
          resources:
            limits: {memory: 128Mi}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27
      livenessProbe:
        periodSeconds: -1
        httpGet: {path: /, port: 80}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range ms {
		fmt.Printf("%s %s: %d container(s), restartPolicy %s, pod spec at %s\n",
			m.Kind, m.Name, len(m.Spec.Containers), m.Spec.EffectiveRestartPolicy(), m.SpecPath)
		for _, w := range m.Warnings {
			fmt.Printf("  line %d: %s\n", w.Line, w)
		}
		for _, e := range m.Validate() {
			fmt.Printf("  line %d: %s\n", m.LineOf(e.Field), e)
		}
	}
	// Output:
	// Job report: 1 container(s), restartPolicy Never, pod spec at spec.template.spec
	//   line 14: spec.template.spec.containers[0].resources: not modelled by podlife; no limit is enforced (no OOMKilled from limits)
	//   line 7: spec.backoffLimit: a controller's field, not modelled by podlife: the pod template runs once
	// Pod web: 1 container(s), restartPolicy Always, pod spec at spec
	//   line 26: spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0
}
