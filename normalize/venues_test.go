package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

func newTestVenue(t *testing.T, venue schema.Venue) (frameParser, *recSink) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return newVenueParser(venue, events, sink), sink
}

// OKX books: a snapshot restarts the sequence, a diff must name the last
// seqId as its prevSeqId, and a break is reported before the diff.
func TestOKXBookSequence(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	ctx := context.Background()
	snap := []byte(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["1","1","0","1"]],"bids":[],"ts":"1","checksum":1,"prevSeqId":-1,"seqId":10}]}`)
	require.NoError(t, p.HandleBytes(ctx, snap, 1))
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 10, 11), 1))
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 11, 11), 1)) // no change
	require.Zero(t, p.Stats().Gaps)
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 14, 15), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
	g := sink.got[len(sink.got)-2]
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, uint64(12), g.Control.GapFirstSeq)
	require.Equal(t, uint64(14), g.Control.GapLastSeq)
	require.NoError(t, p.HandleBytes(ctx, snap, 1)) // resubscribed: starts again
	require.NoError(t, p.HandleBytes(ctx, okxBookJSON(1, 10, 11), 1))
	require.Equal(t, uint64(1), p.Stats().Gaps)
}

// Each venue's own fixtures: controls, errors and unknown types.
func TestVenueControlFixtures(t *testing.T) {
	tests := []struct {
		venue schema.Venue
		file  string
		kind  schema.ControlKind
		reqID uint64
		code  int64
		text  string
	}{
		{cb, "error", schema.ControlVenueError, 0, 0, "Failed to subscribe: level2 is not a valid channel"}, // message: reason
		{kr, "subscribe_error", schema.ControlVenueError, 12, 0, "Currency pair not supported"},
		{ox, "error", schema.ControlVenueError, 0, 60012, `Invalid request: {"op": "subscribe", "argss":[{ "channel" : "books", "instId" : "BTC-USDT"}]}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue)+" "+tt.file, func(t *testing.T) {
			p, sink := newTestVenue(t, tt.venue)
			require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, tt.venue, tt.file), 42))
			c := control(t, sink.got, tt.venue, tt.kind)
			require.Equal(t, tt.reqID, c.RequestID)
			require.Equal(t, tt.code, c.Code)
			require.Equal(t, tt.text, c.Reason)
		})
	}
}

func TestOKXPong(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	require.NoError(t, p.HandleBytes(context.Background(), []byte("pong"), 42))
	control(t, sink.got, ox, schema.ControlHeartbeat)
}

func TestVenueUnknownAndErrors(t *testing.T) {
	for _, v := range []schema.Venue{cb, kr, ox} {
		t.Run(string(v), func(t *testing.T) {
			p, sink := newTestVenue(t, v)
			ctx := context.Background()
			require.NoError(t, p.HandleBytes(ctx, []byte(`{"channel":"nope","arg":{"channel":"nope"},"type":"nope","topic":"nope.X"}`), 1))
			require.Equal(t, uint64(1), p.Stats().Unknown)
			err := p.HandleBytes(ctx, []byte(`{"channel":`), 1)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.Equal(t, v, pe.Venue)
			require.ErrorIs(t, err, ErrMalformed)
			require.Empty(t, sink.got)
		})
	}
}

// Kraken v1 splits a book update into two objects: one event.
func TestKrakenV1TwoPartUpdate(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueKraken)
	require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, kr, "v1_book_update"), 42))
	require.Len(t, sink.got, 1)
	b := at(t, sink.got, 0, kr, schema.EventBookUpdate, "BTC-USD", 0, 1534614335345903000).Book
	require.Len(t, b.Asks, 2)
	require.Len(t, b.Bids, 1)
	requireLevel(t, b.Asks[1], "5542.50000", "0.40100000")
	requireLevel(t, b.Bids[0], "5541.30000", "0.00000000")
	require.Equal(t, uint32(974942666), b.Checksum)
}

func TestKrakenExecTrade(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueKraken)
	require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, kr, "executions_trade"), 42))
	x := at(t, sink.got, 0, kr, schema.EventExecReport, "BTC-USD", 149, 1695378785709993000).Exec
	require.Equal(t, "my-order-1", x.ClientOrderID.String())
	require.Equal(t, "365573", x.TradeID.String())
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	require.Equal(t, schema.OrderTypeLimit, x.Type)
	require.Equal(t, schema.TIFGTC, x.TimeInForce)
	requireDigits(t, "0.5", x.Qty)
	requireDigits(t, "26500.0", x.Price)
	requireDigits(t, "0.1", x.LastFillQty)
	requireDigits(t, "2650.0", x.CumQuoteQty)
	requireDigits(t, "0.4", x.RemainingQty)
	require.True(t, x.IsMaker)
	require.Equal(t, "USD", x.FeeAsset.String())
	requireDigits(t, "0.0700", x.Fee)
}

