package meltica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

func s27ctOrder(t *testing.T, s *session.Session, cid string) *schema.OrderRequest {
	t.Helper()
	req, err := s.Pools().Orders.Get(context.Background())
	require.NoError(t, err)
	req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
	req.ClientOrderID, req.Side, req.Type, req.TimeInForce = schema.MustID(cid), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
	req.Price, req.Qty = schema.MustParseDecimal("1000.00"), schema.MustParseDecimal("0.5")
	return req
}

// The session's zero-value Config and bad values: "Endpoints are
// required: there is no default venue address" (ErrNoEndpoints, with a
// message that says what to pass); RecvWindow "From 1 ms to
// MaxRecvWindow; Start refuses others with ErrConfig"; an error of
// Config.Subscribe "aborts Start", and is the error Start returns. None of
// them leaves a goroutine behind (goleak).
func TestS27ctSessionStartRefusesMisconfiguration(t *testing.T) {
	ctx := context.Background()
	_, err := session.Start(ctx, session.Config{})
	require.ErrorIs(t, err, session.ErrNoEndpoints)
	assert.Contains(t, err.Error(), "Endpoints", "the message says what is missing: %q", err.Error())

	v := venuesim.Start(&venuesim.Options{APIKey: "k", APISecret: "s"})
	defer v.Close()
	ep := session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()}
	_, err = session.Start(ctx, session.Config{Endpoints: session.Endpoints{Stream: v.CombinedURL()}, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	assert.ErrorIs(t, err, session.ErrNoEndpoints, "Binance without REST")
	keys := normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s")))
	_, err = session.Start(ctx, session.Config{Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()}, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: keys})
	assert.ErrorIs(t, err, session.ErrNoEndpoints, "credentials without API")
	for _, rw := range []time.Duration{-time.Millisecond, time.Microsecond, session.MaxRecvWindow + time.Millisecond} {
		_, err = session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: keys, RecvWindow: rw})
		assert.ErrorIs(t, err, session.ErrConfig, "RecvWindow %v", rw)
	}
	hostErr := errors.New("s27ct: the host's subscription failed")
	_, err = session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Subscribe: func(*dispatch.Dispatcher) error { return hostErr }})
	assert.ErrorIs(t, err, hostErr, "Config.Subscribe's error aborts Start")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	s, err := session.Start(cancelled, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	if err == nil {
		// Start "does not wait for the connections": a ctx that bounds
		// only its REST calls may have nothing to stop. It must still
		// close cleanly.
		require.NoError(t, s.Close(ctx))
	} else {
		assert.ErrorIs(t, err, context.Canceled, "Start with its ctx ended")
	}
}

// Session misuse after and around Close: "Close is idempotent"; after
// it, WaitConnected returns ErrClosed, Place returns ErrClosed matching
// ErrNotSent ("so does every error of the wait for the connection"), the
// dispatcher refuses subscriptions, and Outstanding is 0. Before it, Place
// without credentials is ErrNoCredentials and Place with an ended ctx
// "never sends" (ErrNotSent and ctx's error), which the venue's order
// count confirms.
func TestS27ctSessionMisuse(t *testing.T) {
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s"})
	defer v.Close()
	ep := session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()}

	md, err := session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	require.NoError(t, err)
	req := s27ctOrder(t, md, "s27ct-nocreds")
	_, err = md.Place(ctx, req)
	md.Pools().Orders.Put(req)
	assert.ErrorIs(t, err, session.ErrNoCredentials)
	require.NoError(t, md.Close(ctx))

	s, err := session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s")))})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))
	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	req = s27ctOrder(t, s, "s27ct-cancelled")
	_, err = s.Place(cancelled, req)
	s.Pools().Orders.Put(req)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, session.ErrNotSent)
	assert.Zero(t, v.Stats().Orders, "the venue never saw the order of an ended ctx")
	_, seen := v.OrderID("s27ct-cancelled")
	assert.False(t, seen)

	// A host that still holds an order request at Close: the leak check
	// names it ("its error names any pooled object that never came back").
	req = s27ctOrder(t, s, "s27ct-after-close")
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	err = s.Close(short)
	cancelShort()
	assert.ErrorIs(t, err, pool.ErrLeaked, "the held order request")
	if err != nil {
		assert.Contains(t, err.Error(), "OrderRequest", "the leak check names the type: %q", err.Error())
	}
	assert.ErrorIs(t, s.WaitConnected(ctx), session.ErrClosed)
	_, err = s.Place(ctx, req)
	assert.ErrorIs(t, err, session.ErrClosed, "Place after Close")
	assert.ErrorIs(t, err, session.ErrNotSent, "Place after Close sends nothing")
	s.Pools().Orders.Put(req)
	assert.NotPanics(t, func() { _ = s.Close(ctx) }, "a second Close")
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{}, nil)
	assert.ErrorIs(t, err, dispatch.ErrClosed)
	assert.Zero(t, s.Outstanding())
	_, seen = v.OrderID("s27ct-after-close")
	assert.False(t, seen)
}
