package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Channels the venues document that reached the host counted as Unknown:
// each is now either the canonical event it maps to exactly or counted as
// Ignored on purpose (the reason beside its channel table), so a host's
// "unknown message" alarm means a real surprise. Messages are the venues'
// documented examples (page names in the comments), compacted.
func TestS34KnownChannelsIgnored(t *testing.T) {
	cases := []struct {
		name   string
		np     newParserFunc
		frame  string
		ignore uint64 // messages counted Ignored
	}{
		// Binance USDⓈ-M "Composite Index Symbol Information Streams".
		{"binance compositeIndex raw", NewBinance, `{"e":"compositeIndex","E":1602310596000,"s":"DEFIUSDT","p":"554.41604065","C":"baseAsset","c":[{"b":"BAL","q":"USDT","w":"1.04884844","W":"0.01457800","i":"24.33521021"},{"b":"BAND","q":"USDT","w":"3.53782729","W":"0.03935200","i":"7.26420084"}]}`, 1},
		{"binance compositeIndex combined", NewBinance, `{"stream":"defiusdt@compositeIndex","data":{"e":"compositeIndex","E":1602310596000,"s":"DEFIUSDT","p":"554.41604065","C":"baseAsset","c":[]}}`, 1},
		// Binance USDⓈ-M "Multi-Assets Mode Asset Index".
		{"binance assetIndex all", NewBinance, `{"stream":"!assetIndex@arr","data":[{"e":"assetIndexUpdate","E":1686749230000,"s":"ADAUSD","i":"0.27462452","b":"0.10000000","a":"0.10000000","B":"0.24716207","A":"0.30208698","q":"0.05000000","g":"0.05000000","Q":"0.26089330","G":"0.28835575"},{"e":"assetIndexUpdate","E":1686749230000,"s":"USDTUSD","i":"0.99987691","b":"0.00010000","a":"0.00010000","B":"0.99977692","A":"0.99997689","q":"0.00010000","g":"0.00010000","Q":"0.99977692","G":"0.99997689"}]}`, 2},
		{"binance assetIndex one", NewBinance, `{"stream":"adausd@assetIndex","data":{"e":"assetIndexUpdate","E":1686749230000,"s":"ADAUSD","i":"0.27462452","b":"0.10000000","a":"0.10000000","B":"0.24716207","A":"0.30208698","q":"0.05000000","g":"0.05000000","Q":"0.26089330","G":"0.28835575"}}`, 1},
		// OKX v5 "Open interest channel", "Index tickers channel",
		// "Price limit channel", "Fills channel".
		{"okx open-interest", NewOKX, `{"arg":{"channel":"open-interest","instId":"LTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"LTC-USD-SWAP","oi":"5000","oiCcy":"555.55","oiUsd":"50000","ts":"1597026383085"}]}`, 1},
		{"okx index-tickers", NewOKX, `{"arg":{"channel":"index-tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","idxPx":"0.1","high24h":"0.5","low24h":"0.1","open24h":"0.1","sodUtc0":"0.1","sodUtc8":"0.1","ts":"1597026383085"}]}`, 1},
		{"okx price-limit", NewOKX, `{"arg":{"channel":"price-limit","instId":"LTC-USD-190628"},"data":[{"instId":"LTC-USD-190628","buyLmt":"200","sellLmt":"300","ts":"1597026383085","enabled":true}]}`, 1},
		{"okx fills", NewOKX, `{"arg":{"channel":"fills","uid":"614488474791111"},"data":[{"instId":"BTC-USDT-SWAP","fillSz":"100","fillPx":"70000","side":"buy","ts":"1705449605015","ordId":"680800019749904384","clOrdId":"1234567890","tradeId":"12345","execType":"T","count":"10"}]}`, 1},
		// Bybit v5 "Greeks", "Dcp".
		{"bybit greeks", NewBybit, `{"id":"592324fa945a30-2603-49a5-b865-21668c29f2a6","topic":"greeks","creationTime":1672364262482,"data":[{"baseCoin":"ETH","totalDelta":"0.06999986","totalGamma":"-0.00000001","totalVega":"-0.00000024","totalTheta":"0.00001314"}]}`, 1},
		{"bybit dcp", NewBybit, `{"topic":"dcp.future","creationTime":1672364262482,"data":[{"category":"future","dcpStatus":"ON","timeWindow":"10"}]}`, 1},
		// Kraken WebSocket v2 "Instrument", "Orders (Level 3)".
		{"kraken instrument", NewKraken, `{"channel":"instrument","type":"snapshot","data":{"assets":[{"id":"USD","status":"enabled","precision":4,"precision_display":2,"borrowable":true,"collateral_value":1.0,"margin_rate":0.0}],"pairs":[{"symbol":"EUR/USD","base":"EUR","quote":"USD","status":"online","qty_precision":8,"qty_increment":0.00000001,"price_precision":5,"cost_precision":5,"marginable":false,"has_index":true,"cost_min":0.5,"tick_size":0.00001,"price_increment":0.00001,"qty_min":0.5}]}}`, 1}, //nolint:misspell // Kraken's own key
		{"kraken level3", NewKraken, `{"channel":"level3","type":"snapshot","data":[{"symbol":"MATIC/USD","checksum":281817320,"bids":[{"order_id":"O6ZQNQ-BXL4E-5WGINO","limit_price":0.5629,"order_qty":111.56125344,"timestamp":"2023-10-06T17:35:00.279389650Z"}],"asks":[]}]}`, 1},
		// Coinbase Advanced Trade "Product status"; Exchange "Status".
		{"coinbase status", NewCoinbase, `{"channel":"status","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z","sequence_num":0,"events":[{"type":"snapshot","products":[{"product_type":"SPOT","id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","base_increment":"0.00000001","quote_increment":"0.01","display_name":"BTC/USD","status":"online","status_message":"","min_market_funds":"1"}]}]}`, 1},
		{"coinbase exchange status", NewCoinbase, `{"type":"status","products":[{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","status":"online","status_message":null}],"currencies":[{"id":"USD","name":"United States Dollar","status":"online"}]}`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, got := feedFrames(t, tc.np, nil, []string{tc.frame})
			assert.Empty(t, got)
			st := p.Stats()
			assert.Equal(t, Stats{Messages: tc.ignore, Ignored: tc.ignore}, st)
		})
	}
}

