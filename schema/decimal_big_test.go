package schema_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The checks in this file hold Decimal against math/big: every result is
// either exactly the big.Rat result or an error, and an error only when the
// exact result cannot be represented.

var (
	maxMant = big.NewInt(math.MaxInt64)
	ten     = big.NewInt(10)
)

func ratOf(d schema.Decimal) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(d.Mantissa()), new(big.Int).Exp(ten, big.NewInt(int64(d.Scale())), nil))
}

// fitsAt reports whether r is an integer mantissa within ±(2^63-1) at scale.
func fitsAt(r *big.Rat, scale int) bool {
	m := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(ten, big.NewInt(int64(scale)), nil)))
	return m.IsInt() && new(big.Int).Abs(m.Num()).Cmp(maxMant) <= 0
}

// fitsAny reports whether r is representable at some scale ≤ limit.
func fitsAny(r *big.Rat, limit int) bool {
	for s := 0; s <= limit; s++ {
		if fitsAt(r, s) {
			return true
		}
	}
	return false
}

// randDecimal draws mantissas that sit on the edges often: 0, ±1, ±(2^63-1),
// powers of ten, values near 2^63/10^k, and uniform ones of every length.
func randDecimal(rng *rand.Rand) schema.Decimal {
	var m int64
	switch rng.IntN(8) {
	case 0:
		m = []int64{0, 1, -1, math.MaxInt64, -math.MaxInt64, math.MaxInt64 - 1, 5, -5}[rng.IntN(8)]
	case 1:
		m = int64(math.Pow10(rng.IntN(19)))
	case 2:
		m = math.MaxInt64/int64(math.Pow10(rng.IntN(19))) - rng.Int64N(3)
	case 3:
		m = rng.Int64()
	default:
		m = rng.Int64N(int64(math.Pow10(1 + rng.IntN(18))))
	}
	if rng.IntN(2) == 0 {
		m = -m
	}
	return schema.NewDecimal(m, rng.IntN(schema.MaxScale+1))
}

func propertyRNG(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 16))
}

func TestDecimalAgainstBig(t *testing.T) {
	t.Parallel()
	rng := propertyRNG(t)
	for range volume(10_000) {
		a, b := randDecimal(rng), randDecimal(rng)
		ra, rb := ratOf(a), ratOf(b)
		scale := max(a.Scale(), b.Scale())

		require.Equal(t, ra.Cmp(rb), a.Cmp(b), "%v cmp %v", a, b)
		require.Equal(t, ra.Cmp(rb) == 0, a.Equal(b))
		require.Equal(t, 0, ratOf(a.Neg()).Cmp(new(big.Rat).Neg(ra)), "-(%v)", a)

		for _, op := range []struct {
			name string
			got  func() (schema.Decimal, error)
			want *big.Rat
		}{
			{"+", func() (schema.Decimal, error) { return a.Add(b) }, new(big.Rat).Add(ra, rb)},
			{"-", func() (schema.Decimal, error) { return a.Sub(b) }, new(big.Rat).Sub(ra, rb)},
		} {
			got, err := op.got()
			if fitsAt(op.want, scale) {
				require.NoError(t, err, "%v %s %v = %v fits scale %d", a, op.name, b, op.want.FloatString(scale), scale)
				require.Equal(t, 0, ratOf(got).Cmp(op.want), "%v %s %v = %v, want %v", a, op.name, b, got, op.want.FloatString(scale))
				require.Equal(t, scale, got.Scale())
			} else {
				require.ErrorIs(t, err, schema.ErrDecimalOverflow, "%v %s %v = %v", a, op.name, b, op.want.FloatString(scale))
			}
		}

		p, err := a.Mul(b)
		want := new(big.Rat).Mul(ra, rb)
		if fitsAny(want, schema.MaxScale) {
			require.NoError(t, err, "%v × %v", a, b)
			require.Equal(t, 0, ratOf(p).Cmp(want), "%v × %v = %v", a, b, p)
		} else {
			require.Error(t, err, "%v × %v = %v", a, b, want.FloatString(36))
		}
	}
}

// NewDecimal(math.MinInt64, 0) is refused: it is the one int64 that cannot
// be negated, so Neg, Sub and Cmp would be wrong on it. Every other way to
// make a Decimal stays within ±(2^63-1).
func TestDecimalMinInt64Refused(t *testing.T) {
	t.Parallel()
	for s := range schema.MaxScale + 1 {
		assert.Panics(t, func() { schema.NewDecimal(math.MinInt64, s) })
	}
	_, err := schema.ParseDecimal("-9223372036854775808")
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	lo := schema.NewDecimal(-math.MaxInt64, 0)
	_, err = lo.Sub(schema.NewDecimal(1, 0))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_, err = lo.Add(schema.NewDecimal(-1, 0))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	five := schema.NewDecimal(5, 0)
	d, err := five.Sub(lo)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow, "5 - (-(2^63-1)) does not fit: %v", d)
	d, err = five.Add(lo)
	require.NoError(t, err)
	assert.Equal(t, "-9223372036854775802", d.String())
	assert.Equal(t, "9223372036854775807", lo.Neg().String())
	_, err = lo.Mul(schema.NewDecimal(-1, 0))
	require.NoError(t, err)
	_, err = lo.Mul(schema.NewDecimal(2, 0))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	// A sum that fits although one operand overflows on the way to the
	// common scale: 10^18 + (-0.5·10^18) at scale 1.
	d, err = schema.NewDecimal(1e18, 0).Add(schema.MustParseDecimal("-500000000000000000.0"))
	require.NoError(t, err)
	assert.Equal(t, "500000000000000000.0", d.String())
}
