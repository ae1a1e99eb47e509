package meltica_test

// Outside contract tests, round 14 (s39ct): books across a lost
// connection on every venue whose books the session keeps from the
// venue's own snapshots, written from session/doc.go ("What Start builds",
// "Lost market connections", Session.Book) and DESIGN.md contract 4,
// without reading the code.

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
)

// s39ctBookVenue is one venue's book channel on loopback, written from its
// docs: the path, the session's channel and symbol, the subscription's
// ack (nil: not a subscription), and a book message: a snapshot or an
// update of sequence seq (n: the message's number on its connection,
// from 1, for a venue that counts per connection).
type s39ctBookVenue struct {
	name    string
	venue   schema.Venue
	path    string
	channel string
	trades  string // the venue's trade channel
	symbol  string
	bid     string // the best bid of the book messages
	ack     func(msg map[string]any) []string
	book    func(snapshot bool, seq, n int) string
	trade   func(id int) string // a trade on the trades channel (Bybit, OKX)
}

func s39ctBookVenues() []s39ctBookVenue {
	return []s39ctBookVenue{
		{
			// Bybit v5 "Orderbook": orderbook.{depth}.{symbol}, a snapshot
			// on subscribe, then deltas by u.
			name: "bybit", venue: schema.VenueBybit, path: "/v5/public/spot", channel: "orderbook.50", trades: "publicTrade", symbol: "BTC-USDT", bid: "16493.5",
			ack: func(msg map[string]any) []string {
				if msg["op"] != "subscribe" {
					return nil
				}
				return []string{fmt.Sprintf(`{"success":true,"ret_msg":"subscribe","conn_id":"c1","req_id":%q,"op":"subscribe"}`, fmt.Sprint(msg["req_id"]))}
			},
			book: func(snapshot bool, u, _ int) string {
				typ := "delta"
				if snapshot {
					typ = "snapshot"
				}
				return fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":%q,"ts":%d,"data":{"s":"BTCUSDT","b":[["16493.50","0.%03d"]],"a":[["16611.00","0.029"]],"u":%d,"seq":%d},"cts":%d}`, typ, 1672304484978+u, u, u, 7961638724+u, 1672304484976+u)
			},
			trade: func(id int) string {
				return fmt.Sprintf(`{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":%d,"data":[{"T":%d,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"%d","BT":false}]}`, 1672304486868+id, 1672304486865+id, id)
			},
		},
		{
			// OKX v5 "Order book channel" (books): a snapshot whose
			// prevSeqId is -1, then updates whose prevSeqId is the seqId
			// before; checksum 0 is "not sent" (README, normalize/book).
			name: "okx", venue: schema.VenueOKX, path: "/ws/v5/public", channel: "books", trades: "trades", symbol: "BTC-USDT", bid: "100",
			ack: func(msg map[string]any) []string {
				if msg["op"] != "subscribe" {
					return nil
				}
				var out []string
				for _, a := range msg["args"].([]any) {
					arg, _ := s28ctArgJSON(a)
					out = append(out, `{"event":"subscribe","arg":`+arg+`,"connId":"a4d3ae55"}`)
				}
				return out
			},
			book: func(snapshot bool, seq, _ int) string {
				action, prev := "update", int64(seq-1)
				if snapshot {
					action, prev = "snapshot", -1
				}
				return s34ctOKXBook("books", action, prev, int64(seq), [][2]string{{"100.0", fmt.Sprintf("%d", seq)}}, [][2]string{{"101.0", "1"}}, 0)
			},
			trade: func(id int) string {
				return fmt.Sprintf(`{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"%d","px":"42219.9","sz":"0.12060306","side":"buy","ts":"%d","count":"1"}]}`, id, 1630048897000+id)
			},
		},
		{
			// Coinbase Advanced Trade "Level2 Channel" (l2_data; a
			// snapshot, then updates) and "Sequence Numbers"
			// (sequence_num counted per connection from 0, over every
			// message: SEQ in an ack is the connection's next).
			name: "coinbase", venue: schema.VenueCoinbase, path: "/ws", channel: "level2", trades: "market_trades", symbol: "BTC-USD", bid: "100",
			ack: func(msg map[string]any) []string {
				if msg["type"] != "subscribe" {
					return nil
				}
				return []string{fmt.Sprintf(`{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z","sequence_num":SEQ,"events":[{"subscriptions":{%q:["BTC-USD"]}}]}`, fmt.Sprint(msg["channel"]))}
			},
			book: func(snapshot bool, seq, n int) string {
				typ := "update"
				if snapshot {
					typ = "snapshot"
				}
				return fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:00.123456Z","sequence_num":%d,"events":[{"type":%q,"product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2026-04-07T14:30:00.123456Z","price_level":"100.00","new_quantity":"%d"},{"side":"offer","event_time":"2026-04-07T14:30:00.123456Z","price_level":"101.00","new_quantity":"1"}]}]}`, n, typ, seq)
			},
		},
	}
}

