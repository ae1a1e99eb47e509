package natsbridge

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Binance sends a symbol's ticker statistics over several rolling windows
// (spot WebSocket Streams "Individual Symbol Ticker Streams", 24hrTicker,
// and "Individual Symbol Rolling Window Statistics Streams", 1hTicker,
// 4hTicker, 1dTicker), each stating its window ("O", "C"); dispatch keys
// them apart by Ticker.Window. The relay carried no window (layout 8) and
// kept them as one stream: a 1 h ticker replaced the 24 h one waiting,
// arrived as a 24 h ticker, and a loss of the 1 h stream was announced
// as the 24 h one's.

// s34wireTicker is a full ticker of BTC-USDT of window w ("" 24 h).
func s34wireTicker(w string, px int64) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventTicker
		ev.UseTicker().Last, ev.UseTicker().Window = schema.NewDecimal(px, 1), w
		ev.UseTicker().WindowOpen, ev.UseTicker().WindowClose, ev.UseTicker().TradeCount = 1672429382136e6, 1672515782136e6, 18151
		ev.UseTicker().WeightedAvgPrice = schema.NewDecimal(px*10+1, 2)
	}
}

// s34wireMarker is a gap marker about BTC-USDT's tickers of window w (it
// states no window's bounds: both kinds of that window, as normalize's).
func s34wireMarker(w string) func(*schema.CanonicalEvent) {
	return func(g *schema.CanonicalEvent) {
		g.Venue, g.Symbol, g.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
		g.UseControl().Kind, g.UseControl().GapType, g.UseControl().GapSource = schema.ControlGap, schema.EventTicker, schema.GapVenue
		g.UseTicker().Window = w
	}
}

// TestS34wireWindowsThroughTheBridge: Publisher → NATS → Consumer into a
// host whose event pool is held. A 24 h and a 1 h ticker waiting for the
// pool are both delivered (the 1 h one replaced the 24 h one); a marker
// about the 1 h stream drops the 1 h ticker from before it, keeps the
// 24 h one, and reaches the host naming the 1 h window.
func TestS34wireWindowsThroughTheBridge(t *testing.T) {
	b := newWindowBridge(t)
	ingest, got, cons := b.ingest, b.got, b.cons

	ingest.publish(t, s34wireTicker("", 1))
	ingest.publish(t, s34wireTicker("1h", 2))
	eventually(t, func() bool { return cons.Stats().PoolDropped == 2 }, "both shelved")
	ingest.publish(t, s34wireMarker("1h"))
	eventually(t, func() bool { return cons.Stats().Received == 3 }, "the marker received")
	b.far.release()

	g := next(t, got, anyEvent)
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, "1h", g.Ticker.Window, "a loss of the 1 h stream announced as another window's")
	require.Nil(t, g.Kline)
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventTicker, ev.Type)
	require.Empty(t, ev.Ticker.Window, "the 24 h ticker waiting lost to the 1 h one")
	require.Equal(t, schema.NewDecimal(1, 1), ev.Ticker.Last)
	require.Equal(t, schema.NewDecimal(11, 2), ev.Ticker.WeightedAvgPrice)

	ingest.publish(t, s34wireTicker("1h", 9)) // after the marker: delivered
	ev = next(t, got, anyEvent)
	require.Equal(t, "1h", ev.Ticker.Window)
	require.Equal(t, schema.NewDecimal(9, 1), ev.Ticker.Last, "the 1 h ticker of before the marker delivered after it")
	require.Equal(t, schema.NewDecimal(91, 2), ev.Ticker.WeightedAvgPrice)

	b.close(t)
}

