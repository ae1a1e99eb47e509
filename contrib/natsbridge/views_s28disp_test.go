package natsbridge

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// diffOf is a book diff of BTC-USDT in the view of depth depth, numbered
// id by the venue.
func diffOf(depth int, id uint64) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventBookUpdate, SeqProvider: id}
	ev.Book.Depth = depth
	return ev
}

// viewsBridge is a Consumer into a far node collecting Bybit's events, fed
// raw messages.
type viewsBridge struct {
	t    *testing.T
	far  *node
	got  <-chan *schema.CanonicalEvent
	cons *Consumer
	raw  rawSender
}

func newViewsBridge(t *testing.T) *viewsBridge {
	srv := startServer(t)
	v := &viewsBridge{t: t, far: newNode(t)}
	v.got = v.far.collect(t, dispatch.Filter{Venues: []schema.Venue{schema.VenueBybit}})
	var err error
	v.cons, err = NewConsumer(waitCtx(t), connect(t, srv.ClientURL(), nil), v.far.d, v.far.pools.Events, nil)
	require.NoError(t, err)
	v.raw = rawSender{t, connect(t, srv.ClientURL(), nil)}
	return v
}

// expect waits for the next market data event: a book diff of the view
// of depth depth numbered id by the venue.
func (v *viewsBridge) expect(depth int, id uint64) {
	v.t.Helper()
	ev := next(v.t, v.got, anyMarket)
	require.Equal(v.t, schema.EventBookUpdate, ev.Type, "got %+v", ev.Control)
	require.Equal(v.t, depth, ev.Book.Depth)
	require.Equal(v.t, id, ev.SeqProvider)
}

// TestS28ConsumerSequencesPerView: two views of one stream (Bybit
// orderbook.50 and orderbook.200 of one symbol, schema.Book.Depth; Binance
// kline_1m and kline_1h) are two streams to dispatch — their own ids, their
// own books, their own gap markers. The bridge numbers each view on its
// own, so a loss of one view is announced by a marker that names that view
// (its Depth), before that view's next event, and the other view's events
// raise no marker. Kept per (venue, symbol, type), the consumer took the
// other view's numbers for a restart and announced the loss naming no view
// (Depth 0): a host keeping both books could not tell which one broke.
func TestS28ConsumerSequencesPerView(t *testing.T) {
	v := newViewsBridge(t)
	send := func(depth int, id, seq uint64, run uint32) {
		ev := diffOf(depth, id)
		v.raw.sendBytes(ev, wire.AppendRun(nil, ev, seq, run))
	}
	expect, got, cons, far := v.expect, v.got, v.cons, v.far
	// Each view has its run and counts from 1.
	send(50, 501, 1, 3)
	expect(50, 501)
	send(200, 2001, 1, 4)
	expect(200, 2001)
	send(50, 502, 2, 3)
	expect(50, 502)
	send(200, 2002, 2, 4)
	expect(200, 2002)
	// depth 50's 3rd message is lost; depth 200 goes on, then depth 50's 4th.
	send(200, 2003, 3, 4)
	expect(200, 2003)
	send(50, 504, 4, 3)
	g := next(t, got, anyMarket)
	require.Equal(t, schema.EventGap, g.Type, "depth 50's loss not announced before its next event")
	require.Equal(t, schema.EventBookUpdate, g.Control.GapType)
	require.Equal(t, 50, g.Book.Depth, "the marker must name the view that lost the event")
	require.Equal(t, uint64(1), g.Control.GapCount)
	expect(50, 504)
	require.Equal(t, uint64(1), cons.Stats().Gaps)
	require.Equal(t, uint64(1), cons.Stats().Lost)
	require.NoError(t, cons.Close(closeCtx(t)))
	far.close(t)
}

// TestS28PublisherSequencesPerView: the Publisher numbers each view of a
// stream on its own (what the Consumer checks per view): book diffs of
// depth 50 and 200 interleaved are 1, 2, ... in each, each in a run of its
// own; so are a kline's intervals.
func TestS28PublisherSequencesPerView(t *testing.T) {
	msgs := publishBridged(t, nil, 12, func(i int, ev *schema.CanonicalEvent) {
		ev.SeqProvider = uint64(i / 2)
		if i%2 == 0 {
			ev.Venue, ev.Symbol, ev.Type = schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate
			ev.Book.Depth = []int{50, 200}[i/2%2]
			return
		}
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventKlineClosed
		ev.UseKline().Interval, ev.UseKline().Closed = []string{"1m", "1h"}[i/2%2], true
	})
	type view struct {
		typ      schema.EventType
		depth    int
		interval string
	}
	seqs := map[view][]uint64{}
	runs := map[view]uint32{}
	for _, m := range msgs {
		v := view{m.ev.Type, m.ev.Book.Depth, m.ev.KlineInterval()}
		seqs[v] = append(seqs[v], m.seq)
		if r, ok := runs[v]; ok {
			require.Equal(t, r, m.run, "a view changed runs")
		}
		runs[v] = m.run
	}
	for v, s := range seqs {
		require.Equal(t, []uint64{1, 2, 3}, s, "view %+v numbered with the other view", v)
	}
	require.Len(t, seqs, 4)
	require.NotEqual(t, runs[view{schema.EventBookUpdate, 50, ""}], runs[view{schema.EventBookUpdate, 200, ""}])
}
