package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s31okxInstruments is OKX's SPOT instrument list of venuesim's symbols.
const s31okxInstruments = `{"code":"0","msg":"","data":[` +
	`{"baseCcy":"BTC","instId":"BTC-USDT","instType":"SPOT","lotSz":"0.00000001","minSz":"0.00001","quoteCcy":"USDT","state":"live","tickSz":"0.01"},` +
	`{"baseCcy":"ETH","instId":"ETH-USDT","instType":"SPOT","lotSz":"0.00000001","minSz":"0.00001","quoteCcy":"USDT","state":"live","tickSz":"0.01"}]}`

// A session's OKX books go live and equal the venue's, whether the venue
// still sends the books channel's initial snapshot (our recordings, an
// OKX before the delisting) or not (OKX since August 2026: API changelog
// "Delist initial snapshot and checksum field in order book channels";
// venuesim serves OKX as today by default: no stream snapshot, checksum 0;
// OKXBooksEmptySnapshot sends an empty "snapshot" first, OKXBooksSnapshot
// the old full one).
// Before, the session kept OKX books by book.OKX, which waits for the
// stream's snapshot: without it they never went live (and went live
// empty on the placeholder).
func TestS31OKXSessionBooksLive(t *testing.T) {
	for _, mode := range []venuesim.OKXBooks{venuesim.OKXBooksCurrent, venuesim.OKXBooksEmptySnapshot, venuesim.OKXBooksSnapshot} {
		t.Run(fmt.Sprintf("OKXBooks=%d", mode), func(t *testing.T) {
			v, rest, fetches := s31okxVenue(t, mode, nil)

			syms := []string{"BTC-USDT", "ETH-USDT"}
			s := start(t, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: v.OKXURL(), REST: rest},
				Symbols: syms, Channels: []string{"books"}, Client: fastRedial})
			waitConnected(t, s)
			for _, sym := range syms {
				b := s.Book(sym)
				require.NotNil(t, b, sym)
				require.Eventually(t, b.Live, generous, pollEvery, "%s live", sym)
			}
			v.Pause(true)
			venue := &book.OKXREST{BaseURL: v.RESTURL()}
			for _, sym := range syms {
				b := s.Book(sym)
				want := new(schema.CanonicalEvent)
				require.Eventually(t, func() bool {
					require.NoError(t, venue.Fetch(context.Background(), sym, want))
					return b.LastSeq() == want.Book.LastSeq
				}, generous, pollEvery, "%s reaches the venue's seqId", sym)
				var got schema.CanonicalEvent
				require.True(t, b.Top(400, &got), sym)
				require.NotEmpty(t, want.Book.Bids)
				require.Equal(t, s31levels(want.Book.Bids), s31levels(got.Book.Bids), sym)
				require.Equal(t, s31levels(want.Book.Asks), s31levels(got.Book.Asks), sym)
				require.Zero(t, b.Stats().Gaps, sym)
			}
			if mode != venuesim.OKXBooksSnapshot {
				require.GreaterOrEqual(t, fetches.Load(), int64(len(syms)), "each book fetched its snapshot")
			} else {
				require.Zero(t, fetches.Load(), "the stream's snapshots hold the books: no fetch")
			}
		})
	}
}

func s31levels(ls []schema.Level) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Price.String() + " " + l.Qty.String()
	}
	return out
}

// s31okxVenue starts venuesim's OKX and, in front of its REST, OKX's
// instrument list (which venuesim does not serve) and its books endpoint,
// refused with status refuse returns unless 0; it counts the books
// requests.
func s31okxVenue(t *testing.T, mode venuesim.OKXBooks, refuse func() int) (*venuesim.Venue, string, *atomic.Int64) {
	t.Helper()
	// The venue's REST limit is off: the test's own polling fetches would
	// spend it (the session's limiter is tested in package book).
	v := venuesim.Start(&venuesim.Options{Rate: 400, OKXBooks: mode, OKXBooksLimit: -1})
	t.Cleanup(v.Close)
	target, err := url.Parse(v.RESTURL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	fetches := new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v5/public/instruments", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, s31okxInstruments)
	})
	mux.HandleFunc(book.OKXBooksPath, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if refuse != nil {
			if status := refuse(); status != 0 {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"code":"50001","msg":"Service temporarily unavailable. Please try again later.","data":[]}`)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	})
	rest := httptest.NewServer(mux)
	t.Cleanup(rest.Close)
	return v, rest.URL, fetches
}

// An OKX whose REST fails (503, OKX 50001) while the stream sends no
// snapshot: the book stays not live, the host sees the failures
// (Stats.Books' FetchErrors, Live false), the book fetches again on its
// backoff, not on every diff, and goes live once the REST answers.
func TestS31OKXSessionBookRESTFailure(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	v, rest, fetches := s31okxVenue(t, venuesim.OKXBooksCurrent, func() int {
		if down.Load() {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	s := start(t, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: v.OKXURL(), REST: rest},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"books"}, Client: fastRedial})
	require.Eventually(t, func() bool { return s.Stats().Books[0].Book.FetchErrors >= 2 }, generous, pollEvery, "fetched again")
	st := s.Stats().Books[0]
	require.False(t, st.Live)
	require.False(t, s.Book("BTC-USDT").Live())
	require.Less(t, fetches.Load(), int64(st.Book.Buffered+st.Book.Overflowed), "not a fetch per diff")
	down.Store(false)
	waitConnected(t, s) // every book live
	require.True(t, s.Stats().Books[0].Live)
}