// TestS34wireQueueKeepsEachWindow: the Consumer's queue, full, keeps the
// newest quote dropped per stream; a symbol's tickers of two windows share
// a subject and were kept as one. A marker about the 1 h window
// supersedes the 1 h ticker kept, not the 24 h one.
func TestS34wireQueueKeepsEachWindow(t *testing.T) {
	subj := Subject(DefaultPrefix, schema.VenueBinance, "BTC-USDT", schema.EventTicker)
	msg := func(fill func(*schema.CanonicalEvent)) *nats.Msg {
		var ev schema.CanonicalEvent
		fill(&ev)
		return &nats.Msg{Subject: subj, Data: wire.Append(nil, &ev, 0)}
	}
	filler := &nats.Msg{Subject: Subject(DefaultPrefix, schema.VenueBinance, "ETH-USDT", schema.EventTrade), Data: wire.Append(nil, tradeOf("ETH-USDT", 1), 1)}
	q := newMsgQueue(2, 1<<20)
	q.push(filler)
	q.push(filler)
	q.push(msg(s34wireTicker("", 1)))   // dropped: kept
	q.push(msg(s34wireTicker("1h", 2))) // dropped: kept beside it
	require.Same(t, filler, q.pop())
	require.Same(t, filler, q.pop())
	q.push(msg(s34wireMarker("1h"))) // queued: it supersedes the 1 h ticker kept
	m := q.pop()
	require.NotNil(t, m)
	typ, _ := wire.Type(m.Data)
	require.Equal(t, schema.EventGap, typ)
	m = q.pop()
	require.NotNil(t, m, "the 24 h ticker's newest quote lost to the 1 h one or to a marker about it")
	var ev schema.CanonicalEvent
	_, err := new(wire.Decoder).Decode(m.Data, &ev)
	require.NoError(t, err)
	require.Empty(t, ev.Ticker.Window, "the 1 h ticker of before the marker handed out after it")
	require.Equal(t, schema.NewDecimal(1, 1), ev.Ticker.Last)
	require.Nil(t, q.pop())
}

// TestS34wireOldLayoutRefusesWindows: layout 8 cannot carry a window; a
// Publisher writing it for older Consumers sent a 1 h ticker that they
// took for the symbol's 24 h one. It is not sent, and counted.
func TestS34wireOldLayoutRefusesWindows(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, &PublisherOptions{WireVersion: wire.Version8})
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Types: []schema.EventType{schema.EventTicker}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)

	for i, fill := range []func(*schema.CanonicalEvent){s34wireTicker("1h", 2), s34wireMarker("1h"), s34wireTicker("", 1)} {
		ingest.publish(t, fill) // each handled before the next (the marker would drop the ticker queued)
		eventually(t, func() bool { return pub.Stats().Lane.Delivered == uint64(i+1) }, "the publisher handled the event")
	}
	ev := next(t, got, anyEvent)
	require.Equal(t, schema.EventTicker, ev.Type, "a marker about the 1 h window sent as the 24 h one's")
	require.Equal(t, schema.NewDecimal(1, 1), ev.Ticker.Last, "a 1 h ticker sent in layout 8, read as the 24 h one")
	require.True(t, ev.Ticker.WeightedAvgPrice.IsZero(), "layout 8 has no WeightedAvgPrice")
	require.Equal(t, uint64(2), pub.Stats().Unwritable, "the 1 h ticker and its marker counted")

	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}

// A marker the relay makes about a ticker's window names it where
// dispatch's do, in Ticker.Window: in Kline.Interval it named a kline
// interval of a ticker stream, which no stream is.
func TestS34wireMarkerNamesTheWindow(t *testing.T) {
	var ev schema.CanonicalEvent
	s34wireTicker("4h", 1)(&ev)
	k := viewOf(streamKey{ev.Venue, ev.Symbol, ev.Type}, &ev)
	var g schema.CanonicalEvent
	k.name(&g)
	require.Equal(t, "4h", g.Ticker.Window)
	require.Nil(t, g.Kline)
	require.Zero(t, g.Book.Depth)

	ev.Type, ev.UseKline().Interval, ev.Book.Depth = schema.EventKlineLive, "1m", 0
	k = viewOf(streamKey{ev.Venue, ev.Symbol, ev.Type}, &ev)
	g = schema.CanonicalEvent{}
	k.name(&g)
	require.Equal(t, "1m", g.Kline.Interval)
	require.Nil(t, g.Ticker)
}
