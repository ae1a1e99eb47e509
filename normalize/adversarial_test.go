package normalize

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Reviewer R3's cases, written apart from the implementer's from each
// venue's documented messages: more stream-ending and error answers than
// issue #14 names. Each must be one critical control event with the
// venue's code and reason, never counted unknown.
func TestAdversarialStreamEnding(t *testing.T) {
	tests := []struct {
		name   string
		venue  schema.Venue
		frame  string
		kind   schema.ControlKind
		code   int64
		reason string
		reqID  uint64
	}{
		// Binance (Websocket Market Streams, WebSocket API, user data streams).
		{"binance flat error without id", schema.VenueBinance,
			`{"code":-1121,"msg":"Invalid symbol."}`, schema.ControlVenueError, -1121, "Invalid symbol.", 0},
		{"binance flat error id first", schema.VenueBinance,
			`{"id":7,"code":-1121,"msg":"x"}`, schema.ControlVenueError, -1121, "x", 7},
		{"binance market-stream nested error", schema.VenueBinance,
			`{"error":{"code":2,"msg":"Invalid request: unknown variable"},"id":1}`, schema.ControlVenueError, 2, "Invalid request: unknown variable", 1},
		{"binance WS-API 429", schema.VenueBinance,
			`{"id":"e2a85d9f","status":429,"error":{"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 MINUTE."},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":6001}]}`,
			schema.ControlVenueError, -1003, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.", 0},
		{"binance WS-API 418 ban with data", schema.VenueBinance,
			`{"id":3,"status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}}}`,
			schema.ControlVenueError, -1003, "Way too much request weight used; IP banned until 1659146400000.", 3},
		{"binance futures listenKeyExpired string E", schema.VenueBinance,
			`{"e":"listenKeyExpired","E":"1576653824250","listenKey":"WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv"}`,
			schema.ControlVenueError, 0, "listenKeyExpired", 0},
		{"binance WS-API user data listenKeyExpired", schema.VenueBinance,
			`{"subscriptionId":0,"event":{"e":"listenKeyExpired","E":1576653824250,"listenKey":"x"}}`,
			schema.ControlVenueError, 0, "listenKeyExpired", 0},
		{"binance bare eventStreamTerminated", schema.VenueBinance,
			`{"e":"eventStreamTerminated","E":1728973001334}`, schema.ControlVenueError, 0, "eventStreamTerminated", 0},
		{"binance bare serverShutdown", schema.VenueBinance,
			`{"e":"serverShutdown","E":1728973001334}`, schema.ControlStatus, 0, "serverShutdown", 0},
		// Coinbase Exchange and Advanced Trade.
		{"coinbase exchange error with reason", schema.VenueCoinbase,
			`{"type":"error","message":"Failed to subscribe","reason":"BTC-UST is not a valid product"}`,
			schema.ControlVenueError, 0, "Failed to subscribe: BTC-UST is not a valid product", 0},
		{"coinbase error on a channel", schema.VenueCoinbase,
			`{"type":"error","message":"authentication failure","reason":"invalid signature","channel":"user"}`,
			schema.ControlVenueError, 0, "authentication failure: invalid signature", 0},
		{"coinbase error with reason only", schema.VenueCoinbase,
			`{"type":"error","message":"","reason":"only reason"}`, schema.ControlVenueError, 0, "only reason", 0},
		// Kraken v1 and v2.
		{"kraken v1 systemStatus cancel_only", schema.VenueKraken,
			`{"connectionID":8628615390848610000,"event":"systemStatus","status":"cancel_only","version":"1.0.0"}`, schema.ControlStatus, 0, "cancel_only", 0},
		{"kraken v1 systemStatus post_only", schema.VenueKraken,
			`{"connectionID":8628615390848610000,"event":"systemStatus","status":"post_only","version":"1.0.0"}`, schema.ControlStatus, 0, "post_only", 0},
		{"kraken v1 systemStatus limit_only", schema.VenueKraken,
			`{"connectionID":8628615390848610000,"event":"systemStatus","status":"limit_only","version":"1.0.0"}`, schema.ControlStatus, 0, "limit_only", 0},
		{"kraken v1 subscriptionStatus error", schema.VenueKraken,
			`{"errorMessage":"Subscription depth not supported","event":"subscriptionStatus","pair":"XBT/USD","reqid":42,"status":"error","subscription":{"depth":42,"name":"book"}}`,
			schema.ControlVenueError, 0, "Subscription depth not supported", 42},
		{"kraken v1 generic error", schema.VenueKraken,
			`{"event":"error","errorMessage":"Malformed request","status":"error"}`, schema.ControlVenueError, 0, "Malformed request", 0},
		// Was unknown: v1 order answers report failure the same way.
		{"kraken v1 addOrderStatus error", schema.VenueKraken,
			`{"errorMessage":"EOrder:Order minimum not met","event":"addOrderStatus","status":"error","reqid":5}`,
			schema.ControlVenueError, 0, "EOrder:Order minimum not met", 5},
		{"kraken v1 cancelOrderStatus error", schema.VenueKraken,
			`{"errorMessage":"EOrder:Unknown order","event":"cancelOrderStatus","status":"error"}`,
			schema.ControlVenueError, 0, "EOrder:Unknown order", 0},
		{"kraken v2 status post_only", schema.VenueKraken,
			`{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"post_only","version":"2.0.0"}]}`, schema.ControlStatus, 0, "post_only", 0},
		{"kraken v2 add_order error without req_id", schema.VenueKraken,
			`{"error":"EGeneral:Invalid arguments","method":"add_order","success":false,"time_in":"2022-12-25T09:08:37.000000Z","time_out":"2022-12-25T09:08:37.000000Z"}`,
			schema.ControlVenueError, 0, "EGeneral:Invalid arguments", 0},
		{"kraken v2 subscribe error with symbol", schema.VenueKraken,
			`{"error":"Currency pair not supported","method":"subscribe","req_id":1,"success":false,"symbol":"BTC/FOO","time_in":"2023-06-20T07:31:44.271981Z","time_out":"2023-06-20T07:31:44.272042Z"}`,
			schema.ControlVenueError, 0, "Currency pair not supported", 1},
		// OKX v5.
		{"okx login failed", schema.VenueOKX,
			`{"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"}`, schema.ControlVenueError, 60009, "Login failed.", 0},
		{"okx error code as number", schema.VenueOKX,
			`{"event":"error","code":60012,"msg":"Invalid request"}`, schema.ControlVenueError, 60012, "Invalid request", 0},
		// Was reason "": the event has neither code nor msg.
		{"okx channel-conn-count-error", schema.VenueOKX,
			`{"event":"channel-conn-count-error","channel":"orders","connCount":"20","connId":"a4d3ae55"}`,
			schema.ControlVenueError, 0, "channel-conn-count-error", 0},
		// Was unknown: a failed trade operation (WebSocket Trade API).
		{"okx order op failed", schema.VenueOKX,
			`{"id":"1512","op":"order","code":"1","msg":"","data":[{"clOrdId":"","ordId":"","tag":"","sCode":"51008","sMsg":"Order failed. Insufficient balance."}],"inTime":"1695190491421339","outTime":"1695190491423240"}`,
			schema.ControlVenueError, 51008, "Order failed. Insufficient balance.", 1512},
		{"okx batch op failed with msg", schema.VenueOKX,
			`{"id":"9","op":"batch-orders","code":"60013","msg":"Invalid args","data":[]}`,
			schema.ControlVenueError, 60013, "Invalid args", 9},
		// Bybit v5.
		{"bybit public subscribe failure without ret_code", schema.VenueBybit,
			`{"success":false,"ret_msg":"Invalid symbol :[tickers.BTCUSDTX]","conn_id":"d266o6hqo29sqmnq4vk0-1gst","req_id":"","op":"subscribe"}`,
			schema.ControlVenueError, 0, "Invalid symbol :[tickers.BTCUSDTX]", 0},
		{"bybit auth failure", schema.VenueBybit,
			`{"success":false,"ret_msg":"Params Error","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p"}`,
			schema.ControlVenueError, 0, "Params Error", 0},
		{"bybit non-numeric req_id", schema.VenueBybit,
			`{"success":false,"ret_msg":"error:handler not found","conn_id":"x","req_id":"test-001","op":"subscribe"}`,
			schema.ControlVenueError, 0, "error:handler not found", 0},
		// Was unknown: the trade WebSocket answers in camelCase.
		{"bybit trade op failed", schema.VenueBybit,
			`{"reqId":"42","retCode":10001,"retMsg":"Illegal category","op":"order.create","data":{},"header":{"X-Bapi-Limit":"10"},"connId":"cpv85t788smd5eps8ncg-2tfq"}`,
			schema.ControlVenueError, 10001, "Illegal category", 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(tt.venue, events, sink).(*Parser)
			require.NoError(t, p.HandleBytes(context.Background(), []byte(tt.frame), 1))
			c := control(t, sink.got, tt.venue, tt.kind)
			require.True(t, sink.got[0].Type.Critical())
			require.Equal(t, tt.code, c.Code)
			require.Equal(t, tt.reason, c.Reason)
			require.Equal(t, tt.reqID, c.RequestID)
			st := p.Stats()
			require.Zero(t, st.Unknown)
			require.Zero(t, st.Errors)
			require.Equal(t, uint64(1), st.Control)
			require.Zero(t, events.Stats().InUse)
		})
	}
}

