package meltica_test

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
	"github.com/meltica/meltica/wsclient"
)

// s41ctCoinbaseBooks is a Coinbase Advanced Trade market stream on
// loopback with the level2 books of BTC-USD and ETH-USD, written from the
// docs ("WebSocket Overview": one channel per subscribe message, answered
// by a "subscriptions" message listing what the connection has, an
// unsubscribe answered the same way; "Sequence Numbers": sequence_num
// counts every message of the connection, whatever its channel or
// product; "Level2 Channel": channel "l2_data", a "snapshot" event on
// subscribe then "update" events). A product's first snapshot has bid
// base / offer base+10 (BTC 100, ETH 10); every later one (a
// resubscription's) bid 2·base / offer 2·base+10.
type s41ctCoinbaseBooks struct {
	*s30ctPeer
	mu    sync.Mutex
	seq   map[*s30ctConn]int // the next sequence_num of each connection
	snaps map[string]int     // snapshots sent per product
	conn  *s30ctConn         // the connection with level2
}

var s41ctCoinbaseBase = map[string]int{"BTC-USD": 100, "ETH-USD": 10}

func newS41ctCoinbaseBooks(t *testing.T) *s41ctCoinbaseBooks {
	m := &s41ctCoinbaseBooks{s30ctPeer: newS30ctPeer(t), seq: map[*s30ctConn]int{}, snaps: map[string]int{}}
	m.handle("/ws", func(c *s30ctConn, text string) []string {
		msg := s28ctJSON(t, []byte(text))
		typ, _ := msg["type"].(string)
		if typ != "subscribe" && typ != "unsubscribe" {
			return nil
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.sendLocked(c, func(seq int) string {
			return fmt.Sprintf(`{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z","sequence_num":%d,"events":[{"subscriptions":{"level2":["BTC-USD","ETH-USD"],"heartbeats":["heartbeats"]}}]}`, seq)
		})
		if typ != "subscribe" || msg["channel"] != "level2" {
			return nil
		}
		m.conn = c
		ids, _ := msg["product_ids"].([]any)
		for _, id := range ids {
			product := fmt.Sprint(id)
			base := s41ctCoinbaseBase[product]
			if m.snaps[product] > 0 {
				base *= 2
			}
			m.snaps[product]++
			m.l2Locked(c, "snapshot", product, s41ctL2("bid", base, "1")+","+s41ctL2("offer", base+10, "3"))
		}
		return nil
	})
	return m
}

// s41ctL2 is one level of an l2_data event.
func s41ctL2(side string, px int, qty string) string {
	return fmt.Sprintf(`{"side":%q,"event_time":"2023-02-09T20:32:50.714964855Z","price_level":"%d","new_quantity":%q}`, side, px, qty)
}

// sendLocked writes the message of the connection's next sequence_num.
func (m *s41ctCoinbaseBooks) sendLocked(c *s30ctConn, msg func(seq int) string) {
	seq := m.seq[c]
	m.seq[c]++
	c.send(msg(seq))
}

func (m *s41ctCoinbaseBooks) l2Locked(c *s30ctConn, typ, product, updates string) {
	m.sendLocked(c, func(seq int) string {
		return fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":%q,"product_id":%q,"updates":[%s]}]}`, seq, typ, product, updates)
	})
}

// s41ctTops records "symbol:bid" for each best bid/offer and "symbol:G"
// for each gap marker (or best bid/offer with no side: a book that broke)
// of a symbol, "*:G" for a marker of no symbol.
type s41ctTops struct {
	mu  sync.Mutex
	all []string
}

func (p *s41ctTops) handle(ev *schema.CanonicalEvent) {
	sym := ev.Symbol
	if sym == "" {
		sym = "*"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case ev.Type == schema.EventGap, ev.Type == schema.EventBBO && ev.BBO.BidPrice.IsZero() && ev.BBO.AskPrice.IsZero():
		p.all = append(p.all, sym+":G")
	case ev.Type == schema.EventBBO:
		p.all = append(p.all, sym+":"+ev.BBO.BidPrice.String())
	}
}

// of is what the tape holds of symbol (markers of no symbol included).
func (p *s41ctTops) of(symbol string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, x := range p.all {
		sym, v, _ := strings.Cut(x, ":")
		if sym == symbol || sym == "*" {
			out = append(out, v)
		}
	}
	return strings.Join(out, " ")
}

// s41ctBid is the book's best bid, "" when it is not live.
func s41ctBid(s *session.Session, symbol string) string {
	bbo, ok := s.Book(symbol).BBO()
	if !ok || !s.Book(symbol).Live() {
		return ""
	}
	return bbo.BidPrice.String()
}

// A Coinbase sequence_num jump on a live connection (a message lost, of
// any product) breaks every book of the connection (normalize doc: "one
// marker with no symbol … stands for the whole connection"), and each
// recovers by itself on that connection: the session unsubscribes and
// subscribes level2 again for its product (session doc "Venues": "A book
// that breaks on a live connection (a sequence gap, …) recovers by
// itself … (the venue answers with a snapshot …)"; ConnStats.Resubscribes
// counts the books). Both books are live again on their new snapshot
// alone: an update of the old subscription read after the jump and
// before the snapshot is never applied, and the subscriber of the tops
// sees a marker between the old top and the new one.
func TestS41ctCoinbaseSequenceJumpResubscribesEveryBook(t *testing.T) {
	m := newS41ctCoinbaseBooks(t)
	opts := s30ctFast()
	opts.MessageLimit = wsclient.NewMessageLimit(0, nil) // the test's requests are not the IP's budget
	s, err := session.Start(context.Background(), session.Config{
		Venue:       schema.VenueCoinbase,
		Endpoints:   session.Endpoints{Stream: m.ws("/ws")},
		Symbols:     []string{"BTC-USD", "ETH-USD"},
		Channels:    []string{"level2"},
		NoClockSync: true,
		Client:      opts,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	tops := &s41ctTops{}
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO, schema.EventGap}}, &dispatch.SubscribeOptions{Handler: tops.handle})
	require.NoError(t, err)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return s41ctBid(s, "BTC-USD") == "100" && s41ctBid(s, "ETH-USD") == "10" }, s27ctWait, time.Millisecond, "both books live on their first snapshot")

	m.mu.Lock()
	c := m.conn
	m.l2Locked(c, "update", "ETH-USD", s41ctL2("bid", 11, "2"))
	m.mu.Unlock()
	require.Eventually(t, func() bool { return s41ctBid(s, "ETH-USD") == "11" }, s27ctWait, time.Millisecond)

	m.mu.Lock()
	m.seq[c]++ // a message lost
	m.l2Locked(c, "update", "BTC-USD", s41ctL2("bid", 102, "1"))
	m.l2Locked(c, "update", "ETH-USD", s41ctL2("bid", 12, "1")) // before any answer to the resubscriptions
	m.mu.Unlock()

	if !assert.Eventually(t, func() bool { return s41ctBid(s, "BTC-USD") == "200" && s41ctBid(s, "ETH-USD") == "20" }, s27ctWait, time.Millisecond, "both books live again on their new snapshots") {
		t.Fatalf("BTC %q ETH %q; BTC saw %s; ETH saw %s", s41ctBid(s, "BTC-USD"), s41ctBid(s, "ETH-USD"), tops.of("BTC-USD"), tops.of("ETH-USD"))
	}
	for _, product := range []string{"BTC-USD", "ETH-USD"} {
		unsub := m.find("/ws", func(text string) bool {
			return strings.Contains(text, `"unsubscribe"`) && strings.Contains(text, product) && strings.Contains(text, `"level2"`)
		})
		assert.Len(t, unsub, 1, "%s's level2 unsubscribed once", product)
	}
	resubs := func() (n uint64) {
		for _, cs := range s.Stats().Market {
			n += cs.Resubscribes
		}
		return n
	}
	// Counted once written: the venue's answer may come first.
	assert.Eventually(t, func() bool { return resubs() == 2 }, s27ctWait, time.Millisecond, "ConnStats.Resubscribes counts the two books")
	assert.Equal(t, uint64(2), resubs(), "ConnStats.Resubscribes counts the two books, no more")

	// Tops are latest-wins (DESIGN.md contract 4): the subscriber may miss
	// one that a later one or a marker replaced, never see one out of its
	// order.
	for product, old := range map[string][]string{"BTC-USD": {"100"}, "ETH-USD": {"10", "11"}} {
		got := strings.Fields(tops.of(product))
		first := slices.Index(got, "G")
		require.NotEqual(t, -1, first, "%s: a marker between the old tops and the new: %v", product, got)
		for _, x := range got[:first] {
			assert.Contains(t, old, x, "%s: before the marker, the old tops only: %v", product, got)
		}
		for _, x := range got[first:] {
			assert.Contains(t, []string{"G", got[len(got)-1]}, x, "%s: after the marker, the new snapshot's top only: %v", product, got)
		}
	}
}
