package termination_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/podlife/podlife/termination"
)

// behaviour is how one simulated container reacts; -1 means never.
type behaviour struct {
	hookMs       int // preStop duration
	selfExitMs   int // exits on its own this long after the stop began
	afterStopSig int // exits this long after its stop signal
}

type scenario struct {
	members     []termination.Member
	behaviours  map[string]behaviour
	grace       time.Duration
	shortenAt   int // ms, -1 for none
	shortenTo   time.Duration
	chainIntact bool // no sidecar is Exited at the start
}

func drawScenario(t *rapid.T) scenario {
	sc := scenario{behaviours: map[string]behaviour{}, chainIntact: true}
	maybe := func(label string, max int) int {
		if rapid.IntRange(0, 4).Draw(t, label+"Never") == 0 {
			return -1
		}
		return rapid.IntRange(0, max).Draw(t, label)
	}
	add := func(m termination.Member) {
		m.HasPreStop = rapid.Bool().Draw(t, m.Name+".preStop")
		m.Exited = rapid.IntRange(0, 9).Draw(t, m.Name+".exited") == 0
		if m.Exited && m.Kind == termination.SidecarContainer {
			sc.chainIntact = false
		}
		sc.members = append(sc.members, m)
		sc.behaviours[m.Name] = behaviour{
			hookMs:       maybe(m.Name+".hook", 45000),
			selfExitMs:   maybe(m.Name+".selfExit", 60000),
			afterStopSig: maybe(m.Name+".afterSignal", 45000),
		}
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "apps") {
		add(termination.Member{Name: fmt.Sprintf("app%d", i)})
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "sidecars") {
		add(termination.Member{Name: fmt.Sprintf("side%d", i), Kind: termination.SidecarContainer, Order: i})
	}
	if rapid.Bool().Draw(t, "init") {
		add(termination.Member{Name: "init", Kind: termination.InitContainer})
	}
	sc.members = rapid.Permutation(sc.members).Draw(t, "memberOrder")
	sc.grace = time.Duration(rapid.IntRange(0, 40).Draw(t, "grace")) * time.Second
	sc.shortenAt = -1
	if rapid.Bool().Draw(t, "shorten") {
		sc.shortenAt = rapid.IntRange(0, 45000).Draw(t, "shortenAt")
		sc.shortenTo = time.Duration(rapid.IntRange(0, 40).Draw(t, "shortenTo")) * time.Second
	}
	return sc
}

// outcome is what happened to every container.
type outcome struct {
	trace            []string
	signal, kill     map[string]time.Time
	exit, hookReturn map[string]time.Time
	hookStarted      map[string]bool
	plans            []struct {
		anchor time.Time
		grace  time.Duration
	}
	shortenSnapshots [2][]termination.ContainerPlan
}

type pending struct {
	at   time.Time
	kind string
	name string
}

