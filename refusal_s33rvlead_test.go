package meltica_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// A market request the venue refused on a connection that is gone does
// not end a later WaitConnected: the next connection sends every
// subscription again, and the venue answers those. Here OKX refuses a
// request (60012) while the session is ready; the connection is then cut
// and the host waits for the session again, before the reconnect. Before:
// WaitConnected returned the old connection's *SubscribeError at once
// (it counted every refusal since it last returned nil), though the new
// connection's subscriptions were all taken and the session was ready.
func TestS33rvleadRefusalOfAGoneConnectionIsForgotten(t *testing.T) {
	peer := newS30ctPeer(t)
	const path = "/ws/v5/public"
	peer.handle(path, func(*s30ctConn, string) []string { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	refused := make(chan struct{}, 1)
	down := make(chan struct{}, 1)
	s, err := session.Start(ctx, session.Config{
		Venue:       schema.VenueOKX,
		Endpoints:   session.Endpoints{Stream: peer.ws(path)},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trades"},
		NoClockSync: true,
		Client:      s30ctFast(),
		OnState: func(_ session.Conn, e wsclient.Event) {
			if e.State == schema.ConnDisconnected || e.State == schema.ConnConnecting {
				select {
				case down <- struct{}{}:
				default:
				}
			}
		},
		Subscribe: s33rvleadOnRefusal(refused),
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	require.NoError(t, s.WaitConnected(ctx))
	peer.await(path, func(text string) bool { return true }) // subscribed
	peer.conn(path, 1).send(`{"event":"error","code":"60012","msg":"Invalid request: {\"op\":\"subscribe\"}","connId":"s33rvlead"}`)
	select {
	case <-refused:
	case <-ctx.Done():
		t.Fatal("the refusal never reached the host")
	}
	for len(down) > 0 { // states of the first connection's dial
		<-down
	}
	peer.refuseDials(path, true)
	peer.conn(path, 1).cut()
	select {
	case <-down:
	case <-ctx.Done():
		t.Fatal("the cut connection was never reported down")
	}
	// While no new connection is taken, WaitConnected waits (the session
	// is not ready; no live connection was refused): it ends when the
	// client has tried a few dials more.
	tries := peer.dials(path)
	wctx, wcancel := context.WithCancel(ctx)
	go func() {
		assert.Eventually(t, func() bool { return peer.dials(path) >= tries+3 }, 5*s27ctWait, time.Millisecond)
		wcancel()
	}()
	err = s.WaitConnected(wctx)
	wcancel()
	require.ErrorIs(t, err, context.Canceled, "the refusal was the cut connection's")
	peer.refuseDials(path, false)
	require.NoError(t, s.WaitConnected(ctx), "the new connection's subscriptions were taken")
}

// A refusal WaitConnected has seen the session ready after is forgotten,
// as the lead's rule has it ("a refusal counts from the last time
// WaitConnected returned nil"), also on the connection that got it: a
// book that breaks later (a Bybit sequence gap, resubscribed for a new
// snapshot) makes WaitConnected wait for it, not return the old refusal
// of another request at once.
func TestS33rvleadRefusalSeenReadyIsForgotten(t *testing.T) {
	peer := newS30ctPeer(t)
	const path = "/v5/public/spot"
	var mu sync.Mutex
	subs := 0
	peer.handle(path, func(_ *s30ctConn, text string) []string {
		if !strings.Contains(text, `"subscribe"`) {
			return nil
		}
		mu.Lock()
		subs++
		first := subs == 1
		mu.Unlock()
		out := []string{`{"success":true,"ret_msg":"","conn_id":"c1","req_id":"","op":"subscribe"}`}
		if first { // the resubscription gets no snapshot: the book stays down
			out = append(out, `{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,"data":{"s":"BTCUSDT","b":[["100.0","1"]],"a":[["200.0","1"]],"u":1000,"seq":1000},"cts":1672304484976}`)
		}
		return out
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*s27ctWait)
	defer cancel()
	refused := make(chan struct{}, 1)
	s, err := session.Start(ctx, session.Config{
		Venue:       schema.VenueBybit,
		Endpoints:   session.Endpoints{Stream: peer.ws(path)},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"orderbook.50"},
		NoClockSync: true,
		Client:      s30ctFast(),
		Subscribe:   s33rvleadOnRefusal(refused),
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(context.Background())) }()
	require.NoError(t, s.WaitConnected(ctx), "the book live")
	peer.conn(path, 1).send(`{"success":false,"ret_msg":"error:handler not found,topic:tickers.NOSUCH","conn_id":"c1","req_id":"","op":"subscribe"}`)
	select {
	case <-refused:
	case <-ctx.Done():
		t.Fatal("the refusal never reached the host")
	}
	require.NoError(t, s.WaitConnected(ctx), "ready after the refusal: WaitConnected sees it so")
	// A delta past a gap in "u": the book breaks and is resubscribed.
	peer.conn(path, 1).send(`{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1672304485978,"data":{"s":"BTCUSDT","b":[["101.0","1"]],"a":[],"u":1005,"seq":1005},"cts":1672304485976}`)
	peer.await(path, func(text string) bool { return strings.Contains(text, `"unsubscribe"`) })
	wctx, wcancel := context.WithCancel(ctx)
	wcancel() // not ready: WaitConnected answers its ctx's end, not the forgotten refusal
	require.ErrorIs(t, s.WaitConnected(wctx), context.Canceled)
}

// s33rvleadOnRefusal is a session's Subscribe that tells refused of each
// venue refusal (a schema.ControlVenueError) the host gets.
func s33rvleadOnRefusal(refused chan<- struct{}) func(d *dispatch.Dispatcher) error {
	return func(d *dispatch.Dispatcher) error {
		_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
			if ev.Control.Kind == schema.ControlVenueError {
				select {
				case refused <- struct{}{}:
				default:
				}
			}
		}})
		return err
	}
}
