package book

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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

// Binance answers a client that broke its request rate limit with 429, and
// one that went on with 418 (an IP ban from 2 minutes to 3 days), each
// with Retry-After, the seconds to wait ("General API Information",
// "LIMITS"). The fetch error says so, typed, and the book fetches again
// only after that wait, however short its RetryInterval; a refusal
// without Retry-After waits RetryInterval only.
func TestFetchHonoursRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		again      bool // a second diff fetches again at once
	}{
		{http.StatusTeapot, "3600", false},
		{http.StatusTooManyRequests, "120", false},
		{http.StatusInternalServerError, "", true},
	} {
		var mu sync.Mutex
		calls := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			calls++
			mu.Unlock()
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(`{"code":-1003,"msg":"Way too many requests"}`))
		}))
		t.Cleanup(srv.Close)
		bk, _, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: &BinanceREST{BaseURL: srv.URL}, RetryInterval: time.Nanosecond})
		err := bk.Apply(context.Background(), bookEv(schema.VenueBinance, schema.EventBookUpdate, 10, 11, 0, []schema.Level{lvl("1", "1")}, nil))
		var fe *FetchError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, tc.status, fe.Status)
		if tc.retryAfter != "" {
			require.NotZero(t, fe.RetryAfter)
		}
		_ = bk.Apply(context.Background(), bookEv(schema.VenueBinance, schema.EventBookUpdate, 12, 13, 0, []schema.Level{lvl("1", "2")}, nil))
		mu.Lock()
		got := calls
		mu.Unlock()
		if tc.again {
			require.Equal(t, 2, got, "HTTP %d without Retry-After", tc.status)
		} else {
			require.Equal(t, 1, got, "HTTP %d: Retry-After %s not honoured", tc.status, tc.retryAfter)
		}
		require.False(t, bk.Live())
	}
}
