package podlife_test

import (
	"errors"
	"fmt"

	"github.com/podlife/podlife"
)

func ExamplePodSpec_Validate() {
	spec := podlife.PodSpec{
		Containers: []podlife.Container{
			{Name: "app", Image: "nginx:1.25"},
			{Name: "web", Image: "busybox", LivenessProbe: &podlife.Probe{
				ProbeHandler:  podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"true"}}},
				PeriodSeconds: -1,
			}},
		},
	}
	err := spec.Validate()
	fmt.Println(err)

	var fieldErr *podlife.FieldError
	if errors.As(err, &fieldErr) {
		fmt.Println(fieldErr.Field, "|", fieldErr.Type)
	}
	fmt.Println(errors.Is(err, podlife.ErrInvalid))
	// Output:
	// spec.containers[1].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0
	// spec.containers[1].livenessProbe.periodSeconds | Invalid value
	// true
}

func ExamplePodSpec_Defaulted() {
	spec := podlife.PodSpec{
		Containers: []podlife.Container{{
			Name:  "app",
			Image: "localhost:5000/app",
			ReadinessProbe: &podlife.Probe{ProbeHandler: podlife.ProbeHandler{
				HTTPGet: &podlife.HTTPGetAction{Port: podlife.PortNumber(8080)},
			}},
		}},
	}
	d := spec.Defaulted()
	c := d.Containers[0]
	p := c.ReadinessProbe
	fmt.Println("restartPolicy:", d.RestartPolicy)
	fmt.Println("terminationGracePeriodSeconds:", *d.TerminationGracePeriodSeconds)
	fmt.Println("imagePullPolicy:", c.ImagePullPolicy)
	fmt.Println("probe:", p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold, p.HTTPGet.Scheme, p.HTTPGet.Path)
	fmt.Println("original untouched:", spec.RestartPolicy == "" && spec.Containers[0].ImagePullPolicy == "")
	// Output:
	// restartPolicy: Always
	// terminationGracePeriodSeconds: 30
	// imagePullPolicy: Always
	// probe: 1 10 1 3 HTTP /
	// original untouched: true
}

func ExampleDefaultPullPolicy() {
	for _, image := range []string{
		"nginx",
		"nginx:latest",
		"nginx:1.25",
		"localhost:5000/app",
		"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		fmt.Println(podlife.DefaultPullPolicy(image), image)
	}
	// Output:
	// Always nginx
	// Always nginx:latest
	// IfNotPresent nginx:1.25
	// Always localhost:5000/app
	// IfNotPresent nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
}

func ExamplePodSpec_AllContainers() {
	spec := podlife.PodSpec{
		InitContainers: []podlife.Container{
			{Name: "migrate", Image: "migrate:1"},
			{Name: "proxy", Image: "envoy:1", RestartPolicy: ptr(podlife.RestartAlways)},
		},
		Containers: []podlife.Container{{Name: "app", Image: "app:1"}},
	}
	for kind, c := range spec.AllContainers() {
		fmt.Println(kind, c.Name)
	}
	// Output:
	// init migrate
	// sidecar proxy
	// app app
}
