package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// TestS28SameOrder: a duplicate refusal resolves to the venue's order under
// the client order id only when it is the order the place asks for. A
// LIMIT place and a STOP_LOSS_LIMIT order (or the reverse) of the same
// side, price and quantity are two orders: the stop-limit rests untriggered
// and the limit on the book (Binance "New order": STOP_LOSS_LIMIT takes
// stopPrice, LIMIT does not). A zero stop price on one side compared as
// "says nothing", so they matched (failed before).
func TestS28SameOrder(t *testing.T) {
	d := schema.MustParseDecimal
	req := func(typ schema.OrderType, stop string) *schema.OrderRequest {
		return &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: typ, Price: d("1000"), Qty: d("0.01"), StopPrice: d(stop)}
	}
	venue := func(typ schema.OrderType, stop string) *normalize.QueryOrder {
		o := &normalize.QueryOrder{Symbol: "BTC-USDT"}
		o.Side, o.Type, o.Price, o.Qty, o.StopPrice = schema.SideBuy, typ, d("1000"), d("0.01"), d(stop)
		return o
	}
	for _, c := range []struct {
		name string
		o    *normalize.QueryOrder
		req  *schema.OrderRequest
		same bool
	}{
		{"limit, limit", venue(schema.OrderTypeLimit, "0"), req(schema.OrderTypeLimit, "0"), true},
		{"stop-limit, stop-limit", venue(schema.OrderTypeStopLossLimit, "990"), req(schema.OrderTypeStopLossLimit, "990"), true},
		{"stop-limit, its type untold", venue(schema.OrderTypeUnknown, "990"), req(schema.OrderTypeStopLossLimit, "990"), true},
		{"stop-limit at the venue, limit placed", venue(schema.OrderTypeStopLossLimit, "990"), req(schema.OrderTypeLimit, "0"), false},
		{"limit at the venue, stop-limit placed", venue(schema.OrderTypeLimit, "0"), req(schema.OrderTypeStopLossLimit, "990"), false},
		{"take-profit-limit at the venue, limit placed", venue(schema.OrderTypeTakeProfitLimit, "1010"), req(schema.OrderTypeLimit, "0"), false},
		{"a stop price at the venue, type untold, limit placed", venue(schema.OrderTypeUnknown, "990"), req(schema.OrderTypeLimit, "0"), false},
		{"stop-limit at another stop", venue(schema.OrderTypeStopLossLimit, "980"), req(schema.OrderTypeStopLossLimit, "990"), false},
		{"market at the venue, limit placed", venue(schema.OrderTypeMarket, "0"), req(schema.OrderTypeLimit, "0"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.same, sameOrder(c.o, c.req))
		})
	}
}
