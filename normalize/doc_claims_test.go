package normalize_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// The tests in this file hold the package documentation (go doc -all
// ./normalize) to its concrete statements, through the public API only.

// claimSink keeps a copy of each event's headline and returns the event.
type claimSink struct {
	pools *schema.Pools
	got   []claimEvent
}

type claimEvent struct {
	Type             schema.EventType
	Symbol           string
	Seq              uint64
	ExchangeTS       int64
	GapType          schema.EventType
	GapFirst, GapLst uint64
}

func (s *claimSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	var c schema.Control // a market event carries none
	if ev.Control != nil {
		c = *ev.Control
	}
	s.got = append(s.got, claimEvent{ev.Type, ev.Symbol, ev.SeqProvider, ev.ExchangeTS, c.GapType, c.GapFirstSeq, c.GapLastSeq})
	s.pools.Events.Put(ev)
	return nil
}

func (s *claimSink) take() []claimEvent { g := s.got; s.got = nil; return g }

// "Where the venue's trade ids increase per symbol, a trade whose id is at
// most the highest delivered for its (symbol, message kind) is a repeat:
// dropped and counted (Stats.Repeats), never a gap. [...] Binance: "t" of
// trade, "a" of aggTrade, two numberings. [...] A trade at or below the
// highest id but later (ExchangeTS) than every trade delivered is a venue
// that started its ids again: delivered, and followed."
func TestDocBinanceTradeRepeats(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &claimSink{pools: pools}
	p := normalize.NewBinance(pools.Events, sink, nil)
	ctx := context.Background()
	trade := func(id, ms int) error {
		return p.HandleBytes(ctx, []byte(`{"e":"trade","E":`+itoa(ms)+`,"s":"BTCUSDT","t":`+itoa(id)+`,"p":"1.0","q":"1","T":`+itoa(ms)+`,"m":false}`), 1)
	}
	require.NoError(t, trade(10, 1000))
	require.NoError(t, trade(10, 1000)) // an overlap's repeat
	require.NoError(t, trade(9, 999))   // older still
	// aggTrade ids are another numbering: a=5 is no repeat of t=10.
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"aggTrade","E":1001,"s":"BTCUSDT","a":5,"p":"1.0","q":"1","f":1,"l":1,"T":1001,"m":true}`), 1))
	require.NoError(t, trade(11, 1002))
	got := sink.take()
	require.Len(t, got, 3)
	assert.Equal(t, []uint64{10, 5, 11}, []uint64{got[0].Seq, got[1].Seq, got[2].Seq})
	assert.Equal(t, uint64(2), p.Stats().Repeats)
	assert.Zero(t, p.Stats().Gaps, "a repeat is never a gap")

	// The venue starts its ids again: a lower id, later than every trade.
	require.NoError(t, trade(1, 5000))
	require.NoError(t, trade(1, 5000))
	got = sink.take()
	require.Len(t, got, 1, "the restarted stream is delivered, and then followed")
	assert.Equal(t, uint64(1), got[0].Seq)
	assert.Equal(t, int64(5000)*int64(time.Millisecond), got[0].ExchangeTS, "ExchangeTS is the trade time T, in Unix ns")
	require.NoError(t, pools.Shutdown(ctx))
}

// "A subscription's recent trades that do not reach back to the last trade
// delivered (the oldest above it + 1) may follow lost trades: a
// [schema.EventGap] with GapType schema.EventTrade names the ids between,
// after them" — Kraken v2's trade snapshot on a resubscription.
func TestDocKrakenV2SnapshotGapAfterTrades(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &claimSink{pools: pools}
	p := normalize.NewKraken(pools.Events, sink, nil)
	ctx := context.Background()
	snap := func(ids ...int) error {
		data := ""
		for i, id := range ids {
			if i > 0 {
				data += ","
			}
			data += `{"symbol":"BTC/USD","side":"buy","price":68466.9,"qty":0.01,"ord_type":"market","trade_id":` + itoa(id) + `,"timestamp":"2024-05-27T12:33:10.` + itoa(100000+id) + `Z"}`
		}
		return p.HandleBytes(ctx, []byte(`{"channel":"trade","type":"snapshot","data":[`+data+`]}`), 1)
	}
	require.NoError(t, snap(100, 101))
	require.Len(t, sink.take(), 2)
	// Resubscribed: the venue's recent trades start at 105, above the last
	// delivered (101) + 1, so 102-104 may have been lost.
	require.NoError(t, snap(105, 106))
	got := sink.take()
	require.Len(t, got, 3, "%+v", got)
	assert.Equal(t, schema.EventTrade, got[0].Type)
	assert.Equal(t, uint64(105), got[0].Seq)
	assert.Equal(t, uint64(106), got[1].Seq)
	gap := got[2]
	assert.Equal(t, schema.EventGap, gap.Type, "the marker comes after the trades")
	assert.Equal(t, schema.EventTrade, gap.GapType)
	assert.Equal(t, "BTC-USD", gap.Symbol)
	assert.Equal(t, [2]uint64{102, 104}, [2]uint64{gap.GapFirst, gap.GapLst})
	// A snapshot that reaches back (repeats 106) follows no loss.
	require.NoError(t, snap(106, 107))
	got = sink.take()
	require.Len(t, got, 1, "%+v", got)
	assert.Equal(t, uint64(107), got[0].Seq)
	assert.Equal(t, uint64(1), p.Stats().Repeats)
	require.NoError(t, pools.Shutdown(ctx))
}

// Options.TimeUnit: "time.Microsecond for a Binance connection opened with
// timeUnit=MICROSECOND [...] Events carry Unix nanoseconds either way."
func TestDocBinanceTimeUnitMicrosecond(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &claimSink{pools: pools}
	ctx := context.Background()
	msg := []byte(`{"e":"trade","E":1700000000000123,"s":"BTCUSDT","t":1,"p":"1.0","q":"1","T":1700000000000123,"m":false}`)
	p := normalize.NewBinance(pools.Events, sink, &normalize.Options{TimeUnit: time.Microsecond})
	require.NoError(t, p.HandleBytes(ctx, msg, 1))
	got := sink.take()
	require.Len(t, got, 1)
	assert.Equal(t, int64(1700000000000123000), got[0].ExchangeTS)
	require.NoError(t, pools.Shutdown(ctx))
}

// "A message that cannot be normalised yields a [*ParseError] naming venue,
// message type and field; it is dropped and counted, and nothing else is
// affected. Unknown message types are counted and skipped (nil error)."
// "TRADE_LITE is dropped (counted in Stats.Ignored)".
func TestDocErrorsAndCounting(t *testing.T) {
	pools := schema.NewPools(nil)
	sink := &claimSink{pools: pools}
	p := normalize.NewBinance(pools.Events, sink, nil)
	ctx := context.Background()

	err := p.HandleBytes(ctx, []byte(`{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"-1","q":"1","T":1,"m":false}`), 1)
	var pe *normalize.ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Contains(t, err.Error(), "binance")
	assert.Contains(t, err.Error(), "trade")
	assert.Contains(t, err.Error(), " p", "the field is named")

	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"somethingNew","E":1}`), 1))
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"TRADE_LITE","E":1,"T":1,"s":"BTCUSDT","q":"1","p":"1","m":false,"c":"x","S":"BUY","L":"1","l":"1","t":1,"i":1}`), 1))
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"trade","E":2,"s":"BTCUSDT","t":2,"p":"1.0","q":"1","T":2,"m":false}`), 1))

	st := p.Stats()
	assert.Equal(t, uint64(1), st.Errors)
	assert.Equal(t, uint64(1), st.Unknown)
	assert.Equal(t, uint64(1), st.Ignored)
	assert.Equal(t, uint64(1), st.Events, "the good trade after the bad one is delivered")
	assert.Len(t, sink.take(), 1)
	require.NoError(t, pools.Shutdown(ctx))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// The README's list of private channels per venue, spot-checked on the
