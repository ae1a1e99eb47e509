package meltica_test

// Outside contract tests, round 14 (s39ct): market data under pressure on
// the whole session path, written from DESIGN.md contract 4, session/doc.go
// "Lost market connections" and dispatch/doc.go "Lanes" and Stats, without
// reading the code.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// s39ctQuoteMarket is a Binance spot market stream on loopback
// ("WebSocket Streams": "Live Subscribing/Unsubscribing to streams", a
// SUBSCRIBE acked {"result":null,"id":…}; combined streams at /stream wrap
// each payload as {"stream":…,"data":…}; "Individual Symbol Book Ticker
// Streams": <symbol>@bookTicker, {"u":…,"s":…,"b":…,"B":…,"a":…,"A":…},
// u the book's update id): a quote goes to every connection subscribed to
// its symbol's stream when it is published.
type s39ctQuoteMarket struct {
	*s30ctPeer
	mu   sync.Mutex
	subs map[*s30ctConn][]string // the streams each live connection subscribed
}

func newS39ctQuoteMarket(t *testing.T) *s39ctQuoteMarket {
	m := &s39ctQuoteMarket{s30ctPeer: newS30ctPeer(t), subs: map[*s30ctConn][]string{}}
	m.handle("/stream", func(c *s30ctConn, text string) []string {
		msg := s28ctJSON(t, []byte(text))
		if msg["method"] != "SUBSCRIBE" {
			return nil
		}
		m.mu.Lock()
		for _, p := range msg["params"].([]any) {
			m.subs[c] = append(m.subs[c], strings.ToLower(fmt.Sprint(p)))
		}
		m.mu.Unlock()
		return []string{fmt.Sprintf(`{"result":null,"id":%v}`, msg["id"])}
	})
	return m
}

// stream is symbol's (BTCUSDT) book ticker stream name.
func s39ctStream(symbol string) string { return strings.ToLower(symbol) + "@bookticker" }

// holders returns the live connections subscribed to symbol's quotes.
func (m *s39ctQuoteMarket) holders(symbol string) []*s30ctConn {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*s30ctConn
	for c, streams := range m.subs {
		if slices.Contains(streams, s39ctStream(symbol)) {
			out = append(out, c)
		}
	}
	return out
}

// quote publishes symbol's best bid/offer of update id u.
func (m *s39ctQuoteMarket) quote(symbol string, u int) {
	msg := fmt.Sprintf(`{"stream":%q,"data":{"u":%d,"s":%q,"b":"%d.10","B":"1.5","a":"%d.20","A":"2.5"}}`, strings.ToLower(symbol)+"@bookTicker", u, symbol, 1000+u, 1000+u)
	for _, c := range m.holders(symbol) {
		c.send(msg)
	}
}

// cut drops c without a close frame (a TCP reset) and forgets it.
func (m *s39ctQuoteMarket) cut(c *s30ctConn) []string {
	m.mu.Lock()
	streams := m.subs[c]
	delete(m.subs, c)
	m.mu.Unlock()
	c.cut()
	return streams
}

// s39ctQuoteTape is one subscriber of best bid/offers: per symbol, what it
// got in order (u, and 0 for a gap marker naming the symbol; a marker
// naming none is put on every symbol's line).
type s39ctQuoteTape struct {
	gate    chan struct{} // nil: never held; else the handler waits for it to close
	entered chan struct{}
	once    sync.Once
	mu      sync.Mutex
	symbols []string
	seen    map[string][]uint64
	n       uint64 // handler calls
}

func (q *s39ctQuoteTape) handle(ev *schema.CanonicalEvent) {
	if q.gate != nil {
		q.once.Do(func() { close(q.entered) })
		<-q.gate
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n++
	switch ev.Type {
	case schema.EventBBO:
		q.seen[ev.Symbol] = append(q.seen[ev.Symbol], ev.SeqProvider)
	case schema.EventGap:
		if ev.Symbol == "" {
			for _, s := range q.symbols {
				q.seen[s] = append(q.seen[s], 0)
			}
		} else {
			q.seen[ev.Symbol] = append(q.seen[ev.Symbol], 0)
		}
	}
}

func (q *s39ctQuoteTape) line(symbol string) []uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.seen[symbol])
}

// has reports whether every symbol's last quote is u.
func (q *s39ctQuoteTape) has(u uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range q.symbols {
		l := q.seen[s]
		if len(l) == 0 || l[len(l)-1] != u {
			return false
		}
	}
	return true
}

