package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s31quoteBBOs returns the best bid/offers sink got, as "bid/ask".
func s31quoteBBOs(sink *recSink) []string {
	var out []string
	for _, ev := range sink.ofType(schema.EventBBO) {
		out = append(out, ev.BBO.BidPrice.String()+"/"+ev.BBO.AskPrice.String())
	}
	return out
}

// S31: a symbol's best bid/offer from two sources — Binance bookTicker
// ("u": the order book's updateId) and the top of its depth book (diffs'
// "u", the same order book's) — each in its own order: the book's top of
// update id 160 replaced, as the subscriber's latest, the bookTicker's of
// 200. Now either source's quote older than the other's last delivered is
// dropped and counted (Stats.StaleQuotes); an equal id is delivered; the
// book's top is published again at the first diff newer than the quote,
// even unchanged; after quoteWindow (IngestTS) a lower id is followed (the
// venue numbering again). Failed before: the book's top of u=160 was
// delivered after the bookTicker of u=200, and the bookTicker of u=140
// after the book's top of u=150.
func TestS31quoteBinanceBookTopAndBookTickerShareTheUpdateID(t *testing.T) {
	b, sink, events := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		dst.Type, dst.Venue, dst.Symbol = schema.EventBookSnapshot, schema.VenueBinance, "BTC-USDT"
		dst.Book.LastSeq = 100
		dst.Book.Bids = append(dst.Book.Bids, lvl("100.00", "1"))
		dst.Book.Asks = append(dst.Book.Asks, lvl("102.00", "1"))
		return nil
	})})
	books := NewBooks(sink, events, nil)
	books.Add(b)
	defer books.Close()
	p := normalize.NewBinance(events, books, nil)
	depth := func(first, last int, bid string) string {
		return fmt.Sprintf(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1764590400000,"s":"BTCUSDT","U":%d,"u":%d,"b":[[%q,"1"]],"a":[]}}`, first, last, bid)
	}
	ticker := func(u int, bid, ask string) string {
		return fmt.Sprintf(`{"stream":"btcusdt@bookTicker","data":{"u":%d,"s":"BTCUSDT","b":%q,"B":"1","a":%q,"A":"1"}}`, u, bid, ask)
	}
	ctx := context.Background()
	for i, s := range []struct {
		msg    string
		ingest int64
	}{
		{depth(101, 150, "100.00"), 1},      // the book's top: 100.00/102.00 at u=150
		{ticker(140, "99.00", "103.00"), 2}, // older: dropped
		{ticker(200, "101.00", "101.50"), 3},
		{depth(151, 160, "100.50"), 4}, // the book's top of u=160, older: not published
		{depth(161, 210, "99.00"), 5},  // u=210, its top unchanged: published
		{ticker(210, "100.50", "102.00"), 6},
		{ticker(205, "100.60", "102.00"), 6 + quoteWindow}, // after the window: followed
	} {
		require.NoError(t, p.HandleBytes(ctx, []byte(s.msg), s.ingest), "step %d", i)
	}
	assert.Equal(t, []string{"100.00/102.00", "101.00/101.50", "100.50/102.00", "100.50/102.00", "100.60/102.00"}, s31quoteBBOs(sink))
	assert.Equal(t, uint64(2), b.Stats().StaleQuotes)
}

// Where the venue documents no numbering shared by its quote stream and
// its book (OKX bbo-tbt and books, each its own "seqId"), the two are
// compared by exchange time ("ts"): strictly older dropped, equal
// delivered.
func TestS31quoteOKXBookTopAndBBOByExchangeTime(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	ctx := context.Background()
	const t0 = int64(1_700_000_000_000_000_000)
	bookAt := func(ev *schema.CanonicalEvent, ms, ingest int64) *schema.CanonicalEvent {
		ev.ExchangeTS, ev.IngestTS = t0+ms*1_000_000, ingest
		return ev
	}
	bbo := func(ms, ingest int64, bid string) *schema.CanonicalEvent {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", schema.EventBBO
		ev.ExchangeTS, ev.IngestTS = t0+ms*1_000_000, ingest
		ev.BBO.BidPrice, ev.BBO.BidQty = schema.MustParseDecimal(bid), schema.MustParseDecimal("1")
		ev.BBO.AskPrice, ev.BBO.AskQty = schema.MustParseDecimal("102"), schema.MustParseDecimal("1")
		return ev
	}
	require.NoError(t, b.Apply(ctx, bookAt(okxEvent(t, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["102","1","0","1"]`, "")), 100, 1)))
	require.NoError(t, books.Publish(ctx, bbo(50, 2, "99")))   // older: dropped
	require.NoError(t, books.Publish(ctx, bbo(200, 3, "101"))) // newer
	require.NoError(t, b.Apply(ctx, bookAt(okxEvent(t, okxRaw("books", "update", 10, 11, `["100.5","1","0","1"]`, ``, "")), 150, 4)))
	require.NoError(t, b.Apply(ctx, bookAt(okxEvent(t, okxRaw("books", "update", 11, 12, `["99","1","0","1"]`, ``, "")), 200, 5)))
	assert.Equal(t, []string{"100/102", "101/102", "100.5/102"}, s31quoteBBOs(sink))
	assert.Equal(t, uint64(2), b.Stats().StaleQuotes)
}

// Comparing a quote stream's best bid/offer with the book's top allocates
// nothing.
func TestS31quoteBooksQuoteZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts: not with -short")
	}
	events := schema.NewPools(nil).Events // no stack capture: it allocates
	sink := &sinkPut{events: events}
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books := NewBooks(sink, events, nil)
	books.Add(b)
	defer books.Close()
	ctx := context.Background()
	require.NoError(t, b.Apply(ctx, okxEvent(t, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["102","1","0","1"]`, ""))))
	require.Equal(t, uint64(1), b.Stats().BBOs)
	ts := int64(1_700_000_000_000_000_000)
	allocs := testing.AllocsPerRun(200, func() {
		ev, err := events.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ts++
		ev.Venue, ev.Symbol, ev.Type, ev.ExchangeTS, ev.IngestTS = schema.VenueOKX, "BTC-USDT", schema.EventBBO, ts, 1
		if err := books.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}
