package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s44answerTimeout is the session's answer deadline of a login or
// subscription (answerTimeout), fired by hand.
const s44answerTimeout = 10 * time.Second

// connNumbered is the fake's connection numbered n (accept's count; none
// dropped since).
func (f *fakePrivate) connNumbered(n int) *websocket.Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns[n-1]
}

// TestS44sessNoticeOnTheOldConnectionDuringARotation: while a rotation
// (at MaxAge) prepares the OKX private connection's replacement, the OLD
// connection tells that it will close (notice 64008, OKX v5 "WebSocket →
// Notification of service upgrade": "The connection will soon be closed
// for a service upgrade. Please reconnect."), and the rotation then fails
// (the new connection's login unanswered). Orders go on the old
// connection again — the venue serves it until its close, 30 s to 60 s
// on — and the rotation is asked again: wsclient's next try replaces it.
// Before session 44, the notice was dropped (the worker's connection then
// the new one), and nothing asked for the replacement again before the
// rotation's own age. (Session 44 kept orders off the old connection
// until then; that kept a bot from trading for up to a minute while the
// venue still served it, and broke TestS30ctOKXNoticeNoNewConnection.)
func TestS44sessNoticeOnTheOldConnectionDuringARotation(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	s.Pools().Execs.Put(recvExec(t, execs)) // the old connection's first fill
	first := f.loginsSeen()[0].conn
	old := s.Stats().Orders.Client.ConnID
	// A fill of a trade of its own after the notice: when the host has it,
	// the reader handled the notice before it.
	fill := freshFill(f.pushes["orders"][0], 1000+first)
	var (
		mu    sync.Mutex
		muted int // the rotation's first new connection, whose login goes unanswered
	)
	f.mu.Lock()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		if conn == first || !strings.Contains(string(msg), `"op":"login"`) {
			return replies
		}
		mu.Lock()
		defer mu.Unlock()
		if muted != 0 && muted != conn {
			return replies
		}
		muted = conn
		oldConn := f.connNumbered(first)
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		require.NoError(t, f.send(ctx, oldConn, []byte(okxUpgradeNotice), false))
		require.NoError(t, f.send(ctx, oldConn, fill, false))
		return nil
	}
	f.mu.Unlock()
	ready := s.ReadyAfterPrep()

	now.set(now.get().Add(3 * time.Second)) // (a newer login time: an equal one is a replay)
	clk.rotateUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return muted != 0 }, "the rotation's new connection logs in")
	s.Pools().Execs.Put(recvExec(t, execs)) // the notice handled
	clk.fireUntil(t, s44answerTimeout, func() bool { _, n := seen.counts(); return n >= 1 }, "the rotation fails")
	select {
	case r := <-ready:
		require.True(t, r, "orders go on the old connection again: the venue serves it until its close")
	case <-time.After(generous):
		t.Fatal("the failed rotation's Connected event never taken")
	}
	require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays until the rotation's next try")

	now.set(now.get().Add(3 * time.Second))
	clk.fireUntil(t, 0, func() bool { sw, _ := seen.counts(); return sw >= 1 }, "the rotation's next try replaces the old connection")
	waitOrdersReady(t, s)
	require.NotEqual(t, old, s.Stats().Orders.Client.ConnID)
}