// real messages in testdata/venues: each becomes the event type it says.
func TestDocREADMEPrivateChannels(t *testing.T) {
	type build func(*schema.Pools, normalize.Sink) *normalize.Parser
	okx := func(p *schema.Pools, s normalize.Sink) *normalize.Parser { return normalize.NewOKX(p.Events, s, nil) }
	bybit := func(p *schema.Pools, s normalize.Sink) *normalize.Parser { return normalize.NewBybit(p.Events, s, nil) }
	kraken := func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewKraken(p.Events, s, nil)
	}
	coinbase := func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewCoinbase(p.Events, s, nil)
	}
	binance := func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBinance(p.Events, s, nil)
	}
	for _, c := range []struct {
		sample string
		parser build
		want   schema.EventType
	}{
		{"okx_orders_fill", okx, schema.EventExecReport},
		{"okx_account", okx, schema.EventBalance},
		{"okx_positions", okx, schema.EventPosition},
		{"bybit_v5_execution", bybit, schema.EventExecReport},
		{"bybit_v5_wallet", bybit, schema.EventBalance},
		{"bybit_v5_position", bybit, schema.EventPosition},
		{"kraken_v2_executions_trade", kraken, schema.EventExecReport},
		{"kraken_v2_balances_snapshot", kraken, schema.EventBalance},
		{"coinbase_advanced_user_snapshot", coinbase, schema.EventExecReport},
		{"binance_spot_executionReport_wrapped", binance, schema.EventExecReport},
		{"binance_futures_ORDER_TRADE_UPDATE_partial", binance, schema.EventExecReport},
		{"binance_futures_ACCOUNT_UPDATE", binance, schema.EventBalance},
		{"binance_spot_outboundAccountPosition", binance, schema.EventBalance},
	} {
		t.Run(c.sample, func(t *testing.T) {
			msg, err := os.ReadFile(filepath.Join("..", "testdata", "venues", c.sample+".json"))
			require.NoError(t, err)
			pools := schema.NewPools(nil)
			sink := &claimSink{pools: pools}
			p := c.parser(pools, sink)
			require.NoError(t, p.HandleBytes(context.Background(), msg, 1))
			var types []schema.EventType
			for _, ev := range sink.take() {
				types = append(types, ev.Type)
			}
			assert.Contains(t, types, c.want, "%s gives %v", c.sample, types)
			require.NoError(t, pools.Shutdown(context.Background()))
		})
	}
}

