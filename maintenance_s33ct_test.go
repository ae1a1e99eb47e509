package meltica_test

// Outside contract tests, round 8 (s33ct): Kraken's maintenance
// disconnect, from Kraken's docs and session/doc.go, on a loopback Kraken
// v2 (s30ctPeer).

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// Kraken Spot WebSocket v2 "status" channel: "the status of the trading
// engine" with system "online", "maintenance", "cancel_only" or
// "post_only"; during maintenance "the WebSocket connections are
// disconnected" and new ones refused until it ends ("Reconnection and
// resilience"). normalize/doc.go: Kraken status messages are ControlStatus
// events (Reason "maintenance"); session/doc.go: a lost market data
// connection is announced to its subscribers as a gap (GapSource venue),
// and wsclient redials. The venue says maintenance, closes with 1001 and
// refuses three handshakes (503); then it is back: the host heard the
// status, the gap and the loss, and the next connection's trade reaches
// it — no silent stall.
func TestS33ctKrakenMaintenanceDisconnect(t *testing.T) {
	peer := newS30ctPeer(t)
	const trade = `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":60000.1,"qty":0.01,"ord_type":"market","trade_id":%d,"timestamp":"2024-05-27T13:43:11.798009Z"}]}`
	peer.handle("/v2", func(c *s30ctConn, text string) []string {
		if !strings.Contains(text, `"subscribe"`) {
			return nil
		}
		out := []string{`{"method":"subscribe","req_id":1,"result":{"channel":"trade","snapshot":false,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`}
		return append(out, fmt.Sprintf(trade, 100+c.n))
	})
	var mu sync.Mutex
	var statuses []string
	var gaps, trades int
	var tradeIDs []string
	s, err := session.Start(context.Background(), session.Config{
		Venue:       schema.VenueKraken,
		Endpoints:   session.Endpoints{Stream: peer.ws("/v2")},
		Symbols:     []string{"BTC-USD"},
		Channels:    []string{"trade"},
		NoClockSync: true,
		Client:      s30ctFast(),
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case ev.Type == schema.EventControl && ev.Control.Kind == schema.ControlStatus:
					statuses = append(statuses, ev.Control.Reason)
				case ev.Type == schema.EventGap && ev.Control.GapSource == schema.GapVenue:
					gaps++
				case ev.Type == schema.EventTrade:
					trades++
					tradeIDs = append(tradeIDs, ev.Trade.ID.String())
				}
			}})
			return err
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	s31ctConnected(t, s)
	seen := func(ok func() bool) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return ok() }
	}
	require.Eventually(t, seen(func() bool { return trades >= 1 }), s27ctWait, time.Millisecond, "connection 1's trade")

	c1 := peer.conn("/v2", 1)
	peer.refuseDials("/v2", true)
	c1.send(`{"channel":"status","data":[{"api_version":"v2","connection_id":12393906104898154338,"system":"maintenance","version":"2.0.4"}],"type":"update"}`)
	_ = c1.c.Close(websocket.StatusGoingAway, "maintenance")

	require.Eventually(t, seen(func() bool {
		for _, r := range statuses {
			if r == "maintenance" {
				return true
			}
		}
		return false
	}), s27ctWait, time.Millisecond, "the maintenance status heard")
	require.Eventually(t, seen(func() bool { return gaps >= 1 }), s27ctWait, time.Millisecond, "the loss announced as a gap")
	require.Eventually(t, func() bool { return peer.dials("/v2") >= 4 }, s27ctWait, time.Millisecond, "three handshakes refused")
	peer.refuseDials("/v2", false)
	require.Eventually(t, seen(func() bool { return trades >= 2 }), s27ctWait, time.Millisecond, "the next connection's trade")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"101", "102"}, tradeIDs[:2], "each connection's trade once")
	assert.Equal(t, 2, peer.opened("/v2"))
}
