package session

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS28rvMaybeSentFillStreamedFirst: a place whose answer says the
// venue does not know whether it acted (ErrMaybeSent, OKX 50004) or that
// is lost (ErrDisconnected) is looked up by its client order id at the
// next reconnect. When the order's first report the stream gave, read
// before that answer (OKX's orders channel pushes a market order's fill
// as one "filled" report; Bybit's private connection is not the trade
// connection the answer comes on), was final and is a fill, observe
// delivered it but did not follow it (a final report of an order not
// known as the session's). The lookup then finds the order filled, adopt
// follows it with nothing delivered, and the pass delivers the same fill
// again (its trade id unknown to the tracking). Failed before (S28
// review): adopt followed it with nothing delivered; the order's ends
// seen on the stream unfollowed are now kept (endedSeen, the latest 256).
func TestS28rvMaybeSentFillStreamedFirst(t *testing.T) {
	r := bareReconciler(10)
	r.unsure = map[orderKey]struct{}{}
	ev := &schema.CanonicalEvent{Venue: schema.VenueOKX, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ClientOrderID = schema.MustID("ord-1"), schema.MustID("bot1")
	x.ExecType, x.Status, x.TradeID = schema.ExecTrade, schema.StatusFilled, schema.MustID("t-1")
	x.Qty, x.LastFillQty, x.CumFillQty = dec("1"), dec("1"), dec("1")
	require.False(t, r.observe(ev), "delivered to the host")

	req := &schema.OrderRequest{Symbol: "BTC-USDT", ClientOrderID: schema.MustID("bot1"), Side: schema.SideBuy, Type: schema.OrderTypeMarket, Qty: dec("1")}
	verr := &VenueError{Code: 50004}
	r.outcome(req, fmt.Errorf("%w: %w", ErrMaybeSent, verr))
	require.Contains(t, r.unsure, orderKey{symbol: "BTC-USDT", id: req.ClientOrderID})

	o := normalize.QueryOrder{Symbol: "BTC-USDT"}
	o.VenueOrderID, o.ClientOrderID, o.Status, o.CumFillQty = x.VenueOrderID, req.ClientOrderID, schema.StatusFilled, dec("1")
	r.adopt(&o) // as resolve does on the lookup's answer
	tr := r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	require.True(t, tr == nil || tr.covered(o.CumFillQty) || tr.has(&x.TradeID),
		"the streamed fill counts as delivered: the pass must not deliver it again")
	require.True(t, tr == nil || tr.status == schema.StatusFilled, "its end delivered: not told again")

	// The same report seen twice counts its fill once.
	r = bareReconciler(10)
	x.VenueOrderID, o.VenueOrderID = schema.MustID("ord-2"), schema.MustID("ord-2")
	require.False(t, r.observe(ev))
	require.False(t, r.observe(ev))
	r.adopt(&o)
	tr = r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	require.NotNil(t, tr)
	require.Equal(t, "1", tr.delivered.String())
}
