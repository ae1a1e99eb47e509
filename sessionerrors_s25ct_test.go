package meltica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// session's typed errors, from its doc: a venue's refusal is a
// *VenueError with the venue's code (Binance's insufficient balance
// -2010, errors.md); a request the instrument's rules refuse is "a
// validation error" (Place's doc), a *normalize.RuleError naming the
// field and rule, never sent; Place without credentials is
// ErrNoCredentials; Place after Close is ErrClosed; Start without
// endpoints is ErrNoEndpoints. (The README says Place returns ErrNotSent
// "whenever nothing was written": a rule's refusal writes nothing and is
// not ErrNotSent. Place's doc is the one followed here.)
func TestS25ctSessionTypedErrors(t *testing.T) {
	ctx := context.Background()
	_, err := session.Start(ctx, session.Config{Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	assert.ErrorIs(t, err, session.ErrNoEndpoints)

	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 100, APIKey: "k", APISecret: "s", Balance: 1000})
	defer v.Close()
	ep := session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()}
	orders := schema.NewPools(nil).Orders // the host's: the session's close with it
	place := func(s *session.Session, price, qty string) error {
		req, err := orders.Get(ctx)
		require.NoError(t, err)
		defer orders.Put(req)
		req.Venue, req.Symbol = schema.VenueBinance, "BTC-USDT"
		req.ClientOrderID, req.Side, req.Type, req.TimeInForce = schema.MustID("s25ct-err"), schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
		req.Price, req.Qty = schema.MustParseDecimal(price), schema.MustParseDecimal(qty)
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err = s.Place(pctx, req)
		return err
	}

	market, err := session.Start(ctx, session.Config{Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()}, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	require.NoError(t, err)
	assert.ErrorIs(t, place(market, "1000.00", "0.5"), session.ErrNoCredentials)
	require.NoError(t, market.Close(ctx))

	s, err := session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s")))})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))

	err = place(s, "1000.00", "5") // 5,000 of quote: more than the account's 1,000
	var ve *session.VenueError
	require.ErrorAs(t, err, &ve, "%v", err)
	assert.Equal(t, int64(-2010), ve.Code, "Binance's 'Account has insufficient balance' (errors.md -2010)")
	assert.NotZero(t, ve.RequestID)

	sent := s.Stats().Order.Sent
	err = place(s, "1000.001", "0.5") // off the PRICE_FILTER tick
	var re *normalize.RuleError
	require.ErrorAs(t, err, &re, "%v", err)
	assert.Equal(t, "Price", re.Field)
	assert.Equal(t, "tick size", re.Rule)
	assert.False(t, errors.As(err, &ve), "not the venue's refusal: %v", err)
	assert.Equal(t, sent, s.Stats().Order.Sent, "nothing sent")

	require.NoError(t, s.Close(ctx))
	assert.ErrorIs(t, place(s, "1000.00", "0.5"), session.ErrClosed)
}
