package termination_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/podlife/podlife/termination"
)

func FuzzGracePeriod(f *testing.F) {
	f.Add(uint8(0), uint8(0), int64(30), int64(0), int64(0), int64(0))
	f.Add(uint8(0), uint8(0b0011), int64(30), int64(0), int64(0), int64(0))
	f.Add(uint8(1), uint8(0b1101), int64(30), int64(10), int64(60), int64(5))
	f.Add(uint8(0), uint8(0b1011), int64(-1), int64(-5), int64(0), int64(1<<62))
	f.Fuzz(func(t *testing.T, scope, flags uint8, spec, del, probe, override int64) {
		r := termination.GraceRequest{Scope: termination.Scope(scope % 3), Deleted: flags&1 != 0}
		if flags&2 != 0 {
			r.DeleteSeconds = &del
		}
		if flags&4 != 0 {
			r.ProbeSeconds = &probe
		}
		if flags&8 != 0 {
			r.OverrideSeconds = &override
		}
		if flags&16 == 0 {
			r.SpecSeconds = &spec
		}
		g, err := termination.GracePeriod(r)
		if err != nil {
			return
		}
		if g.Period < 0 || g.Period > termination.MaxGracePeriod || g.Period%time.Second != 0 {
			t.Fatalf("grace %v out of range for %+v", g.Period, r)
		}
		if r.Scope == termination.PodScope && g.Period < termination.MinimumPodGracePeriod {
			t.Fatalf("pod grace %v below 1 s", g.Period)
		}
		if g.Source == "" {
			t.Fatalf("no source for %+v", r)
		}
	})
}

// FuzzPodStop feeds arbitrary events and checks the machine never fails on valid ones and
// keeps its bounds: app SIGKILL by start + grace + 2 s, sidecar SIGKILL before start + grace + 3 s.
func FuzzPodStop(f *testing.F) {
	f.Add(uint8(30), []byte{0x03, 0x11, 0x29}, []byte{1, 0, 10, 2, 1, 20, 0, 0, 255, 3, 5, 0})
	f.Add(uint8(0), []byte{0x01, 0x10}, []byte{0, 0, 5})
	f.Add(uint8(5), []byte{0x13, 0x12, 0x00}, []byte{2, 0, 1, 3, 2, 1, 1, 1, 0, 0, 0, 200})
	f.Fuzz(func(t *testing.T, graceSeconds uint8, memberBytes, events []byte) {
		if len(memberBytes) > 8 {
			memberBytes = memberBytes[:8]
		}
		grace := time.Duration(graceSeconds%64) * time.Second
		members := make([]termination.Member, len(memberBytes))
		for i, b := range memberBytes {
			members[i] = termination.Member{
				Name: fmt.Sprintf("c%d", i), Kind: termination.Kind(b >> 4 % 3), Order: i,
				HasPreStop: b&1 != 0, Exited: b&8 != 0,
			}
		}
		start := time.Unix(1_700_000_000, 0)
		ps, actions, err := termination.NewPodStop(members, grace, start)
		if err != nil {
			t.Fatal(err)
		}
		now := start
		check := func(actions []termination.Action) {
			for _, a := range actions {
				if a.At.After(now) {
					t.Fatalf("%v due after %v", a, now)
				}
				if a.Kind == termination.SendStopSignal && a.Timeout < termination.MinimumStopTimeout {
					t.Fatalf("timeout %v below 2 s", a.Timeout)
				}
				if a.Kind != termination.Kill {
					continue
				}
				limit := start.Add(grace + termination.MinimumStopTimeout)
				if members[a.Container[1]-'0'].Kind == termination.SidecarContainer {
					limit = limit.Add(time.Second - 1)
				}
				if a.At.After(limit) {
					t.Fatalf("%v at %v after %v", a, a.At.Sub(start), limit.Sub(start))
				}
			}
		}
		check(actions)
		for i := 0; i+2 < len(events) && i < 300; i += 3 {
			now = now.Add(time.Duration(events[i+2]) * 250 * time.Millisecond)
			var name string
			if len(members) > 0 {
				name = members[int(events[i+1])%len(members)].Name
			}
			switch events[i] % 4 {
			case 0:
				actions, err = ps.Tick(now)
			case 1:
				actions, err = ps.PreStopDone(name, now)
			case 2:
				actions, err = ps.Exited(name, now)
			case 3:
				_, actions, err = ps.Shorten(time.Duration(events[i+1]%64)*time.Second, now)
			}
			if err != nil {
				continue // unknown container (no members) or no preStop: rejected, state unchanged
			}
			check(actions)
		}
	})
}
