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

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// BinanceREST parsed its snapshot with the request's ctx after the
// request's deadline was ended (end cancels it): the parse got a
// cancelled ctx, and worked only because the parser's pool had a free
// slot and did not wait. It now parses with the caller's ctx, live.
func TestS33BinanceRESTParsesWithALiveContext(t *testing.T) {
	srv := newDepthServer(t, BinanceSpotDepth, `{"lastUpdateId":7,"bids":[["100","1"]],"asks":[["101","1"]]}`)
	parse := parseBinanceSnapshot
	t.Cleanup(func() { parseBinanceSnapshot = parse })
	var seen error
	parseBinanceSnapshot = func(ctx context.Context, syms *normalize.Symbols, vs string, data []byte, dst *schema.CanonicalEvent) error {
		seen = ctx.Err()
		return parse(ctx, syms, vs, data, dst)
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"system clock", context.Background()},
		{"book's clock", withBookClock(context.Background(), newStepClock())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = errors.New("not parsed")
			var ev schema.CanonicalEvent
			require.NoError(t, (&BinanceREST{BaseURL: srv.srv.URL}).Fetch(tc.ctx, "BTC-USDT", &ev))
			require.NoError(t, seen, "the snapshot is parsed with a live ctx")
			require.Equal(t, uint64(7), ev.Book.LastSeq)
		})
	}
}

// stoppedClock is a replay's clock while no event comes: it never moves,
// so nothing on it ever fires.
type stoppedClock struct{ wsclient.Clock }

type stoppedTimer struct{}

func (stoppedTimer) C() <-chan time.Time                   { return nil }
func (stoppedTimer) Stop() bool                            { return true }
func (stoppedTimer) Reset(time.Duration) bool              { return true }
func (stoppedClock) Now() time.Time                        { return time.Unix(1_700_000_000, 0) }
func (stoppedClock) NewTimer(time.Duration) wsclient.Timer { return stoppedTimer{} }
func (stoppedClock) AfterFunc(time.Duration, func()) wsclient.Timer {
	return stoppedTimer{}
}
func (stoppedClock) Sleep(ctx context.Context, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

// A fetch was timed on the book's clock alone: on a clock that does not
// move while the fetch holds the stream — a replay's, advanced by the
// events the fetch keeps waiting in the socket — a venue that never
// answers (or an OKXLimiter's wait for its window) held the stream for
// good, bounded only by the caller's ctx. A fetch's Timeout now passes on
// the wall clock too (its request goes over a real network): whichever
// clock passes it first ends the fetch, with an error matching
// context.DeadlineExceeded.
func TestS33FetchOnAStoppedClockEnds(t *testing.T) {
	clk := stoppedClock{wsclient.SystemClock()}
	t.Run("Binance, a venue that never answers", func(t *testing.T) {
		_, url := newSilentVenue(t)
		b, _, _ := newRecBook(t, Binance, "BTC-USDT", &Options{
			Fetcher: &BinanceREST{BaseURL: url, Timeout: 100 * time.Millisecond}, Clock: clk})
		ev := viaParser(t, normalize.NewBinance, []byte(binanceDiff("BTCUSDT", 1000, 1001, -1, [][2]string{{"100.00", "2.0"}}, nil)))
		_ = requireEnds(t, func() error { return b.Apply(context.Background(), ev) })
		require.Equal(t, uint64(1), b.Stats().FetchErrors)
		require.False(t, b.Live())
	})
	t.Run("OKX, a venue that never answers", func(t *testing.T) {
		_, url := newSilentVenue(t)
		b, _, _ := newRecBook(t, OKXFetch, "BTC-USDT", &Options{
			Fetcher: &OKXREST{BaseURL: url, Timeout: 100 * time.Millisecond}, Clock: clk})
		ev := viaParser(t, normalize.NewOKX, okxRaw("books", "update", 10, 11, `["100","2","0","1"]`, ``, ""))
		_ = requireEnds(t, func() error { return b.Apply(context.Background(), ev) })
		require.Equal(t, uint64(1), b.Stats().FetchErrors)
	})
	t.Run("OKX, the limiter's wait", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = fmt.Fprint(w, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`))
		}))
		t.Cleanup(srv.Close)
		rest := &OKXREST{BaseURL: srv.URL, Timeout: okxBooksPer} // the window's wait is within Timeout: it waits
		ctx := withBookClock(context.Background(), clk)
		var ev schema.CanonicalEvent
		for range okxBooksRequests {
			require.NoError(t, rest.Fetch(ctx, "BTC-USDT", &ev))
		}
		_ = requireEnds(t, func() error { return rest.Fetch(ctx, "BTC-USDT", &ev) })
	})
}

// requireEnds runs fetch and requires it to end, within 30 s of wall time,
// with an error matching context.DeadlineExceeded, which it returns.
func requireEnds(t *testing.T, fetch func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fetch() }()
	select {
	case err := <-done:
		require.Error(t, err)
		require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the fetch did not end: its clock never fires")
		return nil
	}
}
