package normalize

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// OKX v5 "Get instruments": ctVal is counted in ctValCcy. A linear swap's
// (BTC-USDT-SWAP: 0.01 BTC) is the base asset; an inverse swap's
// (BTC-USD-SWAP: 100 USD a contract) is the quote asset, so its base
// quantity depends on the price. Read as base, one inverse contract was
// taken for 100 BTC.
func TestAdv3OKXInverseContractValue(t *testing.T) {
	ins, err := ParseOKXInstruments([]byte(`{"code":"0","msg":"","data":[` +
		`{"instType":"SWAP","instId":"BTC-USDT-SWAP","uly":"BTC-USDT","instFamily":"BTC-USDT","baseCcy":"","quoteCcy":"","settleCcy":"USDT","ctVal":"0.01","ctMult":"1","ctValCcy":"BTC","ctType":"linear","tickSz":"0.1","lotSz":"0.01","minSz":"0.01","maxLmtSz":"100000000","state":"live"},` +
		`{"instType":"SWAP","instId":"BTC-USD-SWAP","uly":"BTC-USD","instFamily":"BTC-USD","baseCcy":"","quoteCcy":"","settleCcy":"BTC","ctVal":"100","ctMult":"1","ctValCcy":"USD","ctType":"inverse","tickSz":"0.1","lotSz":"1","minSz":"1","maxLmtSz":"100000000","state":"live"}]}`))
	require.NoError(t, err)
	require.Len(t, ins, 2)
	linear, inverse := ins[0], ins[1]
	requireDigits(t, "0.01", linear.Rules.ContractSize)
	require.False(t, linear.Rules.ContractInQuote)
	requireDigits(t, "100", inverse.Rules.ContractSize)
	require.True(t, inverse.Rules.ContractInQuote, "100 USD a contract, not 100 BTC")
}

// OKX v5 "Get instruments": ctMult is the contract multiplier; a
// contract stands for ctVal × ctMult of ctValCcy.
func TestAdv3OKXContractMultiplier(t *testing.T) {
	ins, err := ParseOKXInstruments([]byte(`{"code":"0","msg":"","data":[` +
		`{"instType":"FUTURES","instId":"BTC-USDT-250808","uly":"BTC-USDT","ctVal":"0.01","ctMult":"10","ctValCcy":"BTC","tickSz":"0.1","lotSz":"1","minSz":"1"}]}`))
	require.NoError(t, err)
	require.Len(t, ins, 1)
	requireDigits(t, "0.10", ins[0].Rules.ContractSize)
}

// Bybit v5 "Get Instruments Info" (category inverse): an inverse future
// is named with a month code and no separator ("BTCUSDH25", contractType
// InverseFutures). It was BTC-USD, the name of no contract at all (the
// inverse perpetual BTCUSD is BTC-USD-PERP): its expiry was lost and two
// quarters of the same pair shared one symbol.
func TestAdv3BybitInverseFutureContract(t *testing.T) {
	ins, err := ParseBybitInstruments([]byte(`{"retCode":0,"retMsg":"OK","result":{"category":"inverse","list":[` +
		`{"symbol":"BTCUSD","contractType":"InversePerpetual","baseCoin":"BTC","quoteCoin":"USD","priceFilter":{"tickSize":"0.50"},"lotSizeFilter":{"qtyStep":"1","minOrderQty":"1","maxOrderQty":"100"}},` +
		`{"symbol":"BTCUSDH25","contractType":"InverseFutures","baseCoin":"BTC","quoteCoin":"USD","priceFilter":{"tickSize":"0.50"},"lotSizeFilter":{"qtyStep":"1","minOrderQty":"1","maxOrderQty":"100"}},` +
		`{"symbol":"BTCUSDM25","contractType":"InverseFutures","baseCoin":"BTC","quoteCoin":"USD","priceFilter":{"tickSize":"0.50"},"lotSizeFilter":{"qtyStep":"1","minOrderQty":"1","maxOrderQty":"100"}}` +
		`],"nextPageCursor":""}}`))
	require.NoError(t, err)
	syms := NewSymbols(BybitSymbolRules())
	require.NoError(t, syms.Load(ins))
	for venue, want := range map[string]string{"BTCUSD": "BTC-USD-PERP", "BTCUSDH25": "BTC-USD-H25", "BTCUSDM25": "BTC-USD-M25"} {
		got, err := syms.Lookup([]byte(venue))
		require.NoError(t, err)
		require.Equal(t, want, got, venue)
	}
}
