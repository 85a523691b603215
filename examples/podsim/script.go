package main

import (
	"github.com/podlife/podlife"
	"github.com/podlife/podlife/internal/strictjson"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// parseScript reads a -script file's contents (simruntime's JSON form of a PodScript) and checks
// it against the pod's spec.
func parseScript(data []byte, spec *podlife.PodSpec) (simruntime.PodScript, error) {
	return simruntime.ParsePodScript(data, spec)
}

// parseSpec reads a -spec file: a podlife.PodSpec as JSON, which must be valid.
func parseSpec(data []byte) (podlife.PodSpec, error) {
	var spec podlife.PodSpec
	if err := strictjson.Decode(data, &spec); err != nil {
		return podlife.PodSpec{}, err
	}
	if err := spec.Validate(); err != nil {
		return podlife.PodSpec{}, err
	}
	return spec, nil
}
