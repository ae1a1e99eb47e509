package book

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// deadlineSeen is a real transport (http.DefaultTransport) that records
// whether each request it carries has a deadline.
type deadlineSeen struct {
	mu   sync.Mutex
	seen []bool
}

func (d *deadlineSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	_, ok := r.Context().Deadline()
	d.mu.Lock()
	d.seen = append(d.seen, ok)
	d.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// A fetch runs on the goroutine that applies the stream's events, holding
// the book (the package doc, "Cost"): a REST server that accepts the
// request and never answers stalled the book and the connection's reader
// for good — silently — with the host's context carrying no deadline and
// http.DefaultClient none either. BinanceREST bounds every fetch by its
// Timeout (10 s by default), whatever the context and the client.
func TestBinanceRESTFetchHasDeadline(t *testing.T) {
	srv := newDepthServer(t, BinanceSpotDepth, `{"lastUpdateId":7,"bids":[["100","1"]],"asks":[["101","1"]]}`)
	tr := &deadlineSeen{}
	f := &BinanceREST{BaseURL: srv.srv.URL, Client: &http.Client{Transport: tr}}
	var ev schema.CanonicalEvent
	require.NoError(t, f.Fetch(context.Background(), "BTC-USDT", &ev))
	require.Equal(t, []bool{true}, tr.seen, "a snapshot request without a deadline can hold the book forever")
	require.Equal(t, uint64(7), ev.Book.LastSeq)
}

func TestBinanceRESTFetchTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a venue that never answers
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	f := &BinanceREST{BaseURL: srv.URL, Timeout: 20 * time.Millisecond}
	err := awaitFetch(t, f, context.Background(), nil)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// Binance's largest snapshot is 5000 levels a side, a few hundred KB. A
// body past MaxBody (a broken proxy, a hostile peer, an endless stream) is
// refused with a *SnapshotSizeError after reading MaxBody bytes, not read
// whole into memory.
func TestBinanceRESTBodyBounded(t *testing.T) {
	const limit = 1 << 16
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Valid JSON, whitespace-padded past the bound: taken whole, it
		// decodes.
		_, _ = fmt.Fprint(w, `{"lastUpdateId":7,"bids":[["100","1"]],"asks":[["101","1"]]`)
		_, _ = fmt.Fprint(w, strings.Repeat(" ", 4*limit))
		_, _ = fmt.Fprint(w, `}`)
	}))
	t.Cleanup(srv.Close)
	f := &BinanceREST{BaseURL: srv.URL, MaxBody: limit}
	var ev schema.CanonicalEvent
	err := f.Fetch(context.Background(), "BTC-USDT", &ev)
	var se *SnapshotSizeError
	require.ErrorAs(t, err, &se)
	require.Equal(t, int64(limit), se.Limit)
	require.Equal(t, "BTC-USDT", se.Symbol)

	// The default bound takes Binance's largest snapshot.
	require.GreaterOrEqual(t, (&BinanceREST{}).maxBody(), int64(5000*2*64))
}
