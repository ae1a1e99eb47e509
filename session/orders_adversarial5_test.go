package session_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestAdv5BinanceUnexpressibleRefusedFirst: an order Binance's WS API
// cannot express (spot has no reduce-only; a post-only order cannot be IOC,
// "Place new order": LIMIT_MAKER takes no timeInForce; a client order id
// outside ^[.A-Z:/a-z0-9_-]{1,36}$) is normalize.ErrUnsupported or
// ErrBadValue at once, as OKX's, Bybit's and Kraken's are — not after the
// wait for the connection, where a caller whose ctx had ended got
// ErrNotSent with ctx's error and never learnt the order could not be
// placed at all. Nothing reaches the venue.
func TestAdv5BinanceUnexpressibleRefusedFirst(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		edit func(*schema.OrderRequest)
		want error
	}{
		{"reduce-only", func(o *schema.OrderRequest) { o.ReduceOnly = true }, normalize.ErrUnsupported},
		{"post-only IOC", func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFIOC }, normalize.ErrUnsupported},
		{"client id of 37", func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("a234567890123456789012345678901234567") }, normalize.ErrBadValue},
		{"client id with a space", func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("a b") }, normalize.ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := limitOrder(s, t, "adv5-x", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req)
			tc.edit(req)
			_, err := s.Place(ended, req)
			require.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, session.ErrNotSent)
		})
	}
	// Binance's alphabet, 36 characters: accepted by the session and the venue.
	ctx, cancel2 := context.WithTimeout(context.Background(), generous)
	defer cancel2()
	req := limitOrder(s, t, "A.b:c/d_e-f0123456789012345678901234", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), v.Stats().Orders)
}
