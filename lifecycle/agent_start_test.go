package lifecycle_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/memstore"
	"github.com/podlife/podlife/lifecycle/simruntime"
)

// An agent started while its store is down waits for it, as kubelet waits for its API server:
// it lists again with a back-off that doubles from RetryPeriod up to 30 s, logs why, and runs
// the pods once the store answers.
func TestAgentStartsWhenTheStoreComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, simruntime.WorldOptions{})
		_, err := r.Client.Bind(t.Context(), node, podRef, appSpec())
		require.NoError(t, err)
		r.Store.SetUnavailable(true)
		r.run()
		defer r.stop()
		r.sleepUntil(100 * time.Second)
		r.Store.SetUnavailable(false)
		r.sleepUntil(200 * time.Second)
		var at []string
		for _, e := range r.logs.FilterMessage("cannot start yet; will retry").All() {
			at = append(at, r.since(e.Time))
			for _, f := range e.Context {
				if f.Key == "error" {
					assert.ErrorIs(t, f.Interface.(error), lifecycle.ErrStoreUnavailable)
				}
			}
		}
		// Listed at 0, 1, 3, 7, 15, 31, 61 and 91 s, all failing; at 121 s the store is back.
		assert.Equal(t, []string{"0s", "1s", "3s", "7s", "15s", "31s", "1m1s", "1m31s"}, at)
		assert.Len(t, r.lines("StartContainer"), 1)
		assert.Equal(t, "2m1s", r.since(r.status().Status.StartTime))
	})
}

// An agent whose context ends before the store ever answered says why it never started.
func TestAgentStoppedBeforeTheStoreAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		st.SetUnavailable(true)
		core, logs := observer.New(zap.InfoLevel)
		ag, err := lifecycle.NewAgent(lifecycle.AgentConfig{Node: node, Store: st, Logger: zap.New(core),
			Runtime: simruntime.NewRuntime(simruntime.NewWorld(simruntime.WorldOptions{}), lifecycle.RealClock{})})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err = ag.Run(ctx)
		assert.ErrorIs(t, err, lifecycle.ErrStoreUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Len(t, logs.FilterMessage("cannot start yet; will retry").All(), 4, "at 0, 1, 3 and 7 s")
	})
}
