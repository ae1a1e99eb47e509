package session_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS27DuplicateAfterUnknownOutcome: a place whose outcome is unknown
// (ErrDisconnected: the venue took it and the connection went before its
// answer) is sent again by the host with the same client order id, as
// the venues advise (the id makes the place idempotent). The venue
// refuses the second as a duplicate (Binance spot: -2010 "Duplicate order
// sent.", newClientOrderId being unique among open orders): that answer
// means the first reached it, so Place returns the existing order as its
// Ack, not a rejection that would make the host believe it has no order
// working. A place of another order under the same id (the other side,
// another price or quantity) stays refused.
func TestS27DuplicateAfterUnknownOutcome(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	v.DropNextPlace()
	req := limitOrder(s, t, "dup-1", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.ErrorIs(t, err, session.ErrDisconnected)
	id, ok := v.OrderID("dup-1")
	require.True(t, ok, "the venue has it")

	ack, err := s.Place(ctx, req) // sent again, once the connection is back
	require.NoError(t, err, "the venue's duplicate answer is the existing order")
	assert.Equal(t, strconv.FormatUint(id, 10), ack.VenueOrderID.String())
	assert.Equal(t, "dup-1", ack.ClientOrderID.String())
	assert.Equal(t, "BTC-USDT", ack.Symbol)
	assert.Equal(t, schema.SideBuy, ack.Side)
	require.Eventually(t, func() bool { return s.Stats().Order.Tracked == 1 }, generous, pollEvery, "followed as the session's own")

	for _, o := range [][3]string{{"sell", "1000.00", "0.01"}, {"buy", "1001.00", "0.01"}, {"buy", "1000.00", "0.02"}} {
		other := limitOrder(s, t, "dup-1", o[0], o[1], o[2])
		_, err = s.Place(ctx, other)
		s.Pools().Orders.Put(other)
		var verr *session.VenueError
		require.ErrorAs(t, err, &verr, "another order under the id (%v): the refusal stands", o)
		assert.Equal(t, int64(-2010), verr.Code)
	}
	// A market order of the same side and quantity: no price to compare,
	// and not the resting limit order (TestS27rvDuplicateOfAnotherType,
	// s27rvsess: it got an Ack of the limit order).
	mkt := limitOrder(s, t, "dup-1", "buy", "0", "0.01")
	defer s.Pools().Orders.Put(mkt)
	mkt.Type, mkt.TimeInForce, mkt.Price = schema.OrderTypeMarket, schema.TIFUnknown, schema.Decimal{}
	ack, err = s.Place(ctx, mkt)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "a market order under a limit order's id is another order: got Ack %+v", ack)
	assert.Equal(t, int64(-2010), verr.Code)
}

// TestS27VenueDuplicateIsTheOrder: the same on OKX (sCode 51016
// "Duplicated clOrdId") and Bybit (110072 "OrderLinkedID is duplicate"):
// a place sent again under the client order id of an order the venue has
// returns that order, looked up by the id (OKX clOrdId, Bybit
// orderLinkId), as its Ack.
func TestS27VenueDuplicateIsTheOrder(t *testing.T) {
	for _, c := range orderCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			v := newSimVenue(t, c.venue)
			v.dups = true
			h := startVenueRecon(t, c, v, nil)
			h.place("d1", "0.05")
			first := v.order("d1")
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			req := limitOrder(h.s, t, "d1", "buy", "1000", "0.05")
			defer h.s.Pools().Orders.Put(req)
			ack, err := h.s.Place(ctx, req)
			require.NoError(t, err, "the venue's duplicate answer is the existing order")
			assert.Equal(t, first.id, ack.VenueOrderID.String())
			assert.Equal(t, "d1", ack.ClientOrderID.String())
			assert.Equal(t, 1, h.s.Stats().Order.Tracked)
		})
	}
}
