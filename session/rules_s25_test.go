package session_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS25MaxNumOrders: Binance's MAX_NUM_ORDERS ("the maximum number of
// orders an account is allowed to have open on a symbol", spot "Filters")
// is the session's to apply, as it follows the account's open orders: a
// Place that would open one more than the filter allows is a
// *normalize.RuleError (Field "OpenOrders", Rule "max") and reaches no
// venue (which would answer -2010 "Filter failure: MAX_NUM_ORDERS"); once
// an order ends, the next Place goes.
func TestS25MaxNumOrders(t *testing.T) {
	v := startVenue(t)
	ep := endpoints(v)
	ep.REST = exchangeInfoProxy(t, ep.REST, func(body string) string {
		return strings.ReplaceAll(body, `"filters":[`, `"filters":[{"filterType":"MAX_NUM_ORDERS","maxNumOrders":2},`)
	})
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	// The local check applies once the open orders are read (s27sess:
	// before, an order counted as working may have ended); on a loaded
	// machine that read can come after the first places.
	require.Eventually(t, func() bool { return s.Stats().Order.OpenCountKnown }, generous, pollEvery)
	rules, ok := s.Rules("BTC-USDT")
	require.True(t, ok)
	require.Equal(t, 2, rules.MaxNumOrders)
	mustPlace(t, s, "mno-1")
	mustPlace(t, s, "mno-2")
	require.Eventually(t, func() bool { return s.Stats().Order.Tracked == 2 && v.Stats().Orders == 2 }, generous, pollEvery)

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "mno-3", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	var rerr *normalize.RuleError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, []string{"OpenOrders", "max"}, []string{rerr.Field, rerr.Rule})
	assert.Equal(t, "3", rerr.Value.String())
	assert.Equal(t, "2", rerr.Limit.String())
	assert.Equal(t, uint64(2), v.Stats().Orders, "the third never reached the venue")

	c := limitOrder(s, t, "mno-c", "buy", "1", "1")
	defer s.Pools().Orders.Put(c)
	c.OrigClientOrderID = schema.MustID("mno-1")
	_, err = s.Cancel(ctx, c)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Stats().Order.Tracked == 1 }, generous, pollEvery, "the cancel's report ends mno-1")
	req.ClientOrderID = schema.MustID("mno-4")
	_, err = s.Place(ctx, req)
	require.NoError(t, err, "one open: room for another")
}
