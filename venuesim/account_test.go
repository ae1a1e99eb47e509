package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// balances reads an outboundAccountPosition's entries by asset.
func balances(t *testing.T, ev map[string]any) map[string][2]any {
	t.Helper()
	require.Equal(t, "outboundAccountPosition", ev["e"])
	require.NotNil(t, ev["E"])
	require.NotNil(t, ev["u"])
	out := map[string][2]any{}
	for _, b := range ev["B"].([]any) {
		m := b.(map[string]any)
		out[m["a"].(string)] = [2]any{m["f"], m["l"]}
	}
	return out
}

// TestFillMovesBalances: each fill's executionReport is followed by an
// outboundAccountPosition of the symbol's two assets, as the venue now
// holds them: the buyer got the base asset less the fee and paid the quote.
func TestFillMovesBalances(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, Symbols: []string{"BTCUSDT"}, Balance: 100000})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.02000000","timestamp":1}}`)
	var px []string
	for _, want := range []string{"PARTIALLY_FILLED", "FILLED"} {
		for {
			m := a.next()
			ev, ok := m["event"].(map[string]any)
			if !ok {
				continue
			}
			if ev["e"] == "executionReport" && ev["x"] == "TRADE" {
				require.Equal(t, want, ev["X"])
				px = append(px, ev["L"].(string))
				break
			}
			require.NotEqual(t, "outboundAccountPosition", ev["e"], "no balance change before the fill's report")
		}
		b := balances(t, a.event("outboundAccountPosition"))
		require.Len(t, b, 2)
		require.Contains(t, b, "BTC")
		require.Contains(t, b, "USDT")
	}
	free, locked := v.Balance("BTC")
	assert.Equal(t, "100000.01998000", free, "0.02 bought, 0.1 % fee in BTC")
	assert.Equal(t, "0.00000000", locked)
	usdt, _ := v.Balance("USDT")
	assert.NotEqual(t, "100000.00000000", usdt)
	assert.Equal(t, 2, len(px))
	assert.Equal(t, uint64(2), v.Stats().AccountUpdates)
}

// TestRestingOrderLocksAndCancelReleases: a resting buy locks price ×
// quantity of the quote asset; its cancel frees it; both are told.
func TestRestingOrderLocksAndCancelReleases(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, Balance: 1000})
	defer v.Close()
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ETHUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1.5","newClientOrderId":"rest-1","timestamp":1}}`)
	assert.Equal(t, "NEW", a.report()["X"])
	b := balances(t, a.event("outboundAccountPosition"))
	assert.Equal(t, [2]any{"850.00000000", "150.00000000"}, b["USDT"])
	assert.Equal(t, [2]any{"1000.00000000", "0.00000000"}, b["ETH"])
	write(t, a.c, `{"id":3,"method":"order.cancel","params":{"symbol":"ETHUSDT","origClientOrderId":"rest-1","timestamp":2}}`)
	assert.Equal(t, "CANCELED", a.report()["X"])
	b = balances(t, a.event("outboundAccountPosition"))
	assert.Equal(t, [2]any{"1000.00000000", "0.00000000"}, b["USDT"])
}

// TestDeposit: a deposit or withdrawal is a balanceUpdate, then an
// outboundAccountPosition of the asset; bad input is refused.
func TestDeposit(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50, Balance: 10})
	defer v.Close()
	a := openAPI(t, v)
	require.NoError(t, v.Deposit("BTC", "-2.5"))
	ev := a.event("balanceUpdate")
	assert.Equal(t, "BTC", ev["a"])
	assert.Equal(t, "-2.50000000", ev["d"])
	assert.NotNil(t, ev["T"])
	assert.Equal(t, [2]any{"7.50000000", "0.00000000"}, balances(t, a.event("outboundAccountPosition"))["BTC"])
	assert.ErrorIs(t, v.Deposit("DOGE", "1"), venuesim.ErrUnknownAsset)
	assert.ErrorIs(t, v.Deposit("BTC", "1.123456789"), venuesim.ErrBadAmount)
	assert.ErrorIs(t, v.Deposit("BTC", ""), venuesim.ErrBadAmount)
}