// feed runs frames through one parser of venue and returns the events.
func feed(t *testing.T, venue schema.Venue, frames ...string) []*schema.CanonicalEvent {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := newVenueParser(venue, events, sink).(*Parser)
	for _, fr := range frames {
		require.NoError(t, p.HandleBytes(context.Background(), []byte(fr), 1), fr)
	}
	require.Zero(t, p.Stats().Errors)
	require.Zero(t, events.Stats().InUse)
	return sink.got
}

// Kind C: "" (and null) in a ticker, funding or mark-price field is the
// venue's "not sent" (OKX "Tickers channel": bidPx "" when there are no
// bids; Coinbase best_bid ""; Binance COIN-M delivery markPriceUpdate "i"
// ""; Bybit ticker deltas): the event is kept, the field left zero, the
// others kept to the digit. These were parse errors that dropped the
// whole ticker.
func TestAdversarialPlaceholders(t *testing.T) {
	t.Run("okx ticker without bids", func(t *testing.T) {
		ev := feed(t, schema.VenueOKX, `{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"9999.99","lastSz":"0.1","askPx":"9999.99","askSz":"11","bidPx":"","bidSz":"","open24h":"9000","high24h":"10000","low24h":"8888.88","volCcy24h":"2222","vol24h":"2223","sodUtc0":"2222","sodUtc8":"2222","ts":"1597026383085"}]}`)
		require.Len(t, ev, 1)
		x := ev[0].Ticker
		require.True(t, x.BidPrice.IsZero())
		require.True(t, x.BidQty.IsZero())
		requireDigits(t, "9999.99", x.AskPrice)
		requireDigits(t, "9999.99", x.Last)
		requireDigits(t, "2223", x.Volume) // SPOT: vol24h is base currency
	})
	t.Run("okx swap ticker never traded", func(t *testing.T) {
		ev := feed(t, schema.VenueOKX, `{"arg":{"channel":"tickers","instId":"BTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USD-SWAP","last":"","lastSz":"0","askPx":"","askSz":"0","bidPx":"","bidSz":"0","open24h":"","high24h":"","low24h":"","volCcy24h":"0","vol24h":"0","ts":"1597026383085"}]}`)
		require.Len(t, ev, 1)
		require.Equal(t, "BTC-USD-PERP", ev[0].Symbol)
		require.True(t, ev[0].Ticker.Last.IsZero())
	})
	t.Run("okx funding rate not yet set", func(t *testing.T) {
		ev := feed(t, schema.VenueOKX, `{"arg":{"channel":"funding-rate","instId":"BTC-USD-SWAP"},"data":[{"fundingRate":"","fundingTime":"1703059200000","instId":"BTC-USD-SWAP","instType":"SWAP","nextFundingRate":"","nextFundingTime":"1703088000000","ts":"1703070685309"}]}`)
		require.Len(t, ev, 1)
		require.True(t, ev[0].Mark.FundingRate.IsZero())
		require.Equal(t, int64(1703059200000e6), ev[0].Mark.NextFundingTime)
	})
	t.Run("binance coin-m delivery mark price", func(t *testing.T) {
		ev := feed(t, schema.VenueBinance, `{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSD_250328","p":"11794.15000000","i":"","P":"","r":"","T":0}`)
		require.Len(t, ev, 1)
		requireDigits(t, "11794.15000000", ev[0].Mark.MarkPrice)
		require.True(t, ev[0].Mark.IndexPrice.IsZero())
		require.Zero(t, ev[0].Mark.NextFundingTime)
	})
	t.Run("coinbase exchange ticker without bids", func(t *testing.T) {
		ev := feed(t, schema.VenueCoinbase, `{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22","open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52","high_24h":"1313.8","volume_30d":"9788783.60117027","best_bid":"","best_bid_size":"","best_ask":"1285.04","best_ask_size":"0.46688654","side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,"last_size":"11.4396987"}`)
		require.Len(t, ev, 1)
		require.True(t, ev[0].Ticker.BidPrice.IsZero())
		requireDigits(t, "0.46688654", ev[0].Ticker.AskQty)
	})
	t.Run("coinbase advanced ticker without bids", func(t *testing.T) {
		ev := feed(t, schema.VenueCoinbase, `{"channel":"ticker","client_id":"","timestamp":"2023-02-09T20:30:37.167359596Z","sequence_num":0,"events":[{"type":"snapshot","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938","low_24_h":"21835.29","high_24_h":"23011.18","price_percent_chg_24_h":"-4.15775596190603","best_bid":"","best_bid_quantity":"","best_ask":"21933.00","best_ask_quantity":"0.5"}]}]}`)
		require.Len(t, ev, 1)
		require.True(t, ev[0].Ticker.BidPrice.IsZero())
		requireDigits(t, "21933.00", ev[0].Ticker.AskPrice)
	})
	t.Run("bybit ticker deltas keep what they do not send", func(t *testing.T) {
		ev := feed(t, schema.VenueBybit,
			`{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"PlusTick","price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50","lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36","openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499","volume24h":"91705.276","nextFundingTime":"1673280000000","fundingRate":"-0.000212","bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"},"cs":24987956059,"ts":1673272861686}`,
			`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"17215.00","bid1Size":"1.0"},"cs":24987956060,"ts":1673272861700}`,
			`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","fundingRate":"","markPrice":null,"lastPrice":""},"cs":24987956061,"ts":1673272861800}`)
		require.Len(t, ev, 3)
		x := ev[2].Ticker
		requireDigits(t, "17215.00", x.BidPrice)
		requireDigits(t, "1.0", x.BidQty)
		requireDigits(t, "-0.000212", x.FundingRate)
		requireDigits(t, "17217.33", x.MarkPrice)
		requireDigits(t, "17216.00", x.Last)
		requireDigits(t, "91705.276", x.Volume)
		requireDigits(t, "1570383121.943499", x.QuoteVolume)
	})
}

