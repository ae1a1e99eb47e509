package normalize_test

import (
	"context"
	"fmt"
	"time"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// printSink prints each event and returns it to its pool, as the
// dispatcher would after cloning it for subscribers.
type printSink struct{ pools *schema.Pools }

func (s printSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	defer s.pools.Events.Put(ev)
	switch ev.Type {
	case schema.EventTrade:
		fmt.Println(ev.Type, ev.Symbol, ev.Trade.Side, ev.Trade.Qty, "@", ev.Trade.Price, "seq", ev.SeqProvider)
	case schema.EventBBO:
		fmt.Println(ev.Type, ev.Symbol, ev.BBO.BidPrice, "/", ev.BBO.AskPrice)
	case schema.EventGap:
		fmt.Println(ev.Type, ev.Symbol, ev.Control.GapType, ev.Control.GapFirstSeq, "-", ev.Control.GapLastSeq)
	default:
		fmt.Println(ev.Type, ev.Symbol, ev.SeqProvider)
	}
	return nil
}

func ExampleNewBinance() {
	pools := schema.NewPools(nil)
	p := normalize.NewBinance(pools.Events, printSink{pools}, nil)
	ctx := context.Background()

	// The websocket client calls HandleFrame with each frame it reads.
	frame := &schema.WsFrame{Provider: schema.VenueBinance, ReceivedAt: time.Now().UnixNano(),
		Data: []byte(`{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000000001,"s":"BTCUSDT","a":42,"p":"37000.10","q":"0.50000","T":1700000000000,"m":true}}`)}
	_ = p.HandleFrame(ctx, frame)

	// Spot bookTicker has no "e": the stream name decides.
	_ = p.HandleBytes(ctx, []byte(`{"stream":"ethusdt@bookTicker","data":{"u":7,"s":"ETHUSDT","b":"2000.00","B":"1","a":"2000.01","A":"2"}}`), 1)

	// Depth diffs must continue each other; a break is reported first.
	_ = p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":100,"u":105,"b":[],"a":[]}`), 1)
	_ = p.HandleBytes(ctx, []byte(`{"e":"depthUpdate","E":2,"s":"BTCUSDT","U":110,"u":111,"b":[],"a":[]}`), 1)

	// Bad input is a typed error; nothing else is affected.
	err := p.HandleBytes(ctx, []byte(`{"e":"trade","s":"BTCUSDT","t":1,"p":"NaN","q":"1"}`), 1)
	fmt.Println(err)
	st := p.Stats()
	fmt.Println("messages", st.Messages, "events", st.Events, "errors", st.Errors, "gaps", st.Gaps)
	// Output:
	// trade BTC-USDT sell 0.50000 @ 37000.10 seq 42
	// bbo ETH-USDT 2000.00 / 2000.01
	// book_update BTC-USDT 105
	// gap BTC-USDT book_update 106 - 109
	// book_update BTC-USDT 111
	// normalize: binance trade field p: schema: decimal is NaN or infinite: "NaN"
	// messages 5 events 5 errors 1 gaps 1
}

func ExampleSymbols() {
	syms := normalize.NewBinanceSymbols()
	ins, _ := normalize.ParseBinanceExchangeInfo([]byte(`{"symbols":[{"symbol":"1000SATSUSDT","baseAsset":"1000SATS","quoteAsset":"USDT"}]}`))
	_ = syms.Load(ins)
	for _, s := range []string{"1000SATSUSDT", "FDUSDUSDT", "btcusd_perp", "NOPE"} {
		if c, err := syms.LookupString(s); err != nil {
			fmt.Println(s, "→", err)
		} else {
			fmt.Println(s, "→", c)
		}
	}
	// Output:
	// 1000SATSUSDT → 1000SATS-USDT
	// FDUSDUSDT → FDUSD-USDT
	// btcusd_perp → BTC-USD-PERP
	// NOPE → normalize: unknown symbol: "NOPE" is not in the registry and ends in no known quote asset
}

func ExampleBinanceOrders() {
	creds := normalize.NewCredentials("my-api-key", normalize.NewHMACSigner([]byte("my-secret")))
	fmt.Println(creds) // never the secret
	enc := normalize.NewBinanceOrders(creds, &normalize.OrderOptions{Now: func() time.Time { return time.UnixMilli(1700000000000) }})
	o := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit,
		TimeInForce: schema.TIFGTC, Price: schema.MustParseDecimal("30000.00"), Qty: schema.MustParseDecimal("0.001"),
		ClientOrderID: schema.MustID("bot-1")}
	req, err := enc.AppendRequest(nil, 1, o)
	fmt.Println(string(req), err)
	sub, _ := normalize.BinanceSubscribe(2, "btcusdt@trade", "btcusdt@depth@100ms")
	fmt.Println(string(sub))
	// Output:
	// Credentials{APIKey: my-a…, Signer: HMAC-SHA256(redacted)}
	// {"id":1,"method":"order.place","params":{"apiKey":"my-api-key","newClientOrderId":"bot-1","newOrderRespType":"RESULT","price":"30000.00","quantity":"0.001","side":"BUY","symbol":"BTCUSDT","timeInForce":"GTC","timestamp":1700000000000,"type":"LIMIT","signature":"c15e383112c254075e9f16b1a908625cbc83650dee1749e6bb547b0b6046c2e8"}} <nil>
	// {"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@depth@100ms"],"id":2}
}

