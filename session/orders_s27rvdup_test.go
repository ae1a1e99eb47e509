package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS27rvDuplicateOfAnotherType: a host that reuses the client order id
// of a resting limit order for a market order of the same symbol, side and
// quantity gets the venue's duplicate refusal (-2010); the order under the
// id is not the one it sent (a market order has no price to compare, so
// quantity and side alone matched): the refusal must stand, not an Ack
// of the resting limit order.
func TestS27rvDuplicateOfAnotherType(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	req := limitOrder(s, t, "dup-t", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err)

	mkt := limitOrder(s, t, "dup-t", "buy", "0", "0.01")
	defer s.Pools().Orders.Put(mkt)
	mkt.Type, mkt.TimeInForce, mkt.Price = schema.OrderTypeMarket, schema.TIFUnknown, schema.Decimal{}
	ack, err := s.Place(ctx, mkt)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "a market order under a limit order's id is another order: got Ack %+v", ack)
	assert.Equal(t, int64(-2010), verr.Code)
}
