package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// The bridge's readers of the out-of-line sections (nil unless the event
// carries one) on events that carry none: each read a section through its
// pointer and panicked — viewOf (Kline.Interval, of every event), streamType
// and the Publisher's handle (Control.GapType, Ticker.Window), fit (it
// cleared the reasons through nil pointers). msgID took the sections with
// Use*, which gave an ack an Exec it did not carry (and allocated).
func TestS42natsReadersWithoutSections(t *testing.T) {
	bare := func(typ schema.EventType) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: typ, Raw: []byte("payload")}
	}
	for _, typ := range []schema.EventType{schema.EventGap, schema.EventTicker, schema.EventKlineLive, schema.EventBookUpdate, schema.EventTrade} {
		ev := bare(typ)
		k := streamKey{ev.Venue, ev.Symbol, streamType(ev)}
		vk, other := quoteView(k, ev)
		require.Equal(t, viewKey{streamKey: k}, viewOf(k, ev), "%s", typ)
		require.Equal(t, vk.streamKey, other.streamKey, "%s", typ)
		require.Equal(t, typ, streamType(ev), "a marker carrying no Control is its own stream")

		// A marker about a view that names none carries no section for it.
		var g schema.CanonicalEvent
		vk.name(&g)
		require.Nil(t, g.Kline, "%s", typ)
		require.Nil(t, g.Ticker, "%s", typ)
	}

	p := &Publisher{layout: wire.Version}
	for _, typ := range []schema.EventType{schema.EventGap, schema.EventExecReport, schema.EventBalance, schema.EventPosition, schema.EventControl} {
		ev := bare(typ)
		buf, trimmed := p.fit(nil, ev, 1, 0, 1) // past the limit: Raw and the reasons cleared
		require.True(t, trimmed)
		require.NotEmpty(t, buf)
		id := p.msgID(ev)
		require.NotEmpty(t, id)
		for name, carried := range map[string]bool{"Exec": ev.Exec != nil, "Control": ev.Control != nil, "Balance": ev.Balance != nil, "Position": ev.Position != nil} {
			require.False(t, carried, "%s: %s made by a reader", typ, name)
		}
		// What the id tells apart is still told apart: an ack's request.
		ack := bare(typ)
		ack.Control = &schema.Control{Kind: schema.ControlSubscribeAck, RequestID: 7}
		require.NotEqual(t, id, p.msgID(ack), "%s", typ)
	}
}

// Messages an operator published on the bridge's subjects without the
// section their type names — a ticker without its Ticker, a live kline
// without its Kline, a gap marker without its Control — reach the host as
// they were (the section nil), and the Consumer goes on: its queue (the
// kline's interval, the ticker's window, what a marker covers) and its
// delivery read them. Each read the section through its nil pointer and
// panicked.
func TestS42natsOperatorMessagesWithoutSections(t *testing.T) {
	srv := startServer(t)
	far := newNode(t)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)
	raw := rawSender{t, connect(t, srv.ClientURL(), nil)}

	for i, typ := range []schema.EventType{schema.EventTicker, schema.EventKlineLive, schema.EventGap} {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: typ, SeqProvider: uint64(i + 1)}
		raw.send(ev, 1)
		g := next(t, got, func(e *schema.CanonicalEvent) bool { return e.SeqProvider == uint64(i+1) })
		require.Equal(t, typ, g.Type)
		require.Nil(t, g.Ticker, "%s", typ)
		require.Nil(t, g.Kline, "%s", typ)
		require.Nil(t, g.Control, "%s", typ)
	}
	raw.send(tradeOf("BTC-USDT", 9), 1)
	require.Equal(t, uint64(9), next(t, got, ofType(schema.EventTrade)).SeqProvider, "the Consumer goes on")
	require.Zero(t, cons.Stats().Malformed)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// A host's events without the section their type names cross the bridge
// as they are: the Publisher reads them (a ticker's window, a marker's
// type) without the section, and the far host gets them with the section
// nil, not made by a reader on the way. Publisher.handle read
// Ticker.Window of every event and panicked.
func TestS42natsHostEventsWithoutSections(t *testing.T) {
	srv := startServer(t)
	ingest, far := newNode(t), newNode(t)
	pub, err := NewPublisher(waitCtx(t), connect(t, srv.ClientURL(), nil), ingest.d, nil)
	require.NoError(t, err)
	got := far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBinance}})
	cons, err := NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), far.d, far.pools.Events, nil)
	require.NoError(t, err)

	for i, typ := range []schema.EventType{schema.EventTicker, schema.EventKlineLive, schema.EventGap, schema.EventTrade} {
		ingest.publish(t, func(ev *schema.CanonicalEvent) {
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, "BTC-USDT", typ, uint64(i+1)
		})
		g := next(t, got, func(e *schema.CanonicalEvent) bool { return e.SeqProvider == uint64(i+1) })
		require.Equal(t, typ, g.Type)
		require.Nil(t, g.Ticker, "%s", typ)
		require.Nil(t, g.Kline, "%s", typ)
		require.Nil(t, g.Control, "%s", typ)
	}
	require.NoError(t, pub.Close(closeCtx(t)))
	require.NoError(t, cons.Close(closeCtx(t)))
	ingest.close(t)
	far.close(t)
}
