package normalize

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

type venueCtor func(*pool.Pool[*schema.CanonicalEvent], Sink, *Options) *Parser

var ctorOf = map[string]venueCtor{
	"binance": NewBinance, "okx": NewOKX, "bybit": NewBybit, "kraken": NewKraken, "coinbase": NewCoinbase,
}

// handleOne runs msg through a fresh parser of venue and returns its error
// and what it published.
func handleOne(t *testing.T, venue, msg string) (*recSink, *pool.Pool[*schema.CanonicalEvent], error) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	err := ctorOf[venue](events, sink, nil).HandleBytes(context.Background(), []byte(msg), 1)
	return sink, events, err
}

// requireParseError asserts err is a *ParseError naming field and
// wrapping want.
func requireParseError(t *testing.T, err error, field string, want error) {
	t.Helper()
	var pe *ParseError
	require.True(t, errors.As(err, &pe), "err %v", err)
	assert.Equal(t, field, pe.Field, err.Error())
	assert.ErrorIs(t, err, want)
}

// A book message without a key its venue always sends (a side, or the word
// that tells a snapshot from an update) is a *ParseError naming the key
// (ErrMissingField; ErrBadValue for a word the venue does not document),
// never an event; on the venues whose next message cannot show the loss
// (Kraken, Coinbase) a gap marker says the book is broken.
func TestBookRequiredKeys(t *testing.T) {
	for _, c := range []struct {
		name, venue, msg, field string
		want                    error
		gap                     bool
	}{
		{"okx snapshot without bids", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["1","2","0","1"]],"ts":"1","checksum":0,"seqId":5,"prevSeqId":-1}]}`, "bids", ErrMissingField, false},
		{"okx update without asks", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"bids":[],"ts":"1","checksum":0,"seqId":6,"prevSeqId":5}]}`, "asks", ErrMissingField, false},
		{"okx books5 without bids", "okx", `{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["1","2","0","1"]],"ts":"1","seqId":5}]}`, "bids", ErrMissingField, false},
		{"okx without action", "okx", `{"arg":{"channel":"books-l2-tbt","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[],"ts":"1","seqId":6,"prevSeqId":5}]}`, "action", ErrMissingField, false},
		{"okx unknown action", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"partial","data":[{"asks":[],"bids":[],"ts":"1","seqId":6,"prevSeqId":5}]}`, "action", ErrBadValue, false},
		{"bybit without type", "bybit", `{"topic":"orderbook.50.BTCUSDT","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":2,"seq":1}}`, "type", ErrMissingField, false},
		{"bybit unknown type", "bybit", `{"topic":"orderbook.50.BTCUSDT","type":"full","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":2,"seq":1}}`, "type", ErrBadValue, false},
		{"bybit delta without a", "bybit", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[],"u":2,"seq":1}}`, "a", ErrMissingField, false},
		{"bybit tickers without type", "bybit", `{"topic":"tickers.BTCUSDT","ts":1,"data":{"symbol":"BTCUSDT","bid1Price":"1"}}`, "type", ErrMissingField, false},
		{"kraken without type", "kraken", `{"channel":"book","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}`, "type", ErrMissingField, true},
		{"kraken unknown type", "kraken", `{"channel":"book","type":"partial","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}`, "type", ErrBadValue, true},
		{"kraken update without asks", "kraken", `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.5,"qty":2}],"checksum":0}]}`, "asks", ErrMissingField, true},
		{"coinbase snapshot without asks", "coinbase", `{"type":"snapshot","product_id":"BTC-USD","bids":[["1","2"]]}`, "asks", ErrMissingField, true},
		{"coinbase l2update without changes", "coinbase", `{"type":"l2update","product_id":"BTC-USD","time":"2023-02-09T20:32:50.714964855Z"}`, "changes", ErrMissingField, true},
		{"coinbase l2_data without type", "coinbase", `{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"product_id":"BTC-USD","updates":[]}]}`, "type", ErrMissingField, true},
		{"coinbase l2_data update without updates", "coinbase", `{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"update","product_id":"BTC-USD"}]}`, "updates", ErrMissingField, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, c.venue, c.msg)
			requireParseError(t, err, c.field, c.want)
			var gaps int
			for _, ev := range sink.got {
				require.Equal(t, schema.EventGap, ev.Type, "only a gap marker may be published")
				assert.Equal(t, schema.EventBookUpdate, ev.Control.GapType)
				gaps++
			}
			assert.Equal(t, c.gap, gaps > 0, "gap marker")
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// A side sent as [] is legal: a one-sided or empty book, a diff that
// changes one side only.
func TestBookEmptySidesAccepted(t *testing.T) {
	for _, c := range []struct {
		name, venue, msg string
		typ              schema.EventType
	}{
		{"okx snapshot one-sided", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["1","2","0","1"]],"bids":[],"ts":"1","checksum":0,"seqId":5,"prevSeqId":-1}]}`, schema.EventBookSnapshot},
		{"okx update of one side", "okx", `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["1","2","0","1"]],"ts":"1","checksum":0,"seqId":5,"prevSeqId":4}]}`, schema.EventBookUpdate},
		{"bybit delta of one side", "bybit", `{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1","2"]],"a":[],"u":2,"seq":1}}`, schema.EventBookUpdate},
		{"kraken empty snapshot", "kraken", `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}`, schema.EventBookSnapshot},
		{"coinbase one-sided snapshot", "coinbase", `{"type":"snapshot","product_id":"BTC-USD","bids":[],"asks":[["1","2"]]}`, schema.EventBookSnapshot},
		{"coinbase empty l2_data snapshot", "coinbase", `{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[]}]}`, schema.EventBookSnapshot},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, _, err := handleOne(t, c.venue, c.msg)
			require.NoError(t, err)
			require.NotEmpty(t, sink.got)
			assert.Equal(t, c.typ, sink.got[len(sink.got)-1].Type)
		})
	}
	var dst schema.CanonicalEvent
	require.NoError(t, ParseBinanceDepthSnapshot(context.Background(), nil, "BTCUSDT", []byte(`{"lastUpdateId":5,"bids":[],"asks":[]}`), &dst))
	assert.Equal(t, schema.EventBookSnapshot, dst.Type)
}

