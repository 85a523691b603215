package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/phase"
)

// sampler mirrors the node's keys from the store's watch and, after every single change (a pod
// bound or deleted, every status the agent writes), counts the pods and the available ones.
type sampler struct {
	keys                  lifecycle.Keys
	mirror                map[string][]byte
	mu                    sync.Mutex
	samples               int
	minAvailable, maxPods int
	lastRev               int64
	errs                  []error
}

func newSampler(ctx context.Context, store lifecycle.Store) (*sampler, error) {
	s := &sampler{mirror: map[string][]byte{}, minAvailable: 1 << 30}
	kvs, rev, err := store.List(ctx, s.keys.Node(node))
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		s.mirror[kv.Key] = kv.Value
	}
	s.lastRev = rev
	s.sample()
	ch := store.Watch(ctx, s.keys.Node(node), rev+1)
	go func() {
		for resp := range ch {
			for _, ev := range resp.Events {
				s.mu.Lock()
				if ev.Type == lifecycle.WatchDelete {
					delete(s.mirror, ev.KV.Key)
				} else {
					s.mirror[ev.KV.Key] = ev.KV.Value
				}
				s.lastRev = ev.KV.Revision
				s.sample()
				s.mu.Unlock()
			}
		}
	}()
	return s, nil
}

// sample counts the mirror: pods are the pod records, available ones those not being deleted
// whose status says Ready.
func (s *sampler) sample() {
	pods, available := 0, 0
	for key, value := range s.mirror {
		if !strings.HasPrefix(key, s.keys.Pods(node)) {
			continue
		}
		pods++
		rec, err := lifecycle.DecodePod(value)
		if err != nil {
			s.errs = append(s.errs, err)
			continue
		}
		st, ok := s.mirror[s.keys.Status(node, rec.Pod)]
		if !ok || rec.Deletion != nil {
			continue
		}
		sr, err := lifecycle.DecodeStatus(st)
		if err != nil {
			s.errs = append(s.errs, err)
			continue
		}
		if phase.IsConditionTrue(sr.Status.Conditions, phase.PodReady) {
			available++
		}
	}
	s.samples++
	s.minAvailable = min(s.minAvailable, available)
	s.maxPods = max(s.maxPods, pods)
}

// TestRolloutStaysWithinSurgeAndUnavailable rolls v1 to v2 in a synctest bubble (virtual time)
// under several strategies and checks, at every change of the store, that availability never
// falls below replicas - maxUnavailable and the pod count never rises above replicas +
// maxSurge; and that the rollout ends with replicas Ready pods of v2 and nothing else.
func TestRolloutStaysWithinSurgeAndUnavailable(t *testing.T) {
	for _, s := range []Strategy{
		{Replicas: 3, MaxSurge: 1, MaxUnavailable: 0},
		{Replicas: 3, MaxSurge: 0, MaxUnavailable: 1},
		{Replicas: 4, MaxSurge: 2, MaxUnavailable: 1},
		{Replicas: 5, MaxSurge: 1, MaxUnavailable: 2},
		{Replicas: 1, MaxSurge: 1, MaxUnavailable: 0},
		{Replicas: 2, MaxSurge: 0, MaxUnavailable: 2},
	} {
		t.Run(fmt.Sprintf("replicas=%d,surge=%d,unavailable=%d", s.Replicas, s.MaxSurge, s.MaxUnavailable), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				n, err := startNode(ctx)
				require.NoError(t, err)
				defer func() { cancel(); n.Stop() }()
				c := &Controller{Client: n.Client, Node: node, Name: "web", Strategy: s}
				require.NoError(t, c.Rollout(ctx, "v1", webSpec("registry.example/web:1")))

				smp, err := newSampler(ctx, n.Store)
				require.NoError(t, err)
				start := time.Now()
				require.NoError(t, c.Rollout(ctx, "v2", webSpec("registry.example/web:2")))
				took := time.Since(start)
				synctest.Wait() // the sampler has seen every change so far

				smp.mu.Lock()
				defer smp.mu.Unlock()
				require.Empty(t, smp.errs)
				assert.Greater(t, smp.samples, 3*s.Replicas, "a sample at every pod and status change")
				assert.GreaterOrEqual(t, smp.minAvailable, s.Replicas-s.MaxUnavailable, "availability")
				assert.LessOrEqual(t, smp.maxPods, s.Replicas+s.MaxSurge, "pod count")
				assert.Greater(t, took, time.Second, "each new pod needs a second to become Ready")

				var names []string
				for key, value := range smp.mirror {
					if !strings.HasPrefix(key, smp.keys.Pods(node)) {
						continue
					}
					rec, err := lifecycle.DecodePod(value)
					require.NoError(t, err)
					names = append(names, rec.Pod.Name)
					assert.Equal(t, "registry.example/web:2", rec.Spec.Containers[0].Image)
				}
				assert.Len(t, names, s.Replicas, "replicas pods left, all of v2: %v", names)
			})
		})
	}
}

// TestRolloutTimeline checks the timeline the command prints, run in virtual time. Its order
// within one instant depends on how the agent's goroutines and the controller interleave, so
// the test checks its shape: every step is there, once, at its time.
func TestRolloutTimeline(t *testing.T) {
	var out bytes.Buffer
	s := Strategy{Replicas: 3, MaxSurge: 1, MaxUnavailable: 0}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		n, err := startNode(ctx)
		require.NoError(t, err)
		err = demo(ctx, n, s, &out)
		cancel()
		n.Stop()
		require.NoError(t, err)
	})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Greater(t, len(lines), 3)
	assert.Equal(t, "Deployment web on node-1: 3 replicas, maxSurge 1, maxUnavailable 0; v1 is web:1, v2 is web:2.", lines[0])
	assert.Equal(t, strings.Fields("TIME AVAILABLE PODS OLD NEW EVENT"), strings.Fields(lines[2]))
	events := map[string]string{} // event -> its time
	for _, l := range lines[3:] {
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 6, l)
		ev := strings.Join(f[5:], " ")
		_, dup := events[ev]
		assert.False(t, dup && !strings.HasSuffix(ev, "Ready"), "%q twice", ev)
		events[ev] = f[0]
	}
	for ev, at := range map[string]string{
		"bound web-v1-0": "0s", "bound web-v1-2": "0s", "rollout to v1 done": "1s",
		"bound web-v2-0": "1s", "web-v2-0 Ready": "2s", "deleting web-v1-0": "2s", "web-v1-0 gone (Succeeded)": "2.5s",
		"bound web-v2-1": "2.5s", "web-v2-1 Ready": "3.5s", "deleting web-v1-1": "3.5s",
		"bound web-v2-2": "4s", "web-v2-2 Ready": "5s", "web-v1-2 gone (Succeeded)": "5.5s", "rollout to v2 done": "5.5s",
	} {
		assert.Equal(t, at, events[ev], "%q", ev)
	}
	assert.True(t, strings.HasSuffix(lines[len(lines)-1], "rollout to v2 done"))
}

func TestRolloutBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-replicas", "0"}, "replicas 0: want at least 1"},
		{[]string{"-max-surge", "0", "-max-unavailable", "0"}, "could never start"},
		{[]string{"-max-surge", "-1"}, "want 0 or more"},
		{[]string{"-replicas", "2", "-max-unavailable", "3"}, "more than the 2 replicas"},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-replicas", "x"}, "invalid value"},
		{[]string{"now"}, `unexpected argument "now"`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, exitUsage, run(c.args, &stdout, &stderr))
			assert.Empty(t, stdout.String())
			assert.Contains(t, stderr.String(), c.msg)
		})
	}
}