// s39ctBookTape is a book subscriber's tape: S a snapshot, U an update, B
// the book's own gap marker (naming a book type), C the connection's
// (naming no type).
type s39ctBookTape struct {
	mu   sync.Mutex
	seen []byte
}

func (p *s39ctBookTape) handle(ev *schema.CanonicalEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Type {
	case schema.EventBookSnapshot:
		p.seen = append(p.seen, 'S')
	case schema.EventBookUpdate:
		p.seen = append(p.seen, 'U')
	case schema.EventGap:
		if ev.Control.GapType == schema.EventUnknown {
			p.seen = append(p.seen, 'C')
		} else {
			p.seen = append(p.seen, 'B')
		}
	}
}

func (p *s39ctBookTape) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.seen)
}

// A session's book (Bybit, OKX from the venue's own snapshots, Coinbase)
// whose connection is lost (a TCP reset), and whose new connection
// first sends an update that chains on the last one before the loss, then
// a snapshot (as no venue is bound not to: OKX's prevSeqId, Bybit's u and
// a fresh Coinbase connection's count would all join):
//   - the book is not Live from the loss until the new snapshot (Session.Book:
//     "A book is Live only while it is known good: a lost connection or a
//     gap invalidates it until it has resynchronised"; session/doc.go:
//     invalidated "at the latest before the next connection's first frame
//     is read");
//   - the chained update is not delivered as a book update;
//   - the subscriber hears the loss exactly once of each kind, between
//     the last update before it and the new snapshot (session/doc.go "Lost
//     market connections": "a book subscriber hears both: the book's
//     marker names its stream, and is followed by a resynchronised
//     snapshot");
//   - the book is Live again after the snapshot, and its best bid is the
//     snapshot's.
func TestS39ctBookNeverLiveAcrossALostConnection(t *testing.T) {
	for _, bv := range s39ctBookVenues() {
		for _, withTrades := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/trades too %v", bv.name, withTrades), func(t *testing.T) {
				s39ctBookLoss(t, bv, withTrades)
			})
		}
	}
}

