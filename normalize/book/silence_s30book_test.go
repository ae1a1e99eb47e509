package book

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// stepClock is a wsclient.Clock whose time moves only on step, which
// calls the AfterFunc functions then due, on the caller's goroutine.
type stepClock struct {
	wsclient.Clock // Sleep, NewTimer: not used by a book
	mu             sync.Mutex
	now            time.Time
	timers         map[*stepTimer]time.Time // armed, and when they fire
	armed          int                      // AfterFunc calls
}

type stepTimer struct {
	c *stepClock
	f func()
}

func newStepClock() *stepClock {
	return &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1_700_000_000, 0), timers: map[*stepTimer]time.Time{}}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	t := &stepTimer{c: c, f: f}
	c.mu.Lock()
	c.armed++
	c.mu.Unlock()
	t.Reset(d)
	return t
}

func (c *stepClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// step moves the clock on by d and runs the timers due by then.
func (c *stepClock) step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*stepTimer
	for t, at := range c.timers {
		if !at.After(c.now) {
			due = append(due, t)
			delete(c.timers, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

func (t *stepTimer) C() <-chan time.Time { return nil }

func (t *stepTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

func (t *stepTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	t.c.timers[t] = t.c.now.Add(d)
	return ok
}

// A book whose stream goes quiet while its connection lives (a
// subscription the venue dropped, a halted instrument) was served with
// its last state for ever, live. With Options.MaxSilence, a live book
// that applied nothing for that long by Options.Clock is silent: Live,
// BBO and Top report false (BBO and Top still give the last state, with
// its times), a gap marker with ReasonSilent and a withdrawn best
// bid/offer go out, and Stats.Silences counts it; the next message that
// continues the stream makes it fresh again. One timer a book, armed
// again on its own firing: nothing per message, no goroutine.
func TestMaxSilenceReportsAQuietBook(t *testing.T) {
	clk := newStepClock()
	b, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{MaxSilence: 5 * time.Second, Clock: clk})
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	require.Equal(t, 1, clk.pending())

	clk.step(3 * time.Second)
	applyLive(t, b, okxRaw("books", "update", 10, 11, `["100","2","0","1"]`, ``, ""))
	clk.step(2 * time.Second) // 5 s after the snapshot, 2 s after the diff: not silent
	require.True(t, b.Live())
	require.Zero(t, b.Stats().Silences)
	require.Equal(t, 1, clk.pending(), "the timer is armed again for the rest")

	clk.step(3 * time.Second) // 5 s after the diff
	require.False(t, b.Live(), "a book silent for MaxSilence reported live")
	q, ok := b.BBO()
	require.False(t, ok)
	require.Equal(t, "100", q.BidPrice.String(), "the last state stays readable")
	var top schema.CanonicalEvent
	require.False(t, b.Top(5, &top))
	require.Len(t, top.Book.Bids, 1)
	require.NotZero(t, top.IngestTS, "the last state keeps its times")
	require.Equal(t, uint64(1), b.Stats().Silences)
	gaps := sink.ofType(schema.EventGap)
	require.Len(t, gaps, 1)
	require.Equal(t, ReasonSilent, gaps[0].Control.Reason)
	bbos := sink.ofType(schema.EventBBO)
	require.True(t, sameBBO(bbos[len(bbos)-1].BBO, schema.BBO{}), "the silent book's quote was not withdrawn")
	require.Zero(t, clk.pending(), "a silent book keeps no timer")
	clk.step(time.Minute)
	require.Equal(t, uint64(1), b.Stats().Silences, "silence is reported once")

	// The stream goes on: fresh again, its quote published again.
	applyLive(t, b, okxRaw("books", "update", 11, 12, ``, `["101","3","0","1"]`, ""))
	q, ok = b.BBO()
	require.True(t, ok)
	require.Equal(t, "3", q.AskQty.String())
	bbos = sink.ofType(schema.EventBBO)
	require.Equal(t, "101", bbos[len(bbos)-1].BBO.AskPrice.String())
	require.Equal(t, 1, clk.pending())
	require.Equal(t, 1, clk.armed, "one timer a book, armed again, not one per message")

	b.Close() // the timer stops for good
	require.Zero(t, clk.pending())
	applyLive(t, b, okxRaw("books", "update", 12, 13, `["100","4","0","1"]`, ``, ""))
	require.Zero(t, clk.pending())
}

// Without MaxSilence a book arms no timer, and a book that is not live
// is never reported silent (it already says it is not live).
func TestMaxSilenceOffOrNotLive(t *testing.T) {
	clk := newStepClock()
	b, _, _ := newRecBook(t, OKX, "BTC-USDT", &Options{Clock: clk})
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	clk.step(time.Hour)
	require.True(t, b.Live())
	require.Zero(t, clk.armed)

	clk = newStepClock()
	b, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{MaxSilence: time.Second, Clock: clk})
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	require.NoError(t, b.Apply(context.Background(), okxEvent(t, okxRaw("books", "update", 12, 13, ``, ``, "")))) // a gap
	require.False(t, b.Live())
	clk.step(time.Minute)
	require.Zero(t, b.Stats().Silences)
	require.Len(t, sink.ofType(schema.EventGap), 1)
	require.Zero(t, clk.pending())
	b.Close()
}

// MaxSilence costs no allocation per diff (the real clock: a time read
// per message applied, the timer armed once).
func TestMaxSilenceZeroAllocsPerDiff(t *testing.T) {
	events := schema.NewPools(nil).Events
	b, err := NewBook(Coinbase, "BTC-USDT", &Options{Sink: &sinkPut{events: events}, Events: events, MaxSilence: time.Hour})
	require.NoError(t, err)
	defer b.Close()
	ctx := context.Background()
	snap := &schema.CanonicalEvent{Venue: schema.VenueCoinbase, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot}
	snap.Book.Bids = []schema.Level{{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)}}
	snap.Book.Asks = []schema.Level{{Price: schema.NewDecimal(200, 0), Qty: schema.NewDecimal(1, 0)}}
	require.NoError(t, b.Apply(ctx, snap))
	d := &schema.CanonicalEvent{Venue: schema.VenueCoinbase, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
	d.Book.Bids = []schema.Level{{Price: schema.NewDecimal(150, 0), Qty: schema.NewDecimal(1, 0)}}
	k := int64(0)
	next := func() {
		k++
		d.Book.Bids[0].Qty = schema.NewDecimal(1+k%7, 0)
		if err := b.Apply(ctx, d); err != nil {
			panic(err)
		}
	}
	next()
	require.Zero(t, testing.AllocsPerRun(200, next))
	require.True(t, b.Live())
}
