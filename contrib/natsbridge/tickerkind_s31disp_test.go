package natsbridge

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/schema"
)

// binanceTicker is a Binance ticker of BTC-USDT: the full 24hrTicker,
// which states its window and counts trades, or the 24hrMiniTicker, which
// does neither (Binance WebSocket Streams "Individual Symbol Ticker
// Streams", "Individual Symbol Mini Ticker Stream").
func binanceTicker(full bool, px int64) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTicker}
	ev.UseTicker().Last = schema.NewDecimal(px, 1)
	if full {
		ev.UseTicker().WindowOpen, ev.UseTicker().WindowClose, ev.UseTicker().TradeCount = 1672429382136e6, 1672515782136e6, 18151
	}
	return ev
}

// TestS31PoolExhaustedKeepsFullAndMiniTicker: under an exhausted event
// pool the Consumer keeps the latest update of each coalescable stream.
// Binance's full and mini tickers of a symbol are two (dispatch coalesces
// them apart by whether they state their window), but they were kept as
// one: the mini ticker replaced the full one waiting, whose bid, ask,
// change and trade count the far side never got.
func TestS31PoolExhaustedKeepsFullAndMiniTicker(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventTicker)
	raw.send(binanceTicker(true, 1), 0)
	raw.send(binanceTicker(false, 2), 0)
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	far.release()
	var full, mini bool
	for !full || !mini {
		ev := next(t, got, anyEvent)
		require.Equal(t, schema.EventTicker, ev.Type)
		if ev.Ticker.WindowClose != 0 {
			require.Equal(t, uint64(18151), ev.Ticker.TradeCount)
			full = true
		} else {
			mini = true
		}
	}
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}

// TestS31QueueKeepsFullAndMiniTicker: the Consumer's queue, full, keeps
// the newest quote dropped per stream. A symbol's full and mini tickers
// share a subject and were kept as one stream: the mini ticker dropped
// last replaced the full one. A gap marker about the symbol's tickers
// (which states no window) supersedes both.
func TestS31QueueKeepsFullAndMiniTicker(t *testing.T) {
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTicker)
	msg := func(ev *schema.CanonicalEvent) *nats.Msg {
		return &nats.Msg{Subject: subj, Data: wire.Append(nil, ev, 0)}
	}
	filler := &nats.Msg{Subject: Subject(DefaultPrefix, schema.VenueBinance, "ETH-USDT", schema.EventTrade), Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
	q := newMsgQueue(2, 1<<20) // keeps as many quotes dropped as it queues
	q.push(filler)
	q.push(filler)
	q.push(msg(binanceTicker(true, 1)))  // dropped: kept
	q.push(msg(binanceTicker(false, 2))) // dropped: kept beside it
	require.Same(t, filler, q.pop())
	require.Same(t, filler, q.pop())
	var kinds []bool
	for m := q.pop(); m != nil; m = q.pop() {
		var ev schema.CanonicalEvent
		_, err := new(wire.Decoder).Decode(m.Data, &ev)
		require.NoError(t, err)
		kinds = append(kinds, ev.Ticker.WindowClose != 0)
	}
	require.ElementsMatch(t, []bool{true, false}, kinds, "the full ticker or the mini one lost in the queue")

	q.push(filler)
	q.push(filler)
	q.push(msg(binanceTicker(true, 3)))
	q.push(msg(binanceTicker(false, 4)))
	require.Same(t, filler, q.pop())
	require.Same(t, filler, q.pop())
	g := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap}
	g.UseControl().Kind, g.UseControl().GapType = schema.ControlGap, schema.EventTicker
	q.push(msg(g)) // queued: it supersedes the kept tickers, from before the loss it announces
	m := q.pop()
	require.NotNil(t, m)
	typ, _ := wire.Type(m.Data)
	require.Equal(t, schema.EventGap, typ)
	require.Nil(t, q.pop(), "a ticker of before the gap marker handed out after it")
}

// TestS31MarkerDropsBothTickerKindsWaitingForThePool: a gap marker about a
// symbol's tickers (it states no window) overtakes the updates waiting for
// an exhausted event pool; those of both kinds, the full and the mini
// ticker, are from before the loss it announces and must not be delivered
// after it as the stream's state.
func TestS31MarkerDropsBothTickerKindsWaitingForThePool(t *testing.T) {
	far, got, cons, raw := starvedConsumer(t, schema.EventTicker)
	raw.send(binanceTicker(true, 1), 0)
	raw.send(binanceTicker(false, 2), 0)
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	g := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap}
	g.UseControl().Kind, g.UseControl().GapType = schema.ControlGap, schema.EventTicker
	raw.send(g, 0)
	eventually(t, func() bool { return cons.Stats().Received == 3 }, "the marker received")
	far.release()
	require.Equal(t, schema.EventGap, next(t, got, anyEvent).Type)
	raw.send(binanceTicker(true, 9), 0) // after the marker: delivered
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.NewDecimal(9, 1), ev.Ticker.Last, "a ticker of before the gap marker delivered after it")
	require.NoError(t, cons.Close(closeCtx(t)))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, far.d.Close(ctx))
}
