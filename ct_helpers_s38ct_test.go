package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s38ctTally keeps a copy of every event a subscription hands over, so
// that a test can add up what came by type, stream and source.
type s38ctTally struct {
	mu  sync.Mutex
	got []*schema.CanonicalEvent
}

func (c *s38ctTally) handle(ev *schema.CanonicalEvent) {
	c.mu.Lock()
	c.got = append(c.got, ev)
	c.mu.Unlock()
}

func (c *s38ctTally) all() []*schema.CanonicalEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*schema.CanonicalEvent(nil), c.got...)
}

// count returns how many events of type typ came, by symbol.
func (c *s38ctTally) count(typ schema.EventType) map[string]int {
	n := map[string]int{}
	for _, ev := range c.all() {
		if ev.Type == typ {
			n[ev.Symbol]++
		}
	}
	return n
}

// queueGaps returns the gap markers the subscription's own queue made
// (GapSource GapSubscriberQueue) about streams of type typ, by symbol.
func (c *s38ctTally) queueGaps(typ schema.EventType) map[string][]schema.Control {
	n := map[string][]schema.Control{}
	for _, ev := range c.all() {
		if ev.Type == schema.EventGap && ev.Control.GapSource == schema.GapSubscriberQueue && ev.Control.GapType == typ {
			n[ev.Symbol] = append(n[ev.Symbol], *ev.Control)
		}
	}
	return n
}

// s38ctTrade fills trade number seq of symbol (SeqProvider seq).
func s38ctTrade(symbol string, seq uint64) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = schema.VenueBinance, symbol, schema.EventTrade, seq
		ev.ExchangeTS, ev.IngestTS = int64(seq), int64(seq)
		ev.Trade.ID = schema.MustID(fmt.Sprint(seq))
		ev.Trade.Price, ev.Trade.Qty, ev.Trade.Side = schema.MustParseDecimal("100.5"), schema.MustParseDecimal("1"), schema.SideBuy
	}
}

// s38ctExec fills execution report n (client order id "o<n>").
func s38ctExec(n int) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventExecReport
		x := ev.UseExec()
		x.ClientOrderID = schema.MustID(fmt.Sprintf("o%d", n))
		x.ExecType, x.Status = schema.ExecNew, schema.StatusNew
		x.Side, x.Type = schema.SideBuy, schema.OrderTypeLimit
		x.Price, x.Qty = schema.MustParseDecimal("100"), schema.MustParseDecimal("1")
	}
}

// s38ctPublish publishes an event fill writes, taken from pools.Events.
func s38ctPublish(t *testing.T, d *dispatch.Dispatcher, pools *schema.Pools, fill func(*schema.CanonicalEvent)) {
	t.Helper()
	require.NoError(t, d.Publish(context.Background(), s35ctEvent(t, pools, fill)))
}

// s38ctInUse is how many events of pools.Events are checked out now.
func s38ctInUse(pools *schema.Pools) int64 { return pools.Events.Stats().InUse }

// s38ctBinancePeer starts a Binance session whose market streams and
// REST are venuesim's and whose WS-API is a loopback peer written from
// Binance's docs (WebSocket API "Request format", "Response format":
// {"id","status","result"}; the user-data subscription answered
// {"subscriptionId":0}). order answers each order.place: its answer's
// text (id: the request's id as JSON), "" for none.
func s38ctBinancePeer(t *testing.T, order func(id string, params map[string]any) string) (*s30ctPeer, *session.Session) {
	t.Helper()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, PingInterval: -1})
	t.Cleanup(v.Close)
	p := newS30ctPeer(t)
	p.handle("/ws-api/v3", func(_ *s30ctConn, text string) []string {
		m := s28ctJSON(t, []byte(text))
		id := fmt.Sprint(m["id"]) // a number (json.Number) as it came
		if sid, ok := m["id"].(string); ok {
			id = fmt.Sprintf("%q", sid)
		}
		switch m["method"] {
		case "order.place":
			params, _ := m["params"].(map[string]any)
			if a := order(id, params); a != "" {
				return []string{a}
			}
			return nil
		case "userDataStream.subscribe.signature", "userDataStream.subscribe":
			return []string{fmt.Sprintf(`{"id":%s,"status":200,"result":{"subscriptionId":0}}`, id)}
		}
		return []string{fmt.Sprintf(`{"id":%s,"status":200,"result":{}}`, id)}
	})
	s, err := session.Start(context.Background(), session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: p.ws("/ws-api/v3")},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		Client:      s30ctFast(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return p, s
}
