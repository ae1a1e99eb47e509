package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// slowFetch answers after the connection's pong and idle timeouts have
// passed many times over: the venue's REST slow to answer (the stimulus,
// not a wait of the test's).
type slowFetch struct {
	Fetcher
	delay   time.Duration
	started chan struct{}
}

func (s *slowFetch) Fetch(ctx context.Context, symbol string, dst *schema.CanonicalEvent) error {
	select {
	case s.started <- struct{}{}:
	default:
	}
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Fetcher.Fetch(ctx, symbol, dst)
}

// The snapshot fetch runs on the connection's reader (the builder left it
// open whether a REST slower than the client's PongTimeout and
// IdleTimeout gets the connection closed under the book): through a real
// loopback connection pinging every 50 ms with a 500 ms pong and idle
// timeout, a fetch that takes 10 times that leaves the connection as it
// was — wsclient counts only the time its reader waits on the socket
// (wsclient "Options.PongTimeout", TestFaultSlowHandler) — and the book
// goes live on it.
func TestS30RVSlowFetchKeepsTheConnection(t *testing.T) {
	p := startSimWith(t, Binance, nil, func(o *wsclient.Options) {
		// Timeouts of real time: 30 ms ones (before) were passed by a
		// starved reader or venue on a loaded machine (load 25: a
		// reconnect with nothing to do with the fetch).
		o.PingInterval, o.PongTimeout, o.IdleTimeout = 50*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	})
	p.requireSynced(t)
	conn := p.client.Stats().ConnID
	require.NotZero(t, conn)

	slow := &slowFetch{Fetcher: p.rest, delay: 5 * time.Second, started: make(chan struct{}, 1)}
	b, err := NewBook(Binance, "BTC-USDT", &Options{Sink: p.d, Events: p.pools.Events, Fetcher: slow})
	require.NoError(t, err)
	defer b.Close()
	p.books.Add(b) // the next diff fetches, slowly, on the reader
	select {
	case <-slow.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the new book never fetched")
	}
	require.Eventually(t, b.Live, 30*time.Second, time.Millisecond)
	st := p.client.Stats()
	require.Equal(t, conn, st.ConnID, "the connection was replaced during the fetch")
	require.Equal(t, schema.ConnConnected, st.State)
	for r, n := range st.Reconnects {
		require.Zero(t, n, "reconnect, reason %v", wsclient.Reason(r))
	}
}
