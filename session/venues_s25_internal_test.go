package session

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestS25MarketIsData: a market connection's data, for wsclient's
// DataTimeout, is what the subscriptions bring — not a heartbeat, a pong,
// an acknowledgement or a status message. On OKX, Bybit, Kraken and
// Coinbase those keep coming while a subscription's data has stopped (a
// stall the idle watchdog cannot see, as they are messages); Binance's
// keep-alive is WebSocket pings, no messages. Frames are the venues'
// samples (testdata/venues) and their documented answers.
func TestS25MarketIsData(t *testing.T) {
	file := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "venues", name+".json"))
		require.NoError(t, err)
		return b
	}
	for _, c := range []struct {
		venue      schema.Venue
		data, none [][]byte
	}{
		{schema.VenueBinance,
			[][]byte{file("binance_combined_depthUpdate"), file("binance_combined_trade"), file("binance_combined_bookTicker")},
			[][]byte{[]byte(`{"result":null,"id":1}`), []byte(`{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":3}`)}},
		{schema.VenueOKX,
			[][]byte{file("okx_books_snapshot"), file("okx_trades"), file("okx_tickers")},
			[][]byte{[]byte("pong"), file("okx_subscribe_ack"), []byte(`{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}`),
				[]byte(`{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`)}},
		{schema.VenueBybit,
			[][]byte{file("bybit_v5_orderbook_snapshot"), file("bybit_v5_publicTrade"), file("bybit_v5_tickers_spot")},
			[][]byte{file("bybit_v5_pong"), []byte(`{"success":true,"ret_msg":"pong","conn_id":"0970e817","req_id":"","op":"ping"}`),
				[]byte(`{"success":true,"ret_msg":"","conn_id":"2324d924","req_id":"10001","op":"subscribe"}`)}},
		{schema.VenueKraken,
			[][]byte{file("kraken_v2_book_snapshot"), file("kraken_v2_trade_update"), file("kraken_v2_ticker_update"), file("kraken_v1_trade")},
			[][]byte{file("kraken_v2_heartbeat"), file("kraken_v2_status"), file("kraken_v2_subscribe_ack_book"), file("kraken_v1_heartbeat"),
				file("kraken_v1_systemStatus"), []byte(`{"method":"pong","req_id":101,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`)}},
		{schema.VenueCoinbase,
			[][]byte{file("coinbase_advanced_l2_data_snapshot"), file("coinbase_advanced_market_trades"), file("coinbase_advanced_ticker")},
			[][]byte{file("coinbase_advanced_heartbeats"), file("coinbase_advanced_subscriptions"), file("coinbase_exchange_subscriptions"),
				[]byte(`{"type":"error","message":"Failed to subscribe"}`)}},
	} {
		t.Run(string(c.venue), func(t *testing.T) {
			isData := venues[c.venue].isData
			require.NotNil(t, isData)
			for _, f := range c.data {
				assert.True(t, isData(f), "data: %.80s", f)
			}
			for _, f := range c.none {
				assert.False(t, isData(f), "not data: %.80s", f)
			}
			assert.Zero(t, testing.AllocsPerRun(100, func() { isData(c.data[0]) }))
		})
	}
}
