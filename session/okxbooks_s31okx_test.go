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
// venuesim's OKXNoSnapshot sends an empty "snapshot" and checksum 0).
// Before, the session kept OKX books by book.OKX, which waits for the
// stream's snapshot: without it they never went live (and went live
// empty on the placeholder).
func TestS31OKXSessionBooksLive(t *testing.T) {
	for _, noSnap := range []bool{false, true} {
		t.Run(fmt.Sprintf("OKXNoSnapshot=%v", noSnap), func(t *testing.T) {
			v := venuesim.Start(&venuesim.Options{Rate: 400, OKXNoSnapshot: noSnap})
			t.Cleanup(v.Close)
			target, err := url.Parse(v.RESTURL())
			require.NoError(t, err)
			proxy := httputil.NewSingleHostReverseProxy(target)
			var fetches atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("/api/v5/public/instruments", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, s31okxInstruments)
			})
			mux.HandleFunc(book.OKXBooksPath, func(w http.ResponseWriter, r *http.Request) {
				fetches.Add(1)
				proxy.ServeHTTP(w, r)
			})
			rest := httptest.NewServer(mux)
			t.Cleanup(rest.Close)

			syms := []string{"BTC-USDT", "ETH-USDT"}
			s := start(t, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: v.OKXURL(), REST: rest.URL},
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
			if noSnap {
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
