package lifecycle

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/phase"
	"github.com/podlife/podlife/probe"
)

// scenario is a generated pod and the behaviour of its containers.
type scenario struct {
	spec     podlife.PodSpec
	runs     map[string][]run
	failFrom map[string]int // liveness/startup/readiness probes fail from this second on (0: never)
	hookFor  map[string]time.Duration
	deleteAt int // seconds; 0: never
	noIP     int // how many sandboxes come up without an IP
}

func genScenario(t *rapid.T) scenario {
	s := scenario{runs: map[string][]run{}, failFrom: map[string]int{}, hookFor: map[string]time.Duration{}}
	s.spec.RestartPolicy = rapid.SampledFrom([]podlife.RestartPolicy{podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, "policy")
	grace := rapid.Int64Range(0, 40).Draw(t, "grace")
	s.spec.TerminationGracePeriodSeconds = &grace
	if rapid.IntRange(0, 3).Draw(t, "hasDeadline") == 0 {
		deadline := rapid.Int64Range(1, 400).Draw(t, "activeDeadline")
		s.spec.ActiveDeadlineSeconds = &deadline
	}
	exec := podlife.ProbeHandler{Exec: &podlife.ExecAction{Command: []string{"check"}}}
	mk := func(name string, sidecar, regularInit bool) podlife.Container {
		c := podlife.Container{Name: name, Image: "busybox:1"}
		if sidecar {
			c.RestartPolicy = policy(podlife.RestartAlways)
		}
		if rapid.IntRange(0, 3).Draw(t, name+"/restartAll") == 0 {
			// Exit 3 restarts every container in place (KEP-5532); a rule needs a container policy.
			if !sidecar {
				c.RestartPolicy = policy(rapid.SampledFrom([]podlife.RestartPolicy{podlife.RestartAlways, podlife.RestartOnFailure, podlife.RestartNever}).Draw(t, name+"/policy"))
			}
			c.RestartPolicyRules = []podlife.RestartRule{{Action: podlife.RuleRestartAllContainers,
				ExitCodes: &podlife.ExitCodesRequirement{Operator: podlife.ExitCodeIn, Values: []int32{3}}}}
		}
		if !regularInit {
			if rapid.Bool().Draw(t, name+"/liveness") {
				c.LivenessProbe = &podlife.Probe{ProbeHandler: exec, PeriodSeconds: 5}
			}
			if rapid.Bool().Draw(t, name+"/readiness") {
				c.ReadinessProbe = &podlife.Probe{ProbeHandler: exec, PeriodSeconds: 3}
			}
			if rapid.Bool().Draw(t, name+"/startup") {
				c.StartupProbe = &podlife.Probe{ProbeHandler: exec, PeriodSeconds: 2, FailureThreshold: 5}
			}
			c.Lifecycle = &podlife.Lifecycle{}
			if rapid.Bool().Draw(t, name+"/preStop") {
				c.Lifecycle.PreStop = &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"drain"}}}
				s.hookFor[name+"/PreStop"] = time.Duration(rapid.IntRange(0, 50).Draw(t, name+"/preStopSecs")) * time.Second
			}
			if rapid.Bool().Draw(t, name+"/postStart") {
				c.Lifecycle.PostStart = &podlife.LifecycleHandler{Exec: &podlife.ExecAction{Command: []string{"warm"}}}
				s.hookFor[name+"/PostStart"] = time.Duration(rapid.IntRange(0, 5).Draw(t, name+"/postStartSecs")) * time.Second
			}
			if rapid.Bool().Draw(t, name+"/probesFail") {
				s.failFrom[name] = rapid.IntRange(1, 300).Draw(t, name+"/failFrom")
			}
		}
		n := rapid.IntRange(1, 4).Draw(t, name+"/runs")
		for i := 0; i < n; i++ {
			exits := []int32{0, 1, 3}
			if i > 0 && len(c.RestartPolicyRules) > 0 {
				// Only a first run restarts everything: kubelet has no back-off for an in-place
				// restart, so a rule matched by every run would loop as fast as the runs end.
				exits = exits[:2]
			}
			r := run{
				For:        time.Duration(rapid.IntRange(0, 120).Draw(t, name+"/for")) * time.Second,
				Exit:       rapid.SampledFrom(exits).Draw(t, name+"/exit"),
				IgnoreTerm: rapid.Bool().Draw(t, name+"/ignoreTerm"),
				TermDelay:  time.Duration(rapid.IntRange(0, 10).Draw(t, name+"/termDelay")) * time.Second,
			}
			if rapid.IntRange(0, 4).Draw(t, name+"/unknown") == 0 {
				// The runtime reports the instance in an unknown state (CONTAINER_UNKNOWN).
				r.UnknownAfter = time.Duration(rapid.IntRange(1, 60).Draw(t, name+"/unknownAfter")) * time.Second
			}
			s.runs[name] = append(s.runs[name], r)
		}
		return c
	}
	nInit := rapid.IntRange(0, 3).Draw(t, "init")
	for i := 0; i < nInit; i++ {
		sidecar := rapid.Bool().Draw(t, "sidecar")
		s.spec.InitContainers = append(s.spec.InitContainers, mk(fmt.Sprintf("init%d", i), sidecar, !sidecar))
	}
	nApp := rapid.IntRange(1, 3).Draw(t, "apps")
	for i := 0; i < nApp; i++ {
		s.spec.Containers = append(s.spec.Containers, mk(fmt.Sprintf("app%d", i), false, false))
	}
	if rapid.Bool().Draw(t, "delete") {
		s.deleteAt = rapid.IntRange(1, 500).Draw(t, "deleteAt")
	}
	s.noIP = rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(t, "noIP")
	return s
}

