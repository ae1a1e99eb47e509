package session_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// The tests in this file hold the package documentation (go doc -all
// ./session) to its concrete statements, against the simulated Binance.

// Config.RecvWindow: "From 1 ms to MaxRecvWindow; Start refuses others with
// ErrConfig". ErrNoEndpoints: "Config.Endpoints lacks an address the
// session needs (Stream and REST always, API with credentials)".
func TestDocConfigRefusals(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{PingInterval: -1})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	creds := normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret")))
	all := session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()}
	for _, c := range []struct {
		name string
		cfg  session.Config
		want error
	}{
		{"no Stream", session.Config{Endpoints: session.Endpoints{REST: v.RESTURL()}, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}}, session.ErrNoEndpoints},
		{"no REST", session.Config{Endpoints: session.Endpoints{Stream: v.CombinedURL()}, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}}, session.ErrNoEndpoints},
		{"credentials without API", session.Config{Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()}, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: creds}, session.ErrNoEndpoints},
		{"recvWindow over 60 s", session.Config{Endpoints: all, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: creds, RecvWindow: session.MaxRecvWindow + time.Millisecond}, session.ErrConfig},
		{"recvWindow under 1 ms", session.Config{Endpoints: all, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: creds, RecvWindow: 500 * time.Microsecond}, session.ErrConfig},
	} {
		s, err := session.Start(ctx, c.cfg)
		if !assert.ErrorIs(t, err, c.want, c.name) && s != nil {
			require.NoError(t, s.Close(ctx))
		}
	}

	// The other venues need Stream alone; API with Key (and REST for
	// Kraken's token).
	_, err := session.Start(ctx, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: "ws://127.0.0.1:1/ws/v5/public"},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trades"}, Key: &session.OKXKey{APIKey: "k", Passphrase: "p", Secret: []byte("s")}})
	assert.ErrorIs(t, err, session.ErrNoEndpoints, "OKX's Key without API")
	_, err = session.Start(ctx, session.Config{Venue: schema.VenueKraken, Endpoints: session.Endpoints{Stream: "ws://127.0.0.1:1/v2", API: "ws://127.0.0.1:1/v2"},
		Symbols: []string{"BTC-USD"}, Channels: []string{"trade"}, Key: &session.KrakenKey{APIKey: "k", Secret: "c2VjcmV0"}})
	assert.ErrorIs(t, err, session.ErrNoEndpoints, "Kraken's Key without REST")
	s, err := session.Start(ctx, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: "ws://127.0.0.1:1/ws/v5/public"},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trades"}})
	require.NoError(t, err, "OKX market data needs no REST")
	require.NoError(t, s.Close(ctx))
}

// "Every connection state change reaches the subscribers as an
// schema.EventConnState (the order connection's with a Control.Reason
// starting "orders: ")"; Place "check[s] the request against the
// instrument's rules [...] before anything is sent"; without Credentials
// orders return ErrNoCredentials; "Close [...] its error names any pooled
// object not returned (the leak check), and Session.Outstanding is then 0".
func TestDocOrdersConnectionAndRules(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, PingInterval: -1, APIKey: "key", APISecret: "secret"})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	states := make(chan string, 256)
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade"},
		Credentials: normalize.NewCredentials("key", normalize.NewHMACSigner([]byte("secret"))),
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventConnState}}, &dispatch.SubscribeOptions{
				Handler: func(ev *schema.CanonicalEvent) {
					select {
					case states <- ev.Control.State.String() + " " + ev.Control.Reason:
					default:
					}
				}})
			return err
		},
	})
	require.NoError(t, err)
	require.NoError(t, s.WaitConnected(ctx))

	sawOrders := false
	for !sawOrders {
		select {
		case st := <-states:
			sawOrders = strings.HasPrefix(st, "connected orders: ")
		case <-ctx.Done():
			t.Fatal("no connected state of the order connection with Reason \"orders: …\"")
		}
	}

	placed := v.Stats()
	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.ClientOrderID = "BTC-USDT", schema.MustID("off-tick")
	req.Side, req.Type, req.TimeInForce = schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty = schema.MustParseDecimal("60000.001"), schema.MustParseDecimal("0.01")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	var re *normalize.RuleError
	assert.True(t, errors.As(err, &re), "a price off the tick is refused by the session: %v", err)
	var ve *session.VenueError
	assert.False(t, errors.As(err, &ve), "not by the venue: nothing was sent")
	after := v.Stats()
	assert.Equal(t, [2]uint64{placed.Orders, placed.Rejected}, [2]uint64{after.Orders, after.Rejected}, "the venue saw nothing")

	require.NoError(t, s.Close(ctx))
	assert.Zero(t, s.Outstanding())

	md, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"}, Channels: []string{"trade"},
	})
	require.NoError(t, err)
	req, err = md.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.Side, req.Type = "BTC-USDT", schema.SideBuy, schema.OrderTypeMarket
	req.Qty = schema.MustParseDecimal("0.01")
	_, err = md.Place(ctx, req)
	md.Pools().Orders.Put(req)
	assert.ErrorIs(t, err, session.ErrNoCredentials)
	require.NoError(t, md.Close(ctx))
}
