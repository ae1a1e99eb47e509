package session_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// exchangeInfoProxy serves the venue's REST with its exchangeInfo edited
// by edit (the rest passed through): a venue whose symbols carry filters
// the simulator does not.
func exchangeInfoProxy(t *testing.T, rest string, edit func(body string) string) string {
	t.Helper()
	target, err := url.Parse(rest)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/exchangeInfo" {
			proxy.ServeHTTP(w, r)
			return
		}
		resp, err := http.Get(rest + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(edit(string(body))))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAdv5MarketLotSizeBeforeSending: a symbol whose MARKET_LOT_SIZE
// allows market orders of at most 5 BTC (LOT_SIZE: 9000) and whose
// NOTIONAL applies its minimum to market orders: a 6 BTC market order and
// a market buy of 1 USDT are refused by the session with the rule they
// break, and reach no venue (Binance would answer -1013 "Filter failure:
// MARKET_LOT_SIZE" / "NOTIONAL"); a 6 BTC limit order and a 4 BTC market
// order go.
func TestAdv5MarketLotSizeBeforeSending(t *testing.T) {
	v := startVenue(t)
	ep := endpoints(v)
	ep.REST = exchangeInfoProxy(t, ep.REST, func(body string) string {
		body = strings.ReplaceAll(body, `"filters":[`, `"filters":[{"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"5.00000000","stepSize":"0.00000000"},`)
		return strings.ReplaceAll(body, `"applyMinToMarket":false`, `"applyMinToMarket":true`)
	})
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	rules, ok := s.Rules("BTC-USDT")
	require.True(t, ok)
	require.True(t, rules.MarketMaxQty.Equal(schema.MustParseDecimal("5")), "MARKET_LOT_SIZE read: %+v", rules)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	market := func(id, qty, quote string) error {
		req := limitOrder(s, t, id, "buy", "1", "1")
		defer s.Pools().Orders.Put(req)
		req.Type, req.TimeInForce, req.Price, req.Qty = schema.OrderTypeMarket, schema.TIFUnknown, schema.Decimal{}, schema.Decimal{}
		if qty != "" {
			req.Qty = schema.MustParseDecimal(qty)
		}
		if quote != "" {
			req.QuoteQty = schema.MustParseDecimal(quote)
		}
		_, err := s.Place(ctx, req)
		return err
	}
	var rerr *normalize.RuleError
	require.ErrorAs(t, market("mls-1", "6", ""), &rerr)
	assert.Equal(t, "market max", rerr.Rule)
	require.ErrorAs(t, market("mls-2", "", "1"), &rerr)
	assert.Equal(t, "QuoteQty", rerr.Field)
	assert.Zero(t, v.Stats().Orders+v.Stats().Rejected, "nothing reached the venue")

	req := limitOrder(s, t, "mls-3", "buy", "1000.00", "6")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err, "a limit order is held to LOT_SIZE only")
	require.NoError(t, market("mls-4", "4", ""))
}