// Channels that map exactly to a control event of kind ControlStatus:
// Binance USDⓈ-M/COIN-M contractInfo (a contract's status, per symbol),
// OKX "Status channel" and Bybit "System Status" (a maintenance's state).
func TestS34StatusChannels(t *testing.T) {
	const contractInfo = `{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT","ct":"PERPETUAL","dt":4133404800000,"ot":1569398400000,"cs":"TRADING","bks":[{"bs":1,"bnf":0,"bnc":5000,"mmr":0.01,"cf":0,"mi":21,"ma":50},{"bs":2,"bnf":5000,"bnc":25000,"mmr":0.025,"cf":75,"mi":11,"ma":20}]}`
	cases := []struct {
		name, frame, symbol, reason string
		np                          newParserFunc
		ts                          int64 // ms
	}{
		{"binance contractInfo", contractInfo, "IOTA-USDT", "TRADING", NewBinance, 1669356423908},
		{"binance contractInfo combined", `{"stream":"!contractInfo","data":` + contractInfo + `}`, "IOTA-USDT", "TRADING", NewBinance, 1669356423908},
		{"binance coin-m contractInfo", `{"e":"contractInfo","E":1669647330375,"s":"BTCUSD_PERP","ps":"BTCUSD","ct":"PERPETUAL","dt":4133404800000,"ot":1666594800000,"cs":"SETTLING"}`, "BTC-USD-PERP", "SETTLING", NewBinance, 1669647330375},
		{"okx status", `{"arg":{"channel":"status"},"data":[{"begin":"1672823400000","end":"1672823520000","href":"","preOpenBegin":"","scheDesc":"","serviceType":"0","state":"scheduled","system":"unified","maintType":"1","env":"1","title":"Trading account WebSocket system upgrade","ts":"1672826038470"}]}`, "", "scheduled", NewOKX, 1672826038470},
		{"bybit system.status", `{"topic":"system.status","ts":1751858399649,"data":[{"id":"4d95b2a0-587f-11f0-bcc9-56f28c94d6ea","title":"t06","state":"completed","begin":"1751596902000","end":"1751597011000","href":"","serviceTypes":[2,3,4,5],"product":[1,2],"uidSuffix":[],"maintainType":1,"env":1}]}`, "", "completed", NewBybit, 1751858399649},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, got := feedFrames(t, tc.np, nil, []string{tc.frame})
			require.Len(t, got, 1)
			ev := got[0]
			assert.Equal(t, schema.EventControl, ev.Type)
			assert.Equal(t, schema.ControlStatus, ev.Control.Kind)
			assert.Equal(t, tc.reason, ev.Control.Reason)
			assert.Equal(t, tc.symbol, ev.Symbol)
			assert.Equal(t, tc.ts*1e6, ev.ExchangeTS)
			st := p.Stats()
			assert.Zero(t, st.Unknown)
			assert.Zero(t, st.Errors)
		})
	}
}

