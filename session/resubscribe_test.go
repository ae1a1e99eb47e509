package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// bookScript is how a venue frames one book: its snapshot (the n-th
// subscription, bid at 90+n), a diff that continues it, and one that
// follows lost messages. seq is the connection's counter where the venue
// has one (Coinbase's sequence_num).
type bookScript struct {
	channel   string // the book channel, as Config.Channels names it
	isBook    func(msg string) bool
	snapshot  func(n int, seq *int) string
	continues func(n int, seq *int) string
	breaks    func(n int, seq *int) string
}

// bookVenue is a venue on loopback with one book: it answers a
// subscription of the book channel with a snapshot — and, as Bybit does,
// refuses one while the connection already has it (only an unsubscribe
// first gets a new snapshot) — sends diffs when told, and records what
// the connection asked.
type bookVenue struct {
	t      *testing.T
	srv    *httptest.Server
	script bookScript
	conns  atomic.Int64
	push   chan func(n int, seq *int) string // a frame to send on the live connection
	ready  chan int                          // book subscription n was answered

	mu      sync.Mutex
	asked   []string
	refused int
}

func newBookVenue(t *testing.T, script bookScript) *bookVenue {
	v := &bookVenue{t: t, script: script, push: make(chan func(int, *int) string, 16), ready: make(chan int, 16)}
	v.srv = httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *bookVenue) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	v.conns.Add(1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	in := make(chan string, 16)
	go func() {
		defer close(in)
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			in <- string(msg)
		}
	}()
	subscribed, n, seq := false, 0, 0
	for {
		var frame string
		select {
		case msg, ok := <-in:
			if !ok {
				return
			}
			v.mu.Lock()
			v.asked = append(v.asked, msg)
			switch {
			case !v.script.isBook(msg):
			case strings.Contains(msg, `"unsubscribe"`):
				subscribed = false
			case subscribed:
				v.refused++ // "already subscribed"
			default:
				subscribed = true
				n++
				frame = v.script.snapshot(n, &seq)
			}
			v.mu.Unlock()
			if frame == "" {
				continue
			}
			if c.Write(ctx, websocket.MessageText, []byte(frame)) != nil {
				return
			}
			v.ready <- n
			continue
		case f := <-v.push:
			frame = f(n, &seq)
		case <-ctx.Done():
			return
		}
		if c.Write(ctx, websocket.MessageText, []byte(frame)) != nil {
			return
		}
	}
}

// waitSub waits for the venue to answer book subscription n.
func (v *bookVenue) waitSub(n int, what string) {
	v.t.Helper()
	select {
	case got := <-v.ready:
		require.Equal(v.t, n, got, what)
	case <-time.After(generous):
		v.t.Fatalf("%s: no book subscription %d; requests %q", what, n, v.requests())
	}
}

func (v *bookVenue) url() string { return "ws" + strings.TrimPrefix(v.srv.URL, "http") }

func (v *bookVenue) requests() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.asked...)
}

// cbFrame is a Coinbase Advanced Trade l2_data frame, the connection's
// next sequence_num.
func cbFrame(seq *int, event string) string {
	s := fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2026-04-07T14:30:00Z","sequence_num":%d,"events":[%s]}`, *seq, event)
	*seq++
	return s
}

var bookScripts = map[schema.Venue]bookScript{
	schema.VenueOKX: {
		channel: "books",
		isBook:  func(msg string) bool { return strings.Contains(msg, `"books"`) },
		snapshot: func(n int, _ *int) string {
			return fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["101","1","0","1"]],"bids":[["%d","1","0","1"]],"ts":"1","checksum":0,"prevSeqId":-1,"seqId":%d}]}`, 90+n, 100*n)
		},
		continues: func(n int, _ *int) string {
			return fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["80","2","0","1"]],"ts":"2","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, 100*n, 100*n+1)
		},
		breaks: func(n int, _ *int) string { // prevSeqId skips 100n+2..100n+4
			return fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["80","3","0","1"]],"ts":"3","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, 100*n+5, 100*n+6)
		},
	},
	schema.VenueBybit: {
		channel: "orderbook.50",
		isBook:  func(msg string) bool { return strings.Contains(msg, `orderbook.50.BTCUSDT`) },
		snapshot: func(n int, _ *int) string {
			return fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[["%d","1"]],"a":[["101","1"]],"u":%d,"seq":1},"cts":1}`, 90+n, 100*n)
		},
		continues: func(n int, _ *int) string {
			return fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":2,"data":{"s":"BTCUSDT","b":[["80","2"]],"a":[],"u":%d,"seq":2},"cts":2}`, 100*n+1)
		},
		breaks: func(n int, _ *int) string { // u skips 100n+2..100n+4
			return fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":3,"data":{"s":"BTCUSDT","b":[["80","3"]],"a":[],"u":%d,"seq":3},"cts":3}`, 100*n+5)
		},
	},
	schema.VenueCoinbase: {
		channel: "level2",
		isBook:  func(msg string) bool { return strings.Contains(msg, `"level2"`) },
		snapshot: func(n int, seq *int) string {
			return cbFrame(seq, fmt.Sprintf(`{"type":"snapshot","product_id":"BTC-USDT","updates":[{"side":"bid","event_time":"2026-04-07T14:30:00Z","price_level":"%d","new_quantity":"1"},{"side":"offer","event_time":"2026-04-07T14:30:00Z","price_level":"101","new_quantity":"1"}]}`, 90+n))
		},
		continues: func(_ int, seq *int) string {
			return cbFrame(seq, `{"type":"update","product_id":"BTC-USDT","updates":[{"side":"bid","event_time":"2026-04-07T14:30:01Z","price_level":"80","new_quantity":"2"}]}`)
		},
		breaks: func(_ int, seq *int) string { // the connection loses sequence_nums
			*seq += 3
			return cbFrame(seq, `{"type":"update","product_id":"BTC-USDT","updates":[{"side":"bid","event_time":"2026-04-07T14:30:02Z","price_level":"80","new_quantity":"3"}]}`)
		},
	},
}