// Kind E: an identifier of multi-byte runes is kept whole up to
// schema.ID's 47 bytes and is an error past it — never cut mid-rune — in
// a trade id (Bybit "i") and a client order id (Binance executionReport
// "c"); the parser goes on with the next message.
func TestAdversarialIDRunes(t *testing.T) {
	exec := func(c string) string {
		return `{"e":"executionReport","E":1709393640518,"s":"FDUSDUSDT","c":"` + c + `","S":"BUY","o":"LIMIT","f":"GTC","q":"100.00000000","p":"0.99750000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"FILLED","r":"NONE","i":98534864,"l":"100.00000000","z":"100.00000000","L":"0.99750000","n":"0.00000000","N":"BNB","T":1709393640518,"t":` + strconv.Itoa(73839900+len(c)) + `,"I":270913853,"w":false,"m":false,"M":true,"O":1709393640518,"Z":"99.75000000","Y":"99.75000000","Q":"0.00000000","W":1709393640518,"V":"EXPIRE_MAKER"}`
	}
	bybit := func(id string) string {
		return `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"` + id + `"}]}`
	}
	fits := "ab" + strings.Repeat("币", 15)  // 47 bytes
	over := "abc" + strings.Repeat("币", 15) // 48 bytes: the last rune would be cut
	for _, tc := range []struct {
		venue schema.Venue
		frame func(string) string
		id    func(*schema.CanonicalEvent) string
	}{
		{schema.VenueBinance, exec, func(ev *schema.CanonicalEvent) string { return ev.Exec.ClientOrderID.String() }},
		{schema.VenueBybit, bybit, func(ev *schema.CanonicalEvent) string { return ev.Trade.ID.String() }},
	} {
		t.Run(string(tc.venue), func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(tc.venue, events, sink).(*Parser)
			ctx := context.Background()
			require.NoError(t, p.HandleBytes(ctx, []byte(tc.frame(fits)), 1))
			require.Len(t, sink.got, 1)
			require.Equal(t, fits, tc.id(sink.got[0]))
			err := p.HandleBytes(ctx, []byte(tc.frame(over)), 1)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.ErrorIs(t, err, schema.ErrIDTooLong)
			require.Len(t, notRefused(sink.got), 1, "an id past the limit is an error, never a truncated event")
			require.NoError(t, p.HandleBytes(ctx, []byte(tc.frame("ok")), 1))
			require.Len(t, notRefused(sink.got), 2)
			require.Equal(t, uint64(1), p.Stats().Errors)
			require.Zero(t, events.Stats().InUse)
		})
	}
}

