package schema_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A notional (price × quantity) of a meme coin has more digits after the
// point than a Decimal keeps: a Kraken price of 0.000012345678 (12
// decimals) times a quantity of 1234.56789012 (8) is exact at 20, so Mul
// refuses it (ErrDecimalPrecision) and a caller that needs the notional
// has no exact-then-rounded way to it, as Div gives for a quotient.
// MulRound is that way: the exact product, rounded once by mode to scale.
func TestS24MulRoundMemeNotional(t *testing.T) {
	t.Parallel()
	p, q := schema.MustParseDecimal("0.000012345678"), schema.MustParseDecimal("1234.56789012")
	_, err := p.Mul(q)
	require.ErrorIs(t, err, schema.ErrDecimalPrecision)
	// exact: 0.01524157764056090136
	for _, tc := range []struct {
		scale int
		mode  schema.RoundingMode
		want  string
	}{
		{8, schema.RoundDown, "0.01524157"},
		{8, schema.RoundHalfEven, "0.01524158"},
		{18, schema.RoundHalfEven, "0.015241577640560901"},
		{18, schema.RoundUp, "0.015241577640560902"},
		{2, schema.RoundCeiling, "0.02"},
		{0, schema.RoundDown, "0"},
	} {
		got, err := p.MulRound(q, tc.scale, tc.mode)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got.String(), "scale %d %v", tc.scale, tc.mode)
	}
	neg, err := p.Neg().MulRound(q, 8, schema.RoundFloor)
	require.NoError(t, err)
	assert.Equal(t, "-0.01524158", neg.String())
	wide, err := schema.MustParseDecimal("1.5").MulRound(schema.MustParseDecimal("2"), 4, schema.RoundDown)
	require.NoError(t, err)
	assert.Equal(t, "3.0000", wide.String(), "a scale above the product's pads it")

	_, err = p.MulRound(q, 19, schema.RoundDown)
	require.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = p.MulRound(q, -1, schema.RoundDown)
	require.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = p.MulRound(q, 2, schema.RoundingMode(99))
	require.ErrorIs(t, err, schema.ErrDecimalRounding)
	huge := schema.NewDecimal(9_000_000_000_000_000_000, 0)
	_, err = huge.MulRound(huge, 0, schema.RoundDown)
	require.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_, err = schema.NewDecimal(1, 0).MulRound(huge, 1, schema.RoundDown)
	require.ErrorIs(t, err, schema.ErrDecimalOverflow, "9e18 at scale 1 does not fit")
}

func TestS24MulRoundAgainstBig(t *testing.T) {
	t.Parallel()
	rng := propertyRNG(t)
	for range 10_000 {
		a, b := randDecimal(rng), randDecimal(rng)
		scale := rng.IntN(schema.MaxScale + 1)
		// a·b·10^scale = am·bm·10^scale / 10^(as+bs)
		num := new(big.Int).Mul(new(big.Int).Mul(big.NewInt(a.Mantissa()), big.NewInt(b.Mantissa())), pow10Big(scale))
		den := pow10Big(a.Scale() + b.Scale())
		for _, mode := range modes {
			got, err := a.MulRound(b, scale, mode)
			checkRounded(t, got, err, roundRef(num, den, mode), scale, a.String()+" × "+b.String()+" "+mode.String())
		}
		// Where Mul is exact and the scale holds it, MulRound agrees.
		if p, err := a.Mul(b); err == nil && p.Scale() <= scale {
			got, err := a.MulRound(b, scale, schema.RoundDown)
			if err == nil {
				require.True(t, got.Equal(p), "%v × %v: %v and %v", a, b, got, p)
			}
		}
	}
}

func TestS24MulRoundDoesNotAllocate(t *testing.T) { // not parallel: it counts allocations
	p, q := schema.MustParseDecimal("0.000012345678"), schema.MustParseDecimal("1234.56789012")
	var sink schema.Decimal
	allocs := testing.AllocsPerRun(100, func() { sink, _ = p.MulRound(q, 8, schema.RoundHalfEven) })
	assert.Zero(t, allocs)
	_ = sink
}

func FuzzS24MulRoundAgainstBig(f *testing.F) {
	f.Add(int64(12345678), uint8(12), int64(123456789012), uint8(8), uint8(8), uint8(5))
	f.Add(int64(9223372036854775807), uint8(18), int64(-9223372036854775807), uint8(18), uint8(0), uint8(4))
	f.Add(int64(-5), uint8(1), int64(1), uint8(0), uint8(0), uint8(4))
	f.Fuzz(func(t *testing.T, am int64, as uint8, bm int64, bs uint8, scale, mode uint8) {
		if am == math.MinInt64 || bm == math.MinInt64 {
			return
		}
		a := schema.NewDecimal(am, int(as)%(schema.MaxScale+1))
		b := schema.NewDecimal(bm, int(bs)%(schema.MaxScale+1))
		sc := int(scale) % (schema.MaxScale + 1)
		m := modes[int(mode)%len(modes)]
		num := new(big.Int).Mul(new(big.Int).Mul(big.NewInt(a.Mantissa()), big.NewInt(b.Mantissa())), pow10Big(sc))
		den := pow10Big(a.Scale() + b.Scale())
		got, err := a.MulRound(b, sc, m)
		checkRounded(t, got, err, roundRef(num, den, m), sc, a.String()+" × "+b.String()+" "+m.String())
	})
}
