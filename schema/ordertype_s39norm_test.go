package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS39normOrderTypesAdditive: the values the venues report that the
// schema lacked are added after the old ones; the old keep their numbers
// and names (a recording or a host's table written before still reads).
func TestS39normOrderTypesAdditive(t *testing.T) {
	old := []struct {
		typ  schema.OrderType
		n    uint8
		name string
	}{
		{schema.OrderTypeUnknown, 0, "unknown"}, {schema.OrderTypeMarket, 1, "market"}, {schema.OrderTypeLimit, 2, "limit"},
		{schema.OrderTypeLimitMaker, 3, "limit_maker"}, {schema.OrderTypeStopLoss, 4, "stop_loss"},
		{schema.OrderTypeStopLossLimit, 5, "stop_loss_limit"}, {schema.OrderTypeTakeProfit, 6, "take_profit"},
		{schema.OrderTypeTakeProfitLimit, 7, "take_profit_limit"},
		{schema.OrderTypeTrailingStop, 8, "trailing_stop"}, {schema.OrderTypeTrailingStopLimit, 9, "trailing_stop_limit"},
		{schema.OrderTypeLiquidation, 10, "liquidation"}, {schema.OrderTypeBracket, 11, "bracket"},
		{schema.OrderTypeSettlePosition, 12, "settle_position"},
	}
	for _, c := range old {
		assert.Equal(t, c.n, uint8(c.typ), c.name)
		assert.Equal(t, c.name, c.typ.String())
	}
	assert.Equal(t, "unknown", schema.OrderType(13).String())
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = schema.OrderTypeSettlePosition.String() }))

	cond := map[schema.OrderType]bool{
		schema.OrderTypeStopLoss: true, schema.OrderTypeStopLossLimit: true, schema.OrderTypeTakeProfit: true,
		schema.OrderTypeTakeProfitLimit: true, schema.OrderTypeTrailingStop: true, schema.OrderTypeTrailingStopLimit: true,
	}
	price := map[schema.OrderType]bool{
		schema.OrderTypeLimit: true, schema.OrderTypeLimitMaker: true, schema.OrderTypeStopLossLimit: true,
		schema.OrderTypeTakeProfitLimit: true, schema.OrderTypeTrailingStopLimit: true, schema.OrderTypeBracket: true,
	}
	for typ := schema.OrderType(0); typ < 14; typ++ {
		assert.Equal(t, cond[typ], typ.Conditional(), typ.String())
		assert.Equal(t, price[typ], typ.NeedsPrice(), typ.String())
		assert.Equal(t, typ >= schema.OrderTypeMarket && typ <= schema.OrderTypeTakeProfitLimit, typ.Placeable(), typ.String())
	}
}

// TestS39normReportedTypesNotPlaced: a type only venues report is refused
// by Validate with a typed error, whatever the request's other fields say
// (no encoder writes it: Binance's would send type="").
func TestS39normReportedTypesNotPlaced(t *testing.T) {
	for _, typ := range []schema.OrderType{schema.OrderTypeTrailingStop, schema.OrderTypeTrailingStopLimit,
		schema.OrderTypeLiquidation, schema.OrderTypeBracket, schema.OrderTypeSettlePosition} {
		o := schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Side: schema.SideSell, Type: typ,
			Qty: schema.MustParseDecimal("1"), StopPrice: schema.MustParseDecimal("100")}
		if typ.NeedsPrice() {
			o.Price = schema.MustParseDecimal("99")
		}
		err := o.Validate()
		require.ErrorIs(t, err, schema.ErrInvalid, typ.String())
		assert.Contains(t, err.Error(), "not placed")
	}
}
