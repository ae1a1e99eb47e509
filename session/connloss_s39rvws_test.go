package session_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// s39rvwsPace is the gap between two subscriptions of a connection in
// these tests (Client.ControlRate 1/(10 min)): a duration no other timer
// of the session has, fired by hand (firePace).
const s39rvwsPace = 10 * time.Minute

// s39rvwsClock is a manualClock whose Now moves on by s39rvwsPace each
// firePace: wsclient's pacer looks at Now again once its timer fired.
type s39rvwsClock struct {
	*manualClock
	off atomic.Int64
}

func (c *s39rvwsClock) Now() time.Time {
	return c.manualClock.Now().Add(time.Duration(c.off.Load()))
}

// firePace fires the pending subscription pacing timer, moving the
// clock on by s39rvwsPace (armed for an instant: a duration a little
// under s39rvwsPace).
func (c *s39rvwsClock) firePace() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !t.stopped && t.d > s39rvwsPace-time.Minute && t.d <= s39rvwsPace {
			c.off.Add(int64(s39rvwsPace)) // (one waits at a time: the connection's subscriptions go in turn)
			t.stopped = true
			t.c <- time.Now()
		}
	}
}

// ageArmed reports whether a MaxAge timer waits: the connection is served
// (its subscriptions all sent).
func (c *manualClock) ageArmed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !t.stopped && t.d > rotateAge-time.Hour && t.d <= rotateAge {
			return true
		}
	}
	return false
}

// s39rvwsStates records the market connection's events as OnState sees
// them: after the session's loss marker saw each (session.onEvent).
type s39rvwsStates struct {
	mu   sync.Mutex
	evs  []wsclient.Event
	hold func(wsclient.Event)
}

func (s *s39rvwsStates) on(_ session.Conn, e wsclient.Event) {
	s.mu.Lock()
	s.evs = append(s.evs, e)
	s.mu.Unlock()
	if s.hold != nil {
		s.hold(e)
	}
}

func (s *s39rvwsStates) has(match func(wsclient.Event) bool) func() bool {
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range s.evs {
			if match(e) {
				return true
			}
		}
		return false
	}
}

// s39rvwsGiveUpJoined starts a Binance trade session on st whose
// first rotation is given up after its streams were joined (connection 2
// dies while its second subscription waits for its paced turn, after the
// join at connection 1's last trade): wsclient reports the gap,
// ErrRotationUnaligned naming connection 1, before connection 1 delivers
// again. It returns once the rotation's failure was seen (OnState), and
// connection 1's socket. hold, when not nil, is what OnState does with
// each event after recording it.
func s39rvwsGiveUpJoined(t *testing.T, st *s36rotStream, hold func(wsclient.Event)) (*session.Session, *s39rvwsClock, *s36rotSeen, *s39rvwsStates, *websocket.Conn) {
	t.Helper()
	clk := &s39rvwsClock{manualClock: newManualClock()}
	client := fastRedial
	client.Clock, client.MaxAge, client.RotationOverlap = clk, rotateAge, s36rotOverlap
	client.ControlRate, client.MaxTopicsPerMessage = 1/s39rvwsPace.Seconds(), 1 // two SUBSCRIBE messages, the second paced
	states := &s39rvwsStates{hold: hold}
	ep := endpoints(startVenue(t))
	ep.Stream = st.url()
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade", "aggTrade"},
		Client: client, NoClockSync: true, OnState: states.on})
	seen := &s36rotSeen{}
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: seen.handle})
	require.NoError(t, err)
	require.Equal(t, 1, recvS36rot(t, st.up, "connection 1 subscribed"))
	require.Eventually(t, func() bool { clk.firePace(); return clk.ageArmed() }, generous, pollEvery, "connection 1 served")
	st.send(t, 1, 1, 2, 3)
	require.Eventually(t, seen.has(3), generous, pollEvery, "connection 1's trades")

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.Equal(t, 2, ageUntil(t, ctx, clk.manualClock, st.up, "connection 2's first subscription"))
	// Connection 2's second subscription waits for its turn (never fired).
	st.send(t, 1, 4, 5) // delivered during the overlap
	require.Eventually(t, seen.has(5), generous, pollEvery, "connection 1's trades in the overlap")
	st.mu.Lock()
	old, nb := st.conns[0], st.conns[1]
	st.mu.Unlock()
	st.send(t, 2, 5)                  // the join at connection 1's last frame, read before ...
	require.NoError(t, nb.CloseNow()) // ... connection 2's end: its subscription fails, the rotation is given up joined
	require.Eventually(t, states.has(func(e wsclient.Event) bool {
		return errors.Is(e.Err, wsclient.ErrRotationUnaligned) && e.ConnID == 1
	}), generous, pollEvery, "the gap reported")
	require.Eventually(t, states.has(s39rvwsFailed), generous, pollEvery, "the rotation's failure")
	return s, clk, seen, states, old
}

