package session_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

func TestStartNeedsEndpoints(t *testing.T) {
	_, err := session.Start(context.Background(), session.Config{Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	assert.ErrorIs(t, err, session.ErrNoEndpoints)
	v := startVenue(t)
	_, err = session.Start(context.Background(), session.Config{Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: credentials()})
	assert.ErrorIs(t, err, session.ErrNoEndpoints, "orders need the API endpoint")
	_, err = session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"NOPE-USDT"}, Channels: []string{"trade"}})
	assert.Error(t, err, "a symbol the venue does not list")
	_, err = session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"},
		Channels: []string{"trade", "bookTicker"}, MaxTopicsPerConn: 1})
	assert.ErrorIs(t, err, session.ErrConfig, "a symbol's streams must fit one connection")
	_, err = session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}})
	assert.ErrorIs(t, err, session.ErrConfig, "no channels")
}

// TestMarketDataShardedBooksAndStates: two symbols, three channels, at
// most three streams per connection: two connections, each with its
// symbol's book. A lost connection invalidates its book, publishes the
// state change, and the book comes back live after the reconnect.
func TestMarketDataShardedBooksAndStates(t *testing.T) {
	v := startVenue(t)
	var mu sync.Mutex
	states := map[session.Conn][]schema.ConnState{}
	s := start(t, session.Config{
		Endpoints: endpoints(v), Symbols: []string{"BTC-USDT", "ETH-USDT"},
		Channels:         []string{"trade", "bookTicker", "depth@100ms"},
		MaxTopicsPerConn: 3,
		Client:           fastRedial,
		OnState: func(c session.Conn, e wsclient.Event) {
			mu.Lock()
			states[c] = append(states[c], e.State)
			mu.Unlock()
		},
	})
	events := make(chan *schema.CanonicalEvent, 4096)
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade, schema.EventConnState}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			select {
			case events <- ev:
			default:
			}
		}})
	require.NoError(t, err)
	waitConnected(t, s)

	st := s.Stats()
	require.Len(t, st.Market, 2)
	assert.Equal(t, 3, st.Market[0].Topics)
	assert.Equal(t, 3, st.Market[1].Topics)
	assert.Equal(t, "market 1", st.Market[0].Conn.String())

	for _, sym := range []string{"BTC-USDT", "ETH-USDT"} {
		b := s.Book(sym)
		require.NotNil(t, b, sym)
		assert.True(t, b.Live(), "WaitConnected waits for the %s book", sym)
	}
	assert.Nil(t, s.Book("XRP-USDT"))
	seen := map[string]bool{}
	for len(seen) < 2 {
		ev := <-events
		if ev.Type == schema.EventTrade {
			seen[ev.Symbol] = true
		}
	}

	before := s.Stats().Market[0].Client.TotalReconnects()
	require.Equal(t, 2, v.Inject(venuesim.FaultClose))
	for lost := false; !lost; {
		ev := <-events
		lost = ev.Type == schema.EventConnState && ev.Control.State == schema.ConnDisconnected
	}
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.TotalReconnects() > before }, generous, pollEvery)
	// Shard 0's own loss and reconnection are handled on the session's
	// event goroutine, which may run behind the frames and the board
	// WaitConnected reads: wait until the host heard both before looking
	// at what the loss did to the book.
	m0 := session.Conn{Role: session.RoleMarket, Shard: 0}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		m := states[m0]
		return slices.Contains(m, schema.ConnDisconnected) && m[len(m)-1] == schema.ConnConnected
	}, generous, pollEvery, "shard 0 heard its loss and its reconnection")
	waitConnected(t, s)
	assert.True(t, s.Book("BTC-USDT").Live(), "the book resynchronised")
	assert.Positive(t, s.Book("BTC-USDT").Stats().Invalidations, "the loss invalidated it")
	bs := s.Stats().Books
	require.Len(t, bs, 2)
	assert.Equal(t, "BTC-USDT", bs[0].Symbol)
	assert.Positive(t, bs[0].Book.Invalidations)
	mu.Lock()
	defer mu.Unlock()
	m1 := states[m0]
	assert.Contains(t, m1, schema.ConnDisconnected)
	assert.Equal(t, schema.ConnConnected, m1[len(m1)-1])
}

func TestCloseIsIdempotentAndEndsWaits(t *testing.T) {
	v := startVenue(t)
	s, err := session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.Close(ctx))
	require.NoError(t, s.Close(ctx))
	assert.ErrorIs(t, s.WaitConnected(ctx), session.ErrClosed)
	_, err = s.Place(ctx, &schema.OrderRequest{})
	assert.ErrorIs(t, err, session.ErrNoCredentials)
	assert.Zero(t, s.Outstanding())
}