// A session reading the quotes (bookTicker) of 12 symbols, its one
// subscriber held still while the venue sends rounds of quotes, then one
// of its market connections is lost (a TCP reset) and comes back, and
// more rounds come. Once released, the slow subscriber (and a fast one
// alike) has
//   - each symbol's quotes newest-last, never one older than one it got
//     before (DESIGN.md contract 4: "a slow consumer sees fewer, fresher
//     updates, never stale ones"), and the venue's last for every symbol
//     (dispatch/doc.go: "always the latest in the end");
//   - the loss announced once to it, per symbol of the lost connection
//     when the session has several, one marker naming no symbol when it
//     has one (session/doc.go "Lost market connections": "announced once
//     to every subscriber of its market data ... naming no symbol when the
//     session has one market connection, else one per symbol of the lost
//     connection"), and no marker for a symbol whose connection stayed;
//   - after a symbol's marker, no quote from before the loss (dispatch
//     drops "the coalescable events they have queued for it": "a quote
//     from before the loss delivered after it would pass for the stream's
//     state after it");
//   - Stats that say what was coalesced: Coalesced positive, Delivered its
//     handler's calls, and the slow and the fast subscriber, of one filter,
//     accounting for the same events accepted (dispatch.Stats: "accepted +
//     Gaps = Delivered + Depth + InHand + Dropped + Coalesced +
//     Discarded").
func TestS39ctSlowQuoteSubscriberAcrossALostConnection(t *testing.T) {
	symbols := []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "DOTUSDT", "LTCUSDT", "LINKUSDT", "BNBUSDT", "TRXUSDT", "AVAXUSDT"}
	for _, perConn := range []int{4, 0} {
		t.Run(fmt.Sprintf("topics per connection %d", perConn), func(t *testing.T) {
			m := newS39ctQuoteMarket(t)
			v := venuesim.Start(&venuesim.Options{Symbols: symbols}) // its REST only: the instruments
			t.Cleanup(v.Close)
			canon := make([]string, len(symbols))
			for i, s := range symbols {
				canon[i] = strings.TrimSuffix(s, "USDT") + "-USDT"
			}
			s, err := session.Start(context.Background(), session.Config{
				Endpoints:        session.Endpoints{Stream: m.ws("/stream"), REST: v.RESTURL()},
				Symbols:          canon,
				Channels:         []string{"bookTicker"},
				MaxTopicsPerConn: perConn,
				NoClockSync:      true,
				Client:           s30ctFast(),
			})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
			fast := &s39ctQuoteTape{symbols: canon, seen: map[string][]uint64{}}
			slow := &s39ctQuoteTape{symbols: canon, seen: map[string][]uint64{}, gate: make(chan struct{}), entered: make(chan struct{})}
			filter := dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}
			fastSub, err := s.Dispatcher().Subscribe(filter, &dispatch.SubscribeOptions{Handler: fast.handle, Name: "fast"})
			require.NoError(t, err)
			slowSub, err := s.Dispatcher().Subscribe(filter, &dispatch.SubscribeOptions{Handler: slow.handle, Name: "slow"})
			require.NoError(t, err)
			released := false
			release := func() {
				if !released {
					released = true
					close(slow.gate)
				}
			}
			t.Cleanup(release)
			s31ctConnected(t, s)
			require.Eventually(t, func() bool {
				for _, sym := range symbols {
					if len(m.holders(sym)) != 1 {
						return false
					}
				}
				return true
			}, s27ctWait, time.Millisecond, "every symbol's quotes subscribed once")

			round := func(from, to int) {
				for u := from; u <= to; u++ {
					for _, sym := range symbols {
						m.quote(sym, u)
					}
				}
				require.Eventually(t, func() bool { return fast.has(uint64(to)) }, s27ctWait, time.Millisecond, "the fast subscriber has round %d", to)
			}
			round(1, 40)
			s27ctClosed(t, slow.entered, "the slow subscriber is held in its first call")

			lost := m.cut(m.holders("ETHUSDT")[0])
			require.NotEmpty(t, lost)
			require.Eventually(t, func() bool { return len(m.holders("ETHUSDT")) == 1 }, s27ctWait, time.Millisecond, "the lost connection's quotes subscribed again")
			round(41, 60)
			release()
			require.Eventually(t, func() bool { return slow.has(60) }, s27ctWait, time.Millisecond, "the slow subscriber gets every symbol's latest")

			onLost := map[string]bool{}
			for _, st := range lost {
				sym, _, _ := strings.Cut(st, "@")
				onLost[strings.TrimSuffix(strings.ToUpper(sym), "USDT")+"-USDT"] = true
			}
			if perConn == 0 {
				require.Len(t, onLost, len(symbols), "one connection carries every symbol")
			} else {
				require.Less(t, len(onLost), len(symbols), "the symbols are spread over connections")
			}
			for name, tape := range map[string]*s39ctQuoteTape{"fast": fast, "slow": slow} {
				for _, sym := range canon {
					line := tape.line(sym)
					var last uint64
					markers, afterMarker := 0, false
					for _, u := range line {
						if u == 0 {
							markers++
							afterMarker = true
							continue
						}
						if u <= last {
							t.Errorf("%s %s: quote %d after %d: %v", name, sym, u, last, line)
						}
						if afterMarker && u <= 40 {
							t.Errorf("%s %s: quote %d from before the loss delivered after its marker: %v", name, sym, u, line)
						}
						last = u
					}
					if onLost[sym] {
						assert.Equal(t, 1, markers, "%s %s: the loss of its connection announced once: %v", name, sym, line)
					} else {
						assert.Zero(t, markers, "%s %s: its connection was not lost: %v", name, sym, line)
					}
				}
			}
			fs, ss := fastSub.Stats(), slowSub.Stats()
			t.Logf("fast %+v", fs)
			t.Logf("slow %+v", ss)
			assert.Positive(t, ss.Coalesced, "the held subscriber's quotes were coalesced")
			slow.mu.Lock()
			calls := slow.n
			slow.mu.Unlock()
			assert.Equal(t, calls, ss.Delivered, "Delivered: the handler's calls")
			accepted := func(st dispatch.Stats) uint64 {
				return st.Delivered + uint64(st.Depth+st.InHand) + st.Dropped + st.Coalesced + st.Discarded - st.Gaps
			}
			assert.Equal(t, accepted(fs), accepted(ss), "one filter, the same events accepted, each in one place")
		})
	}
}