// "SeqProvider is the venue's own sequence for the type (Binance: t for
// trades, a for aggregated trades, u for best bid/offer and depth, the last
// trade id L for klines [...]). ExchangeTS is the time of the fact in Unix
// ns — the trade time T for trades and liquidations, the event time E
// otherwise [...] and IngestTS is the frame's receive time."
func TestDocBinanceSeqAndTimes(t *testing.T) {
	ms := int64(time.Millisecond)
	for _, c := range []struct {
		msg      string
		typ      schema.EventType
		seq      uint64
		exchange int64
	}{
		{`{"e":"trade","E":2000,"s":"BTCUSDT","t":7,"p":"1.0","q":"1","T":1000,"m":false}`, schema.EventTrade, 7, 1000 * ms},
		{`{"e":"aggTrade","E":2000,"s":"BTCUSDT","a":9,"p":"1.0","q":"1","f":1,"l":2,"T":1000,"m":true}`, schema.EventTrade, 9, 1000 * ms},
		{`{"stream":"btcusdt@bookTicker","data":{"u":11,"s":"BTCUSDT","b":"1.0","B":"1","a":"1.1","A":"1"}}`, schema.EventBBO, 11, 0},
		{`{"e":"depthUpdate","E":3000,"s":"BTCUSDT","U":20,"u":21,"b":[],"a":[]}`, schema.EventBookUpdate, 21, 3000 * ms},
		{`{"e":"kline","E":4000,"s":"ETHBTC","k":{"t":1000,"T":1999,"s":"ETHBTC","i":"1m","f":77462,"L":77465,"o":"1","c":"1","h":"1","l":"1","v":"1","n":4,"x":false,"q":"1","V":"1","Q":"1","B":"0"}}`, schema.EventKlineLive, 77465, 4000 * ms},
		{`{"e":"forceOrder","E":5000,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.014","p":"9910.00","ap":"9910.12","X":"FILLED","l":"0.014","z":"0.014","T":4500}}`, schema.EventLiquidation, 0, 4500 * ms},
	} {
		pools := schema.NewPools(nil)
		var got *schema.CanonicalEvent
		sink := sinkFunc(func(ev *schema.CanonicalEvent) { got = ev.Clone(); pools.Events.Put(ev) })
		p := normalize.NewBinance(pools.Events, sink, nil)
		f := &schema.WsFrame{Provider: schema.VenueBinance, ConnID: 1, Seq: 1, ReceivedAt: 123456789, Data: []byte(c.msg)}
		require.NoError(t, p.HandleFrame(context.Background(), f), c.msg)
		require.NotNil(t, got, c.msg)
		assert.Equal(t, c.typ, got.Type, c.msg)
		assert.Equal(t, c.seq, got.SeqProvider, c.msg)
		assert.Equal(t, c.exchange, got.ExchangeTS, c.msg)
		assert.Equal(t, int64(123456789), got.IngestTS, "IngestTS is the frame's receive time")
		require.NoError(t, pools.Shutdown(context.Background()))
	}
}

type sinkFunc func(*schema.CanonicalEvent)

func (f sinkFunc) Publish(_ context.Context, ev *schema.CanonicalEvent) error { f(ev); return nil }
