package schema_test

// Adversarial tests, third round, from the documentation and the exported
// API only: an ID reused for a shorter identifier, decimal text of every
// shape against math/big, and Validate's documented rules.

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// An ID is a value compared with == (examples/bot matches an execution
// report to its ack with x.ClientOrderID == ack.ClientOrderID) and used as
// a map key. An ID set again to a shorter identifier — decoded into a
// reused struct, as the venue parsers do — must equal a fresh ID of the
// same identifier, whatever it held before.
func TestAdversarial3IDReusedForAShorterOne(t *testing.T) {
	t.Parallel()
	fresh := schema.MustID("ab")
	for name, set := range map[string]func(id *schema.ID){
		"Set":           func(id *schema.ID) { require.NoError(t, id.Set("ab")) },
		"SetBytes":      func(id *schema.ID) { require.NoError(t, id.SetBytes([]byte("ab"))) },
		"UnmarshalText": func(id *schema.ID) { require.NoError(t, id.UnmarshalText([]byte("ab"))) },
	} {
		var id schema.ID
		require.NoError(t, id.Set("abcdef-0123456789"))
		set(&id)
		require.True(t, id == fresh, "%s: %q == %q is false after a longer id", name, id.String(), fresh.String())
		m := map[schema.ID]int{fresh: 1}
		require.Equal(t, 1, m[id], "%s: map lookup", name)
	}
	var num schema.ID
	num.SetUint(123456789)
	num.SetUint(7)
	require.True(t, num == schema.MustID("7"), "SetUint after a longer number")
	// A too-long identifier leaves the ID empty: equal to the zero ID.
	var long schema.ID
	require.NoError(t, long.Set("abc"))
	require.ErrorIs(t, long.Set(strings.Repeat("x", 48)), schema.ErrIDTooLong)
	require.True(t, long == schema.ID{})
	// Decoded by goccy's v2 API into a reused struct, as a parser does.
	var msg struct {
		C schema.ID `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"c":"order-000123"}`), &msg))
	require.NoError(t, json.Unmarshal([]byte(`{"c":"ab"}`), &msg))
	require.True(t, msg.C == fresh, "decoded into a reused struct: %q", msg.C.String())
}

// decimalText draws decimal text of every shape a venue or a host might
// send: signs, leading and trailing zeros, a point at either end, and
// exponents of both signs.
func decimalText(rng *rand.Rand) string {
	var b strings.Builder
	switch rng.IntN(4) {
	case 0:
		b.WriteByte('-')
	case 1:
		b.WriteByte('+')
	}
	digits := func(n int) {
		for range n {
			if rng.IntN(3) == 0 {
				b.WriteByte('0')
			} else {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
	}
	in, fr := rng.IntN(21), rng.IntN(21)
	if in+fr == 0 {
		in = 1
	}
	digits(in)
	if fr > 0 || rng.IntN(4) == 0 {
		b.WriteByte('.')
		digits(fr)
	}
	if rng.IntN(3) == 0 {
		b.WriteByte("eE"[rng.IntN(2)])
		switch rng.IntN(3) {
		case 0:
			b.WriteByte('-')
		case 1:
			b.WriteByte('+')
		}
		b.WriteString(big.NewInt(int64(rng.IntN(30))).String())
	}
	return b.String()
}

// Any text math/big reads as a number parses to exactly its value, or
// fails with a documented reason that holds: more than MaxScale digits
// after the point (ErrDecimalPrecision), or a mantissa beyond ±(2^63-1)
// at the scale the text gives (ErrDecimalOverflow). It keeps the digits
// sent when they fit, and drops only trailing zeros after the point when
// they do not. Parsed, it formats to
// text that parses back to identical digits.
func TestAdversarial3ParseAgainstBig(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 33))
	for range volume(200000) {
		s := decimalText(rng)
		want, ok := new(big.Rat).SetString(s)
		require.True(t, ok, "oracle refused %q", s)
		d, err := schema.ParseDecimal(s)
		// The scale the text gives: digits after the point less the
		// exponent, at least 0.
		mant, scale := textMantissa(s)
		if err != nil {
			switch {
			case errors.Is(err, schema.ErrDecimalPrecision):
				require.Greater(t, scale, schema.MaxScale, "%q: precision error at scale %d", s, scale)
			case errors.Is(err, schema.ErrDecimalOverflow):
				require.Positive(t, new(big.Int).Abs(mant).Cmp(big.NewInt(math.MaxInt64)), "%q: overflow for mantissa %v", s, mant)
			default:
				t.Fatalf("%q: unexpected error %v", s, err)
			}
			continue
		}
		require.Zero(t, ratOf(d).Cmp(want), "%q parsed to %s", s, d)
		if scale <= schema.MaxScale && new(big.Int).Abs(mant).Cmp(big.NewInt(math.MaxInt64)) <= 0 {
			require.Equal(t, max(scale, 0), d.Scale(), "%q keeps the digits sent", s)
		} else {
			// The digits as sent do not fit: the trailing zeros after the
			// point are dropped, and nothing else (the value is checked
			// above).
			require.True(t, d.Identical(d.Canonical()), "%q: only trailing zeros dropped, all of them: %s", s, d)
		}
		back, err := schema.ParseDecimal(d.String())
		require.NoError(t, err, "%q formatted as %q", s, d.String())
		require.True(t, back.Identical(d), "%q → %q → %q", s, d.String(), back.String())
		bb, err := schema.ParseDecimalBytes([]byte(s))
		require.NoError(t, err)
		require.True(t, bb.Identical(d))
	}
}