// An execution report without a field its venue always sends is a
// *ParseError naming it: a fill without its price (never a fill at 0), a
// report without its symbol, the word that says what happened, or the
// quantities fills are counted from. A report that is no fill needs no
// fill price.
func TestExecReportRequiredFields(t *testing.T) {
	okx := func(state, extra string) string {
		return `{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"1","side":"sell","ordType":"limit","px":"100","sz":"2","state":"` + state + `","uTime":"1700000000000"` + extra + `}]}`
	}
	bybit := func(extra string) string {
		return `{"topic":"execution","creationTime":1,"data":[{"category":"linear","orderId":"o1","side":"Buy","execId":"e1","execQty":"0.5","leavesQty":"0","orderQty":"0.5","execTime":"1672364174443"` + extra + `}]}`
	}
	kraken := func(extra string) string {
		return `{"channel":"executions","type":"update","data":[{"order_id":"O-1","symbol":"BTC/USD","timestamp":"2023-09-22T10:33:05.709982Z"` + extra + `}],"sequence":3}`
	}
	spot := func(extra string) string {
		return `{"e":"executionReport","E":1,"s":"BTCUSDT","c":"a","S":"BUY","o":"LIMIT","f":"GTC","q":"1","p":"2","x":"TRADE","X":"FILLED","i":3,"l":"1","z":"1","T":1` + extra + `}`
	}
	cbUser := func(order string) string {
		return `{"channel":"user","timestamp":"2026-04-07T14:30:06.000000Z","events":[{"type":"update","orders":[{"order_id":"a1","status":"OPEN","order_side":"SELL"` + order + `}]}]}`
	}
	for _, c := range []struct {
		name, venue, msg, field string
		want                    error // nil: delivered
	}{
		{"binance fill at L 0", "binance", spot(`,"L":"0"`), "L", ErrBadValue},
		{"binance fill without L", "binance", spot(``), "L", ErrMissingField},
		{"binance fill", "binance", spot(`,"L":"2"`), "", nil},
		{"binance NEW without fill needs no L", "binance", `{"e":"executionReport","E":1,"s":"BTCUSDT","c":"a","S":"BUY","x":"NEW","X":"NEW","i":3,"l":"0","z":"0"}`, "", nil},
		{"okx fill with empty fillPx", "okx", okx("partially_filled", `,"fillSz":"0.5","fillPx":"","accFillSz":"0.5"`), "fillPx", ErrMissingField},
		{"okx filled without fillSz", "okx", okx("filled", `,"accFillSz":"2"`), "fillSz", ErrMissingField},
		{"okx live without fillSz", "okx", okx("live", ``), "", nil},
		{"bybit trade without execPrice", "bybit", bybit(`,"symbol":"BTCUSDT","execType":"Trade"`), "execPrice", ErrMissingField},
		{"bybit without execType", "bybit", bybit(`,"symbol":"BTCUSDT","execPrice":"1"`), "execType", ErrMissingField},
		{"bybit without symbol", "bybit", bybit(`,"execType":"Trade","execPrice":"1"`), "symbol", ErrMissingField},
		{"bybit UNKNOWN needs no fill price", "bybit", bybit(`,"symbol":"BTCUSDT","execType":"UNKNOWN"`), "", nil}, // Funding is no report at all (s36norm)
		{"kraken trade without last_price", "kraken", kraken(`,"exec_type":"trade","order_status":"filled","last_qty":1`), "last_price", ErrMissingField},
		{"kraken without exec_type", "kraken", kraken(`,"order_status":"new"`), "exec_type", ErrMissingField},
		{"kraken without order_status", "kraken", kraken(`,"exec_type":"new"`), "order_status", ErrMissingField},
		{"kraken new needs no last_price", "kraken", kraken(`,"exec_type":"new","order_status":"new"`), "", nil},
		{"coinbase without product_id", "coinbase", cbUser(`,"cumulative_quantity":"0","leaves_quantity":"1"`), "product_id", ErrMissingField},
		{"coinbase without cumulative_quantity", "coinbase", cbUser(`,"product_id":"BTC-USD","leaves_quantity":"1"`), "cumulative_quantity", ErrMissingField},
		{"coinbase without leaves_quantity", "coinbase", cbUser(`,"product_id":"BTC-USD","cumulative_quantity":"0"`), "leaves_quantity", ErrMissingField},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, events, err := handleOne(t, c.venue, c.msg)
			if c.want == nil {
				require.NoError(t, err)
				require.Len(t, sink.got, 1)
				assert.Equal(t, schema.EventExecReport, sink.got[0].Type)
				return
			}
			requireParseError(t, err, c.field, c.want)
			assert.Empty(t, notRefused(sink.got))
			assert.Zero(t, events.Stats().InUse)
		})
	}
}

