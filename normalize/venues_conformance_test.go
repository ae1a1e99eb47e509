package normalize

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// frameParser is what every venue parser offers a test.
type frameParser interface {
	HandleBytes(ctx context.Context, data []byte, receivedAt int64) error
	Stats() Stats
	Symbols() *Symbols
}

// venueCase says how one shared venue file is explained: the venue's
// parser, the files fed before it on the same parser (a snapshot before
// its delta), and what it must normalise to.
type venueCase struct {
	venue  schema.Venue
	before []string
	load   []Instrument
	check  func(t *testing.T, evs []*schema.CanonicalEvent, st Stats)
}

func newVenueParser(venue schema.Venue, events *pool.Pool[*schema.CanonicalEvent], sink Sink) frameParser {
	switch venue {
	case schema.VenueCoinbase:
		return NewCoinbase(events, sink, nil)
	case schema.VenueKraken:
		return NewKraken(events, sink, nil)
	case schema.VenueOKX:
		return NewOKX(events, sink, nil)
	case schema.VenueBybit:
		return NewBybit(events, sink, nil)
	}
	return NewBinance(events, sink, nil)
}

// at asserts the canonical fields of evs[i] and returns it.
func at(t *testing.T, evs []*schema.CanonicalEvent, i int, venue schema.Venue, typ schema.EventType, sym string, seq uint64, ts int64) *schema.CanonicalEvent {
	t.Helper()
	require.Greater(t, len(evs), i)
	ev := evs[i]
	require.NoError(t, ev.Validate())
	require.Equal(t, venue, ev.Venue)
	require.Equal(t, typ, ev.Type)
	require.Equal(t, sym, ev.Symbol)
	require.Equal(t, seq, ev.SeqProvider, "sequence")
	require.Equal(t, ts, ev.ExchangeTS, "exchange time")
	require.Equal(t, int64(42), ev.IngestTS)
	return ev
}

// control asserts that evs is one control event of kind k.
func control(t *testing.T, evs []*schema.CanonicalEvent, venue schema.Venue, k schema.ControlKind) *schema.Control {
	t.Helper()
	require.Len(t, evs, 1)
	require.Equal(t, venue, evs[0].Venue)
	require.Equal(t, schema.EventControl, evs[0].Type)
	require.NotNil(t, evs[0].Control, "a control event carries its Control section")
	require.Equal(t, k, evs[0].Control.Kind)
	return evs[0].Control
}

func requireLevel(t *testing.T, lv schema.Level, price, qty string) {
	t.Helper()
	requireDigits(t, price, lv.Price)
	requireDigits(t, qty, lv.Qty)
}

// TestVenueFilesExplained runs every shared file of every venue through its
// parser; a file with no expectation fails the test.
func TestVenueFilesExplained(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedVenues, "*.json"))
	if len(files) == 0 {
		t.Skipf("no shared venue files in %s", sharedVenues)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			if _, ok := binanceConformance[name]; ok {
				return // TestBinanceConformance
			}
			c, ok := venueConformance[name]
			require.True(t, ok, "no expectation for %s: every file must be explained", name)
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(c.venue, events, sink)
			require.NoError(t, p.Symbols().Load(c.load))
			ctx := context.Background()
			for _, b := range c.before {
				data, err := os.ReadFile(filepath.Join(sharedVenues, b))
				require.NoError(t, err)
				require.NoError(t, p.HandleBytes(ctx, data, 42))
			}
			sink.got = nil
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, p.HandleBytes(ctx, data, 42))
			st := p.Stats()
			require.Zero(t, st.Errors)
			c.check(t, sink.got, st)
			require.Zero(t, events.Stats().InUse, "events not returned to the pool")
		})
	}
}

const (
	cb = schema.VenueCoinbase
	kr = schema.VenueKraken
	ox = schema.VenueOKX
	by = schema.VenueBybit
)

