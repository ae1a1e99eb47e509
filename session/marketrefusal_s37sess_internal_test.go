package session

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s37sink counts what bookWatch hands on.
type s37sink struct{ n int }

func (k *s37sink) Publish(context.Context, *schema.CanonicalEvent) error { k.n++; return nil }

// s37reqID is the request id a venue's refusal of msg echoes: Bybit's
// "req_id" (a string), Kraken's "req_id" (a number) and OKX's "id" (a
// string) come back in Control.RequestID (normalize: bybitOpMsg,
// krakenAck, okxEventMsg).
func s37reqID(t *testing.T, msg []byte) uint64 {
	t.Helper()
	var m struct {
		ReqID jsontext.Value `json:"req_id"`
		ID    jsontext.Value `json:"id"` // OKX
	}
	require.NoError(t, json.Unmarshal(msg, &m))
	v := m.ReqID
	if len(v) == 0 {
		v = m.ID
	}
	if len(v) == 0 {
		return 0 // none (OKX's market subscriptions): its refusal echoes none
	}
	s, err := strconv.Unquote(string(v))
	if err != nil {
		s = string(v)
	}
	id, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err, "%s", msg)
	return id
}

// TestS37UnsubscribeRefusalIsNoMarketRefusal: the resubscriber
// unsubscribes a broken book's channel before subscribing it again (Bybit
// refuses a topic the connection has: "error:already subscribed"). The
// venue may refuse the unsubscribe (Bybit "error:handler not found", Kraken
// "Subscription Not Found": nothing to unsubscribe): nothing the connection
// streams is then missing, so it neither rotates the connection (1 min at
// first for a refusal that lasts, a rotation of a healthy connection) nor
// counts as a refused subscription WaitConnected returns. It is still
// published. A refused subscribe is a market refusal as before. Before
// s37sess both requests carried request id 1 and the unsubscribe's
// refusal armed the retry.
func TestS37UnsubscribeRefusalIsNoMarketRefusal(t *testing.T) {
	for _, tc := range []struct {
		venue  schema.Venue
		ch     string
		sym    string
		reason string
	}{
		{schema.VenueBybit, "orderbook.50", "BTCUSDT", "error:handler not found,topic:orderbook.50.BTCUSDT"},
		{schema.VenueKraken, "book", "BTC/USD", "Subscription Not Found"},
		// OKX echoes the request's "id" (v5 "WebSocket → Subscribe":
		// "It will be returned in response message").
		{schema.VenueOKX, "books", "BTC-USDT", "Invalid request"},
	} {
		t.Run(string(tc.venue), func(t *testing.T) {
			spec := venues[tc.venue]
			unsub, err := spec.unsubscribe(tc.ch, []string{tc.sym})
			require.NoError(t, err)
			sub, err := spec.subscribe(tc.ch, []string{tc.sym})
			require.NoError(t, err)

			clk := &s36rRecClock{Clock: wsclient.SystemClock()}
			r := &marketRetry{clock: clk, venue: tc.venue, rotate: func() {}, live: func() uint64 { return 1 }}
			defer r.stop()
			board := newStateBoard(1, false)
			sink := &s37sink{}
			w := bookWatch{next: sink, state: func() *stateBoard { return board }, conn: func() uint64 { return 1 }, retry: r}
			refusal := func(id uint64) *schema.CanonicalEvent {
				return &schema.CanonicalEvent{Venue: tc.venue, Type: schema.EventControl,
					Control: &schema.Control{Kind: schema.ControlVenueError, RequestID: id, Reason: tc.reason}}
			}

			require.NoError(t, w.Publish(context.Background(), refusal(s37reqID(t, unsub))))
			assert.Equal(t, 1, sink.n, "published")
			clk.mu.Lock()
			assert.Empty(t, clk.waits, "no rotation for a refused unsubscribe")
			clk.mu.Unlock()
			assert.Nil(t, board.refused[0].err, "no refused subscription for WaitConnected")

			require.NoError(t, w.Publish(context.Background(), refusal(s37reqID(t, sub))))
			clk.mu.Lock()
			assert.Len(t, clk.waits, 1, "a refused subscribe is asked again")
			clk.mu.Unlock()
			assert.NotNil(t, board.refused[0].err)
		})
	}
}

// TestS37OKXPassingCodesAreMarketCodes: the OKX codes of a market refusal
// that passes are those a subscription may get (OKX v5 "Error Code",
// WebSocket: 60014 "Requests too frequent"; 5xxxx: the service busy or
// unavailable). 63999 "Login failed due to internal error" answers a login,
// which no market connection sends: it is not among them (its message, "…
// Please try again later.", still reads as passing by its words). Before
// s37sess 63999 was listed.
func TestS37OKXPassingCodesAreMarketCodes(t *testing.T) {
	assert.False(t, refusalPasses(schema.VenueOKX, &schema.Control{Kind: schema.ControlVenueError, Code: 63999}))
	assert.True(t, refusalPasses(schema.VenueOKX, &schema.Control{Kind: schema.ControlVenueError, Code: 60014}))
}

// TestS37RefusalBackoffJittered: several shards refused at once (OKX
// 60014 to every connection after a reconnect) must not rotate together —
// OKX takes 3 connection requests a second per IP ("WebSocket → Connect":
// connection limit): each backoff gets up to a quarter of itself at random
// (Config.Client.Rand, as wsclient's redials), so that the shards' retries
// spread. With Rand pinned the waits are exact: 1 s plus the quarter Rand
// gave. Before s37sess every shard waited exactly 1 s.
func TestS37RefusalBackoffJittered(t *testing.T) {
	clk := &s36rRecClock{Clock: wsclient.SystemClock()}
	s := &Session{spec: venues[schema.VenueOKX]}
	s.cfg.Client.Clock = clk
	var asked []int64
	s.cfg.Client.Rand = func(n int64) int64 { asked = append(asked, n); return n / int64(len(asked)+1) }
	c := &schema.Control{Kind: schema.ControlVenueError, Code: 60014}
	for shard := range 3 {
		r := s.newMarketRetry(shard, func() {}, func() uint64 { return 1 })
		r.refuse(1, c)
		r.stop()
	}
	q := int64(time.Second/4) + 1
	assert.Equal(t, []int64{q, q, q}, asked, "a quarter of the backoff, inclusive")
	assert.Equal(t, []time.Duration{time.Second + time.Duration(q/2), time.Second + time.Duration(q/3), time.Second + time.Duration(q/4)}, clk.waits)
}
