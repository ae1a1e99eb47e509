package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// placeMarketBuy places a market buy of qty BTC-USDT, which the simulated
// venue fills in two.
func placeMarketBuy(ctx context.Context, t *testing.T, s *session.Session, id, qty string) {
	t.Helper()
	req, err := s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.ClientOrderID, req.Side, req.Type = "BTC-USDT", schema.MustID(id), schema.SideBuy, schema.OrderTypeMarket
	req.Qty = schema.MustParseDecimal(qty)
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
}

// TestOnExecReport: execution reports reach the host as pooled
// ExecReports, in order; one the host keeps is named by Close's leak check.
func TestOnExecReport(t *testing.T) {
	v := startVenue(t)
	reports := make(chan *schema.ExecReport, 64)
	s, err := session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), OnExecReport: func(r *schema.ExecReport) { reports <- r }})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	placeMarketBuy(ctx, t, s, "mkt-1", "0.02")
	want := []schema.OrderStatus{schema.StatusNew, schema.StatusPartiallyFilled, schema.StatusFilled}
	var kept *schema.ExecReport
	for i, st := range want {
		r := <-reports
		require.NoError(t, r.Validate())
		assert.Equal(t, schema.VenueBinance, r.Venue)
		assert.Equal(t, "BTC-USDT", r.Symbol)
		assert.Equal(t, "mkt-1", r.ClientOrderID.String())
		assert.Equal(t, st, r.Status)
		assert.Positive(t, r.IngestTS)
		if i == len(want)-1 {
			kept = r // never returned
			continue
		}
		s.Pools().Execs.Put(r)
	}
	require.NotNil(t, kept)
	// Close waits this long for the kept report, then names it.
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelClose()
	err = s.Close(closeCtx)
	require.Error(t, err, "the kept report is a leak")
	assert.Contains(t, err.Error(), "execs")
	s.Pools().Execs.Put(kept)
}

// TestOnAccount: a fill on the venue moves the account, and the session's
// host sees it: after the fill's execution report, the balances of the
// symbol's two assets as the venue holds them, the last of each venue
// message with Index = Count − 1; a deposit arrives as a delta, then the
// asset's balance.
func TestOnAccount(t *testing.T) {
	v := startVenue(t)
	account := make(chan *schema.CanonicalEvent, 64)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), OnAccount: func(ev *schema.CanonicalEvent) { account <- ev }})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	waitConnected(t, s)
	placeMarketBuy(ctx, t, s, "mkt-acct", "0.02")

	recv := func() *schema.CanonicalEvent {
		t.Helper()
		select {
		case ev := <-account:
			require.NoError(t, ev.Validate())
			return ev
		case <-ctx.Done():
			t.Fatal("no account update")
			return nil
		}
	}
	var btc schema.Balance
	for fill := 0; fill < 2; fill++ { // a partial fill, then the rest
		for i := uint32(0); i < 2; i++ {
			ev := recv()
			require.Equal(t, schema.EventBalance, ev.Type)
			b := ev.Balance
			require.NotNil(t, b, "an account update carries its Balance")
			assert.Equal(t, schema.BalanceSnapshot, b.Kind)
			assert.Equal(t, [2]uint32{i, 2}, [2]uint32{b.Index, b.Count})
			assert.Positive(t, b.UpdateTime)
			if b.Asset.String() == "BTC" {
				btc = *b
			}
		}
	}
	free, locked := v.Balance("BTC")
	assert.Equal(t, free, btc.Free.String(), "the host holds what the venue holds")
	assert.Equal(t, locked, btc.Locked.String())

	require.NoError(t, v.Deposit("USDT", "250.5"))
	ev := recv()
	assert.Equal(t, schema.BalanceDelta, ev.Balance.Kind)
	assert.Equal(t, "USDT", ev.Balance.Asset.String())
	assert.Equal(t, "250.50000000", ev.Balance.Delta.String())
	ev = recv()
	assert.Equal(t, schema.BalanceSnapshot, ev.Balance.Kind)
	usdt, _ := v.Balance("USDT")
	assert.Equal(t, usdt, ev.Balance.Free.String())
	assert.Zero(t, s.Stats().Orders.Parser.Unknown, "nothing of the user-data stream is unknown")
	assert.Zero(t, s.Stats().Orders.Parser.Errors)
}
