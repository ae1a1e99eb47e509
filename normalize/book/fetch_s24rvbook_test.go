package book

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// USDⓈ-M and COIN-M "Order Book": "Valid limits:[5, 10, 20, 50, 100,
// 500, 1000]" — any other limit is a request the venue refuses ("-1100
// Illegal characters found in parameter 'limit'; legal range is '5, 10,
// 20, 50, 100, 500, 1000'", ccxt/go-binance#37), and a book that never
// goes live. BinanceREST asks for the least valid limit at or above its
// Limit (1000 at most), and SnapshotDepth says that limit: a snapshot of
// fewer levels than Limit but as many as the venue served is truncated,
// not whole.
func TestBinanceRESTFuturesLimitIsValid(t *testing.T) {
	body := `{"lastUpdateId":7,"E":1,"T":1,"bids":[["100.0","1"]],"asks":[["101.0","1"]]}`
	for _, c := range []struct{ limit, want int }{
		{1, 5}, {5, 5}, {6, 10}, {15, 20}, {21, 50}, {99, 100}, {200, 500}, {500, 500}, {501, 1000}, {0, 1000}, {5000, 1000},
	} {
		for _, path := range []string{BinanceUSDMDepth, BinanceCOINMDepth} {
			srv := newDepthServer(t, path, body)
			f := &BinanceREST{BaseURL: srv.srv.URL, Path: path, Limit: c.limit}
			var ev schema.CanonicalEvent
			require.NoError(t, f.Fetch(context.Background(), "BTC-USDT", &ev))
			require.Len(t, srv.requests(), 1)
			require.Contains(t, srv.requests()[0], "&limit="+strconv.Itoa(c.want), "%s Limit %d", path, c.limit)
			require.Equal(t, c.want, f.SnapshotDepth(), "%s Limit %d", path, c.limit)
		}
	}
	// Spot takes any limit up to 5000 ("Default 100; max 5000").
	for _, c := range []struct{ limit, want int }{{1, 1}, {200, 200}, {0, 1000}, {5001, 5000}} {
		f := &BinanceREST{Limit: c.limit}
		require.Equal(t, c.want, f.SnapshotDepth(), "spot Limit %d", c.limit)
	}
}
