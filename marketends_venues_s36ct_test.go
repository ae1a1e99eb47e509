package meltica_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s36ctMarkets are loopback market streams of Bybit, Kraken and Coinbase
// written from their docs, each with its channel of trades:
//   - Bybit v5 "WebSocket Stream → Connect" ({"op":"subscribe",…} acked
//     {"success":true,"ret_msg":"subscribe",…}; "ping" answered
//     "pong") and "Public Trade" (publicTrade.{symbol}; spot trade ids
//     are numbers as strings).
//   - Kraken WebSocket v2 "subscribe" (acked {"method":"subscribe",
//     "result":{…},"success":true,…}) and "Trade" (channel "trade",
//     trade_id an integer).
//   - Coinbase Advanced Trade WebSocket "Market Trades Channel"
//     ({"type":"subscribe",…} acked by a "subscriptions" message).
func s36ctMarkets(t *testing.T) []*s36ctVenueMarket {
	bybit := newS36ctVenueMarket(t, schema.VenueBybit, "/v5/public/spot", func(msg map[string]any) []string {
		switch msg["op"] {
		case "ping":
			return []string{`{"success":true,"ret_msg":"pong","conn_id":"c1","op":"ping"}`}
		case "subscribe":
			return []string{fmt.Sprintf(`{"success":true,"ret_msg":"subscribe","conn_id":"c1","req_id":%q,"op":"subscribe"}`, fmt.Sprint(msg["req_id"]))}
		}
		return nil
	}, func(id int) string {
		return fmt.Sprintf(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":%d,"data":[{"T":%d,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"%d","BT":false}]}`, 1672304486868+id, 1672304486865+id, id)
	})
	kraken := newS36ctVenueMarket(t, schema.VenueKraken, "/v2", func(msg map[string]any) []string {
		switch msg["method"] {
		case "ping":
			return []string{fmt.Sprintf(`{"method":"pong","req_id":%v,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`, msg["req_id"])}
		case "subscribe":
			p, _ := msg["params"].(map[string]any)
			var out []string
			syms, _ := p["symbol"].([]any)
			for _, s := range syms {
				out = append(out, fmt.Sprintf(`{"method":"subscribe","result":{"channel":%q,"snapshot":true,"symbol":%q},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z","req_id":%v}`, fmt.Sprint(p["channel"]), fmt.Sprint(s), msg["req_id"]))
			}
			return out
		}
		return nil
	}, func(id int) string {
		return fmt.Sprintf(`{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":26400.1,"qty":0.01,"ord_type":"market","trade_id":%d,"timestamp":"2023-09-25T07:49:37.708706Z"}]}`, id)
	})
	coinbase := newS36ctVenueMarket(t, schema.VenueCoinbase, "/ws", func(msg map[string]any) []string {
		if msg["type"] != "subscribe" {
			return nil
		}
		return []string{fmt.Sprintf(`{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z","sequence_num":0,"events":[{"subscriptions":{%q:["BTC-USD"]}}]}`, fmt.Sprint(msg["channel"]))}
	}, nil)
	seq := 0
	coinbase.trade = func(id int) string {
		seq++ // one connection's sequence_num at a time in these tests
		return fmt.Sprintf(`{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":%d,"events":[{"type":"update","trades":[{"trade_id":"%d","product_id":"BTC-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}`, seq, id)
	}
	return []*s36ctVenueMarket{bybit, kraken, coinbase}
}

func (m *s36ctVenueMarket) start(t *testing.T) *session.Session {
	t.Helper()
	cfg := session.Config{Venue: m.venue, Endpoints: session.Endpoints{Stream: m.ws(m.path)}, NoClockSync: true, Client: s30ctFast()}
	switch m.venue {
	case schema.VenueBybit:
		cfg.Symbols, cfg.Channels = []string{"BTC-USDT"}, []string{"publicTrade"}
	case schema.VenueKraken:
		cfg.Symbols, cfg.Channels = []string{"BTC-USD"}, []string{"trade"}
	case schema.VenueCoinbase:
		cfg.Symbols, cfg.Channels = []string{"BTC-USD"}, []string{"market_trades"}
	}
	s, err := session.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

// A market connection of Bybit, Kraken or Coinbase lost (a TCP reset, a
// close 1001 "going away", as each venue does at its maintenance): the
// trades made meanwhile are lost (none of them replays trades), and the
// subscriber sees a gap marker before the first trade after the loss
// (DESIGN.md contract 4; session doc "Lost market connections").
func TestS36ctVenueMarketLossAnnounced(t *testing.T) {
	for _, end := range []struct {
		name string
		do   func(c *s30ctConn)
	}{
		{"tcp reset", func(c *s30ctConn) { c.cut() }},
		{"close 1001", func(c *s30ctConn) { go func() { _ = c.c.Close(websocket.StatusGoingAway, "") }() }},
	} {
		for i, venue := range []string{"bybit", "kraken", "coinbase"} {
			t.Run(venue+"/"+end.name, func(t *testing.T) {
				m := s36ctMarkets(t)[i]
				s := m.start(t)
				tape := subscribeTape(t, s)
				s31ctConnected(t, s)
				require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
				tape.waitTrade(t, m.publish(3))

				old := m.subscribed()[0]
				m.drop(old)
				end.do(old)
				m.lose(2)
				require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
				tape.waitTrade(t, m.publish(3))
				assert.Positive(t, tape.check(t), "the loss announced: %v", tape)
				t.Logf("%s: %v", m.venue, tape)
			})
		}
	}
}

// Tickers (coalescable: a slow subscriber may see only the latest) on a
// Bybit market connection lost by a TCP reset (Bybit v5 "Ticker":
// tickers.{symbol}, spot's a snapshot each push): the subscriber of
// tickers only is told of the loss — a gap marker after the last ticker
// before it and before the first after it (session doc "Lost market
// connections": "announced once to every subscriber of its market data,
// whatever types it names").
func TestS36ctBybitTickersLossAnnounced(t *testing.T) {
	m := newS36ctVenueMarket(t, schema.VenueBybit, "/v5/public/spot", func(msg map[string]any) []string {
		if msg["op"] != "subscribe" {
			return nil
		}
		return []string{fmt.Sprintf(`{"success":true,"ret_msg":"subscribe","conn_id":"c1","req_id":%q,"op":"subscribe"}`, fmt.Sprint(msg["req_id"]))}
	}, func(id int) string {
		return fmt.Sprintf(`{"topic":"tickers.BTCUSDT","ts":%d,"type":"snapshot","cs":%d,"data":{"symbol":"BTCUSDT","lastPrice":"%d","highPrice24h":"21426.99","lowPrice24h":"1","prevPrice24h":"20704.93","volume24h":"6780.866843","turnover24h":"141946527.22907118","price24hPcnt":"0.0196","usdIndexPrice":"21120.24"}}`, 1673853746003+id, 2588407389+id, id)
	})
	s, err := session.Start(context.Background(), session.Config{Venue: schema.VenueBybit, Endpoints: session.Endpoints{Stream: m.ws(m.path)},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"tickers"}, NoClockSync: true, Client: s30ctFast()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	tape := &s36ctTape{}
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTicker}}, &dispatch.SubscribeOptions{Handler: tape.handle})
	require.NoError(t, err)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	tape.waitTrade(t, m.publish(3))

	old := m.subscribed()[0]
	m.drop(old)
	old.cut()
	m.lose(2)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
	tape.waitTrade(t, m.publish(3))
	seen := tape.all()
	i3, gap, after := slices.Index(seen, 3), -1, slices.IndexFunc(seen, func(x int) bool { return x > 5 })
	for i := i3 + 1; i3 >= 0 && i < after; i++ {
		if seen[i] == 0 {
			gap = i
		}
	}
	assert.Positive(t, gap, "a gap marker between ticker 3 and the first after the loss: %v", tape)
	t.Logf("%v", tape)
}

