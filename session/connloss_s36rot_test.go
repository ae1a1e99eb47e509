package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// s36rotOverlap is the market connection's RotationOverlap in these
// tests: a duration no other timer of the session has, fired by hand.
const s36rotOverlap = 3 * time.Hour

// s36rotStream is a loopback Binance combined stream whose connections
// the test writes to one by one: connection n answers its SUBSCRIBE
// requests ({"result":null,"id":…}) and sends what the test gives it.
type s36rotStream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	conns []*websocket.Conn
	up    chan int // the number of each connection subscribed
	ctx   context.Context
}

func newS36rotStream(t *testing.T) *s36rotStream {
	ctx, cancel := context.WithCancel(context.Background())
	st := &s36rotStream{up: make(chan int, 8), ctx: ctx}
	var handlers sync.WaitGroup
	st.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		handlers.Add(1)
		defer handlers.Done()
		st.mu.Lock()
		st.conns = append(st.conns, ws)
		n := len(st.conns)
		st.mu.Unlock()
		told := false
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				_ = ws.CloseNow()
				return
			}
			if !strings.Contains(string(msg), "SUBSCRIBE") {
				continue
			}
			var id int
			if i := strings.Index(string(msg), `"id":`); i >= 0 {
				_, _ = fmt.Sscanf(string(msg[i+5:]), "%d", &id)
			}
			if ws.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"result":null,"id":%d}`, id)) != nil {
				return
			}
			if !told {
				told = true
				st.up <- n
			}
		}
	}))
	t.Cleanup(func() { cancel(); st.srv.Close(); handlers.Wait() })
	return st
}

func (st *s36rotStream) url() string { return "ws" + strings.TrimPrefix(st.srv.URL, "http") }

// send writes trades with ids ids on connection n (from 1).
func (st *s36rotStream) send(t *testing.T, n int, ids ...int) {
	t.Helper()
	st.mu.Lock()
	ws := st.conns[n-1]
	st.mu.Unlock()
	for _, id := range ids {
		msg := fmt.Sprintf(`{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"100.5","q":"1","T":%d,"m":true,"M":true}}`, id, id, id)
		require.NoError(t, ws.Write(st.ctx, websocket.MessageText, []byte(msg)))
	}
}

// s36rotSeen is what a subscriber of trades alone saw: trade ids, and -1
// for each gap marker, in order.
type s36rotSeen struct {
	mu  sync.Mutex
	got []int64
}

func (s *s36rotSeen) handle(ev *schema.CanonicalEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.Type {
	case schema.EventGap:
		s.got = append(s.got, -1)
	case schema.EventTrade:
		var id int64
		_, _ = fmt.Sscanf(ev.Trade.ID.String(), "%d", &id)
		s.got = append(s.got, id)
	}
}

func (s *s36rotSeen) seen() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.got...)
}

func (s *s36rotSeen) has(id int64) func() bool {
	return func() bool {
		for _, g := range s.seen() {
			if g == id {
				return true
			}
		}
		return false
	}
}

// startS36rot starts a Binance trade session on st, a subscriber of
// trades alone, and the first rotation up to connection 2's subscription.
func startS36rot(t *testing.T, st *s36rotStream) (*session.Session, *manualClock, *s36rotSeen) {
	clk := newManualClock()
	client := fastRedial
	client.Clock, client.MaxAge, client.RotationOverlap = clk, rotateAge, s36rotOverlap
	ep := endpoints(startVenue(t)) // its REST
	ep.Stream = st.url()
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Client: client, NoClockSync: true})
	seen := &s36rotSeen{}
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: seen.handle})
	require.NoError(t, err)
	waitConnected(t, s)
	require.Equal(t, 1, recvS36rot(t, st.up, "connection 1 subscribed"))
	st.send(t, 1, 1, 2, 3)
	require.Eventually(t, seen.has(3), generous, pollEvery, "connection 1's trades")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.Equal(t, 2, ageUntil(t, ctx, clk, st.up, "connection 2's subscription"))
	return s, clk, seen
}

func recvS36rot[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(generous):
		t.Fatal(what + " never came")
	}
	var zero T
	return zero
}

// requireMarkerFirst checks that the subscriber saw one gap marker, and
// saw it before any trade of the new connection (ids from first).
func requireMarkerFirst(t *testing.T, seen *s36rotSeen, first int64) {
	t.Helper()
	got := seen.seen()
	marker := -1
	for i, g := range got {
		if g == -1 {
			require.Equal(t, -1, marker, "one marker: %v", got)
			marker = i
		}
	}
	require.NotEqual(t, -1, marker, "the rotation's loss announced to the trade subscriber: %v", got)
	for _, g := range got[:marker] {
		require.Less(t, g, first, "a trade after the gap delivered before its marker: %v", got)
	}
}

// A rotation whose streams never join (connection 2's trades are none of
// connection 1's) switches at RotationOverlap: trades around the switch
// may be lost, and a subscriber of trades alone is told by a gap marker,
// before connection 2's first trade. Before s36rot the session ignored
// every rotation event: no marker.
func TestS36rotUnalignedRotationMarksTheGap(t *testing.T) {
	st := newS36rotStream(t)
	s, clk, seen := startS36rot(t, st)
	st.send(t, 2, 10, 11)
	clk.fireUntil(t, s36rotOverlap, func() bool { return s.Stats().Market[0].Client.Rotations == 1 }, "the switch at RotationOverlap")
	require.Eventually(t, seen.has(11), generous, pollEvery, "connection 2's trades")
	require.EqualValues(t, 1, s.Stats().Market[0].Client.Unaligned)
	requireMarkerFirst(t, seen, 10)
}

// A rotation that joins the streams after connection 2 received a trade
// connection 1 never delivered (9: missed by connection 1) drops it
// (ErrRotationDropped): the trade subscriber gets a gap marker before
// the trades after the join. Before s36rot: no marker, trade 9 lost
// silently.
func TestS36rotDroppedRotationMarksTheGap(t *testing.T) {
	st := newS36rotStream(t)
	s, _, seen := startS36rot(t, st)
	st.send(t, 2, 9, 4, 5)
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.State == schema.ConnRotating }, generous, pollEvery)
	st.send(t, 1, 4) // the join
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.Rotations == 1 }, generous, pollEvery, "joined at 4")
	require.Eventually(t, seen.has(5), generous, pollEvery, "connection 2's trades")
	require.EqualValues(t, 1, s.Stats().Market[0].Client.RotationDropped)
	require.NotContains(t, seen.seen(), int64(9))
	requireMarkerFirst(t, seen, 5)
}