func s39ctBookLoss(t *testing.T, bv s39ctBookVenue, withTrades bool) {
	p := newS30ctPeer(t)
	var mu sync.Mutex
	var subs []*s30ctConn
	sent := map[*s30ctConn]int{} // messages sent on each connection
	p.handle(bv.path, func(c *s30ctConn, text string) []string {
		msg := s28ctJSON(t, []byte(text))
		out := bv.ack(msg)
		mu.Lock()
		defer mu.Unlock()
		for i, a := range out {
			out[i] = strings.ReplaceAll(a, "SEQ", fmt.Sprint(sent[c]))
			sent[c]++
		}
		if len(out) > 0 {
			subs = append(subs, c)
		}
		return out
	})
	live := func() *s30ctConn {
		mu.Lock()
		defer mu.Unlock()
		if len(subs) == 0 {
			return nil
		}
		return subs[len(subs)-1]
	}
	send := func(c *s30ctConn, snapshot bool, seq int) {
		mu.Lock()
		n := sent[c]
		sent[c]++
		c.send(bv.book(snapshot, seq, n))
		mu.Unlock()
	}
	channels := []string{bv.channel}
	if withTrades {
		channels = append(channels, bv.trades)
	}
	s, err := session.Start(context.Background(), session.Config{Venue: bv.venue, Endpoints: session.Endpoints{Stream: p.ws(bv.path)},
		Symbols: []string{bv.symbol}, Channels: channels, NoClockSync: true, Client: s30ctFast()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	tape := &s39ctBookTape{}
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate}}, &dispatch.SubscribeOptions{Handler: tape.handle})
	require.NoError(t, err)
	b := s.Book(bv.symbol)
	require.NotNil(t, b, "a book for %s", bv.channel)
	require.Eventually(t, func() bool { return live() != nil }, s27ctWait, time.Millisecond)
	first := live()
	send(first, true, 1)
	s31ctConnected(t, s) // the book live: WaitConnected waits for it
	send(first, false, 2)
	send(first, false, 3)
	require.Eventually(t, func() bool { return b.Live() && strings.Count(tape.String(), "U") == 2 }, s27ctWait, time.Millisecond, "the book live before the loss: %s", tape)

	messages := func() (n uint64) {
		for _, c := range s.Stats().Market {
			n += c.Parser.Messages
		}
		return n
	}
	first.cut()
	require.Eventually(t, func() bool { return live() != first }, s27ctWait, time.Millisecond, "subscribed again after the loss")
	next := live()
	before := messages()
	send(next, false, 4) // chains on 3
	require.Eventually(t, func() bool { return messages() > before }, s27ctWait, time.Millisecond, "the chained update read")
	assert.False(t, b.Live(), "the book is live on an update after the loss, before any snapshot: %s", tape)
	if bbo, ok := b.BBO(); ok {
		t.Errorf("the book serves a best bid/offer after the loss, before any snapshot: %+v", bbo)
	}

	send(next, true, 10)
	send(next, false, 11)
	require.Eventually(t, func() bool { return b.Live() && strings.HasSuffix(tape.String(), "SU") }, s27ctWait, time.Millisecond, "live again after the new snapshot: %s", tape)
	bbo, ok := b.BBO()
	require.True(t, ok)
	assert.Equal(t, bv.bid, bbo.BidPrice.Canonical().String(), "the snapshot's bid")
	got := tape.String()
	t.Logf("%s: %s", bv.name, got)
	require.True(t, strings.HasPrefix(got, "SUU"), "before the loss: %s", got)
	between := strings.TrimSuffix(got[3:], "SU")
	assert.Equal(t, 1, strings.Count(between, "B"), "one book marker for the loss: %s", got)
	conn := 0
	if withTrades {
		conn = 1 // "Not published for a connection that carries only book channels"
	}
	assert.Equal(t, conn, strings.Count(between, "C"), "connection markers for the loss: %s", got)
	assert.NotContains(t, between, "S", "one snapshot after the loss: %s", got)
	// The chained update may be handed on after the marker
	// (normalize/book "What it publishes": "diffs handed on
	// meanwhile precede it"): the subscriber, told the book broke,
	// rebuilds from the snapshot that follows.
	assert.LessOrEqual(t, strings.Count(between, "U"), 1, "%s", got)
	assert.True(t, strings.Index(between, "B") < max(strings.Index(between, "U"), 0) || !strings.Contains(between, "U"), "the marker before any update of the new connection: %s", got)
}

// A book (Bybit, OKX) whose connection is replaced at Client.MaxAge on
// the Client's clock, make-before-break, while the venue keeps sending
// the same diffs on both connections and a snapshot of its book on the
// new one (as Bybit and OKX answer a subscription): the rotation aligns
// (normalize/book "Rotations": "Where the two streams align (Binance,
// OKX, Bybit, Kraken through normalize.Parser.AlignKey) the book sees one
// stream, each message once"; session/doc.go: "a rotation whose streams
// joined loses nothing and is not announced"; wsclient: "nothing lost,
// nothing twice"). So the book subscriber gets every diff once, in order,
// no gap marker, the book live before, during and after, its best bid
// the venue's last.
func TestS39ctBookAcrossAnAlignedRotation(t *testing.T) {
	for _, bv := range s39ctBookVenues()[:2] {
		for _, withTrades := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/trades too %v", bv.name, withTrades), func(t *testing.T) { s39ctBookRotation(t, bv, withTrades) })
		}
	}
}

