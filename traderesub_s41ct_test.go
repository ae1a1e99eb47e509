package meltica_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s41ctRecent is a market of Kraken v2 or Coinbase Advanced Trade on
// loopback that sends its recent trades on every subscription, as both
// venues document:
//   - Kraken WebSocket v2 "Trade": subscribe's "snapshot" defaults to
//     true, "the most recent trades" follow the ack in one message of
//     "type":"snapshot", oldest first (testdata of kraken-async-rs,
//     /work/shared/venues/kraken_v2_trade_snapshot.json); trade_id a
//     sequential integer per pair.
//   - Coinbase Advanced Trade "Market Trades Channel": the first message
//     after subscribing is an event of "type":"snapshot" holding the
//     recent trades, newest first; each frame has its connection's
//     sequence_num (the subscriptions answer 0).
//
// recent is how many trades a snapshot holds (the venue's window).
type s41ctRecent struct {
	*s30ctPeer
	s36ctFeed
	venue  schema.Venue
	path   string
	recent int
	seq    map[*s30ctConn]int // Coinbase: the last sequence_num sent on each connection
	// gate, until closed, holds the answer to the first subscription
	// (so that a subscriber taken after session.Start sees its snapshot).
	gate chan struct{}
}

func newS41ctRecent(t *testing.T, venue schema.Venue, recent int) *s41ctRecent {
	m := &s41ctRecent{s30ctPeer: newS30ctPeer(t), venue: venue, recent: recent, seq: map[*s30ctConn]int{}, gate: make(chan struct{})}
	switch venue {
	case schema.VenueKraken:
		m.path = "/v2"
	case schema.VenueCoinbase:
		m.path = "/ws"
	}
	m.handle(m.path, func(c *s30ctConn, text string) []string {
		msg := s28ctJSON(t, []byte(text))
		var ack string
		switch {
		case venue == schema.VenueKraken && msg["method"] == "ping":
			return []string{fmt.Sprintf(`{"method":"pong","req_id":%v,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}`, msg["req_id"])}
		case venue == schema.VenueKraken && msg["method"] == "subscribe":
			p, _ := msg["params"].(map[string]any)
			if p["channel"] != "trade" {
				return nil
			}
			ack = fmt.Sprintf(`{"method":"subscribe","result":{"channel":"trade","snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z","req_id":%v}`, msg["req_id"])
		case venue == schema.VenueCoinbase && msg["type"] == "subscribe" && msg["channel"] == "market_trades":
			ack = `{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:29:49.753424311Z","sequence_num":0,"events":[{"subscriptions":{"market_trades":["BTC-USD"]}}]}`
		default:
			return nil
		}
		<-m.gate
		m.fmu.Lock()
		defer m.fmu.Unlock()
		var ids []int
		for id := max(1, m.last-m.recent+1); id <= m.last; id++ {
			ids = append(ids, id)
		}
		// Written here, before c counts as subscribed: no update of
		// publish overtakes the snapshot.
		c.send(ack)
		c.send(m.frame(c, true, ids...))
		m.subs = append(m.subs, c)
		return nil
	})
	return m
}

// s41ctTradeTime is trade id's time: one millisecond apart, so that a
// replayed trade keeps the time it had (a venue that started its ids
// again would show a later one).
func s41ctTradeTime(id int) time.Time {
	return time.Date(2024, 5, 27, 12, 33, 10, 0, time.UTC).Add(time.Duration(id) * time.Millisecond)
}

// frame is the venue's message of the trades ids (a snapshot or an
// update); the caller holds fmu.
func (m *s41ctRecent) frame(c *s30ctConn, snapshot bool, ids ...int) string {
	kind := "update"
	if snapshot {
		kind = "snapshot"
	}
	var items []string
	switch m.venue {
	case schema.VenueKraken:
		for _, id := range ids {
			items = append(items, fmt.Sprintf(`{"symbol":"BTC/USD","side":"sell","price":68466.9,"qty":0.01919415,"ord_type":"market","trade_id":%d,"timestamp":%q}`, id, s41ctTradeTime(id).Format("2006-01-02T15:04:05.000000Z")))
		}
		return fmt.Sprintf(`{"channel":"trade","type":%q,"data":[%s]}`, kind, strings.Join(items, ","))
	default:
		if snapshot {
			ids = slices.Clone(ids)
			slices.Reverse(ids) // newest first
		}
		for _, id := range ids {
			items = append(items, fmt.Sprintf(`{"trade_id":"%d","product_id":"BTC-USD","price":"68900.50","size":"0.0015","side":"BUY","time":%q}`, id, s41ctTradeTime(id).Format(time.RFC3339Nano)))
		}
		m.seq[c]++
		return fmt.Sprintf(`{"channel":"market_trades","client_id":"","timestamp":%q,"sequence_num":%d,"events":[{"type":%q,"trades":[%s]}]}`,
			s41ctTradeTime(m.last).Format(time.RFC3339Nano), m.seq[c], kind, strings.Join(items, ","))
	}
}

