package meltica_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s37ctBybitBook is a Bybit v5 public spot stream on loopback for one
// book, orderbook.50.BTCUSDT, written from Bybit's docs ("WebSocket
// Stream → Connect": subscribe and unsubscribe with op and args, answered
// {"success":…,"ret_msg":…,"conn_id":…,"req_id":…,"op":…}; a topic the
// connection already has is refused, "error:already subscribed,topic:…";
// "Orderbook": a snapshot on subscribe, then deltas). The first
// subscription of the peer's life gets snapshot bid 100 / ask 101; every
// later one (a new connection's, a resubscription's) snapshot bid 200 /
// ask 201 — sent only once release is closed.
type s37ctBybitBook struct {
	*s30ctPeer
	release  chan struct{}
	mu       sync.Mutex
	cutOn    string // an op whose message of the book's topic cuts the connection instead of an answer (once)
	snaps    int
	refusals int
	subs     map[*s30ctConn]bool
}

const s37ctBybitTopic = "orderbook.50.BTCUSDT"

func s37ctBybitSnap(bid, ask string, u int) string {
	return fmt.Sprintf(`{"topic":%q,"type":"snapshot","ts":%d,"data":{"s":"BTCUSDT","b":[[%q,"1"]],"a":[[%q,"1"]],"u":%d,"seq":%d},"cts":%d}`,
		s37ctBybitTopic, 1672304484978+u, bid, ask, u, 7961638724+u, 1672304484976+u)
}

func s37ctBybitDelta(bid string, u int) string {
	return fmt.Sprintf(`{"topic":%q,"type":"delta","ts":%d,"data":{"s":"BTCUSDT","b":[[%q,"1"]],"a":[],"u":%d,"seq":%d},"cts":%d}`,
		s37ctBybitTopic, 1672304484978+u, bid, u, 7961638724+u, 1672304484976+u)
}

func newS37ctBybitBook(t *testing.T) *s37ctBybitBook {
	m := &s37ctBybitBook{s30ctPeer: newS30ctPeer(t), release: make(chan struct{}), subs: map[*s30ctConn]bool{}}
	m.handle("/v5/public/spot", func(c *s30ctConn, text string) []string {
		msg := s28ctJSON(t, []byte(text))
		op, _ := msg["op"].(string)
		reqID, _ := msg["req_id"].(string)
		args, _ := msg["args"].([]any)
		if op != "subscribe" && op != "unsubscribe" {
			return nil
		}
		answer := func(ok bool, ret string) string {
			return fmt.Sprintf(`{"success":%t,"ret_msg":%q,"conn_id":"s37ct-%d","req_id":%q,"op":%q}`, ok, ret, c.n, reqID, op)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		book := false
		for _, a := range args {
			if a == s37ctBybitTopic {
				book = true
			}
		}
		if !book {
			return []string{answer(true, "")}
		}
		if op == m.cutOn {
			m.cutOn = ""
			delete(m.subs, c)
			c.cut()
			return nil
		}
		if op == "unsubscribe" {
			delete(m.subs, c)
			return []string{answer(true, "")}
		}
		if m.subs[c] {
			m.refusals++
			return []string{answer(false, "error:already subscribed,topic:"+s37ctBybitTopic)}
		}
		m.subs[c] = true
		m.snaps++
		if m.snaps == 1 {
			return []string{answer(true, ""), s37ctBybitSnap("100", "101", 1)}
		}
		go func() {
			select {
			case <-m.release:
				c.send(s37ctBybitSnap("200", "201", 10)) // the book moved on meanwhile: u and seq beyond the last delta's
			case <-c.ctx.Done():
			}
		}()
		return []string{answer(true, "")}
	})
	return m
}

// s37ctBookTape is what a subscriber of a book's best bid/offer saw: its
// bids, and "G" for each gap marker and each best bid/offer with no bid
// and no ask (what a book that broke publishes to such a subscriber).
type s37ctBookTape struct {
	mu  sync.Mutex
	all []string
}

func (p *s37ctBookTape) handle(ev *schema.CanonicalEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Type {
	case schema.EventGap:
		p.all = append(p.all, "G")
	case schema.EventBBO:
		if ev.BBO.BidPrice.IsZero() && ev.BBO.AskPrice.IsZero() {
			p.all = append(p.all, "G") // the book broke (normalize/book "What it publishes": no bid and no ask)
			return
		}
		p.all = append(p.all, ev.BBO.BidPrice.String())
	}
}

func (p *s37ctBookTape) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.all, " ")
}

