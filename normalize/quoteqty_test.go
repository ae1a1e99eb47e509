package normalize_test

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A fill's quote amount computed from its price and quantity (when the
// venue's answer does not give one) is never a silent zero because the
// exact product needs more than 18 digits after the point: a meme coin
// at 0.000012345678 filled 1234.56789012 is 0.015241578753238...
// exactly at 20 digits. It is the product rounded half to even at the
// most digits a Decimal holds.
func TestQueryQuoteQtyPastEighteenDigits(t *testing.T) {
	const px, sz = "0.000012345678", "1234.56789012"
	exact := new(big.Rat).Mul(ratOf(t, px), ratOf(t, sz))
	near := func(t *testing.T, d schema.Decimal) {
		t.Helper()
		require.Positive(t, d.Sign(), "quote amount left zero")
		diff := new(big.Rat).Abs(new(big.Rat).Sub(ratOf(t, d.String()), exact))
		half := new(big.Rat).SetFrac(big.NewInt(5), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale()+1)), nil))
		require.LessOrEqual(t, diff.Cmp(half), 0, "%s vs %s", d, exact.FloatString(20))
		require.GreaterOrEqual(t, d.Scale(), 16)
	}

	t.Run("okx fills", func(t *testing.T) {
		syms := normalize.NewSymbols(normalize.OKXSymbolRules())
		fills, err := normalize.ParseOKXFills([]byte(`{"code":"0","msg":"","data":[{"instId":"PEPE-USDT","tradeId":"1","ordId":"2",`+
			`"billId":"3","fillPx":"`+px+`","fillSz":"`+sz+`","fee":"0","feeCcy":"USDT","execType":"T","fillTime":"1708587373361"}]}`), syms, nil)
		require.NoError(t, err)
		require.Len(t, fills, 1)
		near(t, fills[0].QuoteQty)
	})
	t.Run("bybit executions without execValue", func(t *testing.T) {
		syms := normalize.NewSymbols(normalize.BybitSymbolRules())
		fills, _, err := normalize.ParseBybitExecutions([]byte(`{"retCode":0,"retMsg":"OK","result":{"nextPageCursor":"","category":"spot","list":[`+
			`{"symbol":"PEPEUSDT","orderId":"a","execType":"Trade","execId":"e1","execPrice":"`+px+`","execQty":"`+sz+`",`+
			`"execFee":"0","feeCurrency":"USDT","isMaker":false,"execTime":"1672221263862"}]}}`), syms, nil)
		require.NoError(t, err)
		require.Len(t, fills, 1)
		near(t, fills[0].QuoteQty)
	})
}

func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	require.True(t, ok, s)
	return r
}