// simulate drives a PodStop with the scenario, ticking exactly at every deadline.
func simulate(t *rapid.T, sc scenario) outcome {
	o := outcome{signal: map[string]time.Time{}, kill: map[string]time.Time{}, exit: map[string]time.Time{},
		hookReturn: map[string]time.Time{}, hookStarted: map[string]bool{}}
	o.plans = append(o.plans, struct {
		anchor time.Time
		grace  time.Duration
	}{t0, sc.grace})
	ps, actions, err := termination.NewPodStop(sc.members, sc.grace, t0)
	if err != nil {
		t.Fatalf("NewPodStop: %v", err)
	}
	var queue []pending
	for _, m := range sc.members {
		if m.Exited {
			o.exit[m.Name] = t0
			continue
		}
		if b := sc.behaviours[m.Name]; b.selfExitMs >= 0 {
			queue = append(queue, pending{t0.Add(ms(b.selfExitMs)), "exit", m.Name})
		}
	}
	handle := func(now time.Time, actions []termination.Action) {
		for _, a := range actions {
			o.trace = append(o.trace, fmt.Sprintf("%v %v", a.At.Sub(t0), a))
			if a.At.After(now) {
				t.Fatalf("action %v due after the call's time %v", a, now)
			}
			b := sc.behaviours[a.Container]
			switch a.Kind {
			case termination.RunPreStop:
				o.hookStarted[a.Container] = true
				if b.hookMs >= 0 {
					queue = append(queue, pending{a.At.Add(ms(b.hookMs)), "hook", a.Container})
				}
			case termination.SendStopSignal:
				if a.Timeout < termination.MinimumStopTimeout || a.Timeout%time.Second != 0 {
					t.Fatalf("stop timeout %v is not whole seconds >= 2 s", a.Timeout)
				}
				o.signal[a.Container] = a.At
				if b.afterStopSig >= 0 {
					queue = append(queue, pending{a.At.Add(ms(b.afterStopSig)), "exit", a.Container})
				}
			case termination.Kill:
				o.kill[a.Container] = a.At
				queue = append(queue, pending{a.At, "exit", a.Container})
			}
		}
	}
	handle(t0, actions)
	shortenDone := sc.shortenAt < 0
	for range 500 {
		next, idx := time.Time{}, -1
		if d, ok := ps.Deadline(); ok {
			next = d
		}
		for i, p := range queue {
			if next.IsZero() || p.at.Before(next) {
				next, idx = p.at, i
			}
		}
		if !shortenDone && (next.IsZero() || !t0.Add(ms(sc.shortenAt)).After(next)) {
			now := t0.Add(ms(sc.shortenAt))
			actions, err := ps.Tick(now)
			if err != nil {
				t.Fatalf("Tick: %v", err)
			}
			handle(now, actions)
			o.shortenSnapshots[0] = ps.Plans()
			shortened, actions, err := ps.Shorten(sc.shortenTo, now)
			if err != nil {
				t.Fatalf("Shorten: %v", err)
			}
			if shortened != (sc.shortenTo < sc.grace) {
				t.Fatalf("Shorten(%v) with grace %v reported %v", sc.shortenTo, sc.grace, shortened)
			}
			if shortened {
				o.plans = append(o.plans, struct {
					anchor time.Time
					grace  time.Duration
				}{now, sc.shortenTo})
			}
			handle(now, actions)
			o.shortenSnapshots[1] = ps.Plans()
			shortenDone = true
			continue
		}
		if next.IsZero() {
			break
		}
		var actions []termination.Action
		var err error
		if idx < 0 {
			actions, err = ps.Tick(next)
		} else {
			p := queue[idx]
			queue = append(queue[:idx], queue[idx+1:]...)
			switch p.kind {
			case "hook":
				o.hookReturn[p.name] = p.at
				actions, err = ps.PreStopDone(p.name, p.at)
			case "exit":
				if _, gone := o.exit[p.name]; gone {
					continue
				}
				o.exit[p.name] = p.at
				actions, err = ps.Exited(p.name, p.at)
			}
		}
		if err != nil {
			t.Fatalf("event at %v: %v", next.Sub(t0), err)
		}
		handle(next, actions)
	}
	if !ps.Done() {
		t.Fatalf("not done after the simulation: %v", o.trace)
	}
	return o
}

// graceEnd is the earliest anchor + grace over the plans in force: when "the grace ran out".
func (o outcome) graceEnd() time.Time {
	end := o.plans[0].anchor.Add(o.plans[0].grace)
	for _, p := range o.plans[1:] {
		if e := p.anchor.Add(p.grace); e.Before(end) {
			end = e
		}
	}
	return end
}

func kindOf(sc scenario, name string) termination.Kind {
	for _, m := range sc.members {
		if m.Name == name {
			return m.Kind
		}
	}
	return -1
}

// TestPropertyDeadlineBounds: app and init containers get the stop signal by start + grace and
// SIGKILL by start + grace + 2 s; sidecars by start + grace + 1 s and before start + grace + 3 s,
// precisely by start + grace + 2 s + the fraction of a second of their preStop's duration.
func TestPropertyDeadlineBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		o := simulate(t, sc)
		end := o.graceEnd()
		for name, at := range o.signal {
			limit := end
			if kindOf(sc, name) == termination.SidecarContainer {
				limit = end.Add(time.Second - 1)
			}
			if at.After(limit) {
				t.Fatalf("%s: stop signal at %v after %v", name, at.Sub(t0), limit.Sub(t0))
			}
		}
		for name, at := range o.kill {
			limit := end.Add(termination.MinimumStopTimeout)
			if kindOf(sc, name) == termination.SidecarContainer {
				limit = limit.Add(time.Second - 1)
				if len(o.plans) == 1 && o.hookStarted[name] {
					hook := sc.grace
					if r, ok := o.hookReturn[name]; ok && r.Sub(t0) < hook {
						hook = r.Sub(t0)
					}
					limit = end.Add(termination.MinimumStopTimeout + hook%time.Second)
				} else if len(o.plans) == 1 {
					limit = end.Add(termination.MinimumStopTimeout)
				}
			}
			if at.After(limit) {
				t.Fatalf("%s: SIGKILL at %v after %v; trace %v", name, at.Sub(t0), limit.Sub(t0), o.trace)
			}
		}
	})
}

