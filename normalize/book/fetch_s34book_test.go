package book

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// A fetch whose Timeout passed is one error, whichever clock ended it: a
// fetchTimeoutError ("book: no snapshot within …") matching
// context.DeadlineExceeded. Only the injected clock's deadline gave one;
// the wall clock's (a replay's clock standing still) and the system
// clock's ended the fetch with the HTTP client's error or the limiter's
// wait's, a host or a test telling a timeout by its type saw none.
func TestS34FetchTimeoutIsOneErrorOnEveryClock(t *testing.T) {
	stopped := stoppedClock{wsclient.SystemClock()}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		rest func(url string) Fetcher
	}{
		{"Binance, system clock", context.Background(), func(url string) Fetcher {
			return &BinanceREST{BaseURL: url, Timeout: 100 * time.Millisecond}
		}},
		{"Binance, a stopped clock: the wall clock ends it", withBookClock(context.Background(), stopped), func(url string) Fetcher {
			return &BinanceREST{BaseURL: url, Timeout: 100 * time.Millisecond}
		}},
		{"OKX, system clock", context.Background(), func(url string) Fetcher {
			return &OKXREST{BaseURL: url, Timeout: 100 * time.Millisecond}
		}},
		{"OKX, a stopped clock: the wall clock ends it", withBookClock(context.Background(), stopped), func(url string) Fetcher {
			return &OKXREST{BaseURL: url, Timeout: 100 * time.Millisecond}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := newSilentVenue(t)
			var ev schema.CanonicalEvent
			requireFetchTimeout(t, func() error { return tc.rest(url).Fetch(tc.ctx, "BTC-USDT", &ev) })
		})
	}
	t.Run("OKX, the limiter's wait on a stopped clock", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = fmt.Fprint(w, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`))
		}))
		t.Cleanup(srv.Close)
		lim := &OKXLimiter{Requests: 1}
		first := &OKXREST{BaseURL: srv.URL, Timeout: time.Minute, Limiter: lim} // the window's one request, on a loaded machine too
		rest := &OKXREST{BaseURL: srv.URL, Timeout: okxBooksPer, Limiter: lim}  // waits for the next window: Per, within its Timeout
		ctx := withBookClock(context.Background(), stopped)
		var ev schema.CanonicalEvent
		require.NoError(t, first.Fetch(ctx, "BTC-USDT", &ev))
		requireFetchTimeout(t, func() error { return rest.Fetch(ctx, "BTC-USDT", &ev) })
	})
}

// requireFetchTimeout runs fetch and requires it to end, within 30 s of
// wall time, with a fetchTimeoutError matching context.DeadlineExceeded.
func requireFetchTimeout(t *testing.T, fetch func() error) {
	t.Helper()
	var te fetchTimeoutError
	err := requireEnds(t, fetch)
	require.True(t, errors.As(err, &te), "not a fetchTimeoutError: %v", err)
}
