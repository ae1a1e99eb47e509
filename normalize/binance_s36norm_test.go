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