// Kind F: a Binance connection opened with timeUnit=MICROSECOND sends every
// time in microseconds; with Options.TimeUnit set, events carry the same
// Unix nanoseconds, to the microsecond. Without it such a time was out of
// range and every message was dropped.
func TestAdversarialBinanceMicroseconds(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewBinance(events, sink, &Options{TimeUnit: time.Microsecond})
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"trade","E":1672515782136123,"s":"BTCUSDT","t":12345,"p":"0.001","q":"100","T":1672515782136120,"m":true,"M":true}`), 1))
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"kline","E":1672515782136123,"s":"BNBBTC","k":{"t":1672515780000000,"T":1672515839999999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`), 1))
	require.NoError(t, p.HandleBytes(ctx, []byte(`{"e":"listenKeyExpired","E":"1672515782136123","listenKey":"k"}`), 1))
	require.Len(t, sink.got, 3)
	require.Equal(t, int64(1672515782136120000), sink.got[0].ExchangeTS)
	require.Equal(t, int64(1672515780000000000), sink.got[1].Kline.OpenTime)
	require.Equal(t, int64(1672515839999999000), sink.got[1].Kline.CloseTime)
	require.Equal(t, int64(1672515782136123000), sink.got[2].ExchangeTS)

	// The default stays milliseconds, where the same digits are out of range.
	def, dsink, _ := newRecParser(t, nil)
	err := def.HandleBytes(ctx, []byte(`{"e":"trade","E":1672515782136123,"s":"BTCUSDT","t":12345,"p":"0.001","q":"100","T":1672515782136123000,"m":true,"M":true}`), 1)
	require.ErrorIs(t, err, ErrBadValue)
	require.Empty(t, dsink.got)
}

