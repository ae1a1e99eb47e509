package meltica_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// A cancel of an order that has just filled (Binance spot WS-API "Error
// codes": -2011 "Unknown order sent." for order.cancel; session doc
// "Orders by venue": ErrOrderNotOpen, "a cancel that raced a fill", "its
// reports telling which"): the cancel returns the typed error with the
// venue's code and message, the order's reports are its NEW and its
// fill, FILLED, each once — no CANCELED, nothing doubled — and a
// reconnection of the order connection afterwards (its reconciliation
// pass) tells nothing of it again.
func TestS37ctBinanceCancelOfAFilledOrder(t *testing.T) {
	v, s, r := s37ctBinance(t)
	_, err := s37ctPlace(t, s, "s37ct-f", "1000.00", "0.5")
	require.NoError(t, err)
	oid, ok := v.OrderID("s37ct-f")
	require.True(t, ok)
	require.NoError(t, v.FillOrder(oid, ""))
	require.Eventually(t, func() bool { return r.has("s37ct-f", schema.StatusFilled) }, s27ctWait, s37ctTick, "the FILLED report")

	_, err = s37ctCancel(t, s, "s37ct-fc", "s37ct-f")
	require.ErrorIs(t, err, session.ErrOrderNotOpen, "a cancel of a filled order")
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr)
	assert.EqualValues(t, -2011, verr.Code)
	assert.Equal(t, "Unknown order sent.", verr.Msg)
	assert.NotErrorIs(t, err, session.ErrMaybeSent)
	assert.NotErrorIs(t, err, session.ErrDisconnected)

	s37ctMarker(t, s, r, "s37ct-m1")
	want := "1/new 2/filled"
	assert.Equal(t, want, r.story("s37ct-f"), "the order's reports after the refused cancel")

	old := s.Stats().Orders.Client.ConnID
	require.Positive(t, v.CloseAPI(), "the venue closes the order connection")
	s37ctNewOrderConn(t, s, old)
	s37ctMarker(t, s, r, "s37ct-m2")
	assert.Equal(t, want, r.story("s37ct-f"), "the order's reports after a reconnection")
}

// A place with the client order id of an order still open (Binance
// spot "Error codes" -2010 NEW_ORDER_REJECTED, "Duplicate order sent.")
// is refused as the venue refused it: a *VenueError with -2010 and the
// venue's message, of no kind that says the outcome is unknown or the
// order not open. The host's view of that client order id is the open
// order's: no report says it rejected or ended, the open order is still
// cancelled by it, and its CANCELED comes once.
func TestS37ctBinanceDuplicateClientOrderID(t *testing.T) {
	_, s, r := s37ctBinance(t)
	_, err := s37ctPlace(t, s, "s37ct-d", "1000.00", "0.5")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.has("s37ct-d", schema.StatusNew) }, s27ctWait, s37ctTick, "the NEW report")

	_, err = s37ctPlace(t, s, "s37ct-d", "1001.00", "0.25")
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "a duplicate client order id")
	assert.EqualValues(t, -2010, verr.Code)
	assert.Equal(t, "Duplicate order sent.", verr.Msg)
	for _, kind := range []error{session.ErrMaybeSent, session.ErrDisconnected, session.ErrOrderNotOpen, session.ErrRateLimited, session.ErrNotSent} {
		assert.NotErrorIs(t, err, kind)
	}

	s37ctMarker(t, s, r, "s37ct-m1")
	assert.Equal(t, "1/new", r.story("s37ct-d"), "the open order's reports after the refused duplicate")

	ack, err := s37ctCancel(t, s, "s37ct-dc", "s37ct-d")
	require.NoError(t, err, "the open order is cancelled by its id")
	assert.True(t, ack.Price.Equal(schema.MustParseDecimal("1000")), "the cancel is the first order's: %s", ack.Price)
	require.Eventually(t, func() bool { return r.has("s37ct-d", schema.StatusCanceled) }, s27ctWait, s37ctTick)
	s37ctMarker(t, s, r, "s37ct-m2")
	assert.Equal(t, "1/new 3/canceled", r.story("s37ct-d"))
}

// An order placed on the account outside the session (another program,
// the venue's website: here a second session on the same key) is
// followed from its reports on the stream (session doc "Execution
// reports across reconnects": "It follows every open order: its own
// (from Place's ack), those the stream shows (placed elsewhere on the
// account)"). Filled while the session's user-data stream is down (its
// subscription held, the report lost as on Binance), its fill reaches the
// host by the reconciliation, once, with FILLED; and the session cancels
// it afterwards with ErrOrderNotOpen, nothing more reported.
func TestS37ctBinanceOrderPlacedElsewhereFilledDuringLoss(t *testing.T) {
	v, s, r := s37ctBinance(t)
	web, _ := s37ctBinanceSession(t, v)
	_, err := s37ctPlace(t, web, "s37ct-w", "1000.00", "0.5")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.has("s37ct-w", schema.StatusNew) }, s27ctWait, s37ctTick, "the other program's order on our stream")
	oid, ok := v.OrderID("s37ct-w")
	require.True(t, ok)

	old := s.Stats().Orders.Client.ConnID
	v.HoldUserData(true)
	require.Positive(t, v.CloseAPI())
	require.Eventually(t, func() bool { return v.HeldUserData() >= 2 }, s27ctWait, s37ctTick, "both sessions' user data held")
	require.NoError(t, v.FillOrder(oid, ""), "filled while no stream is subscribed: its report is lost")
	v.HoldUserData(false)

	require.Eventually(t, func() bool { return r.has("s37ct-w", schema.StatusFilled) }, s27ctWait, s37ctTick, "the fill, reconciled: %s", r.story("s37ct-w"))
	s37ctNewOrderConn(t, s, old)
	_, err = s37ctCancel(t, s, "s37ct-wc", "s37ct-w")
	require.ErrorIs(t, err, session.ErrOrderNotOpen)
	s37ctMarker(t, s, r, "s37ct-m1")
	got := r.of("s37ct-w")
	fills := 0
	for _, x := range got {
		if x.ExecType == schema.ExecTrade {
			fills++
			assert.True(t, x.Reconciled, "the lost fill is a reconciled report")
			assert.True(t, x.LastFillQty.Equal(schema.MustParseDecimal("0.5")), "the whole order: %s", x.LastFillQty)
		}
		assert.NotEqual(t, schema.StatusCanceled, x.Status)
	}
	assert.Equal(t, 1, fills, "the fill once: %s", r.story("s37ct-w"))
}