type trace struct {
	log      []string
	statuses []phase.PodStatus
	problems []string
}

// play runs a scenario for 15 virtual minutes and checks the machine's invariants on the way.
func play(t *testing.T, s scenario) trace {
	d := newDriver(t, s.spec)
	for k, v := range s.runs {
		d.runs[k] = v
	}
	d.hookFor = s.hookFor
	d.noIP = func(attempt int32) bool { return int(attempt) < s.noIP }
	d.probes = func(c string, k probe.Kind, at time.Time) Outcome {
		if f := s.failFrom[c]; f > 0 && !at.Before(sec(f)) {
			return probe.FailureOutcome("failing")
		}
		return probe.SuccessOutcome("")
	}
	var tr trace
	problem := func(format string, args ...any) {
		tr.problems = append(tr.problems, fmt.Sprintf("%s: ", d.at())+fmt.Sprintf(format, args...))
	}
	running := map[string]string{}  // container name -> running instance id
	preStopped := map[string]bool{} // container id -> preStop asked for
	noIP := map[string]bool{}       // sandboxes that came up without an IP
	unknown := map[string]bool{}    // container ids the runtime reported in an unknown state
	var terminal phase.Phase
	restarts := map[string]int32{}
	d.observe = func(rd Ready) {
		if !rd.Deadline.IsZero() && rd.Deadline.Before(d.m.Now()) {
			problem("deadline %v before now", rd.Deadline)
		}
		for _, a := range rd.Actions {
			switch a.Type {
			case CreateContainer:
				if noIP[a.SandboxID] {
					problem("%s created in sandbox %s, which has no IP", a.Container, a.SandboxID)
				}
			case StartContainer:
				c := d.m.byName(a.Container)
				if !c.init {
					for i := range d.m.ctrs[:d.m.nInit] {
						if ic := &d.m.ctrs[i]; ic.regularInit() && !ic.succeeded {
							problem("%s starts before init container %s succeeded", a.Container, ic.spec.Name)
						}
					}
				}
				if id, ok := running[a.Container]; ok {
					problem("%s starts %s while %s runs", a.Container, a.ContainerID, id)
				}
				running[a.Container] = a.ContainerID
			case RunHook:
				if a.Hook == PreStop {
					preStopped[a.ContainerID] = true
				}
			case StopContainer:
				c := d.m.byName(a.Container)
				if c.sidecar && d.m.stop != nil && c.killing() == nil && a.Timeout > 2*time.Second {
					// A sidecar's stop signal waits for every app container and for the next
					// sidecar declared after it (kubelet's terminationOrdering: only that one, not
					// those after it), unless its grace ran out (then it gets the 2 s floor).
					var next *ctr
					for i := c.index + 1; i < d.m.nInit; i++ {
						if o := &d.m.ctrs[i]; o.sidecar {
							next = o
							break
						}
					}
					for i := range d.m.ctrs {
						o := &d.m.ctrs[i]
						// An instance in an unknown state is not known to run: kubelet's stop
						// order waits only for running containers.
						if id, runs := running[o.spec.Name]; runs && !unknown[id] && (!o.init || o == next) {
							problem("sidecar %s stopped while %s still runs", c.spec.Name, o.spec.Name)
						}
					}
				}
				if c.spec.Lifecycle != nil && c.spec.Lifecycle.PreStop != nil && a.Timeout > 2*time.Second && !preStopped[a.ContainerID] {
					problem("%s stopped without its preStop", a.ContainerID)
				}
			}
		}
		if rd.Status == nil {
			return
		}
		st := *rd.Status
		tr.statuses = append(tr.statuses, st)
		if terminal != "" && st.Phase != terminal {
			problem("phase left terminal %s for %s", terminal, st.Phase)
		}
		if st.Phase.IsTerminal() {
			terminal = st.Phase
			for _, c := range st.Conditions {
				if c.Type == phase.AllContainersRestarting && c.Status == phase.ConditionTrue && s.deleteAt == 0 {
					problem("phase %s while all containers restart in place", st.Phase)
				}
			}
		}
		for _, cs := range append(append([]phase.ContainerStatus{}, st.InitContainerStatuses...), st.ContainerStatuses...) {
			if cs.RestartCount < restarts[cs.Name] {
				problem("%s restartCount fell from %d to %d", cs.Name, restarts[cs.Name], cs.RestartCount)
			}
			restarts[cs.Name] = cs.RestartCount
		}
	}
	d.onEvent = func(ev Event) {
		if ev.Type == SandboxReady && ev.IP == "" {
			noIP[ev.SandboxID] = true
		}
		if ev.Type == ContainerUnknown {
			unknown[ev.ContainerID] = true
		}
	}
	d.exited = func(ev Event) {
		name := d.ids[ev.ContainerID]
		if running[name] == ev.ContainerID {
			delete(running, name)
		}
	}
	var extra []Event
	if s.deleteAt > 0 {
		extra = append(extra, Event{Type: DeleteRequested, At: sec(s.deleteAt)})
	}
	d.runUntil(sec(900), extra...)
	for _, l := range d.log {
		if strings.Contains(l, " error ") && !strings.Contains(l, "stale") {
			problem("machine refused an event: %s", l)
		}
	}
	tr.log = d.log
	return tr
}

func TestMachineInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := genScenario(rt)
		tr := play(t, s)
		if len(tr.problems) > 0 {
			rt.Fatalf("%d problems, first: %s\nspec: %+v\nlog:\n%s", len(tr.problems), tr.problems[0], s.spec, strings.Join(tr.log, "\n"))
		}
		again := play(t, s)
		// reflect.DeepEqual first: cmp.Diff is the readable report, but far too slow to run on
		// every case.
		if !reflect.DeepEqual(tr.statuses, again.statuses) {
			rt.Fatalf("the same events gave other statuses (-first +second):\n%s", cmp.Diff(tr.statuses, again.statuses))
		}
		if !slices.Equal(tr.log, again.log) {
			rt.Fatalf("the same events gave other actions (-first +second):\n%s", cmp.Diff(tr.log, again.log))
		}
	})
}
