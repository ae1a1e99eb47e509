package meltica_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Contract 5: "A connection that stops delivering data is detected
// (ping/pong and an idle watchdog), closed, redialled ... and
// resubscribed." Through session on the simulated Binance: the venue
// stops sending while it answers pings (venuesim FaultStall), or freezes
// the connection so that pings go unanswered (FaultNoPong); each time the
// session notices (a reconnect counted under the idle or pong reason) and
// trades flow again to the subscriber. Timeouts are short so the test is
// quick; nothing asserts how long anything took.
func TestS25ctSessionStallsAreNoticed(t *testing.T) {
	for _, c := range []struct {
		fault  venuesim.Fault
		reason wsclient.Reason
	}{{venuesim.FaultStall, wsclient.ReasonIdle}, {venuesim.FaultNoPong, wsclient.ReasonPongTimeout}} {
		t.Run(fmt.Sprint(c.reason), func(t *testing.T) {
			v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1})
			defer v.Close()
			ctx := context.Background()
			opts := wsclient.Options{IdleTimeout: 300 * time.Millisecond, BackoffBase: time.Millisecond, BackoffCap: 10 * time.Millisecond}
			if c.fault == venuesim.FaultNoPong {
				// Pings every 50 ms: the idle watchdog off, so that only
				// the unanswered ping can notice.
				opts.IdleTimeout, opts.PingInterval, opts.PongTimeout = -1, 50*time.Millisecond, 300*time.Millisecond
			}
			s, err := session.Start(ctx, session.Config{
				Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
				Symbols:   []string{"BTC-USDT"},
				Channels:  []string{"trade"},
				Client:    opts,
			})
			require.NoError(t, err)
			defer func() { _ = s.Close(context.Background()) }()
			var trades atomic.Int64
			_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(*schema.CanonicalEvent) { trades.Add(1) }})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return trades.Load() > 10 }, time.Minute, time.Millisecond)
			v.Inject(c.fault)
			require.Eventually(t, func() bool { return s.Stats().Market[0].Client.Reconnects[c.reason] > 0 }, time.Minute, time.Millisecond, "the stall noticed as %v", c.reason)
			n := trades.Load()
			require.Eventually(t, func() bool { return trades.Load() > n+10 }, time.Minute, time.Millisecond, "trades flow again")
			require.NoError(t, s.Close(ctx))
		})
	}
}