// The messages the reviewer's fixes touched normalise without allocating
// once warmed up: placeholders, Bybit ticker deltas, microsecond times.
func TestAdversarialAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops values at random under the race detector")
	}
	tests := []struct {
		venue  schema.Venue
		opts   *Options
		frames []string // the last is measured, the others warm up
	}{
		{schema.VenueOKX, nil, []string{`{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"9999.99","lastSz":"0.1","askPx":"9999.99","askSz":"11","bidPx":"","bidSz":"","open24h":"9000","high24h":"10000","low24h":"8888.88","volCcy24h":"2222","vol24h":"2223","ts":"1597026383085"}]}`}},
		{schema.VenueCoinbase, nil, []string{`{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22","open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52","high_24h":"1313.8","best_bid":"","best_bid_size":"","best_ask":"1285.04","best_ask_size":"0.46688654","side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,"last_size":"11.4396987"}`}},
		{schema.VenueBinance, nil, []string{`{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSD_250328","p":"11794.15000000","i":"","P":"","r":"","T":0}`}},
		{schema.VenueBinance, &Options{TimeUnit: time.Microsecond}, []string{`{"e":"trade","E":1672515782136123,"s":"BTCUSDT","t":12345,"p":"0.001","q":"100","T":1672515782136120,"m":true,"M":true}`}},
		{schema.VenueBybit, nil, []string{
			`{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"17216.00","markPrice":"17217.33","fundingRate":"-0.000212","bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020","highPrice24h":"17300","lowPrice24h":"17100","volume24h":"1","turnover24h":"2"},"cs":1,"ts":1673272861686}`,
			`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"17215.00","bid1Size":"1.0","fundingRate":"","markPrice":null},"cs":2,"ts":1673272861700}`}},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue), func(t *testing.T) {
			events := schema.NewPools(nil).Events
			sink := &putSink{events: events}
			var p *Parser
			switch tt.venue {
			case schema.VenueOKX:
				p = NewOKX(events, sink, tt.opts)
			case schema.VenueCoinbase:
				p = NewCoinbase(events, sink, tt.opts)
			case schema.VenueBybit:
				p = NewBybit(events, sink, tt.opts)
			default:
				p = NewBinance(events, sink, tt.opts)
			}
			ctx := context.Background()
			for _, fr := range tt.frames {
				require.NoError(t, p.HandleBytes(ctx, []byte(fr), 1))
			}
			last := []byte(tt.frames[len(tt.frames)-1])
			allocs := testing.AllocsPerRun(100, func() {
				if err := p.HandleBytes(ctx, last, 1); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
			require.Zero(t, p.Stats().Errors)
		})
	}
}

