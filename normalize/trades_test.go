package normalize

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// frameOn is one frame of a test, on connection conn.
type frameOn struct {
	conn uint64
	data string
}

// tradeIDs returns the trade ids the sink got, in order.
func tradeIDs(got []*schema.CanonicalEvent) []string {
	var ids []string
	for _, ev := range got {
		if ev.Type == schema.EventTrade {
			ids = append(ids, ev.Symbol+":"+ev.Trade.ID.String())
		}
	}
	return ids
}

func bnTradeFrame(e, idKey string, id int) string {
	return fmt.Sprintf(`{"e":%q,"E":1,"s":"BTCUSDT",%q:%d,"p":"1","q":"1","T":%d,"m":true}`, e, idKey, id, 1000+id)
}

func cbTradesFrame(seq int, typ string, ids ...int) string {
	s := fmt.Sprintf(`{"channel":"market_trades","timestamp":"2024-01-01T00:00:00Z","sequence_num":%d,"events":[{"type":%q,"trades":[`, seq, typ)
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`{"trade_id":"%d","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"2024-01-01T00:00:%02d.000000Z"}`, id, id%60)
	}
	return s + `]}]}`
}

func cbMatchFrame(typ string, id int) string {
	return fmt.Sprintf(`{"type":%q,"trade_id":%d,"side":"sell","size":"1","price":"1","product_id":"BTC-USD","sequence":%d,"time":"2021-04-17T16:43:%02d.0Z"}`, typ, id, 100+id, id%60)
}

func krTradesFrame(typ string, ids ...int) string {
	s := fmt.Sprintf(`{"channel":"trade","type":%q,"data":[`, typ)
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"ord_type":"limit","trade_id":%d,"timestamp":"2024-05-27T12:33:%02d.000000Z"}`, id, id%60)
	}
	return s + `]}`
}

func okxTradeFrame(id int) string {
	return fmt.Sprintf(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"%d","px":"1","sz":"1","side":"buy","ts":"%d"}]}`, id, 1000+id)
}