// A Kraken v2 trade frame carries several trades, prices as JSON numbers:
// each trade is an event, its price the digits Kraken sent.
func ExampleNewKraken() {
	events := schema.NewPools(nil).Events
	sink := normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		fmt.Println(ev.Type, ev.Symbol, ev.Trade.Side, ev.Trade.Price, ev.Trade.Qty, ev.SeqProvider)
		return nil
	})
	p := normalize.NewKraken(events, sink, nil)
	frame := []byte(`{"channel":"trade","type":"update","data":[
		{"symbol":"XBT/USD","side":"buy","price":68500.0,"qty":0.01044926,"ord_type":"limit","trade_id":70635299,"timestamp":"2024-05-27T12:43:11.798009Z"},
		{"symbol":"XBT/USD","side":"sell","price":68499.90,"qty":0.00483192,"ord_type":"market","trade_id":70635300,"timestamp":"2024-05-27T12:43:11.798009Z"}]}`)
	if err := p.HandleBytes(context.Background(), frame, time.Now().UnixNano()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// trade BTC-USD buy 68500.0 0.01044926 70635299
	// trade BTC-USD sell 68499.90 0.00483192 70635300
}

// A Bybit tickers delta carries only what changed; the parser merges it
// into the symbol's last snapshot, so every ticker event is complete.
func ExampleNewBybit() {
	events := schema.NewPools(nil).Events
	sink := normalize.SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
		defer events.Put(ev)
		fmt.Println(ev.Symbol, "last", ev.Ticker.Last, "bid", ev.Ticker.BidPrice, "ask", ev.Ticker.AskPrice, "cs", ev.SeqProvider)
		return nil
	})
	p := normalize.NewBybit(events, sink, nil)
	ctx := context.Background()
	for _, msg := range []string{
		`{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"61874.00","highPrice24h":"62752.90","lowPrice24h":"61000.10","volume24h":"98430.1050","turnover24h":"6073739017.8331","bid1Price":"61873.90","ask1Price":"61874.00"},"cs":1,"ts":1715748762463}`,
		`{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"61873.50"},"cs":2,"ts":1715748763063}`,
	} {
		if err := p.HandleBytes(ctx, []byte(msg), 1); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// BTC-USDT last 61874.00 bid 61873.90 ask 61874.00 cs 1
	// BTC-USDT last 61874.00 bid 61873.50 ask 61874.00 cs 2
}