// A status message that names no status says nothing: a *ParseError
// wrapping ErrMissingField, never a control event with an empty Reason.
func TestS34StatusWithoutState(t *testing.T) {
	for name, c := range map[string]struct {
		np    newParserFunc
		frame string
		field string
	}{
		"binance": {NewBinance, `{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","ps":"IOTAUSDT"}`, "cs"},
		"okx":     {NewOKX, `{"arg":{"channel":"status"},"data":[{"title":"x","ts":"1672826038470"}]}`, "state"},
		"bybit":   {NewBybit, `{"topic":"system.status","ts":1751858399649,"data":[{"title":"t06","state":""}]}`, "state"},
	} {
		t.Run(name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := c.np(events, sink, nil)
			err := p.HandleBytes(context.Background(), []byte(c.frame), 1)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.field, pe.Field)
			require.ErrorIs(t, err, ErrMissingField)
			assert.Empty(t, sink.got)
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// The new channels cost no allocation per frame once warm (a known status
// word is interned, never copied).
func TestS34ChannelsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for name, c := range map[string]struct {
		np    newParserFunc
		frame string
	}{
		"binance contractInfo":   {NewBinance, `{"e":"contractInfo","E":1669356423908,"s":"IOTAUSDT","cs":"TRADING"}`},
		"binance compositeIndex": {NewBinance, `{"stream":"defiusdt@compositeIndex","data":{"e":"compositeIndex","E":1602310596000,"s":"DEFIUSDT","p":"554.41604065","c":[]}}`},
		"okx status":             {NewOKX, `{"arg":{"channel":"status"},"data":[{"state":"ongoing","title":"x","ts":"1672826038470"}]}`},
		"okx fills":              {NewOKX, `{"arg":{"channel":"fills"},"data":[{"instId":"BTC-USDT-SWAP","fillSz":"100"}]}`},
		"bybit system.status":    {NewBybit, `{"topic":"system.status","ts":1751858399649,"data":[{"state":"scheduled"}]}`},
		"bybit greeks":           {NewBybit, `{"topic":"greeks","creationTime":1672364262482,"data":[{"baseCoin":"ETH"}]}`},
		"kraken level3":          {NewKraken, `{"channel":"level3","type":"update","data":[{"symbol":"MATIC/USD","bids":[],"asks":[]}]}`},
		"coinbase status":        {NewCoinbase, `{"type":"status","products":[],"currencies":[]}`},
	} {
		t.Run(name, func(t *testing.T) {
			events := schema.NewPools(nil).Events
			p := c.np(events, &putSink{events: events}, nil)
			frame := []byte(c.frame)
			handle := func() { _ = p.HandleBytes(context.Background(), frame, 1) }
			for range 4 {
				handle()
			}
			assert.Zero(t, testing.AllocsPerRun(100, handle))
		})
	}
}
