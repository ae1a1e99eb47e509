package normalize

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// panicky panics while goccy decodes it, as a decoder bug would.
type panicky struct{ v num }

func (p *panicky) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	if string(v) == `"boom"` {
		panic("decoder bug")
	}
	p.v.ok = true
	return p.v.v.UnmarshalJSON(v)
}

type panicMsg struct {
	S text    `json:"s"`
	P panicky `json:"p"`
}

func (m *panicMsg) fill(f *filler) {
	f.symbol("s", &m.S)
	f.price(&f.ev.Trade.Price, "p", m.P.v)
}

var panicSpec = venueSpec{
	venue: schema.VenueBinance,
	rules: BinanceSymbolRules,
	kinds: []kind{{name: "trade", typ: schema.EventTrade, slot: newSlot[panicMsg]}},
	split: func(p *Parser, ctx context.Context, data []byte, _ uint64, ingest int64) error {
		return p.run(ctx, 0, data, nil, ingest)
	},
}

// A panic inside the decoder is recovered at the parser boundary: a
// *ParseError wrapping ErrDecoderPanic, counted, logged, and the event
// returned to its pool; the next message is normalised as usual.
func TestDecoderPanicRecovered(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	var logs strings.Builder
	p := newParser(&panicSpec, events, sink, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	err := p.HandleBytes(ctx, []byte(`{"s":"BTCUSDT","p":"boom"}`), 1)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	require.ErrorIs(t, err, ErrDecoderPanic)
	require.Equal(t, schema.VenueBinance, pe.Venue)
	st := p.Stats()
	require.Equal(t, uint64(1), st.Panics)
	require.Equal(t, uint64(1), st.Errors)
	require.Zero(t, events.Stats().InUse)
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "venue=binance")
	require.Contains(t, logs.String(), "decoder panic")

	require.NoError(t, p.HandleBytes(ctx, []byte(`{"s":"BTCUSDT","p":"1.5"}`), 1))
	require.Len(t, sink.got, 1)
	requireDigits(t, "1.5", sink.got[0].Trade.Price)
	require.Zero(t, events.Stats().InUse)
}

// The logger hears faults only: nothing for a message that normalises.
func TestLoggerSilentOnHappyPath(t *testing.T) {
	var logs strings.Builder
	events := schema.NewPools(nil).Events
	p := NewBinance(events, &putSink{events: events}, &Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, fixture(t, "trade"), 1))
	require.Empty(t, logs.String())
	require.Error(t, p.HandleBytes(ctx, []byte(`{"e":"trade","s":"BTCUSDT","t":1,"p":"-1","q":"1"}`), 1))
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "symbol=BTC-USDT")
	require.True(t, errors.Is(p.HandleBytes(ctx, []byte(`{"e":"trade"`), 1), ErrMalformed))
}

// Every venue's split fills the parser's ProviderRaw with the message's
// stream or channel and its payload while the message is decoded.
func TestProviderRawEveryVenue(t *testing.T) {
	for _, tc := range []struct {
		venue         schema.Venue
		frame, stream string
		payloadPrefix string
	}{
		{schema.VenueBinance, `{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}`, "btcusdt@trade", `{"e":"trade"`},
		{schema.VenueOKX, `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"}]}`, "trades", `{"arg"`},
		{schema.VenueBybit, `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"x"}]}`, "publicTrade.BTCUSDT", `{"topic"`},
		{schema.VenueCoinbase, `{"channel":"market_trades","timestamp":"2024-01-01T00:00:00Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"2024-01-01T00:00:00Z"}]}]}`, "market_trades", `{"channel"`},
		{schema.VenueKraken, `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":1,"trade_id":1,"timestamp":"2024-01-01T00:00:00Z"}]}`, "trade", `{"channel"`},
	} {
		t.Run(string(tc.venue), func(t *testing.T) {
			events := schema.NewPools(nil).Events
			var seen schema.ProviderRaw
			var p *Parser
			sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
				seen = *p.raw.Clone()
				events.Put(ev)
				return nil
			})
			p = newVenueParser(tc.venue, events, sink).(*Parser)
			require.NoError(t, p.HandleFrame(context.Background(), &schema.WsFrame{Provider: tc.venue, Data: []byte(tc.frame), ConnID: 7, ReceivedAt: 9}))
			require.Equal(t, tc.venue, seen.Provider)
			require.Equal(t, uint64(7), seen.ConnID)
			require.Equal(t, int64(9), seen.ReceivedAt)
			require.Equal(t, tc.stream, string(seen.Stream))
			require.True(t, strings.HasPrefix(string(seen.Payload), tc.payloadPrefix), "%s", seen.Payload)
			require.Nil(t, p.raw.Payload, "nothing refers to the frame after the call")
		})
	}
}

// HandleRaw and HandleSnapshot are Binance's: other venues refuse them.
func TestBinanceOnlyEntryPoints(t *testing.T) {
	events := schema.NewPools(nil).Events
	p := NewOKX(events, &putSink{events: events}, nil)
	ctx := context.Background()
	require.ErrorIs(t, p.HandleSnapshot(ctx, "BTC-USDT", []byte(`{"lastUpdateId":1,"bids":[],"asks":[]}`), 1), ErrBadValue)
	require.ErrorIs(t, p.HandleRaw(ctx, &schema.ProviderRaw{Provider: schema.VenueOKX, Payload: []byte(`{}`)}), ErrBadValue)
	require.Zero(t, events.Stats().InUse)
}
