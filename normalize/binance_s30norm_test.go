package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Binance USDⓈ-M Futures "Partial Book Depth Streams" response example,
// as a raw connection ("/ws/btcusdt@depth5") delivers it: the diff's shape.
const bnFuturesPartial = `{"e":"depthUpdate","E":1571889248277,"T":1571889248276,"s":"BTCUSDT","U":390497796,"u":390497878,"pu":390497794,` +
	`"b":[["7403.89","0.002"],["7403.90","3.906"],["7404.00","1.428"],["7404.85","5.239"],["7405.43","2.562"]],` +
	`"a":[["7405.96","3.340"],["7406.63","4.525"],["7407.08","2.475"],["7407.15","4.800"],["7407.20","0.175"]]}`

// Binance Spot "Diff. Depth Stream": no "pu".
const bnSpotDiff = `{"e":"depthUpdate","E":1672515782136,"s":"BTCUSDT","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}`

// A futures partial depth view on a raw connection has a diff's shape
// ("e":"depthUpdate" with "pu"); it was read as a diff, so the levels that
// left the top 5 were never removed from a book fed by it. The stream's
// name is the only thing that tells them apart (Binance USDⓈ-M Futures
// "Partial Book Depth Streams"); Options.RawStreams gives it for a raw
// connection. Failed before the fix (an EventBookUpdate, Depth 0).
func TestS30BinanceRawFuturesPartialDepth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		streams []string
		msg     string
		typ     schema.EventType
		depth   int
		refused bool
	}{
		{"listed view", []string{"btcusdt@depth5@100ms"}, bnFuturesPartial, schema.EventBookSnapshot, 5, false},
		{"listed view, 250ms", []string{"btcusdt@trade", "btcusdt@depth20"}, bnFuturesPartial, schema.EventBookSnapshot, 20, false},
		{"nothing listed: a diff", nil, bnFuturesPartial, schema.EventBookUpdate, 0, false},
		{"another symbol's view", []string{"ethusdt@depth5"}, bnFuturesPartial, schema.EventBookUpdate, 0, false},
		{"the diff stream listed", []string{"ethusdt@depth5", "btcusdt@depth@100ms"}, bnFuturesPartial, schema.EventBookUpdate, 0, false},
		{"spot diff beside a listed view", []string{"btcusdt@depth5"}, bnSpotDiff, schema.EventBookUpdate, 0, false},
		{"view and diff of one symbol", []string{"btcusdt@depth5", "btcusdt@depth"}, bnFuturesPartial, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := NewBinance(events, sink, &Options{RawStreams: tc.streams})
			err := p.HandleBytes(context.Background(), []byte(tc.msg), 1)
			require.Zero(t, events.Stats().InUse)
			if tc.refused {
				var perr *ParseError
				require.ErrorAs(t, err, &perr)
				require.True(t, errors.Is(err, ErrBadValue))
				require.Empty(t, sink.got)
				return
			}
			require.NoError(t, err)
			require.Len(t, sink.got, 1)
			ev := sink.got[0]
			require.Equal(t, tc.typ, ev.Type)
			require.Equal(t, tc.depth, ev.Book.Depth)
			require.Equal(t, "BTC-USDT", ev.Symbol)
			if tc.typ == schema.EventBookSnapshot {
				require.Len(t, ev.Book.Bids, 5)
				require.Len(t, ev.Book.Asks, 5)
				require.Equal(t, uint64(390497878), ev.Book.LastSeq)
			}
		})
	}
	// The combined stream's name tells it with no list.
	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	p := NewBinance(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"stream":"btcusdt@depth5@100ms","data":`+bnFuturesPartial+`}`), 1))
	require.Equal(t, schema.EventBookSnapshot, sink.got[0].Type)
	require.Equal(t, 5, sink.got[0].Book.Depth)
}

// The raw view's probe costs no allocation.
func TestS30BinanceRawPartialDepthAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	events := schema.NewPools(nil).Events
	p := NewBinance(events, &putSink{events: events}, &Options{RawStreams: []string{"btcusdt@depth5@100ms"}})
	ctx := context.Background()
	for _, msg := range []string{bnFuturesPartial, bnSpotDiff} {
		data := []byte(msg)
		require.NoError(t, p.HandleBytes(ctx, data, 1))
		require.Zero(t, testing.AllocsPerRun(100, func() { _ = p.HandleBytes(ctx, data, 1) }), msg)
	}
}

// FuzzS30BinanceRawStreams fuzzes raw frames on a parser told of a raw
// connection's partial depth views (Options.RawStreams), so that the
// probe that tells a view from a diff runs on every depthUpdate.
func FuzzS30BinanceRawStreams(f *testing.F) {
	seeds(f)
	f.Add([]byte(bnFuturesPartial))
	f.Add([]byte(bnSpotDiff))
	f.Fuzz(func(t *testing.T, data []byte) {
		events := pool.New("fuzz", 8, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			defer events.Put(ev)
			if err := s41fuzzCheck(ev); err != nil {
				t.Fatalf("published an invalid event: %v: %+v", err, ev)
			}
			return nil
		})
		for _, streams := range [][]string{{"btcusdt@depth5@100ms", "ethusdt@depth20"}, {"btcusdt@depth5", "btcusdt@depth"}} {
			p := NewBinance(events, sink, &Options{RawStreams: streams})
			checkResult(t, p.HandleBytes(context.Background(), data, 1), events)
			s41fuzzNoPanic(t, p)
		}
	})
}
