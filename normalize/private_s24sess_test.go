package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS24AmendAfterFillNotARepeat: OKX's orders channel pushes the order's
// whole state on every change, naming its last fill (tradeId, fillSz,
// fillPx: "Last traded ID", "Last filled quantity"), and an amendment
// (amend-order: newSz, newPx) as a push with amendResult "0" (OKX v5
// "Order channel"). The amendment of a partly filled order restating
// that fill is news, not a repeat: it is delivered as an Amendment with
// the order's new price and size, its fill not counted again.
func TestS24AmendAfterFillNotARepeat(t *testing.T) {
	c := newConnFeed(t, ox)
	fill := okxOrderPush("partially_filled", "0.4", "-0.08", "")
	evs, err := c.feed(1, fill)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, schema.ExecTrade, evs[0].Exec.ExecType)

	amended := strings.Replace(strings.Replace(fill, `"amendResult":""`, `"amendResult":"0"`, 1), `"px":"100"`, `"px":"99.5"`, 1)
	evs, err = c.feed(1, amended)
	require.NoError(t, err)
	require.Len(t, evs, 1, "the amendment is delivered")
	x := evs[0].Exec
	require.Equal(t, schema.ExecAmendment, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "99.5", x.Price)
	require.True(t, x.LastFillQty.IsZero(), "the fill is not counted twice")
	require.True(t, x.Fee.IsZero())
	require.True(t, x.TradeID.IsZero())
	requireDigits(t, "0.4", x.CumFillQty)

	evs, err = c.feed(2, amended) // the same push on a second connection
	require.NoError(t, err)
	require.Empty(t, evs, "the amendment restated is a repeat")
}

// TestS24CoinbaseSubscribePrivate: on Advanced Trade's User Order Data
// endpoint every subscription carries a JWT (Coinbase "WebSocket
// endpoints": "Private … A CDP JWT is required"), heartbeats included.
func TestS24CoinbaseSubscribePrivate(t *testing.T) {
	b, err := CoinbaseSubscribePrivate("heartbeats", "a.b.c")
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"subscribe","channel":"heartbeats","product_ids":[],"jwt":"a.b.c"}`, string(b))
	_, err = CoinbaseSubscribePrivate("heartbeats", "")
	require.ErrorIs(t, err, ErrBadValue)
	_, err = CoinbaseSubscribePrivate("", "a.b.c")
	require.Error(t, err)
	b, err = CoinbaseSubscribeUser("a.b.c", "BTC-USD")
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":"a.b.c"}`, string(b))
}

// TestS24CoinbaseEditIsAmendment: Coinbase Advanced Trade's "Edit Order"
// changes an open order's limit price or size in place (the user channel
// shows the order EDIT_QUEUED, then OPEN with the new limit_price and
// leaves_quantity). The report of an order whose price or size changed
// without a fill is an Amendment, as OKX's amendResult, Binance's
// AMENDMENT and Kraken's "amended" are — not a second New.
func TestS24CoinbaseEditIsAmendment(t *testing.T) {
	c := newConnFeed(t, cb)
	open := func(price, cum, leaves, value string) string {
		return strings.Replace(string(coinbaseUser("update", "OPEN", cum, leaves, value, "0")), `"limit_price":"50000"`, `"limit_price":"`+price+`"`, 1)
	}
	one := c.one
	require.Equal(t, schema.ExecNew, one(open("50000", "0", "1", "0")).ExecType)
	x := one(open("49900", "0", "1", "0"))
	require.Equal(t, []any{schema.ExecAmendment, schema.StatusNew}, []any{x.ExecType, x.Status}, "a new limit price")
	requireDigits(t, "49900", x.Price)
	x = one(open("49900", "0", "0.5", "0"))
	require.Equal(t, schema.ExecAmendment, x.ExecType, "a new size")
	requireDigits(t, "0.5", x.Qty)
	x = one(open("49900", "0", "0.5", "0"))
	require.NotEqual(t, schema.ExecAmendment, x.ExecType, "the same again: no change")
	x = one(open("49900", "0.2", "0.3", "9980"))
	require.Equal(t, schema.ExecTrade, x.ExecType, "a fill")
	requireDigits(t, "0.2", x.LastFillQty)
}

// TestS24FailedAmendAfterFill: a failed amendment of a partly filled OKX
// order (amendResult "-1", msg the reason: "Order channel") restating the
// last fill is news too: delivered once, with the reason and without the
// fill.
func TestS24FailedAmendAfterFill(t *testing.T) {
	c := newConnFeed(t, ox)
	fill := okxOrderPush("partially_filled", "0.4", "-0.08", "")
	evs, err := c.feed(1, fill)
	require.NoError(t, err)
	require.Len(t, evs, 1)

	failed := strings.Replace(fill, `"amendResult":""`, `"amendResult":"-1"`, 1)
	evs, err = c.feed(1, failed)
	require.NoError(t, err)
	require.Len(t, evs, 1, "the failed amendment is delivered")
	x := evs[0].Exec
	require.Equal(t, "px too far", x.RejectReason)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	require.NotEqual(t, schema.ExecTrade, x.ExecType)
	require.True(t, x.LastFillQty.IsZero(), "the fill is not counted twice")

	evs, err = c.feed(2, failed)
	require.NoError(t, err)
	require.Empty(t, evs, "restated again: a repeat")
}