func TestKrakenV1Seconds(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueKraken)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, []byte(`[1,[["1.5","2","1618678142.5","b","l",""],["1.6","3","1618678143","s","m",""]],"trade","XBT/EUR"]`), 1))
	require.Len(t, sink.got, 2)
	require.Equal(t, int64(1618678142500000000), sink.got[0].ExchangeTS)
	require.Equal(t, schema.SideBuy, sink.got[0].Trade.Side)
	require.Equal(t, int64(1618678143000000000), sink.got[1].ExchangeTS)
	require.Equal(t, "BTC-EUR", sink.got[1].Symbol)
	for _, bad := range []string{`"-1"`, `"1.0000000001"`, `"99999999999999999"`, `"x"`} {
		err := p.HandleBytes(ctx, []byte(`[1,[["1.5","2",`+bad+`,"b","l",""]],"trade","XBT/EUR"]`), 1)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, bad)
		require.Equal(t, "2", pe.Field)
	}
}

// A tickers delta merges into its symbol's last snapshot, also in steady
// state; before any snapshot it is an error, not an incomplete ticker.
func TestBybitTickerMerge(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueBybit)
	ctx := context.Background()
	err := p.HandleBytes(ctx, venueFixture(t, by, "tickers_delta"), 1)
	require.ErrorIs(t, err, ErrNoSnapshot)
	require.Empty(t, sink.got)
	require.NoError(t, p.HandleBytes(ctx, venueFixture(t, by, "tickers_snapshot"), 1))
	require.NoError(t, p.HandleBytes(ctx, venueFixture(t, by, "tickers_delta"), 1))
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"61880.10","price24hPcnt":"0.001"},"cs":176530004280,"ts":1715748763163}`), 1))
	require.Len(t, sink.got, 3)
	tk := sink.got[2].Ticker
	requireDigits(t, "61880.10", tk.Last)
	requireDigits(t, "0.1", tk.ChangePct)
	requireDigits(t, "61875.06", tk.MarkPrice) // from the first delta
	requireDigits(t, "3.543", tk.BidQty)
	requireDigits(t, "16.278", tk.AskQty) // from the snapshot
	require.Equal(t, uint64(176530004280), sink.got[2].SeqProvider)
}

func TestBybitOps(t *testing.T) {
	for file, want := range map[string]schema.ControlKind{"subscribe_ack": schema.ControlSubscribeAck, "subscribe_error": schema.ControlVenueError} {
		t.Run(file, func(t *testing.T) {
			p, sink := newTestVenue(t, schema.VenueBybit)
			require.NoError(t, p.HandleBytes(context.Background(), venueFixture(t, by, file), 1))
			c := control(t, sink.got, by, want)
			require.NotZero(t, c.RequestID)
		})
	}
}

func TestSubscribeBuilders(t *testing.T) {
	b, err := CoinbaseSubscribe("level2", "BTC-USD", "ETH-USD")
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"subscribe","channel":"level2","product_ids":["BTC-USD","ETH-USD"]}`, string(b))
	b, err = CoinbaseExchangeSubscribe([]string{"matches", "level2_batch"}, "BTC-USD")
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches","level2_batch"]}`, string(b))
	b, err = KrakenSubscribe(7, "book", "BTC/USD")
	require.NoError(t, err)
	require.JSONEq(t, `{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"]},"req_id":7}`, string(b))
	b, err = OKXSubscribe("books", "BTC-USDT", "BTC-USDT-SWAP")
	require.NoError(t, err)
	require.JSONEq(t, `{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"books","instId":"BTC-USDT-SWAP"}]}`, string(b))
	b, err = BybitSubscribe(3, "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT")
	require.NoError(t, err)
	require.JSONEq(t, `{"op":"subscribe","req_id":"3","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"]}`, string(b))
	for _, bad := range []func() ([]byte, error){
		func() ([]byte, error) { return CoinbaseSubscribe(`le"vel2`, "BTC-USD") },
		func() ([]byte, error) { return CoinbaseSubscribe("level2") },
		func() ([]byte, error) { return KrakenSubscribe(1, "book", `BTC"/USD`) },
		func() ([]byte, error) { return OKXSubscribe("books") },
		func() ([]byte, error) { return BybitSubscribe(1) },
	} {
		_, err := bad()
		require.ErrorIs(t, err, ErrBadValue)
	}
}

