package meltica_test

import (
	"context"
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
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				if ev.Control.Kind == schema.ControlVenueError {
					select {
					case refused <- struct{}{}:
					default:
					}
				}
			}})
			return err
		},
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