// s39ctBookRotation is TestS39ctBookAcrossAnAlignedRotation on one venue,
// with (withTrades) a trade sent after each diff on the same connection:
// then the subscriber gets every trade once too, and no marker of any
// kind (session/doc.go: "a rotation whose streams joined loses nothing
// and is not announced").
func s39ctBookRotation(t *testing.T, bv s39ctBookVenue, withTrades bool) {
	{
		{
			// The clock moves only at the test's Advance: the rotation's
			// window (RotationOverlap) is not cut short while the two
			// streams meet.
			clk := newS27ctClock()
			p := newS30ctPeer(t)
			var mu sync.Mutex
			var subs []*s30ctConn
			seq := 1 // the venue's book: the snapshot 1, then one diff a message
			p.handle(bv.path, func(c *s30ctConn, text string) []string {
				if text == "ping" { // OKX's heartbeat ("WebSocket → Connect")
					return []string{"pong"}
				}
				out := bv.ack(s28ctJSON(t, []byte(text)))
				if len(out) == 0 {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				if !slices.Contains(subs, c) {
					subs = append(subs, c)
				}
				if !strings.Contains(text, strings.Split(bv.channel, ".")[0]) {
					return out // the trades' subscription: no book snapshot
				}
				return append(out, bv.book(true, seq, 0))
			})
			publish := func(n int) int {
				mu.Lock()
				defer mu.Unlock()
				for range n {
					seq++
					for _, c := range subs {
						c.send(bv.book(false, seq, 0))
						if withTrades {
							c.send(bv.trade(seq))
						}
					}
				}
				return seq
			}
			opts := s30ctFast()
			opts.Clock, opts.MaxAge = clk, time.Hour
			channels := []string{bv.channel}
			if withTrades {
				channels = append(channels, bv.trades)
			}
			s, err := session.Start(context.Background(), session.Config{Venue: bv.venue, Endpoints: session.Endpoints{Stream: p.ws(bv.path)},
				Symbols: []string{bv.symbol}, Channels: channels, NoClockSync: true, Client: opts})
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
			var tmu sync.Mutex
			var tape []string
			var trades []string
			_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate, schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				tmu.Lock()
				defer tmu.Unlock()
				switch ev.Type {
				case schema.EventTrade:
					trades = append(trades, ev.Trade.ID.String())
				case schema.EventGap:
					tape = append(tape, "GAP")
					t.Logf("marker: %v %q (type %v, source %v)", ev.Symbol, ev.Control.Reason, ev.Control.GapType, ev.Control.GapSource)
				case schema.EventBookSnapshot:
					tape = append(tape, fmt.Sprintf("S%d", ev.Book.LastSeq))
				case schema.EventBookUpdate:
					tape = append(tape, fmt.Sprintf("U%d", ev.Book.LastSeq))
				}
			}})
			require.NoError(t, err)
			b := s.Book(bv.symbol)
			require.NotNil(t, b)
			s31ctConnected(t, s)
			has := func(u int) bool {
				tmu.Lock()
				defer tmu.Unlock()
				return len(tape) > 0 && tape[len(tape)-1] == fmt.Sprintf("U%d", u)
			}
			live := func(what string) {
				t.Helper()
				assert.True(t, b.Live(), "the book live %s", what)
			}
			first := publish(5)
			require.Eventually(t, func() bool { return has(first) }, s27ctWait, time.Millisecond)
			live("before the rotation")

			clk.Advance(time.Hour + time.Minute)
			require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(subs) == 2 }, s27ctWait, time.Millisecond, "the new connection subscribed")
			for range 4 {
				last := publish(5)
				require.Eventually(t, func() bool { return has(last) }, s27ctWait, time.Millisecond, "diff %d delivered", last)
				live("across the rotation")
			}
			require.Eventually(t, func() bool {
				return slices.ContainsFunc(s.Stats().Market, func(c session.ConnStats) bool { return c.Client.Rotations > 0 })
			}, s27ctWait, time.Millisecond, "the connection rotated")
			last := publish(5)
			require.Eventually(t, func() bool { return has(last) }, s27ctWait, time.Millisecond, "diff %d delivered", last)
			if withTrades {
				require.Eventually(t, func() bool {
					tmu.Lock()
					defer tmu.Unlock()
					return len(trades) > 0 && trades[len(trades)-1] == fmt.Sprint(last)
				}, s27ctWait, time.Millisecond, "trade %d delivered", last)
			}
			live("after the rotation")
			bbo, ok := b.BBO()
			require.True(t, ok)
			if bv.venue == schema.VenueOKX {
				assert.Equal(t, fmt.Sprint(last), bbo.BidQty.String(), "the venue's last bid")
			} else {
				assert.Equal(t, fmt.Sprintf("0.%03d", last), bbo.BidQty.String(), "the venue's last bid")
			}
			tmu.Lock()
			defer tmu.Unlock()
			t.Logf("%s: %v", bv.name, tape)
			assert.NotContains(t, tape, "GAP", "an aligned rotation is not announced")
			if withTrades {
				want := make([]string, 0, last-1)
				for id := 2; id <= last; id++ {
					want = append(want, fmt.Sprint(id))
				}
				assert.Equal(t, want, trades, "every trade once, in order")
			}
			next := 2
			for _, e := range tape {
				if e[0] == 'S' {
					continue
				}
				assert.Equal(t, fmt.Sprintf("U%d", next), e, "every diff once, in order: %v", tape)
				if e != fmt.Sprintf("U%d", next) {
					break
				}
				next++
			}
		}
	}
}