// Symbols of each venue, perpetuals and futures included.
func TestVenueSymbols(t *testing.T) {
	tests := []struct {
		rules       SymbolRules
		venue, want string
	}{
		{CoinbaseSymbolRules(), "BTC-USD", "BTC-USD"},
		{KrakenSymbolRules(), "XBT/USD", "BTC-USD"},
		{KrakenSymbolRules(), "XDG/EUR", "DOGE-EUR"},
		{KrakenSymbolRules(), "ETH/USDT", "ETH-USDT"},
		{OKXSymbolRules(), "BTC-USDT", "BTC-USDT"},
		{OKXSymbolRules(), "BTC-USDT-SWAP", "BTC-USDT-PERP"},
		{OKXSymbolRules(), "BTC-USD-250328", "BTC-USD-250328"},
		{BybitSymbolRules(), "BTCUSDT", "BTC-USDT"},
		{BybitSymbolRules(), "ETHUSDC", "ETH-USDC"},
		{BybitSymbolRules(), "BTCUSDT-27DEC24", "BTC-USDT-27DEC24"},
	}
	for _, tt := range tests {
		s := NewSymbols(tt.rules)
		got, err := s.LookupString(tt.venue)
		require.NoError(t, err, tt.venue)
		require.Equal(t, tt.want, got)
		back, err := s.VenueSymbol(got)
		require.NoError(t, err)
		if a, ok := tt.rules.Aliases[tt.venue[:3]]; ok { // v1 names: v2 spells the canonical asset
			require.Equal(t, a+tt.venue[3:], back)
			continue
		}
		require.Equal(t, tt.venue, back, "%s round trip", tt.venue)
	}
	for _, c := range []struct {
		rules SymbolRules
		sym   string
	}{{CoinbaseSymbolRules(), "BIP-20DEC30-CDE"}, {OKXSymbolRules(), "BTC-USD-240628-60000-C"}, {BybitSymbolRules(), "BTC-27DEC24"}, {KrakenSymbolRules(), "XBTUSD"}} {
		_, err := NewSymbols(c.rules).LookupString(c.sym)
		require.ErrorIs(t, err, ErrUnknownSymbol, c.sym)
	}
	s := NewSymbols(OKXSymbolRules())
	require.NoError(t, s.Load([]Instrument{{Symbol: "ETH-USDT-SWAP", Base: "ETH", Quote: "USDT"}}))
	got, err := s.LookupString("ETH-USDT-SWAP")
	require.NoError(t, err)
	require.Equal(t, "ETH-USDT-PERP", got)
}

func TestParseRFC3339(t *testing.T) {
	for in, want := range map[string]int64{
		"1970-01-01T00:00:00Z":                0,
		"2024-05-27T12:33:10.826003Z":         1716813190826003000,
		"2026-03-05T09:05:32.483569449Z":      1772701532483569449,
		"2026-04-07 14:30:10.000000000+00:00": 1775572210000000000,
		"2024-02-29T01:00:00+01:00":           1709164800000000000,
		"2024-05-27T12:33:10.1234567891Z":     1716813190123456789,
	} {
		got, ok := parseRFC3339([]byte(in))
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "2023-02-29T00:00:00Z", "2024-05-27T12:33:10.Z", "2024-05-27T25:00:00Z", "1969-12-31T23:59:59Z", "2024-05-27T12:33:10", "2024-05-27T12:33:10+0100", "2024-05-27X12:33:10Z", "2262-01-01T00:00:00Z", "1970-01-01T00:00:00+01:00"} {
		_, ok := parseRFC3339([]byte(in))
		require.False(t, ok, in)
	}
}

func TestCoinbaseCandlesAndStatus(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueCoinbase)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, venueFixture(t, cb, "candles"), 42))
	k := at(t, sink.got, 0, cb, schema.EventKlineLive, "ETH-USD", 0, 1686341975396251350).Kline
	require.Equal(t, "5m", k.Interval)
	require.Equal(t, int64(1688998200)*1_000_000_000, k.OpenTime)
	require.Equal(t, int64(1688998500)*1_000_000_000, k.CloseTime)
	requireDigits(t, "1867.38", k.Open)
	requireDigits(t, "1866.81", k.Close)
	requireDigits(t, "0.20269406", k.Volume)
	require.NoError(t, p.HandleBytes(ctx, venueFixture(t, cb, "unknown_status"), 42))
	require.Equal(t, uint64(1), p.Stats().Ignored) // product listings: known, skipped on purpose (coinbaseChannels)
	require.Zero(t, p.Stats().Unknown)
	require.Len(t, sink.got, 1)
}
