package session_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// A refusal the NEW connection of a make-before-break rotation reads
// before the streams join (its answer to its own subscriptions, before
// its first data) is that connection's: WaitConnected returns it once the
// new connection is live. The streams join on the first trade seen on
// both; before, wsclient dropped the new connection's frames from before
// the join, the refusal with them, and WaitConnected waited until its ctx
// (here an ended one: context.Canceled).
func TestS34rvsessRefusalOfTheNewConnectionBeforeTheJoin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	peer := newS34Peer(t)
	ev := newS34Events()
	opts := wsclient.Options{PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1,
		BackoffBase: 1e6, BackoffCap: 5e6}
	s := start(t, session.Config{
		Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: peer.url()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trades", "books"}, NoClockSync: true,
		Client: opts, Subscribe: ev.subscribe, OnState: ev.onState, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	peer.await(ctx, t, func(subs []int) bool { return len(subs) == 1 && subs[0] == 2 })

	peer.send(ctx, t, 1, `{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"s34"}`)
	peer.await(ctx, t, func(subs []int) bool { return len(subs) == 2 && subs[1] == 2 }) // the new connection subscribed
	const trade = `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"7","px":"100.5","sz":"0.1","side":"buy","ts":"1700000000000"}]}`
	peer.send(ctx, t, 2, `{"event":"error","code":"60012","msg":"Invalid request: {\"op\":\"subscribe\"}","connId":"s34b"}`)
	peer.send(ctx, t, 2, trade)
	peer.send(ctx, t, 1, trade) // the join: connection 2's refusal came before it
	s34Wait(ctx, t, ev.rotated, "the rotation never completed")
	s34Wait(ctx, t, ev.refused, "the new connection's refusal never reached the host")
	ended, end := context.WithCancel(ctx)
	end()
	err := s.WaitConnected(ended)
	var se *session.SubscribeError
	require.True(t, errors.As(err, &se), "the new connection's refusal counts: %v", err)
}
