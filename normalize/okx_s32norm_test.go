package normalize

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// OKX's candlestick channels were not parsed: a host subscribed to
// candle1m got nothing (each push counted Unknown), where every other
// venue's klines are events. The doc example, element by element (OKX API
// v5 "Candlesticks channel": [ts, o, h, l, c, vol, volCcy, volCcyQuote,
// confirm]): a live 1D candle of BTC-USDT, aligned to Hong Kong time.
// Failed before: no event, Stats.Unknown 1.
func TestS32OKXCandleDocExample(t *testing.T) {
	p, _, ev := okxDocEvent(t, "okx_candle1D.json")
	require.Equal(t, schema.EventKlineLive, ev.Type)
	require.Equal(t, "BTC-USDT", ev.Symbol)
	k := ev.Kline
	require.Equal(t, "1d+08:00", k.Interval)
	requireDigits(t, "8533.02", k.Open)
	requireDigits(t, "8553.74", k.High)
	requireDigits(t, "8527.17", k.Low)
	requireDigits(t, "8548.26", k.Close)
	requireDigits(t, "45247", k.Volume)
	requireDigits(t, "529.5858061", k.QuoteVolume)
	require.False(t, k.Closed)
	require.Equal(t, int64(1597026383085)*1_000_000, k.OpenTime)
	require.Equal(t, k.OpenTime+86_400_000_000_000, k.CloseTime)
	require.Equal(t, k.OpenTime, ev.ExchangeTS)
	st := p.Stats()
	require.Zero(t, st.Unknown)
	require.Zero(t, st.Errors)
}

// Every candle form: a UTC-aligned bar and an intraday one keep their
// canonical interval, confirm "1" closes the candle, an element missing or
// a confirm word the docs do not list is a *ParseError naming it, and a
// bar OKX does not list stays unknown (the mark and index price candles,
// no candles of trades, are counted Ignored: TestS34rvKnownChannelsIgnored).
func TestS32OKXCandleForms(t *testing.T) {
	const row = `"1597026383085","1","3","0.5","2","10","20","20"`
	for _, tt := range []struct {
		name, channel, data string
		typ                 schema.EventType
		interval, field     string
		unknown             bool
	}{
		{name: "utc day closed", channel: "candle1Dutc", data: `[[` + row + `,"1"]]`, typ: schema.EventKlineClosed, interval: "1d"},
		{name: "one minute", channel: "candle1m", data: `[[` + row + `,"0"]]`, typ: schema.EventKlineLive, interval: "1m"},
		{name: "four hours", channel: "candle4H", data: `[[` + row + `,"0"]]`, typ: schema.EventKlineLive, interval: "4h"},
		{name: "no confirm", channel: "candle1m", data: `[[` + row + `]]`, field: "confirm"},
		{name: "confirm word", channel: "candle1m", data: `[[` + row + `,"2"]]`, field: "confirm"},
		{name: "bad open", channel: "candle1m", data: `[["1","x","3","0.5","2","10","20","20","0"]]`, field: "o"},
		{name: "not an array", channel: "candle1m", data: `[{"ts":"1"}]`, field: ""},
		{name: "unknown bar", channel: "candle7m", data: `[[` + row + `,"0"]]`, unknown: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := NewOKX(events, sink, nil)
			msg := `{"arg":{"channel":"` + tt.channel + `","instId":"ETH-USDT-SWAP"},"data":` + tt.data + `}`
			err := p.HandleBytes(context.Background(), []byte(msg), 1)
			switch {
			case tt.unknown:
				require.NoError(t, err)
				assert.Empty(t, sink.got)
				assert.Equal(t, uint64(1), p.Stats().Unknown)
			case tt.typ == 0:
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				if tt.field != "" {
					assert.Equal(t, tt.field, pe.Field)
				}
				assert.Empty(t, sink.got)
			default:
				require.NoError(t, err)
				require.Len(t, sink.got, 1)
				ev := sink.got[0]
				assert.Equal(t, tt.typ, ev.Type)
				assert.Equal(t, "ETH-USDT-PERP", ev.Symbol)
				assert.Equal(t, tt.interval, ev.Kline.Interval)
				assert.Equal(t, tt.typ == schema.EventKlineClosed, ev.Kline.Closed)
			}
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// TestS32OKXCandleAllocatesNothing: a candle push, once its symbol was
// seen, costs no allocation.
func TestS32OKXCandleAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are asserted without the race detector")
	}
	doc, err := os.ReadFile("testdata/docs/okx_candle1D.json")
	require.NoError(t, err)
	events := pool.New("candles", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	p := NewOKX(events, SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		events.Put(ev)
		return nil
	}), nil)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, doc, 1))
	allocs := testing.AllocsPerRun(100, func() {
		if err := p.HandleBytes(ctx, doc, 1); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}
