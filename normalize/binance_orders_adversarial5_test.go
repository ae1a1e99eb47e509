package normalize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestAdv5BinanceTimeInForceNotDropped: Binance spot WebSocket API, "Place
// new order": timeInForce is a parameter of LIMIT, STOP_LOSS_LIMIT and
// TAKE_PROFIT_LIMIT only; LIMIT_MAKER (post-only) rests on the book and
// MARKET fills what it can. A post-only IOC or FOK was sent as a plain
// LIMIT_MAKER — an order resting on the book where the host asked for one
// that never rests — and a FOK market order as MARKET, which fills in
// part where the host asked for all or nothing. Both are refused now, as
// OKX's, Bybit's and Kraken's encoders refuse them; what Binance can keep
// still goes out.
func TestAdv5BinanceTimeInForceNotDropped(t *testing.T) {
	enc := NewBinanceOrders(NewCredentials("k", NewHMACSigner([]byte("s"))), &OrderOptions{Now: fixedNow})
	market := func(o *schema.OrderRequest) { o.Type, o.Price = schema.OrderTypeMarket, schema.Decimal{} }
	stopMarket := func(o *schema.OrderRequest) {
		o.Type, o.Price, o.StopPrice = schema.OrderTypeStopLoss, schema.Decimal{}, dec("23000")
	}
	for _, tc := range []struct {
		name string
		edit func(o *schema.OrderRequest)
		ok   bool
	}{
		{"post-only IOC", func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFIOC }, false},
		{"post-only FOK", func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFFOK }, false},
		{"LIMIT_MAKER IOC", func(o *schema.OrderRequest) { o.Type, o.TimeInForce = schema.OrderTypeLimitMaker, schema.TIFIOC }, false},
		{"market FOK", func(o *schema.OrderRequest) { market(o); o.TimeInForce = schema.TIFFOK }, false},
		{"stop-market FOK", func(o *schema.OrderRequest) { stopMarket(o); o.TimeInForce = schema.TIFFOK }, false},
		{"market GTX", func(o *schema.OrderRequest) { market(o); o.TimeInForce = schema.TIFGTX }, false},
		{"limit GTX", func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFGTX }, false},
		{"post-only GTC", func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFGTC }, true},
		{"post-only GTX", func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFGTX }, true},
		{"market IOC (what a market order does)", func(o *schema.OrderRequest) { market(o); o.TimeInForce = schema.TIFIOC }, true},
		{"market", market, true},
		{"stop-market", stopMarket, true},
		{"limit FOK", func(o *schema.OrderRequest) { o.TimeInForce = schema.TIFFOK }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := limitOrder()
			tc.edit(o)
			require.NoError(t, o.Validate())
			_, err := enc.AppendRequest(nil, 1, o)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUnsupported)
		})
	}
}

// TestAdv5NumbersNeverInExponentForm: a price or quantity the host parsed
// from exponent form ("1E-5", "2.3416e4": what a float formatter writes)
// goes out in plain decimals on every venue — Binance refuses "1e-05"
// ("Illegal characters found in parameter 'quantity'", -1100; its filter
// docs spell the tick 0.00001000), and OKX, Bybit and Kraken take decimal
// strings or plain JSON numbers.
func TestAdv5NumbersNeverInExponentForm(t *testing.T) {
	o := okxLimit()
	o.Price, o.Qty = dec("2.34161e4"), dec("1E-5")
	bn, err := NewBinanceOrders(NewCredentials("k", NewHMACSigner([]byte("s"))), &OrderOptions{Now: fixedNow}).AppendRequest(nil, 1, o)
	require.NoError(t, err)
	ok, err := NewOKXOrders(nil).AppendRequest(nil, 2, o)
	require.NoError(t, err)
	by, err := NewBybitOrders(nil).AppendRequest(nil, 3, o, fixedNow())
	require.NoError(t, err)
	ko := krakenOrder(func(k *schema.OrderRequest) { k.Price, k.Qty = o.Price, o.Qty })
	kr, err := NewKrakenOrders(nil).AppendRequest(nil, 4, ko, "tok")
	require.NoError(t, err)
	for name, b := range map[string][]byte{"binance": bn, "okx": ok, "bybit": by, "kraken": kr} {
		s := string(b)
		require.Contains(t, s, "23416.1", name)
		require.Contains(t, s, "0.00001", name)
		require.NotContains(t, strings.ToLower(s), "e-", name)
		require.NotContains(t, strings.ToLower(s), "61e4", name)
	}
}

// TestAdv5BinanceTrailingZerosPastEightDecimals: Binance writes every
// asset with at most 8 decimals and counts the decimals a parameter is
// written with, zeros too (sonvister/Binance#101: -1100 for
// "0.0470000000000000000000000000"; veighna-global/vnpy_binance#43: -1111
// "Parameter 'quantity' has too much precision"). A quantity carried at
// the scale of a division (12 decimals) is on the step and passes the
// rules; it goes out with 8 decimals.
// The digits a host gave within 8 are kept as given (the doc's own
// example, 23416.10000000, is signed as written).
func TestAdv5BinanceTrailingZerosPastEightDecimals(t *testing.T) {
	enc := NewBinanceOrders(NewCredentials("k", NewHMACSigner([]byte("s"))), &OrderOptions{Now: fixedNow})
	o := limitOrder()
	o.Price, o.Qty = dec("23416.100000000000"), dec("0.008470000000")
	b, err := enc.AppendRequest(nil, 1, o)
	require.NoError(t, err)
	require.Contains(t, string(b), `"price":"23416.10000000"`)
	require.Contains(t, string(b), `"quantity":"0.00847000"`)
	o.Price, o.Qty = dec("23416.1"), dec("0.00847")
	b, err = enc.AppendRequest(nil, 1, o)
	require.NoError(t, err)
	require.Contains(t, string(b), `"price":"23416.1"`)
	require.Contains(t, string(b), `"quantity":"0.00847"`)
	o.Type, o.Price, o.Qty, o.QuoteQty, o.TimeInForce = schema.OrderTypeMarket, schema.Decimal{}, schema.Decimal{}, dec("100.000000000000000"), 0
	b, err = enc.AppendRequest(nil, 1, o)
	require.NoError(t, err)
	require.Contains(t, string(b), `"quoteOrderQty":"100.00000000"`)
}

// countingSigner counts its signatures.
type countingSigner struct{ n int }

func (c *countingSigner) AppendSignature(dst, _ []byte) ([]byte, error) {
	c.n++
	return append(dst, "sig"...), nil
}

// TestAdv5BinanceCheckSignsNothing: the session checks an order before it
// waits for the connection; the check says what AppendRequest would, and
// signs nothing — a host's Signer may be a remote key store, paid or rate
// limited per signature.
func TestAdv5BinanceCheckSignsNothing(t *testing.T) {
	sg := &countingSigner{}
	enc := NewBinanceOrders(NewCredentials("k", sg), &OrderOptions{Now: fixedNow})
	ok := limitOrder()
	bad := limitOrder()
	bad.ReduceOnly = true
	require.NoError(t, enc.Check(ok))
	require.ErrorIs(t, enc.Check(bad), ErrUnsupported)
	require.Zero(t, sg.n)
	_, err := enc.AppendRequest(nil, 1, ok)
	require.NoError(t, err)
	require.Equal(t, 1, sg.n)
}