var venueConformance = map[string]venueCase{
	"coinbase_advanced_heartbeats.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, cb, schema.ControlHeartbeat)
	}},
	"coinbase_advanced_subscriptions.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, cb, schema.ControlSubscribeAck)
	}},
	"coinbase_exchange_subscriptions.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, cb, schema.ControlSubscribeAck)
	}},
	"coinbase_advanced_market_trades.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 2)
		ev := at(t, evs, 0, cb, schema.EventTrade, "BTC-USD", 995098700, 1775572202789012000)
		requireDigits(t, "68900.50", ev.Trade.Price)
		requireDigits(t, "0.00150000", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
		require.Equal(t, "995098700", ev.Trade.ID.String())
		ev = at(t, evs, 1, cb, schema.EventTrade, "BTC-USD", 995098701, 1775572202800000000)
		requireDigits(t, "68900.00", ev.Trade.Price)
		requireDigits(t, "0.05000000", ev.Trade.Qty)
		require.Equal(t, schema.SideSell, ev.Trade.Side)
	}},
	"coinbase_advanced_ticker.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, cb, schema.EventTicker, "BTC-USD", 12, 1775572203000000000).Ticker
		requireDigits(t, "68900.50", tk.Last)
		requireDigits(t, "15328.12345678", tk.Volume)
		requireDigits(t, "67500.00", tk.Low)
		requireDigits(t, "69200.00", tk.High)
		requireDigits(t, "1.85", tk.ChangePct)
		requireDigits(t, "68900.00", tk.BidPrice)
		requireDigits(t, "1.50000000", tk.BidQty)
		requireDigits(t, "68901.00", tk.AskPrice)
		requireDigits(t, "0.50000000", tk.AskQty)
	}},
	"coinbase_advanced_l2_data_snapshot.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, cb, schema.EventBookSnapshot, "BTC-USD", 0, 1775572200123456000).Book
		require.Len(t, b.Bids, 3)
		require.Len(t, b.Asks, 3)
		requireLevel(t, b.Bids[0], "68900.00", "1.50000000")
		requireLevel(t, b.Bids[2], "68899.00", "2.30000000")
		requireLevel(t, b.Asks[0], "68901.00", "0.50000000")
		requireLevel(t, b.Asks[2], "68902.00", "0.80000000")
	}},
	"coinbase_advanced_l2_data_update.json": {venue: cb,
		load: []Instrument{{Symbol: "BIP-20DEC30-CDE", Base: "BIP", Quote: "USD", Contract: "20DEC30"}},
		check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
			require.Len(t, evs, 1)
			b := at(t, evs, 0, cb, schema.EventBookUpdate, "BIP-USD-20DEC30", 229, 1772701532483569449).Book
			require.Len(t, b.Bids, 2)
			require.Len(t, b.Asks, 1)
			requireLevel(t, b.Bids[0], "72575", "0")
			requireLevel(t, b.Bids[1], "72570", "68")
			requireLevel(t, b.Asks[0], "72580", "13")
		}},
	"coinbase_advanced_l2_data_update_nautilus.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, cb, schema.EventBookUpdate, "BTC-USD", 1, 1775572201456789000).Book
		require.Len(t, b.Bids, 1)
		require.Len(t, b.Asks, 1)
		requireLevel(t, b.Bids[0], "68900.00", "2.00000000")
		requireLevel(t, b.Asks[0], "68901.00", "0.00000000")
	}},
	"coinbase_exchange_match.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, cb, schema.EventTrade, "SKL-BTC", 177100030, 1618677817089723000)
		requireDigits(t, "0.00001305", ev.Trade.Price)
		requireDigits(t, "985", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side, "maker sold: the aggressor bought")
		require.Equal(t, "280232", ev.Trade.ID.String())
	}},
	"coinbase_exchange_last_match.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, cb, schema.EventTrade, "BAND-GBP", 333938798, 1618677810244075000)
		requireDigits(t, "14.7775", ev.Trade.Price)
		requireDigits(t, "0.04", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
		require.Equal(t, "881613", ev.Trade.ID.String())
	}},
	"coinbase_exchange_ticker.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, cb, schema.EventTicker, "BAND-GBP", 333938798, 1618677810244075000).Ticker
		requireDigits(t, "14.7775", tk.Last)
		requireDigits(t, "0.04", tk.LastQty)
		requireDigits(t, "14.6647", tk.Open)
		requireDigits(t, "16.55", tk.High)
		requireDigits(t, "14.3691", tk.Low)
		requireDigits(t, "94381.28000000", tk.Volume)
		requireDigits(t, "14.7550", tk.BidPrice)
		requireDigits(t, "14.8060", tk.AskPrice)
	}},
	"coinbase_exchange_level2_snapshot.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, cb, schema.EventBookSnapshot, "SKL-BTC", 0, 0).Book
		require.NotEmpty(t, b.Bids)
		require.NotEmpty(t, b.Asks)
		requireLevel(t, b.Asks[0], "0.00001305", "4781.0")
		requireLevel(t, b.Asks[1], "0.00001306", "1230.5")
	}},
	"coinbase_exchange_l2update.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, cb, schema.EventBookUpdate, "SKL-BTC", 0, 1618677817075687000).Book
		require.Empty(t, b.Bids)
		require.Len(t, b.Asks, 1)
		requireLevel(t, b.Asks[0], "0.00001306", "660.5")
	}},

	"kraken_v1_heartbeat.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, kr, schema.ControlHeartbeat)
	}},
	"kraken_v2_heartbeat.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, kr, schema.ControlHeartbeat)
	}},
	"kraken_v1_systemStatus.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Equal(t, "online", control(t, evs, kr, schema.ControlStatus).Reason) // connectionID > MaxInt64 is not read
	}},
	"kraken_v2_status.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Equal(t, "online", control(t, evs, kr, schema.ControlStatus).Reason)
	}},
	"kraken_v2_subscribe_ack_book.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Equal(t, uint64(11), control(t, evs, kr, schema.ControlSubscribeAck).RequestID)
	}},
	// v1 trades are tuples: [price, volume, time in seconds, side, type, misc].
	"kraken_v1_trade.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, kr, schema.EventTrade, "XMR-USD", 0, 1618678142557535000)
		requireDigits(t, "354.11000000", ev.Trade.Price)
		requireDigits(t, "0.89594024", ev.Trade.Qty)
		require.Equal(t, schema.SideSell, ev.Trade.Side)
	}},
	// v1 ticker fields are [today, last 24 hours] (a and b: price, whole
	// lot volume, lot volume).
	"kraken_v1_ticker.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, kr, schema.EventTicker, "WAVES-EUR", 0, 0).Ticker
		requireDigits(t, "13.253900", tk.AskPrice)
		requireDigits(t, "35.72892241", tk.AskQty)
		requireDigits(t, "13.232900", tk.BidPrice)
		requireDigits(t, "185.18432037", tk.BidQty)
		requireDigits(t, "13.253900", tk.Last)
		requireDigits(t, "3.71672000", tk.LastQty)
		requireDigits(t, "72035.05488104", tk.Volume)
		require.Equal(t, uint64(1353), tk.TradeCount)
		requireDigits(t, "13.021800", tk.Low)
		requireDigits(t, "14.211200", tk.High)
		requireDigits(t, "13.428300", tk.Open)
	}},
	"kraken_v1_book_snapshot.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBookSnapshot, "XMR-USD", 0, 1618678133314176000).Book
		require.Len(t, b.Asks, 429)
		require.Len(t, b.Bids, 654)
		requireLevel(t, b.Asks[0], "354.80000000", "1.40000000")
		requireLevel(t, b.Bids[0], "354.16000000", "1.40000000")
		require.False(t, b.HasChecksum)
	}},
	"kraken_v1_book_update.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBookUpdate, "XMR-USD", 0, 1618678133365913000).Book
		require.Empty(t, b.Asks)
		require.Len(t, b.Bids, 1)
		requireLevel(t, b.Bids[0], "354.15000000", "5.00000000")
		require.True(t, b.HasChecksum)
		require.Equal(t, uint32(2583817756), b.Checksum)
	}},
	"kraken_v2_book_snapshot.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBookSnapshot, "BTC-USD", 0, 0).Book
		require.Len(t, b.Bids, 5)
		require.Len(t, b.Asks, 5)
		requireLevel(t, b.Bids[0], "66788.0", "3.21926649")
		requireLevel(t, b.Bids[2], "66787.4", "0.05992580")
		requireLevel(t, b.Asks[3], "66791.1", "0.01100000")
		require.True(t, b.HasChecksum)
		require.Equal(t, uint32(2330500275), b.Checksum)
	}},
	"kraken_v2_book_snapshot_nautilus.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBookSnapshot, "BTC-USD", 0, 1696613755440295000).Book
		require.Len(t, b.Bids, 3)
		require.Len(t, b.Asks, 3)
		requireLevel(t, b.Bids[0], "105944.20", "0.136")
		requireLevel(t, b.Asks[2], "105955.80", "0.003")
		require.Equal(t, uint32(2439117997), b.Checksum)
	}},
	"kraken_v2_book_update.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBookUpdate, "BTC-USD", 0, 1716137124204654000).Book
		require.Len(t, b.Bids, 3)
		require.Empty(t, b.Asks)
		requireLevel(t, b.Bids[0], "66786.5", "0.00000000")
		requireLevel(t, b.Bids[2], "66787.7", "0.12440000")
		require.Equal(t, uint32(902440905), b.Checksum)
	}},
	"kraken_v2_book_update_compact.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, kr, schema.EventBookUpdate, "BTC-USD", 0, 1716136346777454000).Book
		require.Empty(t, b.Bids)
		require.Len(t, b.Asks, 1)
		requireLevel(t, b.Asks[0], "66732.5", "5.48256063")
		require.Equal(t, uint32(2855135483), b.Checksum)
	}},
	"kraken_v2_trade_snapshot.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 2)
		ev := at(t, evs, 0, kr, schema.EventTrade, "BTC-USD", 70635251, 1716813190826003000)
		requireDigits(t, "68466.9", ev.Trade.Price)
		requireDigits(t, "0.01919415", ev.Trade.Qty)
		require.Equal(t, schema.SideSell, ev.Trade.Side)
		ev = at(t, evs, 1, kr, schema.EventTrade, "BTC-USD", 70635252, 1716813190980704000)
		requireDigits(t, "68471.2", ev.Trade.Price)
		requireDigits(t, "0.00007723", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
	}},
	"kraken_v2_trade_update.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 2)
		ev := at(t, evs, 0, kr, schema.EventTrade, "BTC-USD", 70635299, 1716813791798009000)
		requireDigits(t, "68500.0", ev.Trade.Price)
		requireDigits(t, "0.01044926", ev.Trade.Qty)
		require.Equal(t, "70635299", ev.Trade.ID.String())
		ev = at(t, evs, 1, kr, schema.EventTrade, "BTC-USD", 70635300, 1716813791798009000)
		requireDigits(t, "0.00483192", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
	}},
	"kraken_v2_ticker_snapshot.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, kr, schema.EventTicker, "BTC-USD", 0, 0).Ticker
		requireDigits(t, "65972.8", tk.BidPrice)
		requireDigits(t, "0.10000000", tk.BidQty)
		requireDigits(t, "65972.9", tk.AskPrice)
		requireDigits(t, "39.67506683", tk.AskQty)
		requireDigits(t, "65972.9", tk.Last)
		requireDigits(t, "4216.61829370", tk.Volume)
		requireDigits(t, "61325.4", tk.Low)
		requireDigits(t, "66450.0", tk.High)
		requireDigits(t, "4412.1", tk.PriceChange)
		requireDigits(t, "7.17", tk.ChangePct)
	}},
	"kraken_v2_ticker_update.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, kr, schema.EventTicker, "BTC-USD", 0, 0).Ticker
		requireDigits(t, "65843.7", tk.BidPrice)
		requireDigits(t, "12.31628629", tk.BidQty)
		requireDigits(t, "0.31232000", tk.AskQty)
		requireDigits(t, "6.84", tk.ChangePct)
	}},
	"kraken_v2_ohlc_snapshot.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 2)
		k := at(t, evs, 0, kr, schema.EventKlineLive, "ETH-USD", 0, 1715944380000000000).Kline
		require.Equal(t, "1m", k.Interval)
		require.Equal(t, int64(1715944320000000000), k.OpenTime)
		require.Equal(t, int64(1715944380000000000), k.CloseTime)
		requireDigits(t, "3027.80", k.Open)
		requireDigits(t, "3027.80", k.High)
		requireDigits(t, "3026.13", k.Low)
		requireDigits(t, "3026.13", k.Close)
		requireDigits(t, "13.31603062", k.Volume)
		require.Equal(t, uint64(9), k.TradeCount)
		k = at(t, evs, 1, kr, schema.EventKlineLive, "ETH-USD", 0, 1715944440000000000).Kline
		requireDigits(t, "3026.47", k.Close)
		require.Equal(t, uint64(4), k.TradeCount)
	}},
	"kraken_v2_executions_new.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		x := at(t, evs, 0, kr, schema.EventExecReport, "", 148, 1716037131121515000).Exec
		require.Equal(t, "7J91XK-XMFEL-348VPM", x.VenueOrderID.String())
		require.Equal(t, schema.ExecNew, x.ExecType)
		require.Equal(t, schema.StatusNew, x.Status)
	}},

	"okx_subscribe_ack.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, ox, schema.ControlSubscribeAck)
	}},
	"okx_trades.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, ox, schema.EventTrade, "BTC-USDT", 338476307, 1652459224818*ms)
		requireDigits(t, "30236", ev.Trade.Price)
		requireDigits(t, "0.0002", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
		require.Equal(t, "338476307", ev.Trade.ID.String())
	}},
	"okx_tickers.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, ox, schema.EventTicker, "BTC-USDT", 0, 1652459224956*ms).Ticker
		requireDigits(t, "30236", tk.Last)
		requireDigits(t, "0.0002", tk.LastQty)
		requireDigits(t, "30228.7", tk.AskPrice)
		requireDigits(t, "1.55896972", tk.AskQty)
		requireDigits(t, "30228.6", tk.BidPrice)
		requireDigits(t, "0.23393", tk.BidQty)
		requireDigits(t, "29700.4", tk.Open)
		requireDigits(t, "31073", tk.High)
		requireDigits(t, "28020.3", tk.Low)
		requireDigits(t, "17602.13085371", tk.Volume)
		requireDigits(t, "525802090.62716611", tk.QuoteVolume)
	}},
	"okx_bbo_tbt.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, ox, schema.EventBBO, "BTC-USDT", 123456, 1597026383085*ms)
		requireDigits(t, "8476.97", ev.BBO.BidPrice)
		requireDigits(t, "256", ev.BBO.BidQty)
		requireDigits(t, "8476.98", ev.BBO.AskPrice)
		requireDigits(t, "415", ev.BBO.AskQty)
		require.Empty(t, ev.Book.Bids)
	}},
	"okx_books_snapshot.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, ox, schema.EventBookSnapshot, "BTC-USDT", 0, 1652459225381*ms).Book
		require.Len(t, b.Bids, 400)
		require.Len(t, b.Asks, 400)
		requireLevel(t, b.Bids[0], "30243.4", "0.0012029")
		requireLevel(t, b.Asks[0], "30243.5", "1.44679")
		requireLevel(t, b.Bids[399], "29999.7", "0.00276686")
		require.True(t, b.HasChecksum)
		require.Equal(t, uint32(47640993), b.Checksum)
	}},
	// The snapshot and this update are one real sequence (before 2022 OKX
	// books had no seqId): the update applies to the snapshot.
	"okx_books_update.json": {venue: ox, before: []string{"okx_books_snapshot.json"}, check: func(t *testing.T, evs []*schema.CanonicalEvent, st Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, ox, schema.EventBookUpdate, "BTC-USDT", 0, 1652459225453*ms).Book
		require.Len(t, b.Bids, 17)
		require.Len(t, b.Asks, 26)
		requireLevel(t, b.Bids[0], "30237.2", "0")
		requireLevel(t, b.Asks[0], "30243.5", "1.2112")
		require.Equal(t, uint32(3642403323), b.Checksum) // -652563973 as 32 bits
		require.Zero(t, st.Gaps)
	}},
	"okx_books_update_seqid.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, ox, schema.EventBookUpdate, "BTC-USDT", 123457, 1597026383085*ms).Book
		require.Equal(t, uint64(123457), b.LastSeq)
		require.Equal(t, uint64(123456), b.PrevSeq)
		require.Len(t, b.Bids, 8)
		require.Len(t, b.Asks, 8)
		requireLevel(t, b.Bids[7], "8446", "95")
		require.Equal(t, uint32(3439771253), b.Checksum)
	}},
	"okx_funding_rate.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		m := at(t, evs, 0, ox, schema.EventFundingRate, "BTC-USDT-PERP", 0, 1744590349506*ms).Mark
		requireDigits(t, "0.0001", m.FundingRate)
		require.Equal(t, 1744590349506*ms, m.NextFundingTime)
	}},

	"bybit_v5_pong.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		control(t, evs, by, schema.ControlHeartbeat)
	}},
	"bybit_v5_publicTrade.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, by, schema.EventTrade, "BTC-USDT", 1783284617, 1672304486865*ms)
		requireDigits(t, "16578.50", ev.Trade.Price)
		requireDigits(t, "0.001", ev.Trade.Qty)
		require.Equal(t, schema.SideBuy, ev.Trade.Side)
		require.Equal(t, "20f43950-d8dd-5b31-9112-a178eb6023af", ev.Trade.ID.String())
	}},
	"bybit_v5_publicTrade_gct.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := at(t, evs, 0, by, schema.EventTrade, "BTC-USDT", 0, 1690720953111*ms) // no "seq"
		requireDigits(t, "3.6279", ev.Trade.Price)
		requireDigits(t, "1.3637", ev.Trade.Qty)
		require.Equal(t, schema.SideSell, ev.Trade.Side)
		require.Equal(t, "2200000000067341890", ev.Trade.ID.String())
	}},
	"bybit_v5_orderbook_snapshot.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, by, schema.EventBookSnapshot, "BTC-USDT", 2876700, 1731035685323*ms).Book
		require.Equal(t, uint64(2876700), b.LastSeq)
		require.Len(t, b.Bids, 50)
		require.Len(t, b.Asks, 50)
		requireLevel(t, b.Bids[0], "75848.74", "0.067669")
		requireLevel(t, b.Asks[0], "75848.75", "0.747137")
	}},
	"bybit_v5_orderbook_delta.json": {venue: by, before: []string{"bybit_v5_orderbook_snapshot.json"}, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, by, schema.EventBookUpdate, "BTC-USDT", 2876701, 1731035685342*ms).Book
		require.Len(t, b.Bids, 2)
		require.Len(t, b.Asks, 5)
		requireLevel(t, b.Bids[0], "75848.62", "0.014895")
		requireLevel(t, b.Bids[1], "75837.13", "0") // deletes the level
		requireLevel(t, b.Asks[2], "75852.65", "0")
	}},
	"bybit_v5_orderbook_delta_docs.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		b := at(t, evs, 0, by, schema.EventBookUpdate, "BTC-USDT", 177400507, 1687940967464*ms).Book
		require.Len(t, b.Bids, 5)
		require.Len(t, b.Asks, 7)
		requireLevel(t, b.Bids[0], "30247.20", "30.028")
		requireLevel(t, b.Asks[0], "30248.70", "0")
	}},
	"bybit_v5_tickers_linear_snapshot.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, by, schema.EventTicker, "BTC-USDT", 176530003895, 1715748762463*ms).Ticker
		requireDigits(t, "61874.00", tk.Last)
		requireDigits(t, "-0.9772", tk.ChangePct) // price24hPcnt -0.009772
		requireDigits(t, "62484.60", tk.Open)
		requireDigits(t, "62752.90", tk.High)
		requireDigits(t, "61000.10", tk.Low)
		requireDigits(t, "98430.1050", tk.Volume)
		requireDigits(t, "6073739017.8331", tk.QuoteVolume)
		requireDigits(t, "61875.25", tk.MarkPrice)
		requireDigits(t, "61903.73", tk.IndexPrice)
		requireDigits(t, "58117.022", tk.OpenInt)
		requireDigits(t, "0.00008055", tk.FundingRate)
		require.Equal(t, 1715760000000*ms, tk.NextFundingTime)
		requireDigits(t, "61873.90", tk.BidPrice)
		requireDigits(t, "3.783", tk.BidQty)
		requireDigits(t, "61874.00", tk.AskPrice)
		requireDigits(t, "16.278", tk.AskQty)
	}},
	// The delta is merged into the snapshot before it: changed fields are
	// the delta's, the rest the snapshot's.
	"bybit_v5_tickers_linear_delta.json": {venue: by, before: []string{"bybit_v5_tickers_linear_snapshot.json"}, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, by, schema.EventTicker, "BTC-USDT", 176530004279, 1715748763063*ms).Ticker
		requireDigits(t, "61875.06", tk.MarkPrice)
		requireDigits(t, "61903.59", tk.IndexPrice)
		requireDigits(t, "61873.90", tk.BidPrice)
		requireDigits(t, "3.543", tk.BidQty)
		requireDigits(t, "61874.00", tk.Last)
		requireDigits(t, "-0.9772", tk.ChangePct)
		requireDigits(t, "61874.00", tk.AskPrice)
		requireDigits(t, "16.278", tk.AskQty)
		requireDigits(t, "58117.022", tk.OpenInt)
		requireDigits(t, "0.00008055", tk.FundingRate)
		require.Equal(t, 1715760000000*ms, tk.NextFundingTime)
	}},
	"bybit_v5_tickers_spot.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		tk := at(t, evs, 0, by, schema.EventTicker, "BTC-USDT", 2588407389, 1673853746003*ms).Ticker
		requireDigits(t, "21109.77", tk.Last)
		requireDigits(t, "21426.99", tk.High)
		requireDigits(t, "20575", tk.Low)
		requireDigits(t, "20704.93", tk.Open)
		requireDigits(t, "6780.866843", tk.Volume)
		requireDigits(t, "141946527.22907118", tk.QuoteVolume)
		requireDigits(t, "1.96", tk.ChangePct)
	}},
	"bybit_v5_kline.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		k := at(t, evs, 0, by, schema.EventKlineLive, "BTC-USDT", 0, 1672324988882*ms).Kline
		require.Equal(t, "5m", k.Interval)
		require.Equal(t, 1672324800000*ms, k.OpenTime)
		require.Equal(t, 1672325099999*ms, k.CloseTime)
		requireDigits(t, "16649.5", k.Open)
		requireDigits(t, "16677", k.Close)
		requireDigits(t, "16677", k.High)
		requireDigits(t, "16608", k.Low)
		requireDigits(t, "2.081", k.Volume)
		requireDigits(t, "34666.4005", k.QuoteVolume)
		require.False(t, k.Closed)
	}},
	"bybit_v5_allLiquidation.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		l := at(t, evs, 0, by, schema.EventLiquidation, "ROSE-USDT", 0, 1739502302929*ms).Liquidation
		require.Equal(t, schema.SideBuy, l.Side, "a short position (S=Sell) is liquidated by a buy")
		requireDigits(t, "0.04499", l.Price)
		requireDigits(t, "20000", l.Qty)
	}},
	"bybit_v5_liquidation.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		l := at(t, evs, 0, by, schema.EventLiquidation, "GALA-USDT", 0, 1673251091822*ms).Liquidation
		require.Equal(t, schema.SideSell, l.Side, "a long position (side=Buy) is liquidated by a sell")
		requireDigits(t, "0.03803", l.Price)
		requireDigits(t, "1637", l.Qty)
	}},
}
