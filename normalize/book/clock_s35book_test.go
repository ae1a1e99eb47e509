package book

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// The book's waits — after a failed fetch, after a failed
// resubscription, the resync backoff, MaxSilence — were counted from a
// time of its Clock, and a clock stepped back (an NTP correction, a host
// that sets its clock) made every one of them last as long as the step on
// top: a Binance book dark for the hour its clock went back, fetching
// nothing; a silent book served as current for that hour. A time later
// than now now counts as now (session's pacers do the same, s34sess).
func TestS35ClockSteppedBack(t *testing.T) {
	t.Run("fetch", func(t *testing.T) {
		clock, fetches, diff := failingFetchPipe(t, time.Second)
		diff(1000)
		require.Equal(t, 1, *fetches)
		*clock = clock.Add(-time.Hour)
		diff(1002)
		require.Equal(t, 1, *fetches, "RetryInterval has not passed")
		*clock = clock.Add(time.Second)
		diff(1004)
		require.Equal(t, 2, *fetches, "RetryInterval has passed since the step: the book fetches again")
	})
	t.Run("resubscribe backoff", func(t *testing.T) {
		x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{RetryInterval: time.Second})
		clock := time.Unix(1_700_000_000, 0)
		x.b.now = func() time.Time { return clock }
		bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
		seq := int64(1000)
		bad := func() {
			seq++
			x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks)+1, -1, seq))
		}
		for range resyncBurst {
			bad()
		}
		require.Equal(t, resyncBurst, x.resubs)
		bad()
		require.Equal(t, resyncBurst, x.resubs, "backing off")
		clock = clock.Add(-time.Hour)
		bad()
		clock = clock.Add(time.Second)
		bad()
		require.Equal(t, resyncBurst+1, x.resubs, "the backoff's wait has passed since the step")
	})
	t.Run("silence", func(t *testing.T) {
		clk := newStepClock()
		events := pool.New("s35-clock", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := &recSink{events: events}
		b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events, MaxSilence: 5 * time.Second, Clock: clk})
		require.NoError(t, err)
		defer b.Close()
		applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
		clk.step(time.Second)
		clk.stepBack(time.Hour) // the stream stops as the clock goes back
		for range 2 {
			clk.step(5 * time.Second)
		}
		require.False(t, b.Live(), "silent 10 s, twice MaxSilence, served as current")
		gaps := sink.ofType(schema.EventGap)
		require.Len(t, gaps, 1)
		require.Equal(t, ReasonSilent, gaps[0].Control.Reason)
		require.Zero(t, events.Stats().InUse)
	})
}

// stepBack moves the clock back by d, as a wall clock set back: a timer
// waits as long as it was set to (Go's timers run on the monotonic clock).
func (c *stepClock) stepBack(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(-d)
	for t, at := range c.timers {
		c.timers[t] = at.Add(-d)
	}
}
