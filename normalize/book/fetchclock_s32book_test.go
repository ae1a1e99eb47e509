package book

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// silentVenue accepts every request and never answers it: each request's
// arrival is signalled on got, and its handler returns only once the
// client gave up (the request's ctx) or the test ended.
type silentVenue struct {
	got  chan struct{}
	done chan struct{}
	once sync.Once
}

func newSilentVenue(t *testing.T) (*silentVenue, string) {
	v := &silentVenue{got: make(chan struct{}, 16), done: make(chan struct{})}
	srv := httptest.NewServer(v)
	t.Cleanup(func() {
		v.once.Do(func() { close(v.done) })
		srv.Close()
	})
	return v, srv.URL
}

func (v *silentVenue) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	v.got <- struct{}{}
	select {
	case <-r.Context().Done():
	case <-v.done:
	}
}

// A REST snapshot fetch was bounded by its Timeout on the wall clock
// (context.WithTimeout), while everything else a book times — its
// RetryInterval, its backoff, its MaxSilence — and everything else of a
// session runs on the injected Clock: a host replaying or simulating on
// its own clock, or a test, got a stalled fetch bounded only by wall time
// (an hour here: the test's 30 s ran out). The fetch now follows the
// book's Options.Clock (passed to the fetchers of this package; neither
// fetcher sets a Clock of its own here, as session builds them): once
// the book's clock passes Timeout, the fetch ends with an error matching
// context.DeadlineExceeded and the book counts a failed fetch.
func TestS32FetchTimesOutOnTheBooksClock(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rule  Rule
		fetch func(url string) Fetcher
		diff  []byte
	}{
		{"Binance", Binance, func(url string) Fetcher { return &BinanceREST{BaseURL: url, Timeout: time.Hour} },
			[]byte(binanceDiff("BTCUSDT", 1000, 1001, -1, [][2]string{{"100.00", "2.0"}}, nil))},
		{"OKX", OKXFetch, func(url string) Fetcher { return &OKXREST{BaseURL: url, Timeout: time.Hour} },
			okxRaw("books", "update", 10, 11, `["100","2","0","1"]`, ``, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			venue, url := newSilentVenue(t)
			clk := newStepClock()
			b, _, _ := newRecBook(t, tc.rule, "BTC-USDT", &Options{Fetcher: tc.fetch(url), Clock: clk})
			var ev *schema.CanonicalEvent
			if tc.rule.Venue == schema.VenueBinance {
				ev = viaParser(t, normalize.NewBinance, tc.diff)
			} else {
				ev = viaParser(t, normalize.NewOKX, tc.diff)
			}
			applied := make(chan error, 1)
			go func() { applied <- b.Apply(context.Background(), ev) }()
			select {
			case <-venue.got: // the fetch's deadline is armed before its request goes
			case <-time.After(30 * time.Second):
				t.Fatal("no snapshot request came")
			}
			// Fire the clock until the fetch ends: its timer is armed by now,
			// but step again should anything else be pending first.
			var err error
			deadline := time.After(30 * time.Second)
		wait:
			for {
				clk.step(time.Hour)
				select {
				case err = <-applied:
					break wait
				case <-time.After(50 * time.Millisecond):
				case <-deadline:
					t.Fatal("the fetch did not end when the book's clock passed its Timeout")
				}
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
			require.Equal(t, uint64(1), b.Stats().FetchErrors)
			require.False(t, b.Live())
			require.Zero(t, clk.pending(), "the fetch's timer is stopped")
		})
	}
}

// An OKXREST without a Limiter of its own keeps to OKX's limit with a
// limiter of its own, which timed its window on the system clock whatever
// the book's: a replay's or a test's books waited out the 2 s window in
// wall time while their clock stood still (the 41st request went at the
// first's time, by the book's clock). The limiter without a Clock now
// takes the fetch's: the book's.
func TestS32OKXOwnLimiterOnTheBooksClock(t *testing.T) {
	rest, v, clock := newOKXTimed(t, func(int) (int, string) {
		return http.StatusOK, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`)
	})
	rest.Limiter = nil // its own
	ctx := withBookClock(context.Background(), clock)
	var ev schema.CanonicalEvent
	for range okxBooksRequests + 1 {
		require.NoError(t, rest.Fetch(ctx, "BTC-USDT", &ev))
	}
	at := v.times()
	require.Equal(t, okxBooksPer, at[okxBooksRequests].Sub(at[0]), "the 41st request waits the window out on the book's clock")
}
