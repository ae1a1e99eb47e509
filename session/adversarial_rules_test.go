package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestAdvPlaceRefusesOffRuleOrders: every order that breaks one of the
// instrument's rules (the simulated BTCUSDT: tick 0.01 from 0.01 up to
// 10,000,000; step 0.00001 from 0.00001 up to 9000; notional 5 to
// 100,000,000), or is no order at all, is refused before it leaves — the
// venue sees none of them — with the rule it broke; an order on the rules
// in a longer spelling (trailing zeros) goes through.
func TestAdvPlaceRefusesOffRuleOrders(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	for _, tc := range []struct {
		name, side, price, qty string
		typ                    schema.OrderType
		field, rule            string // a *normalize.RuleError's; "" for a validation error
	}{
		{"price off tick", "buy", "1000.005", "0.5", schema.OrderTypeLimit, "Price", "tick size"},
		{"price off tick by 1e-12", "sell", "1000.000000000001", "0.5", schema.OrderTypeLimit, "Price", "tick size"},
		{"qty off step by 1e-18", "sell", "1000.00", "0.500000000000000001", schema.OrderTypeLimit, "Qty", "step size"},
		{"price under min", "buy", "0.001", "10000", schema.OrderTypeLimit, "Price", "min"},
		{"tiny price", "buy", "0.000000000000000001", "1", schema.OrderTypeLimit, "Price", "min"},
		{"price over max", "sell", "10000000.01", "0.5", schema.OrderTypeLimit, "Price", "max"},
		{"huge price", "sell", "92233720368.54775807", "1", schema.OrderTypeLimit, "Price", "max"},
		{"qty off step", "buy", "1000.00", "0.500001", schema.OrderTypeLimit, "Qty", "step size"},
		{"qty under min", "buy", "1000.00", "0.000001", schema.OrderTypeLimit, "Qty", "min"},
		{"qty over max", "buy", "1.00", "9000.00001", schema.OrderTypeLimit, "Qty", "max"},
		{"market qty off step", "buy", "", "0.123456", schema.OrderTypeMarket, "Qty", "step size"},
		{"notional under min", "buy", "1000.00", "0.004", schema.OrderTypeLimit, "Notional", "min"},
		{"notional just under min", "buy", "4999.99", "0.001", schema.OrderTypeLimit, "Notional", "min"},
		{"notional over max", "sell", "9999999.99", "10.5", schema.OrderTypeLimit, "Notional", "max"},
		{"negative price", "buy", "-1000.00", "0.5", schema.OrderTypeLimit, "", ""},
		{"negative qty", "buy", "1000.00", "-0.5", schema.OrderTypeLimit, "", ""},
		{"zero qty", "buy", "1000.00", "0", schema.OrderTypeLimit, "", ""},
		{"market with a price", "buy", "1000.00", "0.5", schema.OrderTypeMarket, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := limitOrder(s, t, "rule-x", tc.side, "1", "1")
			defer s.Pools().Orders.Put(req)
			req.Type = tc.typ
			if tc.typ == schema.OrderTypeMarket {
				req.TimeInForce = schema.TIFUnknown
			}
			req.Price = schema.Decimal{}
			if tc.price != "" {
				req.Price = schema.MustParseDecimal(tc.price)
			}
			req.Qty = schema.MustParseDecimal(tc.qty)
			_, err := s.Place(ctx, req)
			require.Error(t, err)
			var rerr *normalize.RuleError
			if tc.field == "" {
				assert.False(t, errors.As(err, &rerr), "refused as no order at all, before the rules: %v", err)
				return
			}
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, tc.field, rerr.Field)
			assert.Equal(t, tc.rule, rerr.Rule)
			assert.Equal(t, "BTC-USDT", rerr.Symbol)
		})
	}
	st := v.Stats()
	assert.Zero(t, st.Orders+st.Rejected, "nothing reached the venue")
	assert.Zero(t, s.Stats().Order.Sent)

	// On the rules, spelt with trailing zeros: accepted by the session
	// and by the venue.
	req := limitOrder(s, t, "rule-ok", "buy", "1000.0000", "0.50000")
	defer s.Pools().Orders.Put(req)
	ack, err := s.Place(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, schema.StatusNew, ack.Status)

	// Rounded with the venue's rules, an order off them goes through.
	rules, ok := s.Rules("BTC-USDT")
	require.True(t, ok)
	req.ClientOrderID = schema.MustID("rule-rounded")
	req.Price, req.Qty = schema.MustParseDecimal("1000.0099999"), schema.MustParseDecimal("0.0123456789")
	require.NoError(t, rules.Round(req))
	assert.Equal(t, "1000.00000000", req.Price.String(), "a buy's price rounds down")
	assert.Equal(t, "0.01234000", req.Qty.String())
	_, err = s.Place(ctx, req)
	require.NoError(t, err)

	// A symbol the venue does not list is refused before it leaves too.
	req.Symbol = "XRP-USDT"
	_, err = s.Place(ctx, req)
	require.ErrorIs(t, err, session.ErrConfig)
}
