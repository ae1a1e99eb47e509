package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Binance USDⓈ-M's trade stream now and then sends an entry with
// "X":"NA", price 0 and quantity 0 (hftbacktest issue #263): no trade. It
// is counted Ignored, costs no error and no event, and the trades around
// it (ids before and after it) are delivered as usual.
func TestS48naBinanceFuturesNoTradeIgnored(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBinance(events, sink, nil)
	ctx := context.Background()
	frames := []string{
		`{"e":"trade","E":1756220468098,"T":1756220468098,"s":"BTCUSDT","t":6587981239,"p":"110000.10","q":"0.002","X":"MARKET","m":false}`,
		`{"e":"trade","E":1756220468099,"T":1756220468099,"s":"BTCUSDT","t":6587981240,"p":"0","q":"0","X":"NA","m":true}`,
		`{"stream":"btcusdt@trade","data":{"e":"trade","E":1756220468099,"T":1756220468099,"s":"BTCUSDT","t":6587981241,"p":"0","q":"0","X":"NA","m":true}}`,
		`{"e":"trade","E":1756220468100,"T":1756220468100,"s":"BTCUSDT","t":6587981242,"p":"110000.20","q":"0.001","X":"MARKET","m":true}`,
	}
	for i, f := range frames {
		require.NoError(t, p.HandleBytes(ctx, []byte(f), int64(i+1)), f)
	}
	require.Len(t, sink.got, 2)
	require.Equal(t, "110000.10", sink.got[0].Trade.Price.String())
	require.Equal(t, "110000.20", sink.got[1].Trade.Price.String())
	st := p.Stats()
	require.Equal(t, uint64(2), st.Ignored)
	require.Zero(t, st.Errors)
	require.Equal(t, uint64(4), st.Messages)

	// Another type is a trade as before: its price 0 is still refused.
	err := p.HandleBytes(ctx, []byte(`{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":6587981243,"p":"0","q":"0","X":"MARKET","m":true}`), 5)
	require.ErrorIs(t, err, ErrBadValue)
	require.Zero(t, events.Stats().InUse)
}
