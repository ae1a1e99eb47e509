package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// OKX tickers: vol24h and volCcy24h mean different things by instType.
func TestOKXTickerVolumesByInstType(t *testing.T) {
	frame := func(instType, instID string) []byte {
		typ := ""
		if instType != "" {
			typ = `"instType":"` + instType + `",`
		}
		return []byte(`{"arg":{"channel":"tickers","instId":"` + instID + `"},"data":[{` + typ + `"instId":"` + instID + `","last":"30236","askPx":"30237","bidPx":"30235","lastSz":"1","askSz":"1","bidSz":"1","open24h":"1","high24h":"1","low24h":"1","vol24h":"1760213","volCcy24h":"17602.13","ts":"1652459224956"}]}`)
	}
	for _, tc := range []struct {
		name, instType, instID string
		volume, quote          string
	}{
		{"spot: base and quote", "SPOT", "BTC-USDT", "1760213", "17602.13"},
		{"margin: base and quote", "MARGIN", "BTC-USDT", "1760213", "17602.13"},
		{"swap: contracts, then base", "SWAP", "BTC-USDT-SWAP", "17602.13", "0"},
		{"futures", "FUTURES", "BTC-USD-250328", "17602.13", "0"},
		{"no instType: a swap by its id", "", "BTC-USDT-SWAP", "17602.13", "0"},
		{"no instType: spot by its id", "", "BTC-USDT", "1760213", "17602.13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, sink := newTestVenue(t, schema.VenueOKX)
			require.NoError(t, p.HandleBytes(context.Background(), frame(tc.instType, tc.instID), 1))
			require.Len(t, sink.got, 1)
			tk := sink.got[0].Ticker
			requireDigits(t, tc.volume, tk.Volume)
			requireDigits(t, tc.quote, tk.QuoteVolume)
		})
	}
}

// Kraken v1 book levels carry their update times: the latest is the
// event's ExchangeTS. With KeepRaw, an update sent as two objects keeps
// the whole message.
func TestKrakenV1BookTimesAndRaw(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewKraken(events, sink, &Options{KeepRaw: true})
	frame := venueFixture(t, kr, "v1_book_update")
	require.NoError(t, p.HandleBytes(context.Background(), frame, 1))
	require.Len(t, sink.got, 1)
	ev := sink.got[0]
	require.Equal(t, int64(1534614335345903000), ev.ExchangeTS, "the bids' time, later than the asks'")
	require.Equal(t, string(frame), string(ev.Raw))

	one := []byte(`[1234,{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"},"book-10","XBT/USD"]`)
	require.NoError(t, p.HandleBytes(context.Background(), one, 1))
	require.Equal(t, int64(1534614248456738000), sink.got[1].ExchangeTS)
	require.Equal(t, `{"a":[["5541.30000","2.50700000","1534614248.456738"]],"c":"974942666"}`, string(sink.got[1].Raw))
	require.Zero(t, events.Stats().InUse)
}