// Each venue with increasing trade ids drops what it already delivered —
// a venue's resend, a subscription's recent trades, a new connection's
// overlap — as a repeat, and delivers everything else; venues without
// numeric ids are never compared.
func TestTradeRepeats(t *testing.T) {
	tests := []struct {
		name    string
		venue   schema.Venue
		frames  []frameOn
		want    []string
		repeats uint64
	}{
		{
			name:  "binance trade and aggTrade are two numberings",
			venue: schema.VenueBinance,
			frames: []frameOn{
				{1, bnTradeFrame("trade", "t", 5)}, {1, bnTradeFrame("trade", "t", 6)},
				{1, bnTradeFrame("aggTrade", "a", 5)}, // another numbering: not a repeat
				{2, bnTradeFrame("trade", "t", 5)}, {2, bnTradeFrame("trade", "t", 6)}, {2, bnTradeFrame("aggTrade", "a", 4)},
				{2, bnTradeFrame("trade", "t", 7)}, {2, bnTradeFrame("aggTrade", "a", 6)},
			},
			want:    []string{"BTC-USDT:5", "BTC-USDT:6", "BTC-USDT:5", "BTC-USDT:7", "BTC-USDT:6"},
			repeats: 3,
		},
		{
			name:    "okx tradeId",
			venue:   schema.VenueOKX,
			frames:  []frameOn{{1, okxTradeFrame(10)}, {1, okxTradeFrame(11)}, {2, okxTradeFrame(10)}, {2, okxTradeFrame(11)}, {2, okxTradeFrame(12)}},
			want:    []string{"BTC-USDT:10", "BTC-USDT:11", "BTC-USDT:12"},
			repeats: 2,
		},
		{
			name:  "coinbase advanced trade: a batch in any order, a new connection's snapshot",
			venue: schema.VenueCoinbase,
			frames: []frameOn{
				{1, cbTradesFrame(1, "update", 3, 2)}, // descending: both new
				{1, cbTradesFrame(2, "update", 2, 4, 3)},
				{2, cbTradesFrame(1, "snapshot", 4, 3, 2, 1)}, // the new connection's recent trades
				{2, cbTradesFrame(2, "update", 5)},
			},
			want:    []string{"BTC-USD:3", "BTC-USD:2", "BTC-USD:4", "BTC-USD:5"},
			repeats: 6,
		},
		{
			name:    "coinbase exchange match and last_match",
			venue:   schema.VenueCoinbase,
			frames:  []frameOn{{1, cbMatchFrame("last_match", 9)}, {1, cbMatchFrame("match", 10)}, {2, cbMatchFrame("last_match", 10)}, {2, cbMatchFrame("match", 11)}},
			want:    []string{"BTC-USD:9", "BTC-USD:10", "BTC-USD:11"},
			repeats: 1,
		},
		{
			name:  "kraken v2 snapshot on every subscription",
			venue: schema.VenueKraken,
			frames: []frameOn{
				{1, krTradesFrame("snapshot", 1, 2)}, {1, krTradesFrame("update", 3)},
				{2, krTradesFrame("snapshot", 2, 3)}, {2, krTradesFrame("update", 4)},
			},
			want:    []string{"BTC-USD:1", "BTC-USD:2", "BTC-USD:3", "BTC-USD:4"},
			repeats: 2,
		},
		{
			name:  "kraken v1 sends no id: never compared",
			venue: schema.VenueKraken,
			frames: []frameOn{
				{1, `[993,[["354.11","0.5","1618678142.557535","s","l",""],["354.11","0.5","1618678142.557535","s","l",""]],"trade","XMR/USD"]`},
			},
			want: []string{"XMR-USD:", "XMR-USD:"},
		},
		{
			name:  "bybit ids are not increasing numbers: never compared",
			venue: schema.VenueBybit,
			frames: []frameOn{
				{1, `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"20f43950-d8dd-5b31-9112-a178eb6023af"}]}`},
				{2, `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"20f43950-d8dd-5b31-9112-a178eb6023af"}]}`},
				{2, `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"2290000000061666327"}]}`},
				{2, `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"2290000000061666327"}]}`},
			},
			want: []string{"BTC-USDT:20f43950-d8dd-5b31-9112-a178eb6023af", "BTC-USDT:20f43950-d8dd-5b31-9112-a178eb6023af",
				"BTC-USDT:2290000000061666327", "BTC-USDT:2290000000061666327"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, sink := newTestVenue(t, tt.venue)
			for _, f := range tt.frames {
				err := p.(*Parser).HandleFrame(context.Background(), &schema.WsFrame{Provider: tt.venue, ConnID: f.conn, Data: []byte(f.data), ReceivedAt: 1})
				require.NoError(t, err, f.data)
			}
			require.Equal(t, tt.want, tradeIDs(sink.got))
			st := p.(*Parser).Stats()
			require.Equal(t, tt.repeats, st.Repeats)
			require.Zero(t, st.Gaps, "a repeat is never a gap")
			require.Zero(t, st.Errors)
		})
	}
}

// A venue that starts its ids again is not taken for a stream of repeats:
// its trades are later than every trade delivered, and they are delivered.
func TestTradeRenumbering(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueKraken)
	at := func(id int, sec int) string {
		return fmt.Sprintf(`{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"ord_type":"limit","trade_id":%d,"timestamp":"2024-05-27T12:33:%02d.000000Z"}]}`, id, sec)
	}
	for _, f := range []string{at(500, 1), at(501, 2), at(501, 2), at(1, 3), at(2, 3), at(1, 3), at(3, 4)} {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(f), 1))
	}
	require.Equal(t, []string{"BTC-USD:500", "BTC-USD:501", "BTC-USD:1", "BTC-USD:2", "BTC-USD:3"}, tradeIDs(sink.got))
	require.Equal(t, uint64(2), p.(*Parser).Stats().Repeats)
}

// Symbols are streams of their own.
func TestTradeRepeatsPerSymbol(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	frame := func(inst string, id int) []byte {
		return fmt.Appendf(nil, `{"arg":{"channel":"trades","instId":%q},"data":[{"instId":%q,"tradeId":"%d","px":"1","sz":"1","side":"buy","ts":"1"}]}`, inst, inst, id)
	}
	for _, f := range [][]byte{frame("BTC-USDT", 10), frame("ETH-USDT", 3), frame("ETH-USDT", 4), frame("BTC-USDT", 10)} {
		require.NoError(t, p.HandleBytes(context.Background(), f, 1))
	}
	require.Equal(t, []string{"BTC-USDT:10", "ETH-USDT:3", "ETH-USDT:4"}, tradeIDs(sink.got))
}