// A book that breaks on a live connection — a diff that follows lost
// messages (OKX prevSeqId, Bybit u), a connection that lost a message
// (Coinbase sequence_num) — recovers by itself: the session unsubscribes
// and subscribes the book's channel again on the same connection (a venue
// that refuses a topic the connection has, as Bybit does, is satisfied),
// paced, the venue answers with a snapshot, and the book is live again,
// with no reconnect, counted in the session's stats.
func TestBrokenBookResubscribes(t *testing.T) {
	for venue, script := range bookScripts {
		t.Run(string(venue), func(t *testing.T) {
			v := newBookVenue(t, script)
			client := fastRedial
			client.ControlRate = 1000 // the pacing runs on the client's clock: fast here
			s := start(t, session.Config{Venue: venue, Endpoints: session.Endpoints{Stream: v.url()},
				Symbols: []string{"BTC-USDT"}, Channels: []string{script.channel}, Client: client})
			v.waitSub(1, "the first subscription")
			waitConnected(t, s)
			b := s.Book("BTC-USDT")
			require.NotNil(t, b)
			top, live := b.BBO()
			require.True(t, live)
			require.Equal(t, "91", top.BidPrice.String())

			v.push <- script.continues
			v.push <- script.breaks
			v.waitSub(2, "the book's channel subscribed again")
			require.Eventually(t, func() bool {
				top, live := b.BBO()
				return live && top.BidPrice.String() == "92"
			}, generous, pollEvery, "live again from the new snapshot")

			reqs := slices.DeleteFunc(v.requests(), func(r string) bool { // Coinbase's keepalive subscription
				return strings.Contains(r, `"heartbeats"`)
			})
			require.Len(t, reqs, 3, "%q", reqs)
			require.Contains(t, reqs[1], `unsubscribe"`)
			require.NotContains(t, reqs[2], `unsubscribe"`)
			v.mu.Lock()
			require.Zero(t, v.refused, "never a subscription the venue refuses")
			v.mu.Unlock()
			require.EqualValues(t, 1, v.conns.Load(), "on the live connection, no reconnect")
			require.Eventually(t, func() bool { return s.Stats().Market[0].Resubscribes == 1 }, generous, pollEvery) // counted once written
			st := s.Stats()
			require.Zero(t, st.Market[0].ResubscribeErrors)
			require.Zero(t, st.Market[0].Client.TotalReconnects())
			bs := st.Books[0].Book
			require.EqualValues(t, 1, bs.Resubscribes)
			require.EqualValues(t, 1, bs.Invalidations)
			require.EqualValues(t, 2, bs.Snapshots)
			require.EqualValues(t, 1, st.Market[0].Parser.Gaps, "the parser saw the break")
		})
	}
}

// TestVenueCloseNoticeRotates: OKX announces a close for a service upgrade
// (notice 64008, 60 s ahead); the session replaces the connection
// make-before-break instead of waiting to be cut, and the book stays live.
func TestVenueCloseNoticeRotates(t *testing.T) {
	script := bookScripts[schema.VenueOKX]
	v := newBookVenue(t, script)
	client := fastRedial
	client.ControlRate = 1000
	client.RotationOverlap = 50 * time.Millisecond
	s := start(t, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: v.url()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{script.channel}, Client: client})
	v.waitSub(1, "the first subscription")
	waitConnected(t, s)
	v.push <- func(int, *int) string {
		return `{"event":"notice","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","code":"64008","connId":"a4d3ae55"}`
	}
	v.waitSub(1, "the new connection's subscription (its first)")
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.Rotations == 1 }, generous, pollEvery)
	require.EqualValues(t, 2, v.conns.Load())
	require.Zero(t, s.Stats().Market[0].Client.TotalReconnects(), "a rotation, not a reconnect")
}
