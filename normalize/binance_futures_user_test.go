package normalize

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestBinanceFuturesOrderTradeUpdate: USDⓈ-M's ORDER_TRADE_UPDATE is an
// execution report, not "unknown" (Binance USDⓈ-M "Event: Order Update").
func TestBinanceFuturesOrderTradeUpdate(t *testing.T) {
	evs := handle(t, "futures_order_trade_update")
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, schema.EventExecReport, ev.Type)
	require.Equal(t, "BTC-USDT", ev.Symbol)
	require.Equal(t, int64(1568879465651)*ms, ev.ExchangeTS)
	x := &ev.Exec
	require.Equal(t, "TEST", x.ClientOrderID.String())
	require.Equal(t, "8886774", x.VenueOrderID.String())
	require.Equal(t, "12345", x.TradeID.String())
	require.Equal(t, schema.SideSell, x.Side)
	require.Equal(t, schema.OrderTypeLimit, x.Type)
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "7103.04", x.LastFillPrice)
	requireDigits(t, "0.001", x.LastFillQty)
	requireDigits(t, "0.001", x.RemainingQty)
	requireDigits(t, "0.00284121", x.Fee)
	require.Equal(t, "USDT", x.FeeAsset.String())
	require.True(t, x.IsMaker)
	require.Equal(t, int64(1568879465650)*ms, x.TransactTime)
}