// The check costs no allocation, for new trades as for repeats.
func TestTradeRepeatsZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	tests := []struct {
		venue schema.Venue
		msg   func(i int) []byte
	}{
		{schema.VenueBinance, func(i int) []byte { return []byte(bnTradeFrame("trade", "t", i)) }},
		{schema.VenueCoinbase, func(i int) []byte { return []byte(cbTradesFrame(i, "update", 2*i+1, 2*i)) }},
		{schema.VenueKraken, func(i int) []byte { return []byte(krTradesFrame("update", 2*i, 2*i+1)) }},
		{schema.VenueOKX, func(i int) []byte { return []byte(okxTradeFrame(i)) }},
	}
	for _, tt := range tests {
		for _, repeat := range []bool{false, true} {
			t.Run(string(tt.venue)+" repeat "+strconv.FormatBool(repeat), func(t *testing.T) {
				events := schema.NewPools(nil).Events
				p := newVenueParser(tt.venue, events, &putSink{events: events}).(*Parser)
				ctx := context.Background()
				msgs := make([][]byte, 200)
				for j := range msgs {
					msgs[j] = tt.msg(j + 2)
				}
				require.NoError(t, p.HandleBytes(ctx, tt.msg(1), 1)) // warm up
				if repeat {
					for _, m := range msgs {
						require.NoError(t, p.HandleBytes(ctx, m, 1))
					}
				}
				before := p.Stats()
				k := 0
				allocs := testing.AllocsPerRun(len(msgs)-1, func() {
					if err := p.HandleBytes(ctx, msgs[k%len(msgs)], 1); err != nil {
						t.Fatal(err)
					}
					k++
				})
				require.Zero(t, allocs)
				st := p.Stats()
				require.Zero(t, st.Errors)
				if repeat {
					require.Equal(t, before.Events, st.Events, "every trade again: all repeats")
				} else {
					require.Zero(t, st.Repeats)
				}
			})
		}
	}
}

// tradeNumber reads exactly the decimal ids strconv does, up to 19 digits.
func FuzzTradeNumber(f *testing.F) {
	for _, s := range []string{"0", "1", "995098700", "9223372036854775807", "9999999999999999999", "18446744073709551615",
		"", "-1", "+1", "1e3", "20f43950-d8dd-5b31-9112-a178eb6023af", "00012", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := tradeNumber([]byte(s))
		want, err := strconv.ParseUint(s, 10, 64)
		wantOK := err == nil && len(s) <= maxTradeDigits && s[0] != '+'
		if ok != wantOK || (ok && n != want) {
			t.Fatalf("tradeNumber(%q) = %d, %v; strconv: %d, %v", s, n, ok, want, err)
		}
	})
}

