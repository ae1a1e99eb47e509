package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS27UntoldOrdersGetAMarker: execution reports are never lost
// silently (DESIGN "Contracts"). An order the session does not follow
// (past Config.MaxTrackedOrders) cannot be reconciled after a reconnect:
// its reports of the window may be lost. The pass after the reconnect
// tells the host so, with an exec-report gap marker naming no order;
// before, only a log line (at Warn, and not every time) said it.
func TestS27UntoldOrdersGetAMarker(t *testing.T) {
	h := startRecon(t, startVenue(t), func(cfg *session.Config) { cfg.MaxTrackedOrders = 1 })
	mustPlace(t, h.s, "ut-1")
	mustPlace(t, h.s, "ut-2") // not followed
	require.Eventually(t, func() bool { return h.s.Stats().Order.TrackOverflow > 0 }, generous, pollEvery)
	for range 2 {
		assert.Equal(t, schema.ExecNew, h.next().ExecType)
	}
	dropAPI(t, h.v)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	select {
	case g := <-h.gaps:
		assert.Equal(t, schema.EventExecReport, g.Control.GapType)
		assert.Contains(t, g.Control.Reason, "not followed")
		assert.True(t, g.Exec.VenueOrderID.IsZero())
	case <-ctx.Done():
		require.FailNow(t, "no gap marker for the orders not followed")
	}
}

// TestS27AnonymousUnknownPlaceGetsAMarker: a place of unknown outcome
// (ErrDisconnected) without a ClientOrderID cannot be looked up after the
// reconnect; the venue may have the order and its fills of the window.
// The pass tells the host with an exec-report gap marker.
func TestS27AnonymousUnknownPlaceGetsAMarker(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	h.v.DropNextPlace()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(h.s, t, "x", "buy", "1000.00", "0.01")
	defer h.s.Pools().Orders.Put(req)
	req.ClientOrderID = schema.ID{}
	_, err := h.s.Place(ctx, req)
	require.ErrorIs(t, err, session.ErrDisconnected)
	select {
	case g := <-h.gaps:
		assert.Equal(t, schema.EventExecReport, g.Control.GapType)
		assert.Contains(t, g.Control.Reason, "without a client order id")
	case <-ctx.Done():
		require.FailNow(t, "no gap marker for the place of unknown outcome")
	}
}
