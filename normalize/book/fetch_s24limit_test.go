package book

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Binance spot "Order book" (GET /api/v3/depth): "limit: Default 100;
// max 5000. If limit > 5000, then the response will truncate to 5000."
// A BinanceREST whose Limit is above the venue's maximum gets a snapshot
// truncated at the maximum: its sides are not whole, and the book must
// still keep its top within the snapshot's range. Taken for whole sides
// (fewer levels than Limit), the book served a best bid from below the
// snapshot's worst level — one it never saw — as live.
func TestBinanceRESTLimitAboveVenueMaximum(t *testing.T) {
	const venueMax, levels = 5000, 5001 // the venue's book is deeper than it serves
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		n := min(limit, venueMax, levels)
		var bids, asks []string
		for i := range n {
			bids = append(bids, fmt.Sprintf(`["%d","1"]`, 100000-i))
			asks = append(asks, fmt.Sprintf(`["%d","1"]`, 200000+i))
		}
		_, _ = fmt.Fprintf(w, `{"lastUpdateId":10,"bids":[%s],"asks":[%s]}`, strings.Join(bids, ","), strings.Join(asks, ","))
	}))
	t.Cleanup(srv.Close)
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: &BinanceREST{BaseURL: srv.URL, Limit: 6000}})
	x.feed(t, binanceDiff("BTCUSDT", 11, 11, -1, nil, [][2]string{{"200000", "2"}}))
	require.True(t, x.b.Live())
	// Every bid the snapshot held is taken: the venue's best bid is now
	// 95000, the 5001st level, which the book never saw.
	var gone [][2]string
	for i := range venueMax {
		gone = append(gone, [2]string{strconv.Itoa(100000 - i), "0"})
	}
	x.feed(t, binanceDiff("BTCUSDT", 12, 12, -1, gone, nil))
	require.False(t, x.b.Live(), "a book whose bids all left a truncated snapshot's range was served as live")
	m := x.markers()
	require.NotEmpty(t, m)
	require.Equal(t, ReasonRange, m[0].Control.Reason)
}

// USDⓈ-M and COIN-M "Order Book": "Valid limits:[5, 10, 20, 50, 100,
// 500, 1000]". A Limit above 1000 asks for 1000, the most the endpoint
// serves, rather than a request the venue refuses (and a book that never
// goes live).
func TestBinanceRESTFuturesLimitCapped(t *testing.T) {
	body := `{"lastUpdateId":7,"E":1,"T":1,"bids":[["100.0","1"]],"asks":[["101.0","1"]]}`
	for _, path := range []string{BinanceUSDMDepth, BinanceCOINMDepth} {
		srv := newDepthServer(t, path, body)
		f := &BinanceREST{BaseURL: srv.srv.URL, Path: path, Limit: 5000}
		var ev schema.CanonicalEvent
		require.NoError(t, f.Fetch(context.Background(), "BTC-USDT", &ev))
		require.Len(t, srv.requests(), 1)
		require.Contains(t, srv.requests()[0], "&limit=1000", path)
		require.Equal(t, 1000, f.SnapshotDepth())
	}
}
