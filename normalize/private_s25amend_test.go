package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// bybitOrderPush is a Bybit v5 "order" topic push of one spot limit order
// (Bybit v5 "WebSocket Stream → Private → Order").
func bybitOrderPush(id, status, price, qty, trigger, cum, leaves string) string {
	return `{"id":"1","topic":"order","creationTime":1672364262474,"data":[{"symbol":"BTCUSDT","orderId":"` + id +
		`","side":"Buy","orderType":"Limit","cancelType":"UNKNOWN","price":"` + price + `","qty":"` + qty +
		`","triggerPrice":"` + trigger + `","timeInForce":"GTC","orderStatus":"` + status + `","orderLinkId":"x1","leavesQty":"` + leaves +
		`","cumExecQty":"` + cum + `","cumExecValue":"0","avgPrice":"","createdTime":"1672364262444","updatedTime":"1672364262457",` +
		`"rejectReason":"EC_NoError","category":"spot"}]}`
}

// TestS25BybitAmendIsAmendment: Bybit's "Amend Order" (REST
// /v5/order/amend, WebSocket order.amend) changes a working order's price,
// qty or triggerPrice in place; the "order" topic then pushes the order
// with the same orderStatus (New, PartiallyFilled, Untriggered) and the new
// values. Its report is an Amendment, as Binance's AMENDMENT, OKX's
// amendResult, Kraken's "amended" and Coinbase's edit are — not a second
// New.
func TestS25BybitAmendIsAmendment(t *testing.T) {
	one := newConnFeed(t, by).one
	require.Equal(t, schema.ExecNew, one(bybitOrderPush("o1", "New", "100", "1", "", "0", "1")).ExecType)
	x := one(bybitOrderPush("o1", "New", "99.5", "1", "", "0", "1"))
	require.Equal(t, []any{schema.ExecAmendment, schema.StatusNew}, []any{x.ExecType, x.Status}, "a new price")
	requireDigits(t, "99.5", x.Price)
	x = one(bybitOrderPush("o1", "New", "99.5", "0.8", "", "0", "0.8"))
	require.Equal(t, schema.ExecAmendment, x.ExecType, "a new qty")
	x = one(bybitOrderPush("o1", "New", "99.5", "0.8", "", "0", "0.8"))
	require.Equal(t, schema.ExecNew, x.ExecType, "the same again: no change, not an amendment")
	x = one(bybitOrderPush("o1", "PartiallyFilled", "99.5", "0.8", "", "0.3", "0.5"))
	require.NotEqual(t, schema.ExecAmendment, x.ExecType, "a fill is not an amendment")
	x = one(bybitOrderPush("o1", "PartiallyFilled", "99.6", "0.8", "", "0.3", "0.5"))
	require.Equal(t, []any{schema.ExecAmendment, schema.StatusPartiallyFilled}, []any{x.ExecType, x.Status}, "a partly filled order amended")
	// An amendment of what neither price, qty nor triggerPrice says (its
	// takeProfit, stopLoss: Bybit "Amend Order"), pushed later: an
	// Amendment too.
	tpsl := strings.Replace(bybitOrderPush("o1", "PartiallyFilled", "99.6", "0.8", "", "0.3", "0.5"), `"updatedTime":"1672364262457"`, `"updatedTime":"1672364262999"`, 1)
	x = one(tpsl)
	require.Equal(t, schema.ExecAmendment, x.ExecType, "a later push, nothing we read changed")

	x = one(bybitOrderPush("o1", "Cancelled", "99.7", "0.8", "", "0.3", "0"))
	require.Equal(t, schema.ExecCanceled, x.ExecType, "a final status is never an amendment")

	// An untriggered conditional order whose triggerPrice is amended.
	require.Equal(t, schema.ExecNew, one(bybitOrderPush("o2", "Untriggered", "100", "1", "90", "0", "1")).ExecType)
	x = one(bybitOrderPush("o2", "Untriggered", "100", "1", "91", "0", "1"))
	require.Equal(t, schema.ExecAmendment, x.ExecType, "a new triggerPrice")
	x = one(bybitOrderPush("o2", "Triggered", "100", "1", "91", "0", "1"))
	require.Equal(t, schema.ExecTriggered, x.ExecType, "the trigger is not an amendment")

	// Another order id with another price is an order of its own.
	require.Equal(t, schema.ExecNew, one(bybitOrderPush("o3", "New", "50", "1", "", "0", "1")).ExecType)
}

// one feeds msg as a frame of connection 1 and returns the one execution
// report it makes.
func (c *connFeed) one(msg string) schema.Execution {
	c.t.Helper()
	evs, err := c.feed(1, msg)
	require.NoError(c.t, err)
	require.Len(c.t, evs, 1)
	return s42normExec(c.t, evs[0])
}