// A trade without its id or its side (every venue's docs send both) is a
// *ParseError naming the key, never a trade of unknown side or no id
// (which repeats could not be told by).
func TestTradeRequiredFields(t *testing.T) {
	for _, c := range []struct{ name, venue, msg, field string }{
		{"okx without tradeId", "okx", `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","px":"1","sz":"2","side":"buy","ts":"1"}]}`, "tradeId"},
		{"okx without side", "okx", `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"9","px":"1","sz":"2","ts":"1"}]}`, "side"},
		{"bybit without i", "bybit", `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"2"}]}`, "i"},
		{"kraken without side", "kraken", `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","price":1,"qty":2,"trade_id":7,"timestamp":"2023-09-22T10:33:05.709982Z"}]}`, "side"},
		{"kraken without trade_id", "kraken", `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":1,"qty":2,"timestamp":"2023-09-22T10:33:05.709982Z"}]}`, "trade_id"},
		{"coinbase match without side", "coinbase", `{"type":"match","trade_id":1,"sequence":5,"product_id":"BTC-USD","price":"1","size":"2","time":"2023-02-09T20:32:50.714964855Z"}`, "side"},
		{"coinbase match without trade_id", "coinbase", `{"type":"match","sequence":5,"side":"buy","product_id":"BTC-USD","price":"1","size":"2","time":"2023-02-09T20:32:50.714964855Z"}`, "trade_id"},
		{"coinbase market_trades without side", "coinbase", `{"channel":"market_trades","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"update","trades":[{"trade_id":"9","product_id":"BTC-USD","price":"1","size":"2","time":"2023-02-09T20:32:50.714964855Z"}]}]}`, "side"},
		{"coinbase market_trades without trade_id", "coinbase", `{"channel":"market_trades","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"update","trades":[{"side":"BUY","product_id":"BTC-USD","price":"1","size":"2","time":"2023-02-09T20:32:50.714964855Z"}]}]}`, "trade_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, _, err := handleOne(t, c.venue, c.msg)
			requireParseError(t, err, c.field, ErrMissingField)
			assert.Empty(t, sink.got)
		})
	}
}

