package session_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS25DataTimeoutOrdersExempt: a host that sets Client.DataTimeout
// (wsclient: a connection whose subscriptions bring no data for that long
// is dead, though heartbeats still come) gets it on the market
// connections, with the venue's own IsData, and not on the order
// connection: a quiet account sends nothing for hours, legitimately.
// Start used to fail ("DataTimeout needs IsData").
func TestS25DataTimeoutOrdersExempt(t *testing.T) {
	v := startVenue(t)
	cfg := session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()}
	cfg.Client.DataTimeout = time.Minute
	s := start(t, cfg)
	waitConnected(t, s)
	mustPlace(t, s, "dt-1")
}

// TestS25DataTimeoutStall: an OKX market connection whose venue answers
// every "ping" with "pong" but sends no data (a stall wsclient's idle
// watchdog cannot see: pongs are messages) is replaced after
// Client.DataTimeout, as wsclient's ReasonNoData.
func TestS25DataTimeoutStall(t *testing.T) {
	f := newFakePrivate(t, schema.VenueOKX, nil)
	var conns atomic.Int32
	f.mux.HandleFunc("/pongs", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		conns.Add(1)
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			reply := `{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"}`
			if string(msg) == "ping" {
				reply = "pong"
			}
			if c.Write(r.Context(), websocket.MessageText, []byte(reply)) != nil {
				return
			}
		}
	})
	ep := f.endpoints()
	ep.Stream = strings.Replace(ep.Stream, "/public", "/pongs", 1)
	ep.API = ""
	noData := make(chan struct{}, 1)
	cfg := session.Config{Venue: schema.VenueOKX, Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trades"}, Client: fastRedial}
	cfg.Client.HeartbeatInterval = 5 * time.Millisecond
	cfg.Client.DataTimeout = 50 * time.Millisecond
	cfg.OnState = func(c session.Conn, e wsclient.Event) {
		if c.Role == session.RoleMarket && e.Reason == wsclient.ReasonNoData {
			select {
			case noData <- struct{}{}:
			default:
			}
		}
	}
	start(t, cfg)
	select {
	case <-noData:
	case <-time.After(generous):
		t.Fatal("no ReasonNoData")
	}
	require.Eventually(t, func() bool { return conns.Load() >= 2 }, generous, pollEvery, "redialled")
	assert.GreaterOrEqual(t, conns.Load(), int32(2))
}

// TestS25PingAnswerNotPublished: the ping the session sends on every
// WS-API connection (its answer starts a rotation's switch) is the
// session's own: its answer reaches no subscriber.
func TestS25PingAnswerNotPublished(t *testing.T) {
	v := startVenue(t)
	var acks atomic.Int32
	cfg := session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()}
	cfg.Subscribe = func(d *dispatch.Dispatcher) error {
		_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventControl}}, &dispatch.SubscribeOptions{
			Handler: func(ev *schema.CanonicalEvent) {
				if ev.Control.Kind == schema.ControlSubscribeAck && ev.Control.RequestID == 0 && ev.Venue == schema.VenueBinance {
					acks.Add(1)
				}
			}})
		return err
	}
	s := start(t, cfg)
	waitConnected(t, s)
	mustPlace(t, s, "pa-1") // after the ping's answer, on the same connection
	require.NoError(t, s.Close(context.Background()))
	assert.Zero(t, acks.Load(), "the ping's answer was published")
}
