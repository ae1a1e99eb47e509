package meltica_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// An options chain's worth of streams: session/doc.go, "The streams
// (Config.Symbols × Config.Channels) are spread over as many wsclient
// connections as the venue's limit per connection requires
// (Config.MaxTopicsPerConn, Binance 1024), a symbol's streams on one
// connection", against the simulated Binance, which holds a connection to
// "at most 1024 streams" (venuesim/doc.go; Binance "WebSocket Streams":
// "A single connection can listen to a maximum of 1024 streams"). 2,500
// symbols × trade and bookTicker are 5,000 streams: five connections of
// at most 512 symbols, every symbol's trades and quotes delivered, no
// connection refused or cut, no venue error, and Close leaves nothing
// running (goleak, TestMain) and every pooled event back.
// s32ctChain starts the simulated Binance listing n symbols (OPT0000USDT
// …) and a session of them on channels, wired as README shows; it returns
// the venue, the session, our spelling of the symbols (OPT0000-USDT …)
// and the test's ctx (5 × s27ctWait). The venue is closed and the ctx
// cancelled at the test's end; the session is the test's to close.
func s32ctChain(t *testing.T, n int, channels []string) (*venuesim.Venue, *session.Session, []string, context.Context) {
	t.Helper()
	venueSyms := make([]string, n)
	ours := make([]string, n)
	for i := range n {
		venueSyms[i] = fmt.Sprintf("OPT%04dUSDT", i)
		ours[i] = fmt.Sprintf("OPT%04d-USDT", i)
	}
	v := venuesim.Start(&venuesim.Options{Symbols: venueSyms, Rate: 4000, PingInterval: -1})
	t.Cleanup(v.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	t.Cleanup(cancel)
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   ours,
		Channels:  channels,
	})
	require.NoError(t, err)
	return v, s, ours, ctx
}

func TestS32ctFiveThousandStreams(t *testing.T) {
	if raceEnabled {
		// Under -race on a loaded machine the simulated venue's
		// instrument list of 2,500 symbols was not fetched and parsed
		// within the default Config.RESTTimeout (10 s: 10 of 10 runs at
		// load 37 failed in session.Start), and the run takes minutes.
		t.Skip("5,000 streams: not under the race detector")
	}
	const n = 2500
	v, s, ours, ctx := s32ctChain(t, n, []string{"trade", "bookTicker"})
	var mu sync.Mutex
	trades := map[string]bool{}
	quotes := map[string]bool{}
	var venueErrors []string
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case schema.EventTrade:
			trades[ev.Symbol] = true
		case schema.EventBBO:
			if !ev.BBO.BidPrice.IsZero() {
				quotes[ev.Symbol] = true
			}
		case schema.EventControl:
			if ev.Control.Kind == schema.ControlVenueError {
				venueErrors = append(venueErrors, ev.Control.Reason)
			}
		}
	}})
	require.NoError(t, err)
	require.NoError(t, s.WaitConnected(ctx))
	seen := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(trades), len(quotes)
	}
	probes := ours
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, sym := range probes {
			if !trades[sym] || !quotes[sym] {
				return false
			}
		}
		return true
	}, 5*s27ctWait, 10*time.Millisecond, "trades and quotes of every symbol")
	a, b := seen()
	t.Logf("trades of %d symbols, quotes of %d", a, b)
	st := v.Stats()
	assert.EqualValues(t, 5, st.Active, "connections: 5,000 streams at 1,024 a connection, a symbol's two together")
	assert.Zero(t, st.SlowDropped+st.TooManyMessages+st.ConnectRefused, "%+v", st)
	require.NoError(t, s.Close(ctx))
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, venueErrors, "venue errors: %s", strings.Join(venueErrors, "; "))
}