// Kind A: Coinbase Advanced Trade's sequence_num counts every message of a
// connection, heartbeats included; through HandleBytes (connection 0, a
// replay) a repeat is dropped and a jump is a gap marker as on a live
// connection. The connection's rule was never set for connection 0, so
// every sequence_num was accepted.
func TestAdversarialCoinbaseSequenceHandleBytes(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewCoinbase(events, sink, nil)
	hb := func(seq int) []byte {
		return []byte(`{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":` + strconv.Itoa(seq) + `,"events":[{"current_time":"2023-06-23 20:31:26.11 +0000 UTC m=+1.1","heartbeat_counter":3049}]}`)
	}
	ctx := context.Background()
	for _, seq := range []int{0, 1, 1, 5} {
		require.NoError(t, p.HandleBytes(ctx, hb(seq), 1))
	}
	require.Equal(t, uint64(1), p.Stats().Repeats)
	require.Equal(t, uint64(1), p.Stats().Gaps)
	require.Len(t, sink.got, 4) // heartbeats 0 and 1, the gap marker, heartbeat 5
	g := sink.got[2]
	require.Equal(t, schema.EventGap, g.Type)
	require.Equal(t, uint64(2), g.Control.GapFirstSeq)
	require.Equal(t, uint64(4), g.Control.GapLastSeq)
	require.Zero(t, events.Stats().InUse)
}

// Kind F: OKX "Tickers channel": vol24h is base currency for SPOT and
// MARGIN; for SWAP, FUTURES and OPTION it counts contracts and volCcy24h
// is the base currency. Kraken v1 book levels each carry their own time
// (seconds with six decimals): the event's time is the latest of them.
func TestAdversarialUnits(t *testing.T) {
	okx := func(instType, instID string) string {
		return `{"arg":{"channel":"tickers","instId":"` + instID + `"},"data":[{"instType":"` + instType + `","instId":"` + instID + `","last":"1","lastSz":"1","askPx":"1","askSz":"1","bidPx":"1","bidSz":"1","open24h":"1","high24h":"1","low24h":"1","volCcy24h":"12.5","vol24h":"1250","ts":"1597026383085"}]}`
	}
	for _, tc := range []struct{ instType, instID, volume string }{
		{"SPOT", "BTC-USDT", "1250"},
		{"MARGIN", "BTC-USDT", "1250"},
		{"SWAP", "BTC-USDT-SWAP", "12.5"},
		{"FUTURES", "BTC-USD-250328", "12.5"},
		{"", "BTC-USD-250328", "12.5"}, // no instType: three parts make a derivative
	} {
		ev := feed(t, schema.VenueOKX, okx(tc.instType, tc.instID))
		require.Len(t, ev, 1)
		requireDigits(t, tc.volume, ev[0].Ticker.Volume, tc.instType)
		require.Equal(t, int64(1597026383085e6), ev[0].ExchangeTS)
	}
	ev := feed(t, schema.VenueKraken,
		`[1234,{"as":[["5541.30000","2.50700000","1534614248.123678"],["5541.80000","0.33000000","1534614098.345543"]],"bs":[["5541.20000","1.52900000","1534614248.765567"]]},"book-10","XBT/USD"]`,
		`[1234,{"a":[["5541.30000","2.50700000","1534614248.456738","r"]]},{"b":[["5541.20000","0.00000000","1534614335.345903"]],"c":"974942666"},"book-10","XBT/USD"]`)
	require.Len(t, ev, 2)
	require.Equal(t, int64(1534614248765567000), ev[0].ExchangeTS)
	require.Equal(t, int64(1534614335345903000), ev[1].ExchangeTS)
	requireDigits(t, "0.00000000", ev[1].Book.Bids[0].Qty)
}

