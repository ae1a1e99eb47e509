package book

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// BinanceREST's Timeout is the whole fetch's, not an idle one: a venue
// that answers at once and then drips its body a byte at a time, never
// idle for long, is cut at Timeout with context.DeadlineExceeded.
func TestBinanceRESTSlowDripBodyTimesOut(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `{"lastUpdateId":7,"bids":[`)
		w.(http.Flusher).Flush()
		tick := time.NewTicker(time.Millisecond) // a server's pace, not a test's wait
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
				if _, err := fmt.Fprint(w, " "); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	f := &BinanceREST{BaseURL: srv.URL, Timeout: 50 * time.Millisecond}
	err := awaitFetch(t, f, context.Background(), nil)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// awaitFetch runs f.Fetch on a goroutine, calls then (if any) while it
// runs, and returns its error; a fetch that never returns fails the test
// (a generous guard, not a measure).
func awaitFetch(t *testing.T, f *BinanceREST, ctx context.Context, then func()) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		var ev schema.CanonicalEvent
		done <- f.Fetch(ctx, "BTC-USDT", &ev)
	}()
	if then != nil {
		then()
	}
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("a fetch never returned")
		return nil
	}
}

// A body of exactly MaxBody bytes is read and decoded; one byte more is
// a *SnapshotSizeError.
func TestBinanceRESTBodyExactlyMaxBody(t *testing.T) {
	body := `{"lastUpdateId":7,"bids":[["100","1"]],"asks":[["101","1"]]}`
	for _, c := range []struct {
		pad  int
		fail bool
	}{{0, false}, {1, true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprint(w, body+strings.Repeat(" ", c.pad))
		}))
		f := &BinanceREST{BaseURL: srv.URL, MaxBody: int64(len(body))}
		var ev schema.CanonicalEvent
		err := f.Fetch(context.Background(), "BTC-USDT", &ev)
		srv.Close()
		if c.fail {
			var se *SnapshotSizeError
			require.ErrorAs(t, err, &se)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, uint64(7), ev.Book.LastSeq)
	}
}

// The caller's context still ends a fetch, before Timeout: a host
// closing down is not held for 10 s.
func TestBinanceRESTFetchCallerCancels(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	f := &BinanceREST{BaseURL: srv.URL, Timeout: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	err := awaitFetch(t, f, ctx, cancel)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

// A venue's refusal (429, 418) carries the wait it asks for in
// Retry-After, which the book honours (FetchError.RetryAfter: going on
// earlier extends a ban). An error page longer than MaxBody — a CDN's
// HTML 429 page against a small MaxBody — must still be the venue's
// refusal with its wait, not a *SnapshotSizeError that drops the wait.
func TestBinanceRESTRefusalPastMaxBodyKeepsRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = fmt.Fprint(w, "<html>"+strings.Repeat("x", 4096)+"</html>")
	}))
	t.Cleanup(srv.Close)
	f := &BinanceREST{BaseURL: srv.URL, MaxBody: 1024}
	var ev schema.CanonicalEvent
	err := f.Fetch(context.Background(), "BTC-USDT", &ev)
	var fe *FetchError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, http.StatusTooManyRequests, fe.Status)
	require.Equal(t, 120*time.Second, fe.RetryAfter)
}