// textMantissa returns the integer the text's digits spell and the scale
// they are at (digits after the point less the exponent), the mantissa
// multiplied up when that scale is negative, as "1e3" is 1000 at scale 0.
func textMantissa(s string) (*big.Int, int) {
	s = strings.TrimLeft(s, "+-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, ok := new(big.Int).SetString(strings.TrimPrefix(s[i+1:], "+"), 10)
		if !ok {
			panic(s)
		}
		exp = int(e.Int64())
		s = s[:i]
	}
	scale := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		scale = len(s) - i - 1
		s = s[:i] + s[i+1:]
	}
	m, _ := new(big.Int).SetString(s, 10)
	scale -= exp
	if scale < 0 && m.Sign() != 0 {
		m.Mul(m, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
	}
	return m, scale
}

// Cmp, Equal, IsZero and Sign across scales agree with math/big, negative
// zero included, and Identical means same value and same scale.
func TestAdversarial3CompareAcrossScales(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 55))
	for range volume(100000) {
		a, b := randDecimal(rng), randDecimal(rng)
		if rng.IntN(4) == 0 {
			// The same value at another scale, when it fits.
			if up := b.Scale() + 1 + rng.IntN(3); up <= schema.MaxScale {
				if m := new(big.Int).Mul(big.NewInt(a.Mantissa()), big.NewInt(int64(math.Pow10(max(0, up-a.Scale()))))); up >= a.Scale() && m.IsInt64() && m.Int64() != math.MinInt64 {
					b = schema.NewDecimal(m.Int64(), up)
				}
			}
		}
		ra, rb := ratOf(a), ratOf(b)
		require.Equal(t, ra.Cmp(rb), a.Cmp(b), "%s vs %s", a, b)
		require.Equal(t, rb.Cmp(ra), b.Cmp(a), "%s vs %s", b, a)
		require.Equal(t, ra.Cmp(rb) == 0, a.Equal(b), "%s = %s", a, b)
		require.Equal(t, ra.Cmp(rb) == 0 && a.Scale() == b.Scale(), a.Identical(b), "%s ≡ %s", a, b)
		require.Equal(t, ra.Sign(), a.Sign())
		require.Equal(t, ra.Sign() == 0, a.IsZero())
	}
	for _, z := range []string{"-0", "-0.000", "+0e5", "-0.0e-3", "0"} {
		d, err := schema.ParseDecimal(z)
		require.NoError(t, err, z)
		require.True(t, d.IsZero(), z)
		require.Zero(t, d.Sign(), z)
		require.False(t, strings.HasPrefix(d.String(), "-"), "%q formats as %q: negative zero", z, d.String())
		require.Zero(t, d.Cmp(schema.Decimal{}), z)
	}
}