// Kind C: OKX's deprecated books checksum arrives as 0 (number or string):
// not sent, so Book.HasChecksum is false; a real one is kept as 32 bits.
func TestAdversarialOKXChecksumPlaceholder(t *testing.T) {
	book := func(cs string) string {
		return `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","256","0","12"]],"ts":"1597026383085","checksum":` + cs + `,"prevSeqId":-1,"seqId":100}]}`
	}
	for cs, want := range map[string]bool{`0`: false, `"0"`: false, `null`: false, `-855196043`: true} {
		ev := feed(t, schema.VenueOKX, book(cs))
		require.Len(t, ev, 1)
		require.Equal(t, want, ev[0].Book.HasChecksum, cs)
		if want {
			require.Equal(t, uint32(3439771253), ev[0].Book.Checksum)
		}
	}
}

// A critical event waits for an exhausted pool only as long as the
// caller's ctx: a cancelled ctx returns its error, counts the drop, leaks
// nothing, and the parser goes on once the pool has room.
func TestAdversarialCriticalCancelled(t *testing.T) {
	events := pool.New("tiny", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	held, err := events.Get(context.Background())
	require.NoError(t, err)
	sink := &recSink{events: events}
	for _, venue := range []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken, schema.VenueCoinbase} {
		frame := map[schema.Venue]string{
			schema.VenueBinance:  `{"e":"listenKeyExpired","E":1,"listenKey":"k"}`,
			schema.VenueOKX:      `{"event":"notice","code":"64008","msg":"upgrade"}`,
			schema.VenueBybit:    `{"success":false,"ret_msg":"x","op":"subscribe"}`,
			schema.VenueKraken:   `{"channel":"status","type":"update","data":[{"system":"maintenance"}]}`,
			schema.VenueCoinbase: `{"type":"error","message":"x"}`,
		}[venue]
		p := newVenueParser(venue, events, sink).(*Parser)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := p.HandleBytes(ctx, []byte(frame), 1)
		require.ErrorIs(t, err, context.Canceled, venue)
		require.Equal(t, uint64(1), p.Stats().Dropped, venue)
		require.Empty(t, sink.got)
		require.Equal(t, int64(1), events.Stats().InUse) // only the one held here
	}
	events.Put(held)
	p := NewBinance(events, sink, nil)
	require.NoError(t, p.HandleBytes(context.Background(), []byte(`{"e":"listenKeyExpired","E":1,"listenKey":"k"}`), 1))
	require.Len(t, sink.got, 1)
	require.Zero(t, events.Stats().InUse)
}

