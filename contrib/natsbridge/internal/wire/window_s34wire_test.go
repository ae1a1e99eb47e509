package wire

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/contrib/natsbridge/internal/fixture"
	"github.com/meltica/meltica/schema"
)

// Layout 9 carries a ticker's Window and WeightedAvgPrice (Binance "w";
// WebSocket Streams "Individual Symbol Rolling Window Statistics
// Streams"); 8, 7 and 6 leave them out and read them as zero, and a
// ticker whose only fields are those two has no ticker section there.
func TestS34wireWindowLayouts(t *testing.T) {
	src := &schema.CanonicalEvent{}
	fixture.Full(src, 2)
	var d Decoder
	got := &schema.CanonicalEvent{}
	v9 := AppendRun(nil, src, 5, 6)
	require.Equal(t, byte(9), v9[0])
	_, err := d.Decode(v9, got)
	require.NoError(t, err)
	require.Equal(t, "1h", got.Ticker.Window)
	require.Equal(t, "0.18000002", got.Ticker.WeightedAvgPrice.String())
	require.True(t, PerView(v9), "9 numbers per view as 8 does")

	for _, v := range []byte{Version8, Version7, PrevVersion} {
		got.Reset()
		_, err = d.Decode(AppendVersion(nil, src, 5, 6, v), got)
		require.NoError(t, err, "layout %d", v)
		require.Empty(t, got.Ticker.Window, "layout %d", v)
		require.True(t, got.Ticker.WeightedAvgPrice.IsZero(), "layout %d", v)
		require.Equal(t, src.Ticker.Last, got.Ticker.Last, "layout %d keeps the rest", v)
	}

	only := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTicker}
	only.UseTicker().Window, only.UseTicker().WeightedAvgPrice = "4h", schema.NewDecimal(1, 0)
	got.Reset()
	_, err = d.Decode(Append(nil, only, 1), got)
	require.NoError(t, err)
	require.Equal(t, only.Clone(), got.Clone())
	got.Reset()
	_, err = d.Decode(AppendVersion(nil, only, 1, 0, Version8), got)
	require.NoError(t, err)
	require.Equal(t, &schema.Ticker{}, got.Ticker, "8 carries the ticker section, without the window and the average")
}

// A window is interned as an interval is: decoding a ticker of a window
// seen before allocates nothing, and the string is not a slice of the
// message (which the caller reuses).
func TestS34wireWindowInterned(t *testing.T) {
	src := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTicker}
	src.UseTicker().Window, src.UseTicker().Last = "1d", schema.NewDecimal(5, 1)
	var d Decoder
	dst := pooledEvent(t)
	buf := Append(nil, src, 1)
	_, err := d.Decode(buf, dst)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		dst.Reset()
		if _, err := d.Decode(buf, dst); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
	for i := range buf {
		buf[i] = 0
	}
	require.Equal(t, "1d", dst.Ticker.Window)
}