// publish sends n new trades, one update each, to the connections
// subscribed; it returns the last id.
func (m *s41ctRecent) publish(n int) int {
	return m.publishEach(n, func(c *s30ctConn, id int) {
		m.fmu.Lock()
		msg := m.frame(c, false, id)
		m.fmu.Unlock()
		c.send(msg)
	})
}

func (m *s41ctRecent) start(t *testing.T) *session.Session {
	t.Helper()
	cfg := session.Config{Venue: m.venue, Endpoints: session.Endpoints{Stream: m.ws(m.path)}, NoClockSync: true, Client: s30ctFast(),
		Symbols: []string{"BTC-USD"}, Channels: []string{"trade"}}
	if m.venue == schema.VenueCoinbase {
		cfg.Channels = []string{"market_trades"}
	}
	s, err := session.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

// startTaped starts a session on m with a trade tape subscribed before
// the venue answers its subscription.
func (m *s41ctRecent) startTaped(t *testing.T) (*session.Session, *s36ctTape) {
	t.Helper()
	s := m.start(t)
	tape := subscribeTape(t, s)
	close(m.gate)
	s31ctConnected(t, s)
	require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond)
	return s, tape
}

// s41ctOnce checks a tape against the trades the venue made (1..last,
// lost excepted): each delivered exactly once, in any order within a
// snapshot; it returns the tape's position of each id.
func s41ctOnce(t *testing.T, tape *s36ctTape, last int, lost ...int) map[int]int {
	t.Helper()
	at := map[int]int{}
	for i, id := range tape.all() {
		if id == 0 {
			continue
		}
		if _, dup := at[id]; dup {
			t.Errorf("trade %d delivered twice: %v", id, tape)
		}
		at[id] = i
	}
	for id := 1; id <= last; id++ {
		_, got := at[id]
		if slices.Contains(lost, id) {
			assert.False(t, got, "trade %d was never sent, yet delivered: %v", id, tape)
		} else {
			assert.True(t, got, "trade %d sent (update or snapshot) but never delivered: %v", id, tape)
		}
	}
	return at
}

// s41ctGapBetween reports whether the tape has a gap marker after
// position from and before position to.
func s41ctGapBetween(tape *s36ctTape, from, to int) bool {
	all := tape.all()
	return from < to && slices.Contains(all[from+1:to], 0)
}

// The recent trades Kraken v2 and Coinbase Advanced Trade send on every
// subscription, replayed on the new connection after a loss: the
// trades the subscriber had are not delivered again, those made while the
// connection was down are, once each (normalize doc "Trade repeats":
// "The state is kept across reconnections and resubscriptions … so that
// a new connection's repeats are dropped and nothing new is"; DESIGN.md
// contract 4). The first connection's snapshot is delivered whole.
func TestS41ctRecentTradesReplayedAfterALossOnceEach(t *testing.T) {
	for _, venue := range []schema.Venue{schema.VenueKraken, schema.VenueCoinbase} {
		t.Run(string(venue), func(t *testing.T) {
			m := newS41ctRecent(t, venue, 20)
			m.lose(5) // trades 1..5 made before the session: the first snapshot
			_, tape := m.startTaped(t)
			tape.waitTrade(t, m.publish(3)) // 6..8

			old := m.subscribed()[0]
			m.drop(old)
			m.lose(2) // 9, 10: only in the next snapshot (1..10)
			old.cut()
			require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
			last := m.publish(2) // 11, 12
			tape.waitTrade(t, last)

			at := s41ctOnce(t, tape, last)
			assert.Less(t, at[8], min(at[9], at[10]), "the trades made during the loss after the ones before it: %v", tape)
			assert.Less(t, max(at[9], at[10]), at[11], "the snapshot's new trades before the next update: %v", tape)
		})
	}
}

// A snapshot that does not reach back to the last trade delivered (the
// venue's window is shorter than the loss): the trades between are lost
// for good, and a gap marker comes before the first trade after them
// (normalize doc "Trade repeats": "A subscription's recent trades that do
// not reach back to the last trade delivered … may follow lost trades: a
// schema.EventGap … after them"; session doc "Lost market connections").
// Nothing before the loss is delivered twice, nothing of the snapshot is
// dropped.
func TestS41ctRecentTradesShortOfTheLossAnnounced(t *testing.T) {
	for _, venue := range []schema.Venue{schema.VenueKraken, schema.VenueCoinbase} {
		t.Run(string(venue), func(t *testing.T) {
			m := newS41ctRecent(t, venue, 3)
			_, tape := m.startTaped(t)
			tape.waitTrade(t, m.publish(4)) // 1..4

			old := m.subscribed()[0]
			m.drop(old)
			m.lose(6) // 5..10; the snapshot holds 8..10
			old.cut()
			require.Eventually(t, func() bool { return len(m.subscribed()) == 1 }, s27ctWait, time.Millisecond, "resubscribed after the loss")
			last := m.publish(1) // 11
			tape.waitTrade(t, last)

			at := s41ctOnce(t, tape, last, 5, 6, 7)
			first := min(at[8], at[9], at[10])
			assert.True(t, s41ctGapBetween(tape, at[4], first), "trades 5..7 lost with no gap marker before the snapshot's: %v", tape)
		})
	}
}
