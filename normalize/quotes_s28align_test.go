package normalize

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// quoteCase is a quote stream of one venue: msg(seq, ms) is a real message
// (testdata) with its sequence and exchange time set.
type quoteCase struct {
	venue schema.Venue
	name  string
	msg   func(seq uint64, ms int64) string
}

var quoteCases = []quoteCase{
	{schema.VenueBinance, "USDⓈ-M bookTicker u", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"e":"bookTicker","u":%d,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000","T":%d,"E":%d}`, seq, ms, ms)
	}},
	{schema.VenueBinance, "combined bookTicker u", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":%d,"s":"BTCUSDT","b":"25.35","B":"31.21","a":"25.36","A":"40.66","T":%d,"E":%d}}`, seq, ms, ms)
	}},
	{schema.VenueBinance, "24hrTicker L", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"e":"24hrTicker","E":%d,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":%d,"n":18151}`, ms, seq)
	}},
	{schema.VenueOKX, "bbo-tbt seqId", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT-SWAP"},"data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"%d","seqId":%d}]}`, ms, seq)
	}},
	{schema.VenueOKX, "books5 seqId", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"instId":"BTC-USDT","ts":"%d","seqId":%d}]}`, ms, seq)
	}},
	{schema.VenueBybit, "tickers snapshot cs", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"61874.00","highPrice24h":"62752.90","lowPrice24h":"61000.10","prevPrice24h":"62484.60","volume24h":"98430.1050","turnover24h":"6073739017.8331","price24hPcnt":"-0.009772","bid1Price":"61873.90","bid1Size":"3.783","ask1Price":"61874.00","ask1Size":"16.278"},"cs":%d,"ts":%d}`, seq, ms)
	}},
	{schema.VenueCoinbase, "Exchange ticker sequence", func(seq uint64, ms int64) string {
		return fmt.Sprintf(`{"type":"ticker","sequence":%d,"product_id":"BAND-GBP","price":"14.7775","open_24h":"14.6647","volume_24h":"94381.28000000","low_24h":"14.3691","high_24h":"16.55","volume_30d":"2295579.57000000","best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"%s","trade_id":881613,"last_size":"0.04"}`,
			seq, time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	}},
}

// S28 (contract team): after a rotation that switched unaligned the new
// connection repeated frames the old one had delivered, and a subscriber
// got an older Binance bookTicker (lower "u") after a newer one — contract
// 4 (latest-wins, never stale). Trades and book diffs were dropped as
// repeats, quotes were not. A quote whose venue sequence is at most the
// last delivered and whose exchange time is not later is dropped and
// counted in Stats.Repeats, on every venue whose quotes carry the symbol's
// sequence (quotes.go); a lower number with a later time is the venue
// numbering again, and is followed.
func TestS28QuoteNeverOlderThanDelivered(t *testing.T) {
	steps := []quoteStep{
		{100, 2000, 1, true},
		{99, 1999, 2, false},  // older
		{100, 2000, 3, false}, // the same quote again
		{100, 2001, 4, true},  // the same number, later (a ticker's statistics)
		{5, 3000, 5, true},    // numbered again, later
		{6, 3001, 6, true},
		{5, 3000, 7, false},
	}
	for _, c := range quoteCases {
		t.Run(string(c.venue)+" "+c.name, func(t *testing.T) { runQuoteSteps(t, c, steps, 3) })
	}
}

// quoteStep is a message of a quoteCase (its number or variant, its
// exchange time, its IngestTS) and whether it must be delivered.
type quoteStep struct {
	seq       uint64
	ms        int64
	ingest    int64
	delivered bool
}

