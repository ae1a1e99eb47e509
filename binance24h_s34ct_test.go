package meltica_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s34ctAccepted counts the user-data subscriptions the venue accepted.
func s34ctAccepted(v *venuesim.Venue) int {
	n := 0
	for _, u := range v.UserDataSubscriptions() {
		if u.Accepted {
			n++
		}
	}
	return n
}

// Binance WebSocket API: "A single connection to the API is only valid
// for 24 hours; expect to be disconnected at the 24 hour mark" (venuesim
// cuts every connection at 24 h of its clock, as Binance does). The
// session replaces its connections before (session doc: at 23 h,
// make-before-break: "A report the venue sends on both connections
// meanwhile is delivered once"; without rotation, a cut reconnects and
// reconciles). Across the 24 h — a day of the shared clock, in two
// steps — an order filled in part before, in part around and after the
// mark, and one canceled after it: each fill reported once, both orders'
// final status told, with and without the session's own rotation.
func TestS34ctBinanceDayCutReportsOnce(t *testing.T) {
	for _, maxAge := range []time.Duration{0, 48 * time.Hour, -1} {
		t.Run(fmt.Sprintf("MaxAge=%v", maxAge), func(t *testing.T) {
			ctx := context.Background()
			clk := newS27ctClock()
			v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s",
				Clock: clk, PingInterval: -1})
			defer v.Close()
			stop := make(chan struct{})
			pumped := s27ctPump(clk, 2*time.Second, stop)
			defer func() { close(stop); <-pumped }()
			orders := &s27ctOrders{status: map[string]schema.OrderStatus{}, filled: map[string]schema.Decimal{}, trades: map[string]int{}, change: make(chan struct{}, 1)}
			var sp atomic.Pointer[session.Session]
			seen := &s34ctLog{}
			defer func() {
				if t.Failed() {
					t.Logf("reports in order:\n%s", seen.String())
				}
			}()
			s, err := session.Start(ctx, session.Config{
				Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trade"},
				Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
				Client:      wsclient.Options{Clock: clk, PingInterval: -1, IdleTimeout: -1, MaxAge: maxAge},
				Now:         clk.Now, // the venue's clock: signed timestamps within its recvWindow
				OnExecReport: func(r *schema.ExecReport) {
					x := &r.Execution
					seen.Add(fmt.Sprintf("%s %s/%s fill %s trade %s cum %s reconciled %v", x.ClientOrderID, x.ExecType, x.Status, x.LastFillQty, x.TradeID, x.CumFillQty, x.Reconciled))
					orders.add(&r.Execution)
					sp.Load().Pools().Execs.Put(r)
				},
			})
			require.NoError(t, err)
			sp.Store(s)
			defer func() { assert.NoError(t, s.Close(ctx)) }()
			wctx := s31ctConnected(t, s)

			place := func(cid string) {
				req := s27ctOrder(t, s, cid)
				defer s.Pools().Orders.Put(req)
				_, err := s.Place(wctx, req)
				require.NoError(t, err)
			}
			ids := []string{"s34ct-day-fill", "s34ct-day-end"}
			for _, id := range ids {
				place(id)
			}
			fill, ok := v.OrderID(ids[0])
			require.True(t, ok)
			end, ok := v.OrderID(ids[1])
			require.True(t, ok)
			require.NoError(t, v.FillOrder(fill, "0.1"))
			orders.await(t, map[string]schema.OrderStatus{ids[0]: schema.StatusPartiallyFilled}, map[string]string{ids[0]: "0.1"})

			subs := s34ctAccepted(v)
			clk.Advance(23*time.Hour + time.Minute)
			if maxAge == 0 {
				// The session's rotation (23 h): a new WS-API connection
				// subscribed before the old one goes.
				require.Eventually(t, func() bool { return s34ctAccepted(v) > subs }, s27ctWait, time.Millisecond, "rotated at 23 h")
			}
			require.NoError(t, v.FillOrder(fill, "0.1"), "a fill around the rotation")
			clk.Advance(time.Hour)
			require.Eventually(t, func() bool { return s34ctAccepted(v) > subs }, s27ctWait, time.Millisecond, "subscribed again after the 24 h mark")
			require.NoError(t, v.FillOrder(fill, ""), "the rest after the mark")
			require.NoError(t, v.EndOrder(end, "CANCELED"))
			orders.await(t, map[string]schema.OrderStatus{ids[0]: schema.StatusFilled, ids[1]: schema.StatusCanceled}, map[string]string{ids[0]: "0.5"})
			// A venue that delivers at least once (venuesim ResendFill)
			// repeats the last fill; a later report on the same stream
			// tells when the repeat has been read.
			require.NoError(t, v.ResendFill(fill))
			// An order whose answer a lost connection took is ErrDisconnected
			// (session doc: "outcome unknown"): the venue may hold it.
			req := s27ctOrder(t, s, "s34ct-day-last")
			_, err = s.Place(wctx, req)
			s.Pools().Orders.Put(req)
			if err != nil {
				require.ErrorIs(t, err, session.ErrDisconnected)
			}
			last, ok := v.OrderID("s34ct-day-last")
			if !ok {
				place("s34ct-day-last")
				last, ok = v.OrderID("s34ct-day-last")
			}
			require.True(t, ok)
			require.NoError(t, v.EndOrder(last, "CANCELED"))
			orders.await(t, map[string]schema.OrderStatus{"s34ct-day-last": schema.StatusCanceled}, nil)
			orders.mu.Lock()
			defer orders.mu.Unlock()
			for k, n := range orders.trades {
				assert.Equal(t, 1, n, "fill %s reported %d times", k, n)
			}
			assert.Len(t, orders.trades, 3, "three fills: %v", orders.trades)
			t.Logf("fills %v, reconciled reports %d, subscriptions %d", orders.trades, orders.recon, len(v.UserDataSubscriptions()))
		})
	}
}
