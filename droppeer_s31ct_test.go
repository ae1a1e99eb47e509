package meltica_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s31ctQuotes keeps what a best bid/offer subscriber gets, in order;
// withdrawn is closed at the first withdrawal (an empty quote) it gets.
type s31ctQuotes struct {
	mu        sync.Mutex
	got       []string
	withdrawn chan struct{}
	once      sync.Once
}

func newS31ctQuotes() *s31ctQuotes { return &s31ctQuotes{withdrawn: make(chan struct{})} }

func (q *s31ctQuotes) handle(ev *schema.CanonicalEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch ev.Type {
	case schema.EventBBO:
		q.got = append(q.got, "bbo "+ev.BBO.BidPrice.String()+"/"+ev.BBO.AskPrice.String())
		if ev.BBO.BidPrice.IsZero() && ev.BBO.AskPrice.IsZero() {
			q.once.Do(func() { close(q.withdrawn) })
		}
	case schema.EventConnState:
		q.got = append(q.got, "state "+ev.Control.Reason)
	case schema.EventGap:
		q.got = append(q.got, "gap")
	}
}

func (q *s31ctQuotes) all() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.got...)
}

func (q *s31ctQuotes) has(s string) bool {
	for _, g := range q.all() {
		if strings.HasPrefix(g, s) {
			return true
		}
	}
	return false
}

// A Bybit orderbook.50 stream, wired as normalize/book's package doc
// wires a book (parser → book.Books → dispatcher, Books.OnEvent as the
// client's OnEvent), behind a venue whose connection ends badly: its TCP
// dropped without a close frame, or a close frame with 1001 (going
// away), 1011 (internal error), 1012 (service restart) or 1013 (try again
// later) and a reason (RFC 6455 §7.4.1; IANA "WebSocket Close Code
// Number Registry"). Each time the host must see it — the book not live
// at once and its best bid/offer withdrawn (an empty quote for a
// subscriber of best bid/offers alone), the connection's state — and
// the book must come back live on the next connection's snapshot,
// holding only its levels, nothing of the old book served meanwhile.
//
// The venue answers the next connection's subscription once the host has
// had the withdrawal (or after half s27ctWait, to fail on its absence): a
// snapshot sooner may reach the book before the loss does (wsclient
// reports it on a goroutine of its own), and the book, live on the newer
// connection, rightly leaves it alone (Book.Apply); or its quote may
// replace the withdrawal still queued to the subscriber (dispatch's
// coalescing lane, latest wins). Neither serves a stale quote, but
// neither shows the withdrawal this test is about.
func TestS31ctBookSurvivesAVenueThatEndsBadly(t *testing.T) {
	for name, end := range map[string]struct {
		code   websocket.StatusCode // -1: no close frame
		reason string
	}{
		"tcp dropped": {-1, ""},
		"1001":        {websocket.StatusGoingAway, "server restarting"},
		"1011":        {websocket.StatusInternalError, "internal error"},
		"1012":        {websocket.StatusServiceRestart, "service restart"},
		"1013":        {websocket.StatusTryAgainLater, "try again later"},
	} {
		t.Run(name, func(t *testing.T) {
			peer := newS30ctPeer(t)
			quotes := newS31ctQuotes()
			var mu sync.Mutex
			n := 0
			peer.handle("/v5/public/spot", func(c *s30ctConn, text string) []string {
				if !strings.Contains(text, `"subscribe"`) {
					return nil
				}
				mu.Lock()
				n++
				k := n
				mu.Unlock()
				if k > 1 {
					wait := time.NewTimer(s27ctWait / 2)
					defer wait.Stop()
					select {
					case <-quotes.withdrawn:
					case <-wait.C:
					case <-c.ctx.Done():
						return nil
					}
				}
				// Connection k's snapshot: bid 100+k, ask 200+k.
				return []string{`{"success":true,"ret_msg":"","conn_id":"c1","req_id":"","op":"subscribe"}`,
					fmt.Sprintf(`{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,"data":{"s":"BTCUSDT","b":[["%d.0","1"]],"a":[["%d.0","1"]],"u":%d,"seq":%d},"cts":1672304484976}`,
						100+k, 200+k, 1000*k, 1000*k)}
			})
			pools := schema.NewPools(nil)
			d := dispatch.New(pools.Events, nil)
			defer func() { require.NoError(t, d.Close(context.Background())) }()
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}}, &dispatch.SubscribeOptions{Handler: quotes.handle})
			require.NoError(t, err)
			books := book.NewBooks(d, pools.Events, nil)
			defer books.Close()
			b, err := book.NewBook(book.Bybit, "BTC-USDT", &book.Options{Sink: d, Events: pools.Events})
			require.NoError(t, err)
			books.Add(b)
			parser := normalize.NewBybit(pools.Events, books, nil)
			evs := newS27ctEvents()
			client, err := wsclient.New(peer.ws("/v5/public/spot"), parser.HandleFrame, &wsclient.Options{
				Venue: schema.VenueBybit, Frames: pools.Frames,
				OnEvent:       books.OnEvent(schema.VenueBybit, evs.on),
				Subscriptions: [][]byte{[]byte(`{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}`)},
				BackoffBase:   time.Millisecond, BackoffCap: 10 * time.Millisecond, TryAgainDelay: 10 * time.Millisecond,
				PingInterval: -1, IdleTimeout: -1,
			})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() { done <- client.Run(context.Background()) }()
			defer func() {
				require.NoError(t, client.Close(context.Background()))
				require.NoError(t, <-done)
			}()

			require.Eventually(t, func() bool { return quotes.has("bbo 101.0/201.0") }, s27ctWait, time.Millisecond, "connection 1's book")
			var first *s30ctConn
			require.Eventually(t, func() bool {
				peer.mu.Lock()
				defer peer.mu.Unlock()
				if len(peer.conns["/v5/public/spot"]) > 0 {
					first = peer.conns["/v5/public/spot"][0]
				}
				return first != nil
			}, s27ctWait, time.Millisecond)
			if end.code < 0 {
				first.cut()
			} else {
				_ = first.c.Close(end.code, end.reason)
			}

			require.Eventually(t, func() bool { return quotes.has("bbo 102.0/202.0") }, s27ctWait, time.Millisecond,
				"connection 2's book; got %v", quotes.all())
			got := quotes.all()
			i1 := indexOf(got, "bbo 101.0/201.0")
			i2 := indexOf(got, "bbo 102.0/202.0")
			between := got[i1+1 : i2]
			assert.Contains(t, between, "bbo 0/0", "the old quote withdrawn before the new one: %v", got)
			for _, g := range got[i2:] {
				assert.NotEqual(t, "bbo 101.0/201.0", g, "the old book's quote again: %v", got)
			}
			lost := evs.await(t, "the loss reported", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
			if end.code < 0 {
				assert.Equal(t, wsclient.ReasonReadError, lost.Reason, "%+v", lost)
			} else {
				assert.Equal(t, wsclient.ReasonPeerClosed, lost.Reason, "%+v", lost)
				var ce websocket.CloseError
				require.ErrorAs(t, lost.Err, &ce, "the venue's close frame reaches the host")
				assert.Equal(t, end.code, ce.Code)
				assert.Equal(t, end.reason, ce.Reason)
			}
			require.True(t, b.Live())
			dst, err := pools.Events.Get(context.Background())
			require.NoError(t, err)
			defer pools.Events.Put(dst)
			require.True(t, b.Top(10, dst))
			assert.Len(t, dst.Book.Bids, 1, "only the new snapshot's levels")
			assert.Len(t, dst.Book.Asks, 1, "only the new snapshot's levels")
		})
	}
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}