// A Bybit book that breaks on a live connection (sides that cross:
// normalize/book "When the book is wrong") is unsubscribed and
// subscribed again on that connection (session doc "Venues": "the
// session unsubscribes and subscribes its channel for its symbol again
// on that connection (the venue answers with a snapshot; Bybit refuses a
// topic a connection already has, hence the unsubscribe)"). The
// unsubscribe goes first, so Bybit refuses nothing; until the new
// snapshot comes the book is not live and serves nothing — never the old
// book as live, never the crossed one —; its subscriber sees the gap
// marker and then only the fresh snapshot's top.
func TestS37ctBybitBookResubscribedFresh(t *testing.T) {
	m := newS37ctBybitBook(t)
	s, err := session.Start(context.Background(), session.Config{Venue: schema.VenueBybit, Endpoints: session.Endpoints{Stream: m.ws("/v5/public/spot")},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"orderbook.50"}, NoClockSync: true, Client: s30ctFast()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	tape := &s37ctBookTape{}
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, &dispatch.SubscribeOptions{Handler: tape.handle})
	require.NoError(t, err)
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	top := func() string {
		bbo, ok := b.BBO()
		if !ok {
			return "not live"
		}
		return bbo.BidPrice.String() + "/" + bbo.AskPrice.String()
	}
	require.Eventually(t, func() bool { return top() == "100/101" }, s27ctWait, s37ctTick, "the first snapshot live")

	c := m.conn("/v5/public/spot", 1)
	c.send(s37ctBybitDelta("102", 2)) // bid 102 ≥ ask 101: crossed
	unsub := m.await("/v5/public/spot", func(s string) bool {
		return strings.Contains(s, `"unsubscribe"`) && strings.Contains(s, s37ctBybitTopic)
	})
	sub := m.await("/v5/public/spot", func(s string) bool {
		return strings.Contains(s, `"subscribe"`) && strings.Contains(s, s37ctBybitTopic)
	})
	assert.Same(t, c, unsub.conn, "the unsubscribe on the connection of the book")
	assert.Same(t, c, sub.conn, "the subscribe on the connection of the book")
	assert.Equal(t, 1, m.opened("/v5/public/spot"), "no new connection")
	assert.False(t, b.Live(), "the broken book is not live while its new snapshot is awaited")
	assert.Equal(t, "not live", top(), "nothing served meanwhile")

	close(m.release)
	require.Eventually(t, func() bool { return top() == "200/201" }, s27ctWait, s37ctTick, "the fresh snapshot live")
	require.Eventually(t, func() bool { return strings.Contains(tape.String(), "200") }, s27ctWait, s37ctTick, "its top published: %s", tape)
	c.send(s37ctBybitDelta("200.5", 11))
	require.Eventually(t, func() bool { return top() == "200.5/201" }, s27ctWait, s37ctTick, "its deltas follow: %s", top())
	require.Eventually(t, func() bool { return strings.HasSuffix(tape.String(), "200.5") }, s27ctWait, s37ctTick, "its top published: %s", tape)
	got := tape.String()
	assert.NotContains(t, got, "102", "the crossed book's top never published")
	_, after, ok := strings.Cut(got, "G")
	require.True(t, ok, "a gap marker when the book broke: %s", got)
	assert.NotContains(t, after, "100", "the old book's top after the gap marker: %s", got)
	m.mu.Lock()
	assert.Zero(t, m.refusals, "a subscription Bybit refused (a topic the connection already has)")
	m.mu.Unlock()
	st := s.Stats().Market[0]
	assert.EqualValues(t, 1, st.Resubscribes)
	assert.Zero(t, st.ResubscribeErrors)
}

// The same resubscription cut short by a reconnection: the connection is
// lost as the venue receives the book's unsubscribe (before its answer,
// before the subscribe). The new connection subscribes the book once
// (Bybit would refuse a second), no unsubscribe of the book reaches it
// (the break's unsubscribe is not replayed there to undo its
// subscription), and the book goes live on its fresh snapshot and
// follows its deltas.
func TestS37ctBybitResubscriptionCutByAReconnection(t *testing.T) {
	m := newS37ctBybitBook(t)
	m.cutOn = "unsubscribe"
	s, err := session.Start(context.Background(), session.Config{Venue: schema.VenueBybit, Endpoints: session.Endpoints{Stream: m.ws("/v5/public/spot")},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"orderbook.50"}, NoClockSync: true, Client: s30ctFast()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	top := func() string {
		bbo, ok := b.BBO()
		if !ok {
			return "not live"
		}
		return bbo.BidPrice.String() + "/" + bbo.AskPrice.String()
	}
	require.Eventually(t, func() bool { return top() == "100/101" }, s27ctWait, s37ctTick, "the first snapshot live")
	m.conn("/v5/public/spot", 1).send(s37ctBybitDelta("102", 2)) // crossed
	require.Eventually(t, func() bool { return m.opened("/v5/public/spot") == 2 }, s27ctWait, s37ctTick, "a new connection after the cut")
	for { // the new connection's subscription of the book (the first one's is in the log too)
		msg := m.await("/v5/public/spot", func(s string) bool { return strings.Contains(s, `"subscribe"`) && strings.Contains(s, s37ctBybitTopic) })
		if msg.conn.n == 2 {
			break
		}
	}
	assert.Equal(t, "not live", top(), "nothing served before the new snapshot")
	close(m.release)
	require.Eventually(t, func() bool { return top() == "200/201" }, s27ctWait, s37ctTick, "the fresh snapshot live: %s", top())
	c2 := m.conn("/v5/public/spot", 2)
	c2.send(s37ctBybitDelta("200.5", 11))
	require.Eventually(t, func() bool { return top() == "200.5/201" }, s27ctWait, s37ctTick, "its deltas follow: %s", top())

	on2 := m.find("/v5/public/spot", func(string) bool { return true })
	var seen []string
	for _, msg := range on2 {
		if msg.conn == c2 && strings.Contains(msg.text, s37ctBybitTopic) {
			seen = append(seen, msg.text)
		}
	}
	require.NotEmpty(t, seen)
	for _, text := range seen {
		assert.NotContains(t, text, `"unsubscribe"`, "an unsubscribe of the book on the new connection: %v", seen)
	}
	m.mu.Lock()
	assert.Zero(t, m.refusals, "a subscription Bybit refused (a topic the connection already has): %v", seen)
	assert.True(t, m.subs[c2], "the book subscribed on the new connection")
	m.mu.Unlock()
	assert.True(t, b.Live())
}