// A ticker without the last price or best bid/ask its venue always sends
// is a *ParseError naming the key; "" where the venue sends it for none
// (OKX) is legal, and Advanced Trade's ticker_batch, which carries no
// best bid or ask, needs none.
func TestTickerRequiredFields(t *testing.T) {
	const cbTS = `"timestamp":"2026-04-07T14:30:03.000000Z","sequence_num":0`
	okx := func(fields string) string {
		return `{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT",` + fields + `"lastSz":"","askSz":"","bidSz":"","open24h":"1","high24h":"1","low24h":"1","vol24h":"1","volCcy24h":"1","ts":"1"}]}`
	}
	kraken := func(fields string) string {
		return `{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD",` + fields + `"bid_qty":1,"ask_qty":1,"volume":1,"low":1,"high":1,"change":0,"change_pct":0}]}`
	}
	cbx := func(fields string) string {
		return `{"type":"ticker","sequence":1,"product_id":"BTC-USD",` + fields + `"time":"2021-04-17T16:43:30.244075Z"}`
	}
	cba := func(channel, fields string) string {
		return `{"channel":"` + channel + `",` + cbTS + `,"events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD",` + fields + `"volume_24_h":"1","low_24_h":"1","high_24_h":"1","price_percent_chg_24_h":"0"}]}]}`
	}
	for _, c := range []struct{ name, venue, msg, field string }{
		{"okx without bidPx", "okx", okx(`"last":"1","askPx":"2",`), "bidPx"},
		{"okx without last", "okx", okx(`"askPx":"2","bidPx":"1",`), "last"},
		{"okx empty bidPx", "okx", okx(`"last":"1","askPx":"2","bidPx":"",`), ""},
		{"kraken without ask", "kraken", kraken(`"bid":1,"last":1,`), "ask"},
		{"kraken whole", "kraken", kraken(`"bid":1,"ask":2,"last":1,`), ""},
		{"coinbase exchange without best_bid", "coinbase", cbx(`"price":"1","best_ask":"2",`), "best_bid"},
		{"coinbase exchange whole", "coinbase", cbx(`"price":"1","best_bid":"1","best_ask":"2",`), ""},
		{"coinbase ticker without best_ask", "coinbase", cba("ticker", `"price":"1","best_bid":"1","best_bid_quantity":"1","best_ask_quantity":"1",`), "best_ask"},
		{"coinbase ticker without price", "coinbase", cba("ticker", `"best_bid":"1","best_ask":"2","best_bid_quantity":"1","best_ask_quantity":"1",`), "price"},
		{"coinbase ticker_batch has no bid or ask", "coinbase", cba("ticker_batch", `"price":"1",`), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink, _, err := handleOne(t, c.venue, c.msg)
			if c.field == "" {
				require.NoError(t, err)
				require.Len(t, sink.got, 1)
				assert.Equal(t, schema.EventTicker, sink.got[0].Type)
				return
			}
			requireParseError(t, err, c.field, ErrMissingField)
			assert.Empty(t, sink.got)
		})
	}
}
