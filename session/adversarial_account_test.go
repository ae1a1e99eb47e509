package session_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// account follows the balance events OnAccount receives.
type account struct {
	mu       sync.Mutex
	messages uint64 // venue messages complete (the event with Index = Count − 1)
	free     map[string]schema.Decimal
	locked   map[string]schema.Decimal
	deltas   []string // "ASSET delta", in order
}

func (a *account) on(ev *schema.CanonicalEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ev.Type != schema.EventBalance {
		return
	}
	b := ev.Balance
	switch b.Kind {
	case schema.BalanceSnapshot:
		a.free[b.Asset.String()], a.locked[b.Asset.String()] = b.Free, b.Locked
	case schema.BalanceDelta:
		a.deltas = append(a.deltas, b.Asset.String()+" "+b.Delta.String())
	}
	if b.Index+1 == b.Count {
		a.messages++
	}
}

// settled waits until the last snapshot of each asset is the venue's
// balance, exactly, and every account message the venue sent has
// arrived whole (the venue counts a message just before it sends it, so
// both must hold together).
func (a *account) settled(t *testing.T, v *venuesim.Venue, assets ...string) {
	t.Helper()
	same := func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.messages != v.Stats().AccountUpdates {
			return false
		}
		for _, asset := range assets {
			free, locked := v.Balance(asset)
			if schema.MustParseDecimal(free).Cmp(a.free[asset]) != 0 || schema.MustParseDecimal(locked).Cmp(a.locked[asset]) != 0 {
				return false
			}
		}
		return true
	}
	if !assert.Eventually(t, same, generous, pollEvery) {
		for _, asset := range assets {
			free, locked := v.Balance(asset)
			t.Logf("%s: venue %s/%s, events %s/%s", asset, free, locked, a.free[asset], a.locked[asset])
		}
	}
}

// TestAdvBalances: deposits, withdrawals, a resting order's lock, its
// cancel's release and a market order's fills each reach OnAccount, and
// the balances they give are the venue's own, to the last digit.
func TestAdvBalances(t *testing.T) {
	v := startVenue(t)
	acct := &account{free: map[string]schema.Decimal{}, locked: map[string]schema.Decimal{}}
	var s *session.Session
	s = start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools(), OnAccount: acct.on,
		OnExecReport: func(r *schema.ExecReport) { s.Pools().Execs.Put(r) }})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	require.NoError(t, v.Deposit("USDT", "250.5"))
	require.NoError(t, v.Deposit("BTC", "-0.00000001"))
	acct.settled(t, v, "USDT", "BTC")
	assert.Equal(t, []string{"USDT 250.50000000", "BTC -0.00000001"}, acct.deltas)

	req := limitOrder(s, t, "rest-1", "buy", "1000.00", "0.5")
	_, err := s.Place(ctx, req)
	require.NoError(t, err)
	acct.settled(t, v, "USDT", "BTC")
	assert.Equal(t, "500.00000000", acct.locked["USDT"].String(), "the resting buy locks price × quantity")

	req.OrigClientOrderID = req.ClientOrderID
	_, err = s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	acct.settled(t, v, "USDT", "BTC")
	assert.Zero(t, acct.locked["USDT"].Sign(), "the cancel releases it")

	req = limitOrder(s, t, "mkt-1", "buy", "1", "0.01")
	req.Type, req.TimeInForce, req.Price = schema.OrderTypeMarket, schema.TIFUnknown, schema.Decimal{}
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	acct.settled(t, v, "USDT", "BTC")
	want := schema.MustParseDecimal("1000000.00998999") // + 0.01 − 0.1 % fee (0.00001) − the withdrawn 0.00000001
	assert.Zero(t, want.Cmp(acct.free["BTC"]), "BTC free %s", acct.free["BTC"])
}
