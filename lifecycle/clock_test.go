package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fired(tm Timer) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestFakeClockFiresTimersInOrderWhenDue(t *testing.T) {
	c := NewFakeClock(t0)
	a := c.NewTimer(10 * time.Second)
	b := c.NewTimer(5 * time.Second)
	now := c.NewTimer(0)
	assert.True(t, fired(now), "a timer of 0 fires at once")
	assert.Equal(t, 2, c.Waiters())
	next, ok := c.NextDeadline()
	require.True(t, ok)
	assert.Equal(t, t0.Add(5*time.Second), next)

	c.Step(5 * time.Second)
	assert.True(t, fired(b))
	assert.False(t, fired(a))
	c.SetTime(t0) // never backwards
	assert.Equal(t, t0.Add(5*time.Second), c.Now())

	assert.True(t, a.Stop(), "a pending timer stops")
	assert.False(t, a.Stop(), "a stopped timer is not pending")
	c.Step(time.Hour)
	assert.False(t, fired(a), "a stopped timer never fires")
	_, ok = c.NextDeadline()
	assert.False(t, ok)
}

func TestRealClockTimer(t *testing.T) {
	var c Clock = RealClock{}
	before := time.Now()
	tm := c.NewTimer(time.Millisecond)
	at := <-tm.C()
	assert.False(t, at.Before(before))
	assert.False(t, c.Now().Before(before))
	assert.False(t, tm.Stop(), "a fired timer is not pending")
}
