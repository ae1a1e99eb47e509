package normalize

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Binance COIN-M contracts settle in USD ("DOTUSD_PERP", "APTUSD_PERP",
// Binance COIN-M "Exchange Information"); USDⓈ-M's in USDT or USDC. The
// fallback took the longest quote the main part ends with, TUSD, so a
// COIN-M contract of a base ending in T was served under another name:
// DOTUSD_PERP as "DO-TUSD-PERP". Spot TUSD pairs keep TUSD.
func TestS34BinanceContractQuotes(t *testing.T) {
	for venue, canon := range map[string]string{
		"DOTUSD_PERP": "DOT-USD-PERP", "APTUSD_PERP": "APT-USD-PERP", "DOTUSD_250627": "DOT-USD-250627",
		"BTCUSD_PERP": "BTC-USD-PERP", "BTCUSDT_250328": "BTC-USDT-250328", "ETHUSDC_PERP": "ETH-USDC-PERP",
		"DOTTUSD": "DOT-TUSD", "BTCTUSD": "BTC-TUSD", "DOTUSDT": "DOT-USDT",
	} {
		got, err := NewBinanceSymbols().LookupString(venue)
		require.NoError(t, err, venue)
		assert.Equal(t, canon, got, venue)
	}
	_, got := feedFrames(t, NewBinance, nil, []string{`{"e":"contractInfo","E":1669647330375,"s":"DOTUSD_PERP","ps":"DOTUSD","ct":"PERPETUAL","cs":"TRADING"}`})
	require.Len(t, got, 1)
	assert.Equal(t, "DOT-USD-PERP", got[0].Symbol)
}

// A contract ending in none of the ContractQuotes falls back to Quotes
// (ETHBTC_PERP: no such contract today, a quote of the spot list).
func TestS34ContractQuotesFallBack(t *testing.T) {
	for venue, canon := range map[string]string{"ETHBTC_PERP": "ETH-BTC-PERP", "BTCBUSD_PERP": "BTC-BUSD-PERP"} {
		got, err := NewBinanceSymbols().LookupString(venue)
		require.NoError(t, err, venue)
		assert.Equal(t, canon, got, venue)
	}
}
