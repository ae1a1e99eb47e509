package session_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS37rvwsWSAPIReplacedLostEndsGrace: Binance announces the WS-API
// server's shutdown while an order is in flight and has not answered it
// when the switch stops waiting (drainBound); the replaced connection,
// kept open for its answers, is then lost (here: the venue drops it)
// before its grace ran out. No answer can come on it:
// the Place ends at once with ErrDisconnected ("lost while waiting,
// outcome unknown"), the grace's timer (prepareOverlap on the test's
// clock, never fired) not waited for. Before s37rvws nothing told the
// session, and the Place waited out the grace (here, its ctx).
func TestS37rvwsWSAPIReplacedLostEndsGrace(t *testing.T) {
	v := startVenue(t)
	held := make(chan heldOrder, 1)
	url, push := wsAPIPush(t, func(conn int, id uint64, msg []byte) string {
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe"):
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		case conn == 1: // the order: the venue announces the shutdown and never answers
			held <- heldOrder{id: id, conn: conn}
			return binanceServerShutdown
		default:
			return ackBody(id, "s37rvws-2", 2)
		}
	})
	ep := endpoints(v)
	ep.API = url
	clk := newManualClock()
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	s := start(t, cfg)
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	req1 := limitOrder(s, t, "s37rvws-1", "buy", "1000.00", "0.5")
	done := placeAsync(ctx, s, req1)
	h := requireHeld(t, held)
	clk.fireUntil(t, session.DrainBound, func() bool { return s.Stats().Orders.Client.Rotations == 1 },
		"the switch at drainBound, the order unanswered")
	require.NoError(t, push(h.conn, dropConn), "the old connection open after the switch")
	err := <-done
	s.Pools().Orders.Put(req1)
	require.ErrorIs(t, err, session.ErrDisconnected, "ended with the replaced connection, not at the grace's end")

	req2 := limitOrder(s, t, "s37rvws-2", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req2)
	_, err = s.Place(ctx, req2)
	require.NoError(t, err, "the next order, on the new connection")
}

// TestS37rvwsReplacedLostEndsOrderWait: on every venue whose orders go on
// an authenticated WebSocket (OKX, Bybit's trade connection, Kraken), an
// order is in flight when a rotation begins and unanswered when the
// switch stops waiting for it (drainBound); the replaced connection, kept
// open for its answers, is then lost before its grace ran out (here: the
// venue drops it; it was a message over the client's ReadLimit, which
// since session 46 is dropped and the connection kept). The Place ends
// at once with ErrDisconnected, the grace's timer (prepareOverlap on the
// test's clock, never fired) not waited for; the next order goes on the
// new connection. Before s37rvws the Place waited out the grace (here,
// its ctx).
func TestS37rvwsReplacedLostEndsOrderWait(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) { drainCase(t, c, drainLost) })
	}
}