// runQuoteSteps feeds c's messages of steps to a new parser: exactly the
// steps marked delivered are published, in order, the others counted as
// repeats.
func runQuoteSteps(t *testing.T, c quoteCase, steps []quoteStep, repeats uint64) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := newVenueParser(c.venue, events, sink)
	var want, got []int64
	for _, s := range steps {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(c.msg(s.seq, s.ms)), s.ingest))
		if s.delivered {
			want = append(want, s.ms*1e6)
		}
	}
	for _, ev := range sink.got {
		got = append(got, ev.ExchangeTS)
	}
	require.Equal(t, want, got)
	require.Equal(t, repeats, p.Stats().Repeats)
	require.Zero(t, p.Stats().Errors)
	require.Zero(t, events.Stats().InUse)
}

// A Binance spot bookTicker has no time: it is compared by "u" alone within
// quoteRepeatWindow (IngestTS) of the last one delivered — a rotation's
// repeats are dropped, and a venue that numbers again is followed once the
// window passed, never silenced for longer.
func TestS28SpotBookTickerWithoutTime(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	msg := func(u int) []byte {
		return fmt.Appendf(nil, `{"u":%d,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`, u)
	}
	steps := []struct {
		u         int
		ingest    int64
		delivered bool
	}{
		{400900217, 1, true},
		{400900216, 2, false},
		{400900217, 3, false},
		{400900218, 4, true},
		{5, 4 + quoteRepeatWindow - 1, false},
		{5, 4 + quoteRepeatWindow, true},
		{6, 5 + quoteRepeatWindow, true},
	}
	var want []uint64
	for _, s := range steps {
		require.NoError(t, p.HandleBytes(context.Background(), msg(s.u), s.ingest))
		if s.delivered {
			want = append(want, uint64(s.u))
		}
	}
	var got []uint64
	for _, ev := range sink.got {
		got = append(got, ev.SeqProvider)
	}
	require.Equal(t, want, got)
	require.Equal(t, uint64(3), p.Stats().Repeats)
}

// A Bybit ticker delta repeated after a newer one is dropped before it is
// merged: the merged ticker keeps the newer delta's fields.
func TestS28BybitTickerDeltaRepeatNotMerged(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBybit(events, sink, nil)
	snap := quoteCases[5].msg(10, 1000)
	delta := func(cs, ms int64, last string) string {
		return fmt.Sprintf(`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"%s"},"cs":%d,"ts":%d}`, last, cs, ms)
	}
	for i, m := range []string{snap, delta(12, 1002, "2"), delta(11, 1001, "1"), `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"61870.00"},"cs":13,"ts":1003}`} {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
	}
	require.Len(t, sink.got, 3)
	requireDigits(t, "2", sink.got[2].Ticker.Last)
	requireDigits(t, "61870.00", sink.got[2].Ticker.BidPrice)
	require.Equal(t, uint64(1), p.Stats().Repeats)
}

// The quotes kept cost no allocation once the symbol was seen.
func TestS28QuoteZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	for _, c := range quoteCases {
		t.Run(string(c.venue)+" "+c.name, func(t *testing.T) {
			requireQuoteZeroAllocs(t, c.venue, func(i int) string { return c.msg(uint64(1000+i), int64(5000+i)) })
		})
	}
}

// requireQuoteZeroAllocs parses msg(i), 256 newer quotes of one stream,
// and requires no allocation once the first was seen, and every quote
// delivered.
func requireQuoteZeroAllocs(t *testing.T, venue schema.Venue, msg func(i int) string) {
	t.Helper()
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := newVenueParser(venue, events, sink)
	ctx := context.Background()
	msgs := make([][]byte, 256)
	for i := range msgs {
		msgs[i] = []byte(msg(i))
	}
	require.NoError(t, p.HandleBytes(ctx, msgs[0], 1))
	i := 1
	allocs := testing.AllocsPerRun(200, func() {
		if err := p.HandleBytes(ctx, msgs[i], 1); err != nil {
			t.Fatal(err)
		}
		i++
	})
	require.Zero(t, allocs)
	require.Equal(t, 202, sink.n, "every newer quote delivered")
}