// An order is unambiguous: Validate refuses fields the order's type does
// not use, as it does a price on a market order ("only limit orders take a
// price"), since an encoder would drop them silently and the venue would
// execute something else than the host meant — a market buy with Qty 1
// and QuoteQty 100 is sent as "quantity=1" (Binance), 1 BTC rather than
// 100 USDT.
func TestAdversarial3OrderValidateRefusesAmbiguity(t *testing.T) {
	t.Parallel()
	d := schema.MustParseDecimal
	base := func() *schema.OrderRequest {
		return &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeMarket, Qty: d("1")}
	}
	for _, tc := range []struct {
		name  string
		edit  func(o *schema.OrderRequest)
		field string // "" valid
	}{
		{"market by qty", func(o *schema.OrderRequest) {}, ""},
		{"market by quote qty", func(o *schema.OrderRequest) { o.Qty, o.QuoteQty = schema.Decimal{}, d("100") }, ""},
		{"market with both sizes", func(o *schema.OrderRequest) { o.QuoteQty = d("100") }, "QuoteQty"},
		{"limit with a quote qty", func(o *schema.OrderRequest) {
			o.Type, o.Price, o.QuoteQty = schema.OrderTypeLimit, d("65000"), d("100")
		}, "QuoteQty"},
		{"limit with a stop price", func(o *schema.OrderRequest) {
			o.Type, o.Price, o.StopPrice = schema.OrderTypeLimit, d("65000"), d("64000")
		}, "StopPrice"},
		{"market with a stop price", func(o *schema.OrderRequest) { o.StopPrice = d("64000") }, "StopPrice"},
		{"stop loss limit", func(o *schema.OrderRequest) {
			o.Type, o.Price, o.StopPrice = schema.OrderTypeStopLossLimit, d("65000"), d("64000")
		}, ""},
		{"stop loss market", func(o *schema.OrderRequest) { o.Type, o.StopPrice = schema.OrderTypeStopLoss, d("64000") }, ""},
		{"negative stop price on a limit", func(o *schema.OrderRequest) {
			o.Type, o.Price, o.StopPrice = schema.OrderTypeLimit, d("65000"), d("-1")
		}, "StopPrice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.edit(o)
			err := o.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, schema.ErrInvalid)
			require.Contains(t, err.Error(), tc.field)
		})
	}
}

// A time in force no venue knows (a value past the last constant, from a
// host's own mapping gone wrong) is refused, as an unknown side or type
// is: the encoders would send it as GTC, their default (Binance), and the
// order would rest on the book instead of being immediate-or-cancel.
func TestAdversarial3OrderValidateRefusesUnknownTIF(t *testing.T) {
	t.Parallel()
	o := &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit,
		Qty: schema.MustParseDecimal("1"), Price: schema.MustParseDecimal("100")}
	for _, tif := range []schema.TimeInForce{schema.TIFUnknown, schema.TIFGTC, schema.TIFIOC, schema.TIFFOK, schema.TIFGTX} {
		o.TimeInForce = tif
		require.NoError(t, o.Validate(), tif.String())
	}
	for _, tif := range []schema.TimeInForce{schema.TIFGTX + 1, 99, 255} {
		o.TimeInForce = tif
		err := o.Validate()
		require.ErrorIs(t, err, schema.ErrInvalid, "TimeInForce(%d)", tif)
		require.Contains(t, err.Error(), "TimeInForce")
	}
}