// Robustness: a price or size sent as null, or not sent, is no trade,
// liquidation or level: a *ParseError, counted, never an event with a
// zero price. null was decoded as a zero that was sent, and OKX, Coinbase
// and Kraken trades and Bybit liquidations did not require their price.
func TestAdversarialNullPrices(t *testing.T) {
	for _, tc := range []struct {
		venue schema.Venue
		frame string
	}{
		{schema.VenueOKX, `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":null,"sz":"1","side":"buy","ts":"1"}]}`},
		{schema.VenueOKX, `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","side":"buy","ts":"1"}]}`},
		{schema.VenueCoinbase, `{"type":"match","trade_id":1,"maker_order_id":"a","taker_order_id":"b","side":"sell","size":"1","price":null,"product_id":"BTC-USD","sequence":5,"time":"2014-11-07T08:19:27.028459Z"}`},
		{schema.VenueCoinbase, `{"channel":"market_trades","timestamp":"2024-01-01T00:00:00Z","sequence_num":1,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"BTC-USD","size":"1","side":"BUY","time":"2024-01-01T00:00:00Z"}]}]}`},
		{schema.VenueKraken, `{"channel":"trade","type":"update","data":[{"symbol":"XBT/USD","side":"buy","price":null,"qty":1,"trade_id":1,"timestamp":"2024-01-01T00:00:00Z"}]}`},
		{schema.VenueKraken, `[0,[[null,"0.15850568","1534614057.321597","s","l",""]],"trade","XBT/USD"]`},
		{schema.VenueBinance, `{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":null,"q":"1","T":1,"m":true,"M":true}`},
		{schema.VenueBinance, `{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1,"T":2,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":null,"c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`},
		{schema.VenueOKX, `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[[null,"415","0","13"]],"bids":[],"ts":"1597026383085","checksum":0,"prevSeqId":-1,"seqId":100}]}`},
		{schema.VenueBybit, `{"topic":"liquidation.BTCUSDT","type":"snapshot","ts":1,"data":{"updatedTime":1,"symbol":"BTCUSDT","side":"Buy","size":"1"}}`},
	} {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		sink := &recSink{events: events}
		p := newVenueParser(tc.venue, events, sink).(*Parser)
		err := p.HandleBytes(context.Background(), []byte(tc.frame), 1)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, tc.frame)
		require.Empty(t, sink.got, tc.frame)
		require.Equal(t, uint64(1), p.Stats().Errors)
		require.NoError(t, p.HandleBytes(context.Background(), []byte(probeFrames[tc.venue]), 2))
		require.Len(t, sink.got, 1)
		require.Zero(t, events.Stats().InUse)
	}
}

// Kind F: Binance COIN-M 24 h tickers and klines count "v" in contracts
// and "q" in the base asset; spot and USDⓈ-M (delivery "BTCUSDT_250328"
// included) count "v" in the base and "q" in the quote asset.
func TestAdversarialBinanceCoinMVolumes(t *testing.T) {
	ticker := func(s string) string {
		return `{"e":"24hrTicker","E":1591268262453,"s":"` + s + `","p":"-43.4","P":"-0.45","w":"9547.3","c":"9547.3","Q":"2","o":"9590.7","h":"9600","l":"9500","v":"12345","q":"129.3","O":1591181820000,"C":1591268262442,"F":512014,"L":615289,"n":103272}`
	}
	kline := func(s string) string {
		return `{"e":"kline","E":1591261542539,"s":"` + s + `","k":{"t":1591261500000,"T":1591261559999,"s":"` + s + `","i":"1m","f":606400,"L":606430,"o":"9638.9","c":"9639.8","h":"9639.8","l":"9638.6","v":"156","x":false,"q":"1.61836886","n":31,"V":"73","Q":"0.75731156","B":"0"}}`
	}
	for _, tc := range []struct{ sym, tv, tq, kv, kq string }{
		{"BTCUSD_PERP", "129.3", "0", "1.61836886", "0"},
		{"BTCUSD_250328", "129.3", "0", "1.61836886", "0"},
		{"BTCUSDT", "12345", "129.3", "156", "1.61836886"},
		{"BTCUSDT_250328", "12345", "129.3", "156", "1.61836886"},
	} {
		ev := feed(t, schema.VenueBinance, ticker(tc.sym), kline(tc.sym))
		require.Len(t, ev, 2)
		requireDigits(t, tc.tv, ev[0].Ticker.Volume, tc.sym)
		require.Equal(t, tc.tq, ev[0].Ticker.QuoteVolume.String(), tc.sym)
		requireDigits(t, tc.kv, ev[1].Kline.Volume, tc.sym)
		require.Equal(t, tc.kq, ev[1].Kline.QuoteVolume.String(), tc.sym)
	}
}
