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
