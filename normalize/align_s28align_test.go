package normalize

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// S28 (contract team): a Binance connection told {"e":"serverShutdown"}
// rotates make-before-break; the notice is on the old connection only, and
// AlignKey returned the whole frame for it, so the rotation's skip list
// diverged, the rotation ran unaligned and the frames after the join were
// delivered twice (an older bookTicker after a newer one). A frame that
// marks no place in the venue's data stream — a notice, an answer, an
// error, a heartbeat — must be no key (nil), on every venue; a data frame
// is its own key. Samples are real venue messages (testdata/SOURCES).
func TestS28AlignKeyOnlyData(t *testing.T) {
	events := pool.New("align", 1, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	parsers := map[schema.Venue]*Parser{
		schema.VenueBinance:  NewBinance(events, SinkFunc(nil), nil),
		schema.VenueOKX:      NewOKX(events, SinkFunc(nil), nil),
		schema.VenueBybit:    NewBybit(events, SinkFunc(nil), nil),
		schema.VenueCoinbase: NewCoinbase(events, SinkFunc(nil), nil),
	}
	file := func(path string) string {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(b)
	}
	bn, okx, bybit, cb := filepath.Join("testdata", "binance"), filepath.Join("testdata", "okx"), filepath.Join("testdata", "bybit"), filepath.Join("testdata", "coinbase")
	tests := []struct {
		venue       schema.Venue
		name, frame string
		data        bool
	}{
		// Binance: no place in the stream.
		{schema.VenueBinance, "serverShutdown", `{"e":"serverShutdown","E":1728973001334}`, false},
		{schema.VenueBinance, "serverShutdown indented", "{\n  \"e\": \"serverShutdown\",\n  \"E\": 1728973001334\n}", false},
		{schema.VenueBinance, "serverShutdown E first", `{"E":1728973001334,"e":"serverShutdown"}`, false},
		{schema.VenueBinance, "serverShutdown in a combined stream", `{"stream":"btcusdt@bookTicker","data":{"e":"serverShutdown","E":1}}`, false},
		{schema.VenueBinance, "subscription answer", file(filepath.Join(bn, "ack.json")), false},
		{schema.VenueBinance, "list subscriptions answer", `{"result":["btcusdt@bookTicker"],"id":3}`, false},
		{schema.VenueBinance, "flat error", file(filepath.Join(bn, "flat_error.json")), false},
		{schema.VenueBinance, "error object", file(filepath.Join(bn, "venue_error.json")), false},
		{schema.VenueBinance, "WS-API answer", file(filepath.Join(bn, "wsapi_response.json")), false},
		{schema.VenueBinance, "listenKeyExpired", file(filepath.Join(bn, "listenKeyExpired.json")), false},
		{schema.VenueBinance, "eventStreamTerminated wrapped", file(filepath.Join(bn, "eventStreamTerminated.json")), false},
		{schema.VenueBinance, "eventStreamTerminated event only", file(filepath.Join(bn, "eventStreamTerminated_event_only.json")), false},
		{schema.VenueBinance, "unknown event", `{"e":"somethingNew","E":1}`, false},
		{schema.VenueBinance, "not JSON", `{"e":"trade",`, false},
		{schema.VenueBinance, "empty", ` `, false},
		// Binance: data.
		{schema.VenueBinance, "combined bookTicker", file(filepath.Join(bn, "combined_bookTicker.json")), true},
		{schema.VenueBinance, "combined trade", file(filepath.Join(bn, "combined_trade.json")), true},
		{schema.VenueBinance, "combined depth5", file(filepath.Join(bn, "combined_depth5.json")), true},
		{schema.VenueBinance, "raw bookTicker", file(filepath.Join(bn, "bookTicker_raw.json")), true},
		{schema.VenueBinance, "futures bookTicker", file(filepath.Join(bn, "bookTicker_futures.json")), true},
		{schema.VenueBinance, "depthUpdate", file(filepath.Join(bn, "depthUpdate.json")), true},
		{schema.VenueBinance, "trade", file(filepath.Join(bn, "trade.json")), true},
		{schema.VenueBinance, "miniTicker array", file(filepath.Join(bn, "miniTicker_arr.json")), true},
		{schema.VenueBinance, "execution report wrapped", file(filepath.Join(bn, "exec_wrapped_amendment.json")), true},
		// OKX.
		{schema.VenueOKX, "pong", file(filepath.Join(okx, "pong.txt")), false},
		{schema.VenueOKX, "subscribe answer", file(filepath.Join(sharedVenues, "okx_subscribe_ack.json")), false},
		{schema.VenueOKX, "unsubscribe answer", `{"event":"unsubscribe","arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"connId":"a4d3ae55"}`, false},
		{schema.VenueOKX, "error", file(filepath.Join(okx, "error.json")), false},
		{schema.VenueOKX, "notice 64008", file(filepath.Join(okx, "notice.json")), false},
		{schema.VenueOKX, "login", `{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}`, false},
		{schema.VenueOKX, "channel-conn-count", `{"event":"channel-conn-count","channel":"orders","connCount":"2","connId":"abcd1234"}`, false},
		{schema.VenueOKX, "order answer", `{"id":"1512","op":"order","data":[{"clOrdId":"","ordId":"12345689","tag":"","sCode":"0","sMsg":""}],"code":"0","msg":""}`, false},
		{schema.VenueOKX, "bbo-tbt", file(filepath.Join(okx, "bbo_tbt.json")), true},
		{schema.VenueOKX, "books5", file(filepath.Join(okx, "books5.json")), true},
		{schema.VenueOKX, "trades", file(filepath.Join(okx, "trades.json")), true},
		{schema.VenueOKX, "books update", file(filepath.Join(sharedVenues, "okx_books_update.json")), true},
		{schema.VenueOKX, "orders", file(filepath.Join(okx, "orders_canceled.json")), true},
		// Bybit.
		{schema.VenueBybit, "pong", file(filepath.Join(sharedVenues, "bybit_v5_pong.json")), false},
		{schema.VenueBybit, "spot pong", `{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}`, false},
		{schema.VenueBybit, "subscribe answer", file(filepath.Join(bybit, "subscribe_ack.json")), false},
		{schema.VenueBybit, "subscribe error", file(filepath.Join(bybit, "subscribe_error.json")), false},
		{schema.VenueBybit, "auth answer", `{"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p"}`, false},
		{schema.VenueBybit, "orderbook.1", file(filepath.Join(bybit, "orderbook_1_delta.json")), true},
		{schema.VenueBybit, "tickers", file(filepath.Join(bybit, "tickers_delta.json")), true},
		{schema.VenueBybit, "publicTrade", file(filepath.Join(bybit, "publicTrade.json")), true},
		{schema.VenueBybit, "order", file(filepath.Join(sharedVenues, "bybit_v5_order.json")), true},
		// Coinbase.
		{schema.VenueCoinbase, "Advanced Trade subscriptions", file(filepath.Join(sharedVenues, "coinbase_advanced_subscriptions.json")), false},
		{schema.VenueCoinbase, "Advanced Trade heartbeats", file(filepath.Join(sharedVenues, "coinbase_advanced_heartbeats.json")), false},
		{schema.VenueCoinbase, "Exchange subscriptions", file(filepath.Join(sharedVenues, "coinbase_exchange_subscriptions.json")), false},
		{schema.VenueCoinbase, "Exchange heartbeat", `{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}`, false},
		{schema.VenueCoinbase, "error", file(filepath.Join(cb, "error.json")), false},
		{schema.VenueCoinbase, "ticker", file(filepath.Join(cb, "ticker.json")), true},
		{schema.VenueCoinbase, "market_trades", file(filepath.Join(cb, "market_trades.json")), true},
		{schema.VenueCoinbase, "Exchange match", file(filepath.Join(cb, "match.json")), true},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue)+"/"+tt.name, func(t *testing.T) {
			k := parsers[tt.venue].AlignKey([]byte(tt.frame))
			if !tt.data {
				require.Nil(t, k)
				return
			}
			require.Equal(t, tt.frame, string(k))
		})
	}
}

// Whatever the frame, no venue's AlignKey panics (the raw functions, without
// Parser.AlignKey's recover), and a key is nil or the whole frame.
func FuzzS28AlignKey(f *testing.F) {
	for _, dir := range []string{sharedVenues, "testdata/binance", "testdata/okx", "testdata/bybit", "testdata/coinbase"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"e":"serverShutdown","E":1}`))
	f.Add([]byte(`{"stream":"a@bookTicker","data":{"e":"serverShutdown"}}`))
	f.Add([]byte(`{"subscriptionId":1,"event":{"event":{"e":"trade"}}}`))
	f.Add([]byte(`pong`))
	f.Add([]byte(`{"stream":"btcusdt@newThing","data":{"e":"newThing","E":1}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, key := range []func([]byte) []byte{binanceAlignKey, okxAlignKey, bybitAlignKey, coinbaseAlignKey} {
			if k := key(frame); k != nil && string(k) != string(frame) {
				t.Fatalf("key %q is not %q", k, frame)
			}
		}
	})
}
