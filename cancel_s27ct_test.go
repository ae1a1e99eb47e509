package meltica_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Run's ctx cancelled at each step of a connection's life, with the clock
// injected and frozen so that each wait lasts until the cancel: during
// the handshake (a venue that never answers it), during the backoff
// before a redial, and during the paced subscriptions. Run "returns ...
// ctx.Err() when ctx ended" each time, and "Every goroutine it started
// has stopped" when it returns.
func TestS27ctClientRunCancelledAtEachStep(t *testing.T) {
	for _, step := range []string{"handshake", "backoff", "subscriptions"} {
		t.Run(step, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the server's own Cleanup
			reached := make(chan struct{}, 8)
			release := make(chan struct{})
			url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch step {
				case "handshake":
					reached <- struct{}{}
					select { // never answers the upgrade
					case <-release:
					case <-r.Context().Done():
					}
					return
				case "backoff":
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				c, err := websocket.Accept(w, r, nil)
				if err != nil {
					return
				}
				defer func() { _ = c.CloseNow() }()
				_, _, _ = c.Read(r.Context()) // the first subscription
				reached <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			defer close(release)
			clk := newS27ctClock()
			evs := newS27ctEvents()
			c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, CloseTimeout: -1,
				Subscriptions: [][]byte{[]byte(`{"id":1}`), []byte(`{"id":2}`)}})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			switch step {
			case "backoff":
				evs.await(t, "waiting to redial", func(ev wsclient.Event) bool { return ev.State == schema.ConnReconnecting })
			default:
				s27ctClosed(t, reached, "the step reached")
			}
			cancel()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.Canceled)
			case <-time.After(s27ctWait):
				t.Fatal("Run did not return when its ctx ended")
			}
			require.NoError(t, c.Close(context.Background()))
		})
	}
}

// session.Start's ctx "bounds the REST calls of Start only": cancelled
// during each REST call Start makes (instruments, server time, ...), in
// turn, Start returns an error matching the ctx's and leaves no goroutine
// behind; once no call is left to cancel, Start succeeds and Close is
// clean.
func TestS27ctSessionStartCancelledAtEachStep(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s"})
	defer v.Close()
	for k := int64(1); k <= 10; k++ {
		ignore := goleak.IgnoreCurrent()
		ctx, cancel := context.WithCancel(context.Background())
		var n atomic.Int64
		tr := &http.Transport{} // the host's: its idle connections are the host's to close
		hc := &http.Client{Transport: s27ctRoundTrip(func(r *http.Request) (*http.Response, error) {
			if n.Add(1) == k {
				cancel()
			}
			return tr.RoundTrip(r)
		})}
		s, err := session.Start(ctx, session.Config{
			Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
			Symbols:     []string{"BTC-USDT"},
			Channels:    []string{"trade", "depth@100ms"},
			Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
			HTTPClient:  hc,
		})
		if err != nil {
			assert.ErrorIs(t, err, context.Canceled, "Start cancelled at REST call %d", k)
			cancel()
			tr.CloseIdleConnections()
			goleak.VerifyNone(t, ignore)
			continue
		}
		t.Logf("Start made %d REST calls of its own before returning", k-1)
		require.NoError(t, s.Close(context.Background()))
		cancel()
		return
	}
	t.Fatal("Start never succeeded")
}

type s27ctRoundTrip func(*http.Request) (*http.Response, error)

func (f s27ctRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