// A Bybit book (orderbook.50: Bybit v5 "Orderbook": a snapshot on
// subscribe, then deltas by u) whose connection is reset: its subscriber
// sees a gap marker after the last update before the loss and before the
// new connection's snapshot, and no update between them (session doc
// "Lost market connections": "a book subscriber hears both: the book's
// marker names its stream, and is followed by a resynchronised
// snapshot"; DESIGN.md contract 4).
func TestS36ctBybitBookLossAnnounced(t *testing.T) {
	book := func(typ string, u int) string {
		return fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":%q,"ts":%d,"data":{"s":"BTCUSDT","b":[["16493.50","0.%03d"]],"a":[["16611.00","0.029"]],"u":%d,"seq":%d},"cts":%d}`, typ, 1672304484978+u, u, u, 7961638724+u, 1672304484976+u)
	}
	m := newS36ctVenueMarket(t, schema.VenueBybit, "/v5/public/spot", func(msg map[string]any) []string {
		if msg["op"] != "subscribe" {
			return nil
		}
		return []string{fmt.Sprintf(`{"success":true,"ret_msg":"subscribe","conn_id":"c1","req_id":%q,"op":"subscribe"}`, fmt.Sprint(msg["req_id"]))}
	}, nil)
	m.trade = func(id int) string {
		if id == 1 || id == 10 {
			return book("snapshot", id)
		}
		return book("delta", id)
	}
	s, err := session.Start(context.Background(), session.Config{Venue: schema.VenueBybit, Endpoints: session.Endpoints{Stream: m.ws(m.path)},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"orderbook.50"}, NoClockSync: true, Client: s30ctFast()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	var mu sync.Mutex
	var seen []string
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			mu.Lock()
			defer mu.Unlock()
			switch ev.Type {
			case schema.EventGap:
				seen = append(seen, "G")
			case schema.EventBookSnapshot:
				seen = append(seen, "S")
			case schema.EventBookUpdate:
				seen = append(seen, "U")
			}
		}})
	require.NoError(t, err)
	all := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(seen, "") }
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	m.publish(3) // snapshot 1, deltas 2, 3
	require.Eventually(t, func() bool { return strings.Count(all(), "U") >= 2 }, s27ctWait, time.Millisecond, "the book before the loss: %s", all)

	old := m.subscribed()[0]
	m.drop(old)
	old.cut()
	m.lose(6) // next: 10, a snapshot on the new connection
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
	m.publish(2) // snapshot 10, delta 11
	require.Eventually(t, func() bool { return strings.HasSuffix(all(), "U") && strings.Count(all(), "S") >= 2 }, s27ctWait, time.Millisecond, "the book after the loss")
	got := all()
	t.Logf("%s", got)
	before, after, ok := strings.Cut(got[strings.Index(got, "S")+1:], "S")
	require.True(t, ok, got)
	assert.Contains(t, strings.TrimLeft(before, "U"), "G", "a gap marker after the last update before the loss, before the new snapshot: %s", got)
	assert.NotContains(t, strings.TrimLeft(before, "U"), "U", "no update between the marker and the new snapshot: %s", got)
	_ = after
}
