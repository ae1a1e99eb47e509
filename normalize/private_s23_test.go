package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Review s23 of the private-stream parsers.

// bybitSpotMarket returns an order topic push and an execution topic push
// of one Bybit spot market order (Bybit v5 "Order" and "Execution"
// examples' fields), of side and marketUnit, qty its qty.
func bybitSpotMarket(category, side, unit, qty string) (order, exec string) {
	order = `{"id":"1","topic":"order","creationTime":1672364262474,"data":[{"category":"` + category + `","symbol":"BTCUSDT","orderId":"o-9","orderLinkId":"","side":"` + side +
		`","positionIdx":0,"orderStatus":"Filled","cancelType":"UNKNOWN","rejectReason":"EC_NoError","timeInForce":"IOC","price":"0","qty":"` + qty +
		`","avgPrice":"66600","leavesQty":"0","leavesValue":"0","cumExecQty":"0.0015","cumExecValue":"99.9","cumExecFee":"0","orderType":"Market","marketUnit":"` + unit +
		`","triggerPrice":"","reduceOnly":false,"createdTime":"1672364262444","updatedTime":"1672364262457","feeCurrency":""}]}`
	exec = `{"id":"2","topic":"execution","creationTime":1672364174455,"data":[{"category":"` + category + `","symbol":"BTCUSDT","execFee":"0.0000015","execId":"e-9","execPrice":"66600","execQty":"0.0015","execType":"Trade","execValue":"99.9","isMaker":false,"leavesQty":"0","orderId":"o-9","orderLinkId":"","orderPrice":"0","orderQty":"` + qty +
		`","orderType":"Market","marketUnit":"` + unit + `","side":"` + side + `","execTime":"1672364174443","isLeverage":"0"}]}`
	if unit == "-" { // not sent at all
		order = strings.Replace(order, `"marketUnit":"-",`, "", 1)
		exec = strings.Replace(exec, `"marketUnit":"-",`, "", 1)
	}
	return order, exec
}

// TestS23BybitSpotMarketBuyByQuote: Bybit v5 "Place Order": a spot market
// order's qty is in the quote coin with marketUnit quoteCoin, and by
// default for a market buy. Its order and execution pushes carry that qty
// (100 USDT) as qty and orderQty: it was read as 100 BTC ordered, and the
// execution topic's CumFillQty, orderQty − leavesQty, said 100 BTC filled
// for a fill of 0.0015. A quote-sized order has no base quantity (zero),
// as OKX's tgtCcy quote_ccy and Bybit's order queries read it.
func TestS23BybitSpotMarketBuyByQuote(t *testing.T) {
	for _, tc := range []struct {
		name, category, side, unit, qty string
		quote                           bool
	}{
		{"buy, default unit", "spot", "Buy", "", "100", true},
		{"buy, unit not sent", "spot", "Buy", "-", "100", true},
		{"buy, quoteCoin", "spot", "Buy", "quoteCoin", "100", true},
		{"sell, quoteCoin", "spot", "Sell", "quoteCoin", "100", true},
		{"buy, baseCoin", "spot", "Buy", "baseCoin", "0.0015", false},
		{"sell, default unit", "spot", "Sell", "", "0.0015", false},
		{"linear buy", "linear", "Buy", "", "0.0015", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order, exec := bybitSpotMarket(tc.category, tc.side, tc.unit, tc.qty)
			evs, err := newConnFeed(t, by).feed(1, order)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			x := evs[0].Exec
			requireDigits(t, "0.0015", x.CumFillQty)
			require.Equal(t, schema.StatusFilled, x.Status)
			evs, err = newConnFeed(t, by).feed(1, exec)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			y := evs[0].Exec
			requireDigits(t, "0.0015", y.LastFillQty)
			require.Equal(t, schema.StatusFilled, y.Status)
			if tc.quote {
				require.True(t, x.Qty.IsZero(), "order topic: a quote amount read as the base quantity: %s", x.Qty)
				require.True(t, y.Qty.IsZero(), "execution topic: a quote amount read as the base quantity: %s", y.Qty)
				require.True(t, y.CumFillQty.IsZero(), "execution topic: orderQty − leavesQty of a quote amount: %s", y.CumFillQty)
				return
			}
			requireDigits(t, tc.qty, x.Qty)
			requireDigits(t, tc.qty, y.Qty)
			requireDigits(t, "0.0015", y.CumFillQty)
		})
	}
}

