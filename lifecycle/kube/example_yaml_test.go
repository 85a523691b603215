package kube_test

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podlife/podlife/lifecycle/kube"
)

// A file of a program's own format, read as strictly as a manifest: every unknown key and wrong
// type at once, each with its line and field path; the program's own checks get their lines
// from the YAMLDocument.
func ExampleDecodeYAML() {
	type step struct {
		At  string `json:"at"`
		Say string `json:"say"`
	}
	var plan struct {
		Steps []step `json:"steps"`
	}
	_, err := kube.DecodeYAML("plan.yaml", []byte("steps:\n- {at: 1s, say: hi}\n- {at: 2s, sya: bye}\n"), &plan)
	fmt.Println(err)

	doc, err := kube.DecodeYAML("plan.yaml", []byte("steps:\n- at: 1s\n  say: hi\n- at: soon\n  say: bye\n"), &plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	var errs field.ErrorList
	for i, s := range plan.Steps {
		if _, err := time.ParseDuration(s.At); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("steps").Index(i).Child("at"), s.At, "not a duration"))
		}
	}
	fmt.Println(doc.Errors(errs))
	// Output:
	// plan.yaml:3: steps[1].sya: Forbidden: unknown field "sya" in kube_test.step
	// plan.yaml:4: steps[1].at: Invalid value: "soon": not a duration
}
