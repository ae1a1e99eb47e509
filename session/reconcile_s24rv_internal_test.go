package session

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS24rvDuplicateWithNewEnd: a streamed report whose fill a
// reconnect's pass delivered already (its order query, made a moment
// before the order ended, said open) but that tells the order's end —
// Coinbase's user channel reports a partial fill and the cancel that
// follows in one CANCELLED report whose cumulative_quantity grew; a
// venue's last fill says FILLED — carries news: the host was told the
// order works. It is delivered as the report of that end without its
// fill (so the fill still counts once), not dropped with it; the order is
// then forgotten. A duplicate whose end the host was told is dropped.
func TestS24rvDuplicateWithNewEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		anon   bool
		status schema.OrderStatus
		exec   schema.ExecType
	}{
		{"coinbase cancelled with growth", true, schema.StatusCanceled, schema.ExecCanceled},
		{"coinbase filled", true, schema.StatusFilled, schema.ExecOrderStatus},
		{"trade id, filled", false, schema.StatusFilled, schema.ExecOrderStatus},
		{"trade id, expired", false, schema.StatusExpired, schema.ExecExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bareReconciler(10)
			ev := &schema.CanonicalEvent{Venue: schema.VenueCoinbase, Symbol: "BTC-USD", Type: schema.EventExecReport}
			x := ev.UseExec()
			x.VenueOrderID, x.ExecType, x.Status, x.Qty = schema.MustID("77"), schema.ExecNew, schema.StatusNew, dec("1")
			require.False(t, r.observe(ev))
			key := orderKey{symbol: "BTC-USD", id: x.VenueOrderID}
			tr := r.orders[key]
			// The pass delivered the fill of 0.4, the order open by its query.
			tr.delivered, tr.status, tr.anon = dec("0.4"), schema.StatusPartiallyFilled, tc.anon
			tr.trades = append(tr.trades, schema.MustID("9001"))

			*x = schema.Execution{VenueOrderID: x.VenueOrderID, ExecType: schema.ExecTrade, Status: tc.status, Qty: dec("1"),
				LastFillQty: dec("0.4"), LastFillPrice: dec("100"), CumFillQty: dec("0.4"), Fee: dec("0.1"), IsMaker: true}
			if !tc.anon {
				x.TradeID = schema.MustID("9001")
			}
			require.False(t, r.observe(ev), "the end is news")
			require.Equal(t, tc.exec, x.ExecType)
			require.Equal(t, tc.status, x.Status)
			require.True(t, x.LastFillQty.IsZero() && x.Fee.IsZero() && x.TradeID.IsZero() && !x.IsMaker, "without its fill: %+v", x)
			require.Equal(t, "0.4", x.CumFillQty.String())
			require.Nil(t, r.orders[key], "ended, every fill delivered: forgotten")
		})
	}
	// The end told already: the duplicate is dropped.
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ExecType, x.Status, x.Qty = schema.MustID("78"), schema.ExecNew, schema.StatusNew, dec("1")
	require.False(t, r.observe(ev))
	tr := r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	tr.delivered, tr.status = dec("1"), schema.StatusFilled
	tr.trades = append(tr.trades, schema.MustID("9002"))
	x.ExecType, x.Status, x.LastFillQty, x.CumFillQty, x.TradeID = schema.ExecTrade, schema.StatusFilled, dec("1"), dec("1"), schema.MustID("9002")
	require.True(t, r.observe(ev))
}
