package main

import (
	"strings"
	"time"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// What a container podsim runs does when nothing scripts its runs, as a user of a manifest
// expects: a regular init container does its work and exits 0 (else the Kubernetes docs' own
// init-container example would never get past Init:0/1), a Job's or CronJob's container
// completes, and every other one (a sidecar, a server) runs until it is stopped.
const (
	defaultInitRun = 2 * time.Second
	defaultJobRun  = 5 * time.Second
)

// applyDefaults gives each container of spec whose script has no runs podsim's default run, kind
// being the manifest's kind ("Job", "CronJob"; "" for a pod without one), and says what it gave
// for the header: "" when every container had its runs.
func applyDefaults(spec *podlife.PodSpec, kind string, ps *simruntime.PodScript) string {
	job := kind == "Job" || kind == "CronJob"
	var inits, sidecars, apps bool
	give := func(name string, run *simruntime.Run) bool {
		s := ps.Containers[name]
		if len(s.Runs) > 0 {
			return false
		}
		if run != nil {
			s.Runs = []simruntime.Run{*run}
			if ps.Containers == nil {
				ps.Containers = map[string]simruntime.Script{}
			}
			ps.Containers[name] = s
		}
		return true
	}
	for _, c := range spec.InitContainers {
		if c.IsSidecar() {
			sidecars = give(c.Name, nil) || sidecars
			continue
		}
		inits = give(c.Name, &simruntime.Run{For: defaultInitRun}) || inits
	}
	var appRun *simruntime.Run
	if job {
		appRun = &simruntime.Run{For: defaultJobRun}
	}
	for _, c := range spec.Containers {
		apps = give(c.Name, appRun) || apps
	}
	var parts []string
	if inits {
		parts = append(parts, "init containers exit 0 after "+fmtDur(defaultInitRun))
	}
	if sidecars {
		parts = append(parts, "sidecars run until stopped")
	}
	switch {
	case apps && job:
		parts = append(parts, "the "+kind+"'s containers exit 0 after "+fmtDur(defaultJobRun))
	case apps:
		parts = append(parts, "containers run until stopped")
	}
	return strings.Join(parts, ", ")
}
