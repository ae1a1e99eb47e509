package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// Config.BookMaxSilence is every book's MaxSilence: a book whose stream
// applied nothing for that long reports silent. 1 ms is shorter than the
// simulated venue's pace, so the books go silent between its diffs.
func TestS31BookMaxSilenceReachesTheBooks(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"},
		Channels: []string{"depth@100ms"}, Client: fastRedial, BookMaxSilence: time.Millisecond})
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	require.Eventually(t, func() bool { st := b.Stats(); return st.Snapshots > 0 && st.Silences > 0 }, generous, pollEvery,
		"the books never went silent: BookMaxSilence did not reach them")

	_, err := session.Start(t.Context(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"},
		Channels: []string{"depth@100ms"}, BookMaxSilence: -time.Second})
	require.ErrorIs(t, err, session.ErrConfig)
}

// bookTimerClock is the system clock that follows the AfterFunc timers of
// one duration (the books' MaxSilence): how many are armed.
type bookTimerClock struct {
	wsclient.Clock
	d     time.Duration
	mu    sync.Mutex
	armed map[*bookTimer]bool
}

type bookTimer struct {
	wsclient.Timer
	c *bookTimerClock
}

func (c *bookTimerClock) set(t *bookTimer, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on {
		c.armed[t] = true
	} else {
		delete(c.armed, t)
	}
}

func (c *bookTimerClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.armed)
}

func (c *bookTimerClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	if d != c.d {
		return c.Clock.AfterFunc(d, f)
	}
	t := &bookTimer{c: c}
	c.set(t, true)
	t.Timer = c.Clock.AfterFunc(d, func() { c.set(t, false); f() })
	return t
}

func (t *bookTimer) Stop() bool {
	t.c.set(t, false)
	return t.Timer.Stop()
}

func (t *bookTimer) Reset(d time.Duration) bool {
	t.c.set(t, true)
	return t.Timer.Reset(d)
}

// Close closes the books: their MaxSilence timers stop, none left armed
// to fire after the session is gone.
func TestS31CloseStopsTheBookTimers(t *testing.T) {
	v := startVenue(t)
	clk := &bookTimerClock{Clock: wsclient.SystemClock(), d: time.Hour, armed: map[*bookTimer]bool{}}
	client := fastRedial
	client.Clock = clk
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT", "ETH-USDT"},
		Channels: []string{"depth@100ms"}, Client: client, BookMaxSilence: time.Hour})
	waitConnected(t, s)
	require.Positive(t, clk.pending(), "the live books armed no timer")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.Close(ctx))
	require.Zero(t, clk.pending(), "a book's MaxSilence timer still armed after Close")
}
