package meltica_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// Close during a REST snapshot fetch: the venue's depth endpoint takes
// the request and never answers (a hung REST call). Session doc: "Close
// stops every connection, drains and closes the dispatcher, and shuts the
// pools down … Nothing else runs": Close returns (no deadline given: it
// must not wait on the venue), with no pooled object outstanding, and
// the fetch's goroutine is gone (goleak at the package's end; the held
// request is released by Close, not by the server).
func TestS30ctCloseDuringSnapshotFetch(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 200, PingInterval: -1})
	defer v.Close()
	target, err := url.Parse(v.RESTURL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	fetching := make(chan struct{}, 16)
	var released atomic.Int32
	release := make(chan struct{})
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v3/depth" {
			fetching <- struct{}{}
			select {
			case <-r.Context().Done(): // the session gave up the request
				released.Add(1)
			case <-release:
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer rest.Close()
	defer close(release)

	s, err := session.Start(context.Background(), session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: rest.URL},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"depth@100ms"},
	})
	require.NoError(t, err)
	select {
	case <-fetching:
	case <-time.After(s27ctWait):
		_ = s.Close(context.Background())
		t.Fatal("no snapshot fetch")
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close(context.Background()) }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(s27ctWait):
		t.Fatal("Close waits on a hung REST snapshot fetch")
	}
	assert.Zero(t, s.Outstanding())
	assert.Eventually(t, func() bool { return released.Load() >= 1 }, s27ctWait, time.Millisecond, "the fetch's request is canceled by Close")
}

// A subscriber that never reads, while the venue keeps sending: the
// dispatcher's ordered lane drops oldest-first and counts; the session's
// pools do not run dry for the others (a second subscriber keeps
// receiving trades), and Close still returns with nothing outstanding
// (DESIGN contract 4; dispatch doc).
func TestS30ctSubscriberThatNeverReads(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 2000, PingInterval: -1})
	defer v.Close()
	s, err := session.Start(context.Background(), session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"trade"},
	})
	require.NoError(t, err)
	block := make(chan struct{})
	var stuck, other atomic.Int64
	_, err = s.Dispatcher().Subscribe(dispatchFilterTrades(), s30ctSubOpts(func(*schema.CanonicalEvent) {
		stuck.Add(1)
		<-block
	}))
	require.NoError(t, err)
	_, err = s.Dispatcher().Subscribe(dispatchFilterTrades(), s30ctSubOpts(func(*schema.CanonicalEvent) { other.Add(1) }))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return other.Load() > 5000 }, s27ctWait, time.Millisecond,
		"the reading subscriber keeps receiving while the other never reads")
	assert.EqualValues(t, 1, stuck.Load(), "the stuck handler holds its first event")
	close(block)
	require.NoError(t, s.Close(context.Background()))
	assert.Zero(t, s.Outstanding())
}

func dispatchFilterTrades() dispatch.Filter {
	return dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}
}

func s30ctSubOpts(h func(*schema.CanonicalEvent)) *dispatch.SubscribeOptions {
	return &dispatch.SubscribeOptions{Handler: h}
}

// Close while a connection is dialling (the venue takes the TCP
// connection and never answers the WebSocket handshake) and while one
// waits out its backoff (the venue refuses the upgrade with 503; a backoff
// of an hour): Close returns, nothing is outstanding, no goroutine stays
// (goleak). Session doc, "Lifecycle and ownership": "Close stops every
// connection".
func TestS30ctCloseWhileDialingAndInBackoff(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"dialing", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
		{"backoff", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newS30ctOKX(t)
			hits := make(chan struct{}, 64)
			o.mux.HandleFunc("/hang/", func(w http.ResponseWriter, r *http.Request) {
				select {
				case hits <- struct{}{}:
				default:
				}
				tc.h(w, r)
			})
			opts := s30ctFast()
			opts.BackoffBase, opts.BackoffCap = time.Hour, time.Hour
			opts.DialTimeout = time.Hour
			s, err := session.Start(context.Background(), session.Config{
				Venue:       schema.VenueOKX,
				Endpoints:   session.Endpoints{Stream: o.ws("/hang/public"), API: o.ws("/hang/private"), REST: o.srv.URL},
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trades"},
				Key:         &session.OKXKey{APIKey: "okx-key", Passphrase: "okx-pass", Secret: []byte("okx-secret")},
				NoClockSync: true,
				Client:      opts,
			})
			require.NoError(t, err)
			<-hits
			<-hits // both connections reached the venue
			closed := make(chan error, 1)
			go func() { closed <- s.Close(context.Background()) }()
			select {
			case err := <-closed:
				require.NoError(t, err)
			case <-time.After(s27ctWait):
				t.Fatalf("Close hangs while %s", tc.name)
			}
			assert.Zero(t, s.Outstanding())
		})
	}
}