// s39rvwsFailed matches the failed rotation's event (connection 1 kept).
func s39rvwsFailed(e wsclient.Event) bool {
	return e.State == schema.ConnConnected && e.ConnID == 1 && e.Reason == wsclient.ReasonRotation && e.Err != nil
}

// A rotation given up after its streams were joined reports the gap
// (ErrRotationUnaligned naming connection 1); connection 1 dying after
// that report, with no frame between, is reported lost too (Disconnected
// naming connection 1: the order of wsclient's
// TestS39wsRestoreOldThenDiesSameGap). One gap in the trade subscriber's
// stream, one marker. Before s39rvws the session published a marker for
// each event (announced covered only the other order: the old
// connection's loss, then the rotation's).
func TestS39rvwsRestoreOldThenDiesOneMarker(t *testing.T) {
	st := newS36rotStream(t)
	s, clk, seen, states, old := s39rvwsGiveUpJoined(t, st, nil)
	require.NoError(t, old.CloseNow()) // connection 1 dies after the report, delivering nothing
	require.Eventually(t, states.has(func(e wsclient.Event) bool {
		return e.State == schema.ConnDisconnected && e.ConnID == 1
	}), generous, pollEvery, "connection 1 lost")
	clk.fireUntil(t, 0, func() bool { return len(st.up) > 0 }, "connection 3 subscribed")
	require.Equal(t, 3, recvS36rot(t, st.up, "connection 3"))
	st.send(t, 3, 10)
	require.Eventually(t, seen.has(10), generous, pollEvery, "connection 3's trades")
	require.EqualValues(t, 1, s.Stats().Market[0].Client.Unaligned)
	requireMarkerFirst(t, seen, 10)
}

// As TestS39rvwsRestoreOldThenDiesOneMarker, connection 1's loss found
// on the frame path: the session's event goroutine is held on the
// rotation's failure until connection 3's first trade was read, so
// connection 1's Disconnected comes after that frame (wsclient hands
// events to OnEvent on a goroutine of its own: a reconnection's frames
// may come first). One gap, one marker. Before s39rvws onFrame published
// a second one.
func TestS39rvwsRestoreOldThenDiesFramePathOneMarker(t *testing.T) {
	st := newS36rotStream(t)
	release := make(chan struct{})
	s, clk, seen, states, old := s39rvwsGiveUpJoined(t, st, func(e wsclient.Event) {
		if s39rvwsFailed(e) {
			<-release
		}
	})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	require.NoError(t, old.CloseNow()) // connection 1 dies after the report, delivering nothing
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.TotalReconnects() > 0 }, generous, pollEvery, "connection 1 lost")
	clk.fireUntil(t, 0, func() bool { return len(st.up) > 0 }, "connection 3 subscribed")
	require.Equal(t, 3, recvS36rot(t, st.up, "connection 3"))
	st.send(t, 3, 10)
	require.Eventually(t, seen.has(10), generous, pollEvery, "connection 3's trades")
	released = true
	close(release)
	require.Eventually(t, states.has(func(e wsclient.Event) bool {
		return e.State == schema.ConnDisconnected && e.ConnID == 1
	}), generous, pollEvery, "connection 1's loss seen")
	require.EqualValues(t, 1, s.Stats().Market[0].Client.Unaligned)
	requireMarkerFirst(t, seen, 10)
}
