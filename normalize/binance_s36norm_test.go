package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Binance spot "Self Trade Prevention (STP) FAQ", "What is prevented
// quantity?": "While an order is open, the following equation holds true:
// original order quantity - executed quantity - prevented quantity =
// quantity available for further execution", A being "the cumulative
// quantity expired due to STP over the lifetime of the order" and B ("Last
// Prevented Quantity") "present for execution type TRADE_PREVENTION". In
// DECREMENT (and TRANSFER) mode the larger order stays open with its
// prevented quantity taken off: RemainingQty was q − z, quantity a
// strategy would wait on that can never fill.
func TestS36normBinanceSTPPreventedQuantity(t *testing.T) {
	const prevented = `"A":"0.30000000","B":"0.30000000","u":1,"v":3,"U":37,`
	for _, tc := range []struct {
		name, x, X, z, remaining string
		exec                     schema.ExecType
		status                   schema.OrderStatus
	}{
		{"DECREMENT: the order works on", "TRADE_PREVENTION", "PARTIALLY_FILLED", "0.20000000", "0.50000000", schema.ExecTradePrevention, schema.StatusPartiallyFilled},
		{"DECREMENT: no fill yet", "TRADE_PREVENTION", "NEW", "0.00000000", "0.70000000", schema.ExecTradePrevention, schema.StatusNew},
		{"a later fill of the decremented order", "TRADE", "PARTIALLY_FILLED", "0.40000000", "0.30000000", schema.ExecTrade, schema.StatusPartiallyFilled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := "0"
			if tc.exec == schema.ExecTrade {
				l = "0.2"
			}
			msg := strings.Replace(bnExecReport(tc.x, tc.X, l, tc.z, "1.00000000"), `"V":"NONE"`, prevented+`"V":"DECREMENT"`, 1)
			evs, err := newConnFeed(t, schema.VenueBinance).feed(1, msg)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			x := evs[0].Exec
			assert.Equal(t, tc.exec, x.ExecType)
			assert.Equal(t, tc.status, x.Status)
			requireDigits(t, tc.remaining, x.RemainingQty)
		})
	}
	// EXPIRE_TAKER: the whole remaining quantity expired (A = q − z): none remains.
	msg := strings.Replace(bnExecReport("TRADE_PREVENTION", "EXPIRED_IN_MATCH", "0", "0.00000000", "3.00000000"), `"V":"NONE"`,
		`"A":"3.00000000","B":"3.00000000","u":1,"v":0,"U":2,"V":"EXPIRE_TAKER"`, 1)
	evs, err := newConnFeed(t, schema.VenueBinance).feed(1, msg)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, schema.StatusExpiredInMatch, evs[0].Exec.Status)
	assert.True(t, evs[0].Exec.RemainingQty.IsZero(), "%s", evs[0].Exec.RemainingQty)
}

// FuzzS36normBinanceSTP: executionReports with prevented quantities,
// fuzzed (fuzzS35Reports' rules).
func FuzzS36normBinanceSTP(f *testing.F) {
	decrement := strings.Replace(bnExecReport("TRADE_PREVENTION", "PARTIALLY_FILLED", "0", "0.2", "1"), `"V":"NONE"`, `"A":"0.3","B":"0.3","u":1,"v":3,"U":37,"V":"DECREMENT"`, 1)
	fuzzS35Reports(f, schema.VenueBinance, bnExecReport("NEW", "NEW", "0", "0", "1"), decrement,
		strings.Replace(bnExecReport("TRADE_PREVENTION", "EXPIRED_IN_MATCH", "0", "0", "3"), `"V":"NONE"`, `"A":"3","B":"3","V":"EXPIRE_TAKER"`, 1))
}

// TestS36normBinanceSpotOrderWords: every execution type and order status
// Binance spot's executionReport documents ("User Data Streams for
// Binance", "Order Update"; "Public API Definitions", "Order status" and
// "Execution types"), each with the status the doc's words pair it with,
// maps to its schema value (ORDER_TRADE_UPDATE's: TestBinanceFuturesOrderWords;
// a word Binance may add: TestAdv4BinanceUnknownWords).
func TestS36normBinanceSpotOrderWords(t *testing.T) {
	for _, tc := range []struct {
		x, X, doc string
		exec      schema.ExecType
		status    schema.OrderStatus
	}{
		{"NEW", "NEW", "The order has been accepted into the engine.", schema.ExecNew, schema.StatusNew},
		{"NEW", "PENDING_NEW", "The order is in a pending phase until the working order of an order list has been fully filled.", schema.ExecNew, schema.StatusPendingNew},
		{"TRADE", "PARTIALLY_FILLED", "Part of the order or all of the order's quantity has filled.", schema.ExecTrade, schema.StatusPartiallyFilled},
		{"TRADE", "FILLED", "The order has been completed.", schema.ExecTrade, schema.StatusFilled},
		{"CANCELED", "CANCELED", "The order has been canceled by the user.", schema.ExecCanceled, schema.StatusCanceled},
		{"CANCELED", "PENDING_CANCEL", "PENDING_CANCEL: currently unused", schema.ExecCanceled, schema.StatusPendingCancel},
		{"REPLACED", "NEW", "REPLACED: currently unused", schema.ExecReplaced, schema.StatusNew},
		{"REJECTED", "REJECTED", "The order has been rejected and was not processed (Cancel Replace Orders)", schema.ExecRejected, schema.StatusRejected},
		{"EXPIRED", "EXPIRED", "canceled according to the order type's rules (e.g. LIMIT FOK orders with no fill) or by the exchange", schema.ExecExpired, schema.StatusExpired},
		{"TRADE_PREVENTION", "EXPIRED_IN_MATCH", "The order has expired due to STP trigger.", schema.ExecTradePrevention, schema.StatusExpiredInMatch},
		{"AMENDMENT", "NEW", "Order modified as a result of user's request (keep priority).", schema.ExecAmendment, schema.StatusNew},
	} {
		l, z := "0", "0"
		if tc.exec == schema.ExecTrade {
			l, z = "0.4", "0.4"
			if tc.status == schema.StatusFilled {
				z = "1"
			}
		}
		c := newConnFeed(t, schema.VenueBinance)
		evs, err := c.feed(1, bnExecReport(tc.x, tc.X, l, z, "1"))
		require.NoError(t, err, tc.doc)
		require.Len(t, evs, 1, tc.doc)
		x := evs[0].Exec
		assert.Equal(t, tc.exec, x.ExecType, "%s/%s: %s", tc.x, tc.X, tc.doc)
		assert.Equal(t, tc.status, x.Status, "%s/%s: %s", tc.x, tc.X, tc.doc)
		if tc.exec != schema.ExecTrade {
			assert.True(t, x.LastFillQty.IsZero(), "%s/%s fills nothing", tc.x, tc.X)
		}
		assert.Zero(t, c.p.Stats().Errors)
	}
}
