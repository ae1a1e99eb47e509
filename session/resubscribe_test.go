package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// bookVenue is a venue on loopback that keeps one book per connection:
// it answers a subscription of the book channel with a snapshot, then
// sends diffs when told; it records what each connection asked.
type bookVenue struct {
	t     *testing.T
	srv   *httptest.Server
	conns atomic.Int64

	mu    sync.Mutex
	asked []string           // the requests received, in order
	push  chan []string      // frames to send on the live connection
	snap  func(n int) string // the book snapshot of subscription n
	subs  int                // book subscriptions answered
	ready chan int           // a book subscription was answered (its number)
}

func newBookVenue(t *testing.T, snap func(n int) string, isBookSub func(msg string) bool) *bookVenue {
	v := &bookVenue{t: t, push: make(chan []string, 16), snap: snap, ready: make(chan int, 16)}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		for {
			var out []string
			select {
			case msg, ok := <-in:
				if !ok {
					return
				}
				v.mu.Lock()
				v.asked = append(v.asked, msg)
				n := 0
				if isBookSub(msg) {
					v.subs++
					n = v.subs
					out = []string{v.snap(n)}
				}
				v.mu.Unlock()
				if n > 0 {
					if c.Write(ctx, websocket.MessageText, []byte(out[0])) != nil {
						return
					}
					v.ready <- n
					continue
				}
			case out = <-v.push:
			case <-ctx.Done():
				return
			}
			for _, f := range out {
				if c.Write(ctx, websocket.MessageText, []byte(f)) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(v.srv.Close)
	return v
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

func okxBook(seq, bid int) string {
	return fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["101","1","0","1"]],"bids":[["%d","1","0","1"]],"ts":"1","checksum":0,"prevSeqId":-1,"seqId":%d}]}`, bid, seq)
}

func okxDiff(prev, seq int) string {
	return fmt.Sprintf(`{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[["99","2","0","1"]],"ts":"2","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, prev, seq)
}

// A book that breaks on a live connection (here an OKX diff whose
// prevSeqId skips messages) recovers by itself: the session unsubscribes
// and subscribes its channel again on the same connection, paced, the
// venue answers with a snapshot, and the book is live again — no
// reconnect, counted in the session's stats.
func TestBrokenBookResubscribes(t *testing.T) {
	v := newBookVenue(t, func(n int) string { return okxBook(100*n, 90+n) }, func(msg string) bool {
		return strings.Contains(msg, `"subscribe"`) && strings.Contains(msg, `"books"`)
	})
	client := fastRedial
	client.ControlRate = 1000 // pacing is on the client's clock; fast here
	s := start(t, session.Config{Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: v.url()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"books"}, Client: client})
	v.waitSub(1, "the first subscription")
	waitConnected(t, s)
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	top, live := b.BBO()
	require.True(t, live)
	require.Equal(t, "91", top.BidPrice.String())

	v.push <- []string{okxDiff(100, 101), okxDiff(105, 106)} // 102..105 lost
	v.waitSub(2, "the book's channel subscribed again")
	require.Eventually(t, func() bool {
		top, live := b.BBO()
		return live && top.BidPrice.String() == "92"
	}, generous, pollEvery, "live again from the new snapshot")

	reqs := v.requests()
	require.Len(t, reqs, 3, "%q", reqs)
	require.Contains(t, reqs[1], `"op":"unsubscribe"`)
	require.Contains(t, reqs[1], `"instId":"BTC-USDT"`)
	require.Contains(t, reqs[2], `"op":"subscribe"`)
	require.EqualValues(t, 1, v.conns.Load(), "on the live connection, no reconnect")
	require.Eventually(t, func() bool { return s.Stats().Market[0].Resubscribes == 1 }, generous, pollEvery) // counted once written
	st := s.Stats()
	require.Zero(t, st.Market[0].ResubscribeErrors)
	require.Zero(t, st.Market[0].Client.TotalReconnects())
	bs := st.Books[0].Book
	require.EqualValues(t, 1, bs.Resubscribes)
	require.EqualValues(t, 1, bs.Invalidations, "the parser's gap marker broke it")
	require.EqualValues(t, 2, bs.Snapshots)
}