// TestPropertySidecarsWaitForApps: a sidecar's stop signal never precedes an app container's
// exit unless the grace ran out.
func TestPropertySidecarsWaitForApps(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		o := simulate(t, sc)
		for name, q := range o.signal {
			if kindOf(sc, name) != termination.SidecarContainer || !q.Before(o.graceEnd()) {
				continue
			}
			for _, m := range sc.members {
				if m.Kind == termination.AppContainer && o.exit[m.Name].After(q) {
					t.Fatalf("sidecar %s signalled at %v before app %s exited at %v (grace ends %v)",
						name, q.Sub(t0), m.Name, o.exit[m.Name].Sub(t0), o.graceEnd().Sub(t0))
				}
			}
		}
	})
}

// TestPropertySidecarsStopInReverseOrder: with every sidecar running (at the start, and at a
// Shorten, whose restarted stop rebuilds the chain from the running ones), a sidecar's stop
// signal never precedes the exit of a sidecar declared after it unless the grace ran out.
func TestPropertySidecarsStopInReverseOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		if !sc.chainIntact {
			t.Skip("a sidecar not running breaks kubelet's chain; see the table test")
		}
		o := simulate(t, sc)
		if len(o.plans) > 1 {
			for _, m := range sc.members {
				if e, ok := o.exit[m.Name]; ok && m.Kind == termination.SidecarContainer && !e.After(o.plans[1].anchor) {
					t.Skip("the restarted stop sees that sidecar as not running, which breaks the chain")
				}
			}
		}
		for _, a := range sc.members {
			q, ok := o.signal[a.Name]
			if a.Kind != termination.SidecarContainer || !ok || !q.Before(o.graceEnd()) {
				continue
			}
			for _, b := range sc.members {
				if b.Kind == termination.SidecarContainer && b.Order > a.Order && o.exit[b.Name].After(q) {
					t.Fatalf("sidecar %s signalled at %v before later sidecar %s exited at %v",
						a.Name, q.Sub(t0), b.Name, o.exit[b.Name].Sub(t0))
				}
			}
		}
	})
}

// TestPropertyShortenNeverLater: right after a Shorten, no container's planned stop signal or
// SIGKILL is later than right before it.
func TestPropertyShortenNeverLater(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		if sc.shortenAt < 0 {
			sc.shortenAt = rapid.IntRange(0, 45000).Draw(t, "forcedShortenAt")
		}
		o := simulate(t, sc)
		before, after := o.shortenSnapshots[0], o.shortenSnapshots[1]
		if len(before) != len(after) {
			t.Fatalf("snapshots differ in length")
		}
		later := func(b, a time.Time) bool { return !b.IsZero() && (a.IsZero() || a.After(b)) }
		for i := range before {
			b, a := before[i], after[i]
			if b.Exited {
				continue
			}
			if later(b.StopSignalAt, a.StopSignalAt) || later(b.KillAt, a.KillAt) {
				t.Fatalf("%s: shorten made it later:\nbefore %+v\nafter  %+v", b.Name, b, a)
			}
		}
	})
}

// TestPropertyDeterministic: the same events give the same actions.
func TestPropertyDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sc := drawScenario(t)
		first, second := simulate(t, sc), simulate(t, sc)
		if d := cmp.Diff(first.trace, second.trace); d != "" {
			t.Fatalf("traces differ:\n%s", d)
		}
	})
}

// TestPropertySingleStopBounds: a lone container's stop signal comes by start + grace and its
// SIGKILL by start + grace + 2 s, whatever its hook does.
func TestPropertySingleStopBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		grace := time.Duration(rapid.IntRange(0, 60).Draw(t, "grace")) * time.Second
		hook := rapid.Bool().Draw(t, "preStop")
		st, _, err := termination.NewStop("c", grace, hook, t0)
		if err != nil {
			t.Fatal(err)
		}
		if hook && grace > 0 {
			if returns := rapid.IntRange(-1, 70000).Draw(t, "hookMs"); returns >= 0 {
				d, _ := st.Deadline()
				if at := t0.Add(ms(returns)); !at.After(d) {
					if _, err := st.PreStopDone(at); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for range 3 {
			if d, ok := st.Deadline(); ok {
				if _, err := st.Tick(d); err != nil {
					t.Fatal(err)
				}
			}
		}
		sig, ok := st.StopSignalAt()
		if !ok || sig.After(t0.Add(grace)) {
			t.Fatalf("stop signal %v (sent %v) after grace %v", sig.Sub(t0), ok, grace)
		}
		kill, ok := st.KillAt()
		if !ok || !st.Plan().KillSent || kill.After(t0.Add(grace+termination.MinimumStopTimeout)) {
			t.Fatalf("SIGKILL %v (known %v) after grace + 2 s", kill.Sub(t0), ok)
		}
		if kill.Sub(sig) < termination.MinimumStopTimeout {
			t.Fatalf("less than 2 s between stop signal and SIGKILL")
		}
	})
}
