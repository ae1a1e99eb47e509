package venuesim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// s34rvsimStepBack moves c back by d (> 0) and wakes every sleeper, as a
// wall clock stepped back does: a Sleep of 1 ms ends after a millisecond
// passed, whatever the clock then reads.
func (c *s29Clock) s34rvsimStepBack(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(-d)
	for w := range c.waiters {
		close(w.ch)
		delete(c.waiters, w)
	}
}

// s34rvsimKlines drives the fake-clock venue's generator through moves
// (forward by Advance, backward when negative) with the market trading,
// and returns every kline event its connection c read meanwhile, in
// order: a LIST_SUBSCRIPTIONS answered after the last move is the
// barrier (the generator queued its pushes before it slept again, the
// answer after them).
func s34rvsimKlines(ctx context.Context, t *testing.T, clk *s29Clock, c *websocket.Conn, msgs <-chan s34simMsg, moves []time.Duration) []s34simMsg {
	t.Helper()
	for _, d := range moves {
		clk.waitSleeping(t, time.Millisecond, 1)
		if d < 0 {
			clk.s34rvsimStepBack(-d)
		} else {
			clk.Advance(d)
		}
	}
	clk.waitSleeping(t, time.Millisecond, 1)
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"method":"LIST_SUBSCRIPTIONS","id":77}`)))
	var out []s34simMsg
	for {
		m := s34simNext(t, msgs)
		if m.Stream == "" {
			require.Contains(t, string(m.Raw), `"id":77`, "the barrier")
			return out
		}
		if s34simDecode(t, m).Event == "kline" {
			out = append(out, m)
		}
	}
}

// s34rvsimCheckKlines checks the rules every Binance kline push keeps
// (spot "WebSocket Streams", "Kline/Candlestick Streams"): a candle in
// progress (x=false) is pushed within its interval (t <= E <= T); a
// closed one (x=true) after its close time (E > T); each candle of a
// stream is closed once and not pushed after; a stream's candles follow
// one another (open times never go back).
func s34rvsimCheckKlines(t *testing.T, got []s34simMsg) {
	t.Helper()
	closed := map[string]bool{}
	last := map[string]int64{} // stream → the open time of its last push
	for _, m := range got {
		e := s34simDecode(t, m)
		assert.GreaterOrEqual(t, e.K.Start, last[m.Stream], "%s went back to an earlier candle: %s", m.Stream, m.Data)
		last[m.Stream] = max(last[m.Stream], e.K.Start)
		assert.False(t, closed[fmt.Sprint(m.Stream, e.K.Start)], "%s pushed after it closed: %s", m.Stream, m.Data)
		if e.K.Closed {
			assert.Greater(t, e.Time, e.K.End, "%s closed before its close time: %s", m.Stream, m.Data)
			key := fmt.Sprint(m.Stream, e.K.Start)
			assert.False(t, closed[key], "%s closed twice: %s", m.Stream, m.Data)
			closed[key] = true
			continue
		}
		assert.LessOrEqual(t, e.K.Start, e.Time, "%s pushed before its open time: %s", m.Stream, m.Data)
		assert.LessOrEqual(t, e.Time, e.K.End, "%s pushed open after its close time: %s", m.Stream, m.Data)
	}
}

// A clock stepped back (Options.Clock with no monotonic reading: the
// generator's own rule, "a clock stepped back … starts the count again
// from now") while the market trades: the candles the 1s and 1m streams
// push after it keep Binance's rules. Before, the candle open at the
// step, whose interval now lies ahead of the clock, went on being pushed
// in progress before its open time, and the first trade after the step
// sent it closed (x=true) before its close time — and again when the
// clock reached its end.
func TestS34rvsimKlinesAfterClockSteppedBack(t *testing.T) {
	v, clk := s34simStart(t, "BTCUSDT")
	c, ctx := s33simDial(t, v.StreamURL("btcusdt@kline_1s", "btcusdt@kline_1m"))
	msgs := s34simReader(ctx, t, c)
	var moves []time.Duration
	walk := func(d time.Duration, n int) {
		for range n {
			moves = append(moves, d)
		}
	}
	walk(7*time.Millisecond, 400)             // 2.8 s of trading
	walk(time.Minute+300*time.Millisecond, 1) // into the next minute
	walk(7*time.Millisecond, 400)
	walk(-(time.Minute + 2*time.Second), 1) // back into the first minute
	walk(7*time.Millisecond, 400)
	walk(-1500*time.Millisecond, 1) // back by a second and a half
	walk(7*time.Millisecond, 400)
	walk(time.Minute, 1)
	walk(7*time.Millisecond, 400)
	got := s34rvsimKlines(ctx, t, clk, c, msgs, moves)
	require.NotEmpty(t, got)
	s34rvsimCheckKlines(t, got)
}