// A subscription's recent trades that do not reach back to the last trade
// delivered mean trades may have been lost before them: a gap marker
// names the ids between, after the frame's trades. Recent trades that
// overlap what was delivered, or come first, mean nothing was lost.
func TestTradeSnapshotGap(t *testing.T) {
	tests := []struct {
		name      string
		venue     schema.Venue
		frames    []frameOn
		want      []string
		gapFirst  uint64
		gapLast   uint64
		noMarkers bool
	}{
		{name: "coinbase: the new connection's snapshot starts past the last trade", venue: schema.VenueCoinbase,
			frames: []frameOn{{1, cbTradesFrame(1, "snapshot", 3, 2, 1)}, {1, cbTradesFrame(2, "update", 4, 5)}, {2, cbTradesFrame(1, "snapshot", 12, 11, 10)}},
			want:   []string{"3", "2", "1", "4", "5", "12", "11", "10", "gap 6-9"}, gapFirst: 6, gapLast: 9},
		{name: "coinbase: the snapshot overlaps", venue: schema.VenueCoinbase,
			frames: []frameOn{{1, cbTradesFrame(1, "update", 4, 5)}, {2, cbTradesFrame(1, "snapshot", 8, 7, 6, 5)}},
			want:   []string{"4", "5", "8", "7", "6"}, noMarkers: true},
		{name: "kraken v2: the snapshot starts right after the last trade", venue: schema.VenueKraken,
			frames: []frameOn{{1, krTradesFrame("update", 4, 5)}, {2, krTradesFrame("snapshot", 6, 7)}},
			want:   []string{"4", "5", "6", "7"}, noMarkers: true},
		{name: "kraken v2: a gap before the snapshot", venue: schema.VenueKraken,
			frames: []frameOn{{1, krTradesFrame("update", 4, 5)}, {2, krTradesFrame("snapshot", 9, 10)}},
			want:   []string{"4", "5", "9", "10", "gap 6-8"}, gapFirst: 6, gapLast: 8},
		{name: "kraken v2: an update past the last trade is no snapshot", venue: schema.VenueKraken,
			frames: []frameOn{{1, krTradesFrame("update", 4, 5)}, {1, krTradesFrame("update", 9)}},
			want:   []string{"4", "5", "9"}, noMarkers: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, sink := newTestVenue(t, tt.venue)
			for _, f := range tt.frames {
				require.NoError(t, p.(*Parser).HandleFrame(context.Background(), &schema.WsFrame{Provider: tt.venue, ConnID: f.conn, Data: []byte(f.data), ReceivedAt: 1}))
			}
			var got []string
			for _, ev := range sink.got {
				switch ev.Type {
				case schema.EventTrade:
					got = append(got, ev.Trade.ID.String())
				case schema.EventGap:
					require.Equal(t, schema.EventTrade, ev.Control.GapType)
					require.Equal(t, "BTC-USD", ev.Symbol)
					require.Zero(t, ev.Control.GapCount, "ids need not be consecutive")
					got = append(got, fmt.Sprintf("gap %d-%d", ev.Control.GapFirstSeq, ev.Control.GapLastSeq))
				}
			}
			require.Equal(t, tt.want, got)
			if tt.noMarkers {
				require.Zero(t, p.(*Parser).Stats().Gaps)
			}
		})
	}
}

// OKX trades (one message per taker order and price) and trades-all (one
// per trade) are two streams: a host that subscribes both gets both.
func TestTradeRepeatsOKXChannels(t *testing.T) {
	p, sink := newTestVenue(t, schema.VenueOKX)
	frame := func(channel string, id int) []byte {
		return fmt.Appendf(nil, `{"arg":{"channel":%q,"instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"%d","px":"1","sz":"1","side":"buy","ts":"1"}]}`, channel, id)
	}
	for _, f := range [][]byte{frame("trades", 12), frame("trades-all", 10), frame("trades-all", 11), frame("trades-all", 12), frame("trades", 12)} {
		require.NoError(t, p.HandleBytes(context.Background(), f, 1))
	}
	require.Equal(t, []string{"BTC-USDT:12", "BTC-USDT:10", "BTC-USDT:11", "BTC-USDT:12"}, tradeIDs(sink.got))
	require.EqualValues(t, 1, p.(*Parser).Stats().Repeats)
}

// Trade.Side is the aggressor's (taker's) side on every venue (schema:
// "aggressor side"). Coinbase Exchange's match side is the maker's
// (Exchange "WebSocket Channels", match: "The side field indicates the
// maker order side"): a "sell" match is a taker buy. Advanced Trade's
// market_trades side is read as the taker's: Coinbase's Advanced Trade
// Trade schema describes it as "Taker side of the trade", and cryptofeed
// (which reports every venue's taker side) reads it unchanged.
func TestCoinbaseTradeSideIsAggressor(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []schema.Side
	}{
		{"coinbase_exchange_match.json", []schema.Side{schema.SideBuy}},                          // side "sell": the maker sold
		{"coinbase_advanced_market_trades.json", []schema.Side{schema.SideBuy, schema.SideSell}}, // "BUY", "SELL": the taker's
	} {
		p, sink := newTestVenue(t, schema.VenueCoinbase)
		data, err := os.ReadFile(filepath.Join(sharedVenues, tc.file))
		require.NoError(t, err)
		require.NoError(t, p.HandleBytes(context.Background(), data, 1))
		var got []schema.Side
		for _, ev := range sink.got {
			if ev.Type == schema.EventTrade {
				got = append(got, ev.Trade.Side)
			}
		}
		require.Equal(t, tc.want, got, tc.file)
	}
}