// TestS23OKXSpotMarketBuyDefaultQuote: OKX "Order channel" / "Place
// order": tgtCcy "Only applicable to SPOT Market Orders. Default is
// quote_ccy for buy, base_ccy for sell". A spot market buy placed without
// it (another client of the account, the web site) comes with tgtCcy ""
// and its sz a quote amount (ccxt/ccxt#9592: sz "11" USDT, accFillSz
// 0.00034622 BTC): it was read as 11 BTC ordered. Only an explicit
// base_ccy, a sell, a limit order or a derivative keeps sz as the
// quantity.
func TestS23OKXSpotMarketBuyDefaultQuote(t *testing.T) {
	for _, tc := range []struct {
		name, instType, side, ordType, tgtCcy string
		quote                                 bool
	}{
		{"buy, default", "SPOT", "buy", "market", "", true},
		{"buy, quote_ccy", "SPOT", "buy", "market", "quote_ccy", true},
		{"sell, quote_ccy", "SPOT", "sell", "market", "quote_ccy", true},
		{"buy, base_ccy", "SPOT", "buy", "market", "base_ccy", false},
		{"sell, default", "SPOT", "sell", "market", "", false},
		{"limit buy", "SPOT", "buy", "limit", "", false},
		{"swap market buy", "SWAP", "buy", "market", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := okxOrderPush("filled", "0.4", "-0.0004", "")
			msg = strings.Replace(msg, `"instType":"SPOT","msg"`, `"instType":"`+tc.instType+`","msg"`, 1)
			msg = strings.Replace(msg, `"side":"buy"`, `"side":"`+tc.side+`"`, 1)
			msg = strings.Replace(msg, `"ordType":"limit"`, `"ordType":"`+tc.ordType+`"`, 1)
			msg = strings.Replace(msg, `"tgtCcy":""`, `"tgtCcy":"`+tc.tgtCcy+`"`, 1)
			if tc.instType == "SWAP" {
				msg = strings.Replace(msg, `"instId":"BTC-USDT"`, `"instId":"BTC-USDT-SWAP"`, 1)
			}
			msg = strings.Replace(msg, `"sz":"1"`, `"sz":"0.4"`, 1)
			evs, err := newConnFeed(t, ox).feed(1, msg)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			x := evs[0].Exec
			requireDigits(t, "0.4", x.CumFillQty)
			require.Equal(t, schema.StatusFilled, x.Status)
			if tc.quote {
				require.True(t, x.Qty.IsZero(), "a quote amount read as the base quantity: %s", x.Qty)
				return
			}
			requireDigits(t, "0.4", x.Qty)
		})
	}
}

// The quote-sized paths cost no allocation either (TestVenueZeroAllocs).
func init() {
	order, exec := bybitSpotMarket("spot", "Buy", "", "100")
	okx := strings.Replace(strings.Replace(okxOrderPush("filled", "0.4", "-0.0004", ""), `"ordType":"limit"`, `"ordType":"market"`, 1), `"sz":"1"`, `"sz":"11"`, 1)
	venueAllocCases = append(venueAllocCases,
		gen(by, "order spot market buy by quote", func() []byte { return []byte(order) }),
		gen(by, "execution spot market buy by quote", func() []byte { return []byte(exec) }),
		gen(ox, "orders spot market buy by quote", func() []byte { return []byte(okx) }),
	)
}
