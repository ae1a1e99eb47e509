package meltica_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// s27ctPump drives clk as a clock that runs only while the client waits
// on it: whenever a timer due within limit is armed, the clock moves to
// it at once. Longer waits (pings, the idle watchdog) are not reached
// unless short ones carry the clock past them. It stops with stop.
func s27ctPump(clk *s27ctClock, limit time.Duration, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			clk.mu.Lock()
			armed := clk.armed
			clk.mu.Unlock()
			if p := clk.Pending(); len(p) > 0 && p[0] <= limit {
				clk.Advance(max(p[0], 0))
				continue
			}
			select {
			case <-armed:
			case <-stop:
				return
			}
		}
	}()
	return done
}

// s27ctOrders follows every order's latest report seen by OnExecReport.
type s27ctOrders struct {
	mu     sync.Mutex
	status map[string]schema.OrderStatus
	filled map[string]schema.Decimal
	trades map[string]int
	recon  int
	change chan struct{}
}

func (o *s27ctOrders) add(x *schema.Execution) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := x.ClientOrderID.String()
	if o.status[id] < schema.StatusFilled || x.Status >= schema.StatusFilled {
		o.status[id] = x.Status
	}
	if x.ExecType == schema.ExecTrade {
		k := id + "/" + x.TradeID.String()
		o.trades[k]++
		if o.trades[k] == 1 {
			if q, err := o.filled[id].Add(x.LastFillQty); err == nil {
				o.filled[id] = q
			}
		}
	}
	if x.Reconciled {
		o.recon++
	}
	select {
	case o.change <- struct{}{}:
	default:
	}
}

func (o *s27ctOrders) await(t *testing.T, want map[string]schema.OrderStatus, filled map[string]string) {
	t.Helper()
	deadline := time.After(2 * s27ctWait)
	for {
		o.mu.Lock()
		ok := true
		for id, st := range want {
			if o.status[id] != st {
				ok = false
			}
		}
		for id, q := range filled {
			if !o.filled[id].Equal(schema.MustParseDecimal(q)) {
				ok = false
			}
		}
		state := fmt.Sprintf("status %v filled %v", o.status, o.filled)
		o.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-o.change:
		case <-deadline:
			t.Fatalf("the reports never told: want %v %v; got %s", want, filled, state)
		}
	}
}

// Contract 3, every execution-report path of a session (Binance on the
// simulated venue), with the connections' clock injected (Config.Client.
// Clock: every redial, backoff and pacing wait is on it, moved only by the
// test's pump): for each way the venue's stream of reports can break —
// the order connection closed by the venue, the user-data stream ended
// on a connection that stays open (eventStreamTerminated), a reconnect
// whose new user-data subscription the venue holds unanswered for a
// while, and an order whose answer is lost with its connection
// (ErrDisconnected) — one order filled in full and one ended by the venue
// (CANCELED or EXPIRED) while the stream is broken are reported to
// OnExecReport: each order's final status, every fill once.
func TestS27ctExecReportsSurviveEveryBreak(t *testing.T) {
	for _, path := range []string{"api closed", "user data terminated", "subscription held", "answer lost"} {
		t.Run(path, func(t *testing.T) {
			ctx := context.Background()
			v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s"})
			defer v.Close()
			clk := newS27ctClock()
			stop := make(chan struct{})
			pumped := s27ctPump(clk, 2*time.Second, stop)
			defer func() { close(stop); <-pumped }()
			orders := &s27ctOrders{status: map[string]schema.OrderStatus{}, filled: map[string]schema.Decimal{}, trades: map[string]int{}, change: make(chan struct{}, 1)}
			var sp atomic.Pointer[session.Session]
			s, err := session.Start(ctx, session.Config{
				Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trade"},
				Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
				Client:      wsclient.Options{Clock: clk, PingInterval: -1, IdleTimeout: -1},
				OnExecReport: func(r *schema.ExecReport) {
					orders.add(&r.Execution)
					sp.Load().Pools().Execs.Put(r)
				},
			})
			require.NoError(t, err)
			sp.Store(s)
			defer func() { assert.NoError(t, s.Close(ctx)) }()
			wctx, cancel := context.WithTimeout(ctx, s27ctWait)
			defer cancel()
			require.NoError(t, s.WaitConnected(wctx))

			place := func(cid string) error {
				req := s27ctOrder(t, s, cid)
				defer s.Pools().Orders.Put(req)
				pctx, cancel := context.WithTimeout(ctx, s27ctWait)
				defer cancel()
				_, err := s.Place(pctx, req)
				return err
			}
			ids := []string{"s27ct-fill", "s27ct-end"}
			if path == "answer lost" {
				require.NoError(t, place(ids[0]))
				v.DropNextPlace()
				err := place(ids[1])
				require.ErrorIs(t, err, session.ErrDisconnected, "the answer lost with the connection")
				assert.NotErrorIs(t, err, session.ErrNotSent, "a request that reached the venue is never ErrNotSent")
			} else {
				for _, id := range ids {
					require.NoError(t, place(id))
				}
			}
			fill, ok := v.OrderID(ids[0])
			require.True(t, ok)
			end, ok := v.OrderID(ids[1])
			require.True(t, ok)
			require.NoError(t, v.FillOrder(fill, "0.2"), "a first part while the stream is up")
			endStatus, want := "CANCELED", schema.StatusCanceled
			switch path {
			case "api closed":
				require.Positive(t, v.CloseAPI())
			case "user data terminated":
				require.Positive(t, v.TerminateUserData())
				endStatus, want = "EXPIRED", schema.StatusExpired
			case "subscription held":
				v.HoldUserData(true)
				require.Positive(t, v.CloseAPI())
				require.Eventually(t, func() bool { return v.HeldUserData() > 0 }, s27ctWait, time.Millisecond, "the reconnected session's subscription held")
			}
			require.NoError(t, v.FillOrder(fill, ""), "the rest while the stream is broken")
			require.NoError(t, v.EndOrder(end, endStatus))
			if path == "subscription held" {
				v.HoldUserData(false)
			}
			orders.await(t, map[string]schema.OrderStatus{ids[0]: schema.StatusFilled, ids[1]: want}, map[string]string{ids[0]: "0.5"})
			orders.mu.Lock()
			for k, n := range orders.trades {
				assert.Equal(t, 1, n, "fill %s reported %d times", k, n)
			}
			t.Logf("%s: %d fills, %d reconciled reports", path, len(orders.trades), orders.recon)
			orders.mu.Unlock()
		})
	}
}

var _ = errors.Is
