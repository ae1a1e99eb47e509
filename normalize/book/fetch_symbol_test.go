package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// BinanceREST asks for the venue's spelling of the symbol by default
// (Binance COIN-M "Order Book": symbol BTCUSD_PERP, BTCUSD_250328; spot
// and USDⓈ-M BTCUSDT), the spelling the Binance parser reads back as the
// book's canonical symbol: with the dashes merely removed, a COIN-M book
// asked for BTCUSDPERP and never got a snapshot.
func TestBinanceRESTVenueSymbol(t *testing.T) {
	body := `{"lastUpdateId":7,"E":1,"T":1,"bids":[["100.0","1"]],"asks":[["101.0","1"]]}`
	for _, tc := range []struct{ path, symbol, want string }{
		{BinanceCOINMDepth, "BTC-USD-PERP", "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000"},
		{BinanceCOINMDepth, "ETH-USD-250328", "/dapi/v1/depth?symbol=ETHUSD_250328&limit=1000"},
		{BinanceUSDMDepth, "BTC-USDT", "/fapi/v1/depth?symbol=BTCUSDT&limit=1000"},
		{BinanceSpotDepth, "1000SATS-FDUSD", "/api/v3/depth?symbol=1000SATSFDUSD&limit=1000"},
	} {
		srv := newDepthServer(t, tc.path, body)
		var ev schema.CanonicalEvent
		require.NoError(t, (&BinanceREST{BaseURL: srv.srv.URL, Path: tc.path}).Fetch(context.Background(), tc.symbol, &ev), tc.symbol)
		require.Equal(t, []string{tc.want}, srv.requests())
		require.Equal(t, tc.symbol, ev.Symbol)
		require.Equal(t, uint64(7), ev.Book.LastSeq)
	}
}
