package meltica_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s36ctOKXMarket is an OKX v5 public WebSocket on loopback (OKX v5
// "WebSocket → Subscribe", "Trades channel", "Notification of service
// upgrade" 64008): it answers "ping" with "pong", a subscription with
// its ack (or, while refuse > 0, with OKX's error event 60014 "Requests too frequent"), and
// sends each trade the test publishes to every connection subscribed
// then, as the venue does; a trade published while none is subscribed
// is lost, as on the venue.
type s36ctOKXMarket struct {
	*s30ctPeer
	mu     sync.Mutex
	refuse int
	subs   []*s30ctConn // connections subscribed, oldest first
	last   int          // the last trade id published
}

func newS36ctOKXMarket(t *testing.T) *s36ctOKXMarket {
	m := &s36ctOKXMarket{s30ctPeer: newS30ctPeer(t)}
	m.handle("/ws/v5/public", func(c *s30ctConn, text string) []string {
		if text == "ping" {
			return []string{"pong"}
		}
		msg := s28ctJSON(t, []byte(text))
		if msg["op"] != "subscribe" {
			return nil
		}
		var out []string
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, a := range msg["args"].([]any) {
			arg, _ := s28ctArgJSON(a)
			if m.refuse > 0 {
				m.refuse--
				out = append(out, `{"event":"error","code":"60014","msg":"Requests too frequent.","connId":"a4d3ae55"}`)
				continue
			}
			out = append(out, `{"event":"subscribe","arg":`+arg+`,"connId":"a4d3ae55"}`)
			m.subs = append(m.subs, c)
		}
		return out
	})
	return m
}

func (m *s36ctOKXMarket) start(t *testing.T, client func(*session.Config)) *session.Session {
	t.Helper()
	cfg := session.Config{
		Venue:       schema.VenueOKX,
		Endpoints:   session.Endpoints{Stream: m.ws("/ws/v5/public")},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trades"},
		NoClockSync: true,
		Client:      s30ctFast(),
	}
	if client != nil {
		client(&cfg)
	}
	s, err := session.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

// subscribed returns the connections subscribed so far.
func (m *s36ctOKXMarket) subscribed() []*s30ctConn {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*s30ctConn(nil), m.subs...)
}

// drop forgets c (the venue closed it).
func (m *s36ctOKXMarket) drop(c *s30ctConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.subs {
		if x == c {
			m.subs = append(m.subs[:i], m.subs[i+1:]...)
			return
		}
	}
}

// publish sends n more trades to every subscribed connection (or to
// only, when given); lose makes n more trade ids no connection receives.
func (m *s36ctOKXMarket) publish(n int, only ...*s30ctConn) int {
	for range n {
		m.mu.Lock()
		m.last++
		id := m.last
		to := m.subs
		if len(only) > 0 {
			to = only
		}
		to = append([]*s30ctConn(nil), to...)
		m.mu.Unlock()
		msg := fmt.Sprintf(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"%d","px":"42219.9","sz":"0.12060306","side":"buy","ts":"%d","count":"1"}]}`, id, 1630048897000+id)
		for _, c := range to {
			c.send(msg)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func (m *s36ctOKXMarket) lose(n int) {
	m.mu.Lock()
	m.last += n
	m.mu.Unlock()
}

// s36ctTape is what one market-data subscriber saw: trade ids, and 0 for
// each gap marker.
type s36ctTape struct {
	mu   sync.Mutex
	seen []int
}

func (p *s36ctTape) handle(ev *schema.CanonicalEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Type {
	case schema.EventGap:
		p.seen = append(p.seen, 0)
	case schema.EventTrade:
		id, err := strconv.Atoi(ev.Trade.ID.String())
		if err != nil {
			id = -1
		}
		p.seen = append(p.seen, id)
	case schema.EventTicker:
		f, err := strconv.ParseFloat(ev.Ticker.Last.String(), 64)
		if err != nil {
			f = -1
		}
		p.seen = append(p.seen, int(f))
	}
}

func (p *s36ctTape) all() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.seen...)
}

func (p *s36ctTape) String() string {
	var b strings.Builder
	for _, x := range p.all() {
		if x == 0 {
			b.WriteString("GAP ")
		} else {
			fmt.Fprintf(&b, "%d ", x)
		}
	}
	return b.String()
}

// subscribeTape subscribes a tape to s's trades (the session's loss
// markers reach such a subscriber too: session doc "Lost market
// connections", "whatever types it names").
func subscribeTape(t *testing.T, s *session.Session) *s36ctTape {
	t.Helper()
	p := &s36ctTape{}
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: p.handle})
	require.NoError(t, err)
	return p
}

// waitTrade waits until the tape has trade id.
func (p *s36ctTape) waitTrade(t *testing.T, id int) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, x := range p.all() {
			if x == id {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "trade %d never reached the subscriber: %v", id, p)
}

// check holds the contract of loss (DESIGN.md contract 4, session doc
// "Lost market connections"): trades once each, in the venue's order,
// and any trade not the next of the one before it has a gap marker
// between them.
func (p *s36ctTape) check(t *testing.T) (gaps int) {
	t.Helper()
	prev, marked := 0, false
	for _, x := range p.all() {
		if x == 0 {
			gaps++
			marked = true
			continue
		}
		if prev != 0 {
			if x <= prev {
				t.Errorf("trade %d after %d: repeated or out of order: %v", x, prev, p)
			} else if x != prev+1 && !marked {
				t.Errorf("trades %d..%d lost with no gap marker before %d: %v", prev+1, x-1, x, p)
			}
		}
		prev, marked = x, false
	}
	return gaps
}

// s36ctBinanceMarket is a Binance spot market stream on loopback
// (Binance "WebSocket Streams": "Live Subscribing/Unsubscribing to
// streams", "Trade Streams"; combined streams at /stream wrap each
// payload as {"stream":…,"data":…}): a SUBSCRIBE is answered
// {"result":null,"id":…}, or while refuse > 0 with Binance's error form
// {"error":{"code":2,"msg":"Invalid request"},"id":…} ("Error Messages":
// code 2 "Invalid request", how Binance refuses a request it will not
// take); trades go to the connections subscribed when published.
type s36ctBinanceMarket struct {
	*s30ctPeer
	s36ctFeed
	refuse int
}

func newS36ctBinanceMarket(t *testing.T) *s36ctBinanceMarket {
	m := &s36ctBinanceMarket{s30ctPeer: newS30ctPeer(t)}
	for _, path := range []string{"/stream", "/ws"} {
		m.handle(path, func(c *s30ctConn, text string) []string {
			msg := s28ctJSON(t, []byte(text))
			if msg["method"] != "SUBSCRIBE" {
				return nil
			}
			id := "null"
			switch v := msg["id"].(type) {
			case float64:
				id = strconv.FormatFloat(v, 'f', -1, 64)
			case string:
				id = strconv.Quote(v)
			}
			m.fmu.Lock()
			defer m.fmu.Unlock()
			if m.refuse > 0 {
				m.refuse--
				return []string{`{"error":{"code":2,"msg":"Invalid request"},"id":` + id + `}`}
			}
			m.subs = append(m.subs, c)
			return []string{`{"result":null,"id":` + id + `}`}
		})
	}
	return m
}

func (m *s36ctBinanceMarket) publish(n int) int {
	return m.publishEach(n, func(c *s30ctConn, id int) {
		data := fmt.Sprintf(`{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"42219.90","q":"0.12","T":%d,"m":true,"M":true}`, 1630048897000+id, id, 1630048897000+id)
		if c.path == "/stream" {
			data = `{"stream":"btcusdt@trade","data":` + data + `}`
		}
		c.send(data)
	})
}

// s36ctVenueMarket is a market stream on loopback for one of the venues
// venuesim does not serve, written from its docs: ack answers a
// subscription (nil: not one; its first result is sent back), trade
// makes the venue's message of one trade (id as the venue's trade id).
type s36ctVenueMarket struct {
	*s30ctPeer
	s36ctFeed
	path  string
	venue schema.Venue
	trade func(id int) string
}

func newS36ctVenueMarket(t *testing.T, venue schema.Venue, path string, ack func(msg map[string]any) []string, trade func(id int) string) *s36ctVenueMarket {
	m := &s36ctVenueMarket{s30ctPeer: newS30ctPeer(t), path: path, venue: venue, trade: trade}
	m.handle(path, func(c *s30ctConn, text string) []string {
		msg := s28ctJSON(t, []byte(text))
		out := ack(msg)
		if len(out) > 0 && msg["op"] != "ping" && msg["method"] != "ping" {
			m.fmu.Lock()
			m.subs = append(m.subs, c)
			m.fmu.Unlock()
		}
		return out
	})
	return m
}

func (m *s36ctVenueMarket) publish(n int) int {
	return m.publishEach(n, func(c *s30ctConn, id int) { c.send(m.trade(id)) })
}

// s36ctFeed is a loopback venue's trade feed: the connections subscribed
// (oldest first) and the last trade id published.
type s36ctFeed struct {
	fmu  sync.Mutex
	subs []*s30ctConn
	last int
}

func (m *s36ctFeed) subscribed() []*s30ctConn {
	m.fmu.Lock()
	defer m.fmu.Unlock()
	return append([]*s30ctConn(nil), m.subs...)
}

// drop forgets c (the venue closed it).
func (m *s36ctFeed) drop(c *s30ctConn) {
	m.fmu.Lock()
	defer m.fmu.Unlock()
	m.subs = slices.DeleteFunc(m.subs, func(x *s30ctConn) bool { return x == c })
}

// publishEach publishes n trades, each with the next id, by send to every
// connection subscribed when it is published; it returns the last id.
func (m *s36ctFeed) publishEach(n int, send func(c *s30ctConn, id int)) int {
	for range n {
		m.fmu.Lock()
		m.last++
		id := m.last
		to := append([]*s30ctConn(nil), m.subs...)
		m.fmu.Unlock()
		for _, c := range to {
			send(c, id)
		}
	}
	m.fmu.Lock()
	defer m.fmu.Unlock()
	return m.last
}

// lose counts n trades made while no connection was subscribed.
func (m *s36ctFeed) lose(n int) {
	m.fmu.Lock()
	m.last += n
	m.fmu.Unlock()
}

// seen describes what the venue saw (for a failure's message): the
// connections subscribed now, by their order on the path, the dials, and
// every message each connection sent.
func (m *s36ctOKXMarket) seen() string {
	var b strings.Builder
	m.mu.Lock()
	fmt.Fprintf(&b, "subscribed now:")
	for _, c := range m.subs {
		fmt.Fprintf(&b, " #%d", c.n)
	}
	m.mu.Unlock()
	fmt.Fprintf(&b, "; dials %d; received:", m.dials("/ws/v5/public"))
	for _, x := range m.find("/ws/v5/public", func(string) bool { return true }) {
		fmt.Fprintf(&b, " #%d %q;", x.conn.n, x.text)
	}
	return b.String()
}
