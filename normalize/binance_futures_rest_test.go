package normalize_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// usdmExchangeInfo has the shape of Binance USDⓈ-M GET /fapi/v1/exchangeInfo
// ("Exchange Information" in the USDⓈ-M futures docs): contractType,
// deliveryDate and a MIN_NOTIONAL filter that carries "notional". The values
// are our own.
const usdmExchangeInfo = `{"timezone":"UTC","serverTime":1700000000000,"symbols":[
{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL","deliveryDate":4133404800000,"status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT",
 "filters":[{"filterType":"PRICE_FILTER","minPrice":"556.80","maxPrice":"4529764","tickSize":"0.10"},{"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"1000","stepSize":"0.001"},
 {"filterType":"MARKET_LOT_SIZE","minQty":"0.001","maxQty":"120","stepSize":"0.001"},{"filterType":"MIN_NOTIONAL","notional":"100"},{"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"}]},
{"symbol":"BTCUSDT_250328","pair":"BTCUSDT","contractType":"CURRENT_QUARTER","deliveryDate":1743148800000,"status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","marginAsset":"USDT",
 "filters":[{"filterType":"PRICE_FILTER","minPrice":"576.30","maxPrice":"1000000","tickSize":"0.10"},{"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"500","stepSize":"0.001"},{"filterType":"MIN_NOTIONAL","notional":"5"}]}]}`

// The USDⓈ-M instruments come from the futures endpoint, not the spot one;
// perpetuals and dated contracts are named as such, and the futures
// MIN_NOTIONAL ("notional") fills MinNotional.
func TestFetchBinanceUSDMInstruments(t *testing.T) {
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		if r.URL.Path != normalize.BinanceUSDMExchangeInfo {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(usdmExchangeInfo))
	}))
	defer srv.Close()

	ins, err := normalize.FetchBinanceInstrumentsFrom(context.Background(), srv.Client(), srv.URL, normalize.BinanceUSDMExchangeInfo)
	require.NoError(t, err)
	require.Equal(t, []string{"/fapi/v1/exchangeInfo"}, asked)
	require.Len(t, ins, 2)
	assert.Equal(t, "PERP", ins[0].Contract)
	assert.Equal(t, "250328", ins[1].Contract, "a dated contract is named by its delivery date")
	assert.Equal(t, "0.10", ins[0].Rules.TickSize.String())
	assert.Equal(t, "0.001", ins[0].Rules.StepSize.String())
	assert.Equal(t, "100", ins[0].Rules.MinNotional.String())
	assert.Equal(t, "5", ins[1].Rules.MinNotional.String())

	syms := normalize.NewBinanceSymbols()
	require.NoError(t, syms.Load(ins))
	perp, err := syms.LookupString("BTCUSDT")
	require.NoError(t, err)
	assert.Equal(t, "BTC-USDT-PERP", perp)
	dated, err := syms.LookupString("BTCUSDT_250328")
	require.NoError(t, err)
	assert.Equal(t, "BTC-USDT-250328", dated)

	// The spot path on the same host is not what USDⓈ-M asks.
	_, err = normalize.FetchBinanceInstruments(context.Background(), srv.Client(), srv.URL)
	assert.ErrorContains(t, err, "404")
}
