package session_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS36AnswerAfterSwitchOnOldConnection: on every venue whose orders go
// on an authenticated WebSocket (OKX, Bybit's trade connection, Kraken),
// an order is in flight when a rotation begins, and the venue answers it
// only after the switch stopped waiting for it (drainBound): the old
// connection, kept open RotationOverlap after the switch for its answers
// (wsclient Options.IsData), delivers it, and the Place gets the venue's
// ack, not ErrDisconnected: an order the venue answered never ends with
// ErrDisconnected. Before s36sess the switch closed the old connection
// and failed the request (retain) at once.
func TestS36AnswerAfterSwitchOnOldConnection(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) { drainCase(t, c, drainAfter) })
	}
}

// TestS36WSAPIAnswerAfterSwitchOnOldConnection: Binance announces the
// WS-API server's shutdown while an order is in flight, and answers that
// order only after the switch stopped waiting for it (drainBound): the old
// connection, kept open RotationOverlap after the switch for its answers,
// delivers it, and the Place gets the venue's ack, not ErrDisconnected.
// Before s36sess the switch failed every request pending (failPending).
func TestS36WSAPIAnswerAfterSwitchOnOldConnection(t *testing.T) {
	v := startVenue(t)
	held := make(chan heldOrder, 1)
	url, push := wsAPIPush(t, func(conn int, id uint64, msg []byte) string {
		switch m := string(msg); {
		case strings.Contains(m, "userDataStream.subscribe"):
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		case conn == 1: // the order: the venue announces the shutdown, and answers later
			held <- heldOrder{id: id, conn: conn}
			return binanceServerShutdown
		default:
			return ackBody(id, "s36-2", 2)
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

	req1 := limitOrder(s, t, "s36-1", "buy", "1000.00", "0.5")
	done := placeAsync(ctx, s, req1)
	h := requireHeld(t, held)
	clk.fireUntil(t, session.DrainBound, func() bool { return s.Stats().Orders.Client.Rotations == 1 },
		"the switch at drainBound, the order unanswered")
	perr := push(h.conn, ackBody(h.id, "s36-1", 1))
	err := <-done
	s.Pools().Orders.Put(req1)
	require.NoError(t, perr, "the old connection open after the switch")
	require.NoError(t, err, "answered on the old connection after the switch")

	req2 := limitOrder(s, t, "s36-2", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req2)
	_, err = s.Place(ctx, req2)
	require.NoError(t, err, "the next order, on the new connection")

	// The replaced connection, open still, is told of its shutdown again
	// (or its user-data stream ends with it): that is not the new
	// connection's. No second rotation; orders stay ready. Before s36sess
	// the old connection's frames were never delivered after the switch.
	require.NoError(t, push(h.conn, binanceServerShutdown))
	require.NoError(t, push(h.conn, `{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}`))
	require.Never(t, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, pollEvery)
		defer wcancel()
		return s.Stats().Orders.Client.Rotations > 1 || s.WaitConnected(wctx) != nil
	}, drainNever, pollEvery, "the replaced connection's notices are not the new one's")
}

// TestS36rvsessReplacedConnectionNoticeIsItsOwn: OKX tells the replaced
// connection, open still in its grace after a rotation's switch, that it
// will close it (notice 64008, OKX v5 "WebSocket → Notification of
// service upgrade"): that is the replaced connection's close, not the new
// one's; orders stay ready and the next one goes on the new connection.
// Before s36rvsess the notice set the orders not ready and the retire it
// asked for was dropped (not the worker's connection): the next order
// waited for a readiness that never came back.
func TestS36rvsessReplacedConnectionNoticeIsItsOwn(t *testing.T) {
	c := placeCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	drainCase(t, c, drainAfterNotice)
}
