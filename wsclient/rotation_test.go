package wsclient

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/meltica/meltica/schema"
)

// hub is a venue that numbers its messages: every subscribed connection
// gets every message published after it subscribed.
type hub struct {
	mu   sync.Mutex
	subs map[int]chan string
	seq  atomic.Int64
}

func (hb *hub) publish() {
	n := hb.seq.Add(1)
	msg := `{"seq":` + strconv.FormatInt(n, 10) + `}`
	hb.mu.Lock()
	defer hb.mu.Unlock()
	for _, ch := range hb.subs {
		select {
		case ch <- msg:
		default:
			panic("hub: subscriber too slow for the test")
		}
	}
}

// Fault 8: the venue cuts every connection at its maximum age; rotation is
// on with a shorter age, so the client replaces each connection before the
// cut, make-before-break, and loses no message.
func TestFaultMaxAgeRotation(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	const venueMaxAge = 3 * time.Second // far past MaxAge, so a loaded machine still rotates in time
	hb := &hub{subs: map[int]chan string{}}
	v := newVenue(t, func(s *session) {
		if s.readN(len(testSubs)) != nil {
			return
		}
		ch := make(chan string, 100000)
		hb.mu.Lock()
		hb.subs[s.n] = ch
		hb.mu.Unlock()
		defer func() {
			hb.mu.Lock()
			delete(hb.subs, s.n)
			hb.mu.Unlock()
		}()
		s.readForever()
		cut := time.NewTimer(venueMaxAge)
		defer cut.Stop()
		for {
			select {
			case m := <-ch:
				if s.send(m) != nil {
					return
				}
			case <-cut.C:
				_ = s.ws.Close(websocket.StatusGoingAway, "24h limit")
				return
			case <-s.ctx.Done():
				return
			}
		}
	})
	stopPub := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-tk.C:
				hb.publish()
			case <-stopPub:
				return
			}
		}
	}()

	var (
		mu   sync.Mutex
		seen = map[int]bool{}
		low  = 0
		high = 0
		conn = map[uint64]bool{}
	)
	k := &sink{hook: func(f *schema.WsFrame) error {
		n, ok := field(f.Data, `{"seq":`)
		if !ok {
			return errJunk
		}
		mu.Lock()
		defer mu.Unlock()
		if low == 0 {
			low = n
		}
		seen[n] = true // duplicates across the overlap collapse here, as in a normalizer
		high = max(high, n)
		conn[f.ConnID] = true
		return nil
	}}
	opts := quickOptions()
	opts.MaxAge = 400 * time.Millisecond
	opts.RotationOverlap = 50 * time.Millisecond
	h := start(t, v.url(), opts, k, leaks)

	require.Eventually(t, func() bool { return h.c.Stats().Rotations >= 3 }, wait, time.Millisecond)
	close(stopPub)
	<-pubDone
	last := int(hb.seq.Load())
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return high == last
	}, wait, time.Millisecond, "the last message never arrived")

	mu.Lock()
	for n := low; n <= high; n++ {
		require.True(t, seen[n], "message %d lost across a rotation (delivered %d..%d)", n, low, high)
	}
	require.GreaterOrEqual(t, len(conn), 4, "delivered by several connections")
	mu.Unlock()

	st := h.c.Stats()
	require.Zero(t, st.TotalReconnects(), "every connection was replaced before the venue cut it")
	require.Zero(t, st.HandlerErrors)
	require.GreaterOrEqual(t, h.rec.count(isState(schema.ConnRotating)), 3)
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)), "no gap was signalled")
	for n := 1; n <= 4; n++ {
		require.Equal(t, testSubs, v.received(n)[:len(testSubs)], "connection %d subscribed", n)
	}
	h.finish(v)
}

// A rotation whose new connection dies before delivering keeps the old
// connection (no gap, no disconnect) and is retried until one succeeds.
func TestRotationFailureKeepsOldConnection(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	v := newVenue(t, func(s *session) {
		if s.n == 2 { // the first replacement: dies after subscribing
			_ = s.readN(len(testSubs))
			_ = s.ws.Close(websocket.StatusTryAgainLater, "overloaded")
			return
		}
		steady(s)
	})
	opts := quickOptions()
	opts.MaxAge = 150 * time.Millisecond
	opts.RotationOverlap = 10 * time.Millisecond
	opts.BackoffBase = 10 * time.Millisecond
	h := start(t, v.url(), opts, &sink{}, leaks)

	failed := h.rec.waitFor(t, "failed rotation", func(ev Event) bool {
		return ev.State == schema.ConnConnected && ev.Reason == ReasonRotation && ev.Err != nil
	})
	require.EqualValues(t, 1, failed.ConnID, "the old connection stays live")
	require.Equal(t, websocket.StatusTryAgainLater, websocket.CloseStatus(failed.Err))
	require.Eventually(t, func() bool { return h.c.Stats().Rotations >= 1 }, wait, time.Millisecond)
	h.rec.waitFor(t, "connected on 3", func(ev Event) bool { return connected(3)(ev) })
	require.Zero(t, h.rec.count(isState(schema.ConnDisconnected)))
	require.Zero(t, h.c.Stats().TotalReconnects())
	requireResubscribed(t, v, 3)
	h.finish(v)
}

// With the real clock, subscriptions are spaced 1/ControlRate apart.
func TestRealClockPacing(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	var mu sync.Mutex
	var at []time.Time
	v := newVenue(t, func(s *session) {
		for range 3 {
			if s.readN(1) != nil {
				return
			}
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
		}
		<-s.ctx.Done()
	})
	opts := quickOptions()
	opts.Subscriptions = append(opts.Subscriptions, []byte(`{"op":"sub","args":["c"]}`))
	opts.ControlRate = 20 // 50 ms apart
	opts.Clock = realClock{}
	h := start(t, v.url(), opts, &sink{}, leaks)
	h.rec.waitFor(t, "connected", connected(1))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(at) == 3 }, wait, time.Millisecond)
	mu.Lock()
	require.GreaterOrEqual(t, at[2].Sub(at[0]), 90*time.Millisecond)
	mu.Unlock()
	h.finish(v)
}
