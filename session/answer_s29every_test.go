package session_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS29EveryHandshakeWaitEnds: every wait of the session for a venue's
// answer before orders may go — OKX's login, Bybit's auth, each venue's
// first private subscription, Binance's user-data subscription — ends,
// unanswered, after 10 s on Client.Clock: typed (a *LoginError wrapping
// ErrNoAnswer, naming its step), and counted (OrderStats.Refused, once).
// Before, Binance's unanswered (or refused) user-data subscription was
// counted nowhere.
func TestS29EveryHandshakeWaitEnds(t *testing.T) {
	login := map[schema.Venue][]byte{schema.VenueOKX: []byte(`"op":"login"`), schema.VenueBybit: []byte(`"op":"auth"`)}
	firstSub := map[schema.Venue][]byte{schema.VenueOKX: []byte(`"orders"`), schema.VenueBybit: []byte(`"order"`),
		schema.VenueKraken: []byte(`"executions"`), schema.VenueCoinbase: []byte(`"user"`)}
	check := func(t *testing.T, s *session.Session, venue schema.Venue, step string, err error) {
		t.Helper()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			err = s.WaitConnected(ctx)
		}
		require.ErrorIs(t, err, session.ErrNoAnswer)
		var le *session.LoginError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, venue, le.Venue)
		assert.Equal(t, step, le.Step)
		st := s.Stats().Order
		assert.Equal(t, uint64(1), st.Refused, "counted")
	}
	for _, c := range privateCases(t) {
		for _, isLogin := range []bool{true, false} {
			if isLogin && login[c.venue] == nil {
				continue // Kraken and Coinbase: the subscription is the login
			}
			name := map[bool]string{true: "login", false: "subscribe"}[isLogin]
			t.Run(string(c.venue)+"/"+name, func(t *testing.T) {
				f := newFakePrivate(t, c.venue, c.pushes)
				var mu sync.Mutex
				lost := 0
				f.alter = func(_ int, msg []byte, replies []string) []string {
					match := firstSub[c.venue]
					if isLogin {
						match = login[c.venue]
					}
					if !bytes.Contains(msg, match) {
						return replies
					}
					mu.Lock()
					defer mu.Unlock()
					if lost++; lost > 1 {
						return replies
					}
					return nil // the first's answer lost
				}
				lostN := func() int {
					mu.Lock()
					defer mu.Unlock()
					return lost
				}
				clk := newManualClock()
				cfg := c.config(f, time.Now)
				cfg.Client.Clock = clk
				cfg.Pools = schema.NewPools(nil)
				cfg.OnExecReport = func(r *schema.ExecReport) { cfg.Pools.Execs.Put(r) }
				s := start(t, cfg)
				require.Eventually(t, func() bool { return lostN() >= 1 }, generous, pollEvery, "the request sent")
				clk.fireUntil(t, 10*time.Second, func() bool { return s.Stats().Order.Refused > 0 }, "the wait ends after 10 s on the clock")
				check(t, s, c.venue, name, nil)
			})
		}
	}
	t.Run("binance/subscribe", func(t *testing.T) {
		v := startVenue(t)
		v.HoldUserData(true)
		t.Cleanup(func() { v.HoldUserData(false) })
		clk := newManualClock()
		cfg := session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
			Credentials: credentials(), Client: fastRedial, NoClockSync: true}
		cfg.Client.Clock = clk
		s := start(t, cfg)
		require.Eventually(t, func() bool { return v.HeldUserData() >= 1 }, generous, pollEvery, "the subscription sent")
		var err error // WaitConnected returns each refusal once (s34sess): the one seen here is checked
		clk.fireUntil(t, 10*time.Second, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			err = s.WaitConnected(ctx)
			return errors.Is(err, session.ErrNoAnswer)
		}, "the wait ends after 10 s on the clock")
		check(t, s, schema.VenueBinance, "subscribe", err)
	})
}

// TestS29EveryOrderWaitEnds: an order request written on a connection
// that stays up, whose answer never comes, ends after
// Config.OrderAnswerTimeout on Client.Clock (30 s by default) with an
// error wrapping ErrNoAnswer (sent: not ErrNotSent; its request id in the
// Ack), counted in OrderStats.TimedOut, on every venue with order calls.
// Before, only the caller's ctx ended it: a Place under a ctx without a
// deadline waited for good.
func TestS29EveryOrderWaitEnds(t *testing.T) {
	fire := func(t *testing.T, clk *manualClock, done <-chan placed) placed {
		t.Helper()
		var p placed
		clk.fireUntil(t, session.DefaultOrderAnswerTimeout, func() bool {
			select {
			case p = <-done:
				return true
			default:
				return false
			}
		}, "the order's wait ends after 30 s on the clock")
		return p
	}
	check := func(t *testing.T, s *session.Session, p placed) {
		t.Helper()
		require.ErrorIs(t, p.err, session.ErrNoAnswer)
		assert.NotErrorIs(t, p.err, session.ErrNotSent)
		assert.NotZero(t, p.ack.RequestID)
		st := s.Stats().Order
		assert.Equal(t, uint64(1), st.TimedOut)
		assert.Zero(t, st.Pending)
	}
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			clk := newManualClock()
			s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock = clk })
			waitConnected(t, s)
			f.setScript(func(orderSeen) ([]string, bool) { return nil, false }) // never answered
			done := make(chan placed, 1)
			go func() {
				ack, err := place(t, s, context.Background(), "lost1")
				done <- placed{ack, err}
			}()
			check(t, s, fire(t, clk, done))
		})
	}
	t.Run("binance", func(t *testing.T) {
		a := newScriptedAPI(t)
		v := startVenue(t)
		ep := endpoints(v)
		ep.API = a.url
		clk := newManualClock()
		cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
			Credentials: credentials(), Client: fastRedial, NoClockSync: true}
		cfg.Client.Clock = clk
		s := start(t, cfg)
		waitConnected(t, s)
		req := limitOrder(s, t, "lost1", "buy", "1000.00", "0.5")
		defer s.Pools().Orders.Put(req)
		done := make(chan placed, 1)
		go func() {
			ack, err := s.Place(context.Background(), req)
			done <- placed{ack, err}
		}()
		a.next(t) // written, never answered
		check(t, s, fire(t, clk, done))
	})
}

type placed struct {
	ack session.Ack
	err error
}
