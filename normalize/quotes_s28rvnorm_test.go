package normalize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// S28 review: a Bybit ticker is one stream per symbol — a snapshot, then
// deltas merged into it (Bybit v5 "Ticker") — numbered by one "cs", but its
// snapshot and delta are two parser kinds, and staleQuote kept a mark per
// kind. After an unaligned rotation the new connection's first frame is its
// subscription's snapshot, older than the deltas the old connection
// delivered last: compared with the last snapshot only, it was delivered
// (older than a quote delivered: contract 4) and became the base later
// deltas merge into, so a field the dropped repeated deltas had changed
// stayed stale until the venue changed it again.
func TestS28rvBybitTickerSnapshotAfterNewerDelta(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBybit(events, sink, nil)
	snap := func(cs, ms int64, bid string) string {
		return fmt.Sprintf(`{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"61874.00","highPrice24h":"62752.90","lowPrice24h":"61000.10","prevPrice24h":"62484.60","volume24h":"98430.1050","turnover24h":"6073739017.8331","price24hPcnt":"-0.009772","bid1Price":"%s","bid1Size":"3.783","ask1Price":"61874.00","ask1Size":"16.278"},"cs":%d,"ts":%d}`, bid, cs, ms)
	}
	delta := func(cs, ms int64, member, value string) string {
		return fmt.Sprintf(`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","%s":"%s"},"cs":%d,"ts":%d}`, member, value, cs, ms)
	}
	frames := []string{
		snap(10, 1000, "61873.00"),               // old connection
		delta(11, 1001, "lastPrice", "61875.00"), // old connection
		delta(12, 1002, "bid1Price", "61874.50"), // old connection: the last delivered
		snap(11, 1001, "61873.00"),               // new connection's snapshot: older
		delta(12, 1002, "bid1Price", "61874.50"), // new connection: a repeat
		delta(13, 1003, "lastPrice", "61876.00"), // new connection: newer
	}
	for i, m := range frames {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(m), int64(i+1)))
	}
	var seqs []uint64
	for _, ev := range sink.got {
		seqs = append(seqs, ev.SeqProvider)
	}
	require.Equal(t, []uint64{10, 11, 12, 13}, seqs, "never a quote older than one delivered")
	last := sink.got[len(sink.got)-1]
	requireDigits(t, "61874.50", last.Ticker.BidPrice, "the newer delta's bid kept")
	requireDigits(t, "61876.00", last.Ticker.Last)
	require.Equal(t, uint64(2), p.Stats().Repeats)
}

// S28 review: a quote without an exchange time (Binance spot bookTicker) is
// compared by "u" within quoteRepeatWindow of the last delivered's IngestTS,
// "so a stream is never silenced for longer". IngestTS is the host's wall
// clock (wsclient's Clock.Now): stepped back (NTP) as the venue numbers
// again, every quote read before the step's IngestTS came back to within
// the window was dropped — here for an hour.
func TestS28rvSpotBookTickerClockSteppedBack(t *testing.T) {
	p, sink, _ := newRecParser(t, nil)
	msg := func(u int) []byte {
		return fmt.Appendf(nil, `{"u":%d,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`, u)
	}
	const hour = int64(3_600_000_000_000)
	t0 := 10 * hour
	require.NoError(t, p.HandleBytes(context.Background(), msg(400900217), t0))
	// The clock steps back an hour; the venue numbers again (testnet reset).
	for i, u := range []int{5, 6, 7} {
		require.NoError(t, p.HandleBytes(context.Background(), msg(u), t0-hour+int64(i+1)*quoteRepeatWindow))
	}
	var got []uint64
	for _, ev := range sink.got {
		got = append(got, ev.SeqProvider)
	}
	require.Equal(t, []uint64{400900217, 5, 6, 7}, got, "silenced for as long as the clock stepped back")
}

// S28 review: a frame the parser makes market or user data of (any event
// but a control event, a request's answer or the gap marker of a frame it
// could not read) is a place in the venue's
// stream: AlignKey must give it a key, or a rotation skipping repeats
// delivers it twice (wsclient delivers unkeyed frames while skipping).
func FuzzS28rvAlignKeyOfData(f *testing.F) {
	for _, dir := range []string{sharedVenues, "testdata/binance", "testdata/okx", "testdata/bybit", "testdata/coinbase"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(uint8(0), b)
			}
		}
	}
	f.Add(uint8(0), []byte(`{"data":{"E":1,"e":"trade","s":"BNBBTC","t":1,"p":"1","q":"1","T":1,"m":true},"stream":"bnbbtc@trade"}`))
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueCoinbase}
	f.Fuzz(func(t *testing.T, v uint8, frame []byte) {
		events := pool.New("fuzz", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := &recSink{events: events}
		p := newVenueParser(venues[int(v)%len(venues)], events, sink).(*Parser)
		_ = p.HandleBytes(context.Background(), frame, 1)
		for _, ev := range sink.got {
			if ev.Type != schema.EventControl && ev.Type != schema.EventOrderAck && ev.Type != schema.EventGap && p.AlignKey(frame) == nil {
				t.Fatalf("%s: %s event of a frame without a key: %q", p.Venue(), ev.Type, frame)
			}
		}
	})
}
