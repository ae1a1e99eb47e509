package schema_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

var modes = []schema.RoundingMode{schema.RoundDown, schema.RoundUp, schema.RoundFloor,
	schema.RoundCeiling, schema.RoundHalfUp, schema.RoundHalfEven}

// roundRef rounds num/den (den > 0) to an integer by mode, with math/big.
func roundRef(num, den *big.Int, mode schema.RoundingMode) *big.Int {
	neg := num.Sign() < 0
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(num), den, new(big.Int))
	if r.Sign() != 0 {
		up := false
		c := new(big.Int).Lsh(r, 1).Cmp(den)
		switch mode {
		case schema.RoundUp:
			up = true
		case schema.RoundFloor:
			up = neg
		case schema.RoundCeiling:
			up = !neg
		case schema.RoundHalfUp:
			up = c >= 0
		case schema.RoundHalfEven:
			up = c > 0 || c == 0 && q.Bit(0) == 1
		}
		if up {
			q.Add(q, big.NewInt(1))
		}
	}
	if neg {
		q.Neg(q)
	}
	return q
}

func pow10Big(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// checkRounded compares a result with the reference mantissa at scale: the
// same value when it fits, ErrDecimalOverflow when it does not.
func checkRounded(t *testing.T, got schema.Decimal, err error, want *big.Int, scale int, what string) {
	t.Helper()
	if new(big.Int).Abs(want).Cmp(big.NewInt(math.MaxInt64)) > 0 {
		require.ErrorIs(t, err, schema.ErrDecimalOverflow, "%s = %v×10^-%d", what, want, scale)
		return
	}
	require.NoError(t, err, what)
	require.Equal(t, want.Int64(), got.Mantissa(), "%s = %v", what, got)
	require.Equal(t, scale, got.Scale(), what)
}

func randStep(rng *rand.Rand) schema.Decimal {
	if rng.IntN(3) == 0 {
		nice := []string{"0.01", "0.05", "25", "0.00000001", "0.1", "1", "0.00001000", "0.25", "5"}
		return schema.MustParseDecimal(nice[rng.IntN(len(nice))])
	}
	for {
		d := randDecimal(rng)
		if d.Sign() != 0 {
			return schema.NewDecimal(max(d.Mantissa(), -d.Mantissa()), d.Scale())
		}
	}
}

func TestRoundToStepAgainstBig(t *testing.T) {
	t.Parallel()
	rng := propertyRNG(t)
	for range 5_000 {
		d, step := randDecimal(rng), randStep(rng)
		// d/step = dm·10^ss / (sm·10^ds); the result is k·sm at step's scale.
		num := new(big.Int).Mul(big.NewInt(d.Mantissa()), pow10Big(step.Scale()))
		den := new(big.Int).Mul(big.NewInt(step.Mantissa()), pow10Big(d.Scale()))
		for _, mode := range modes {
			got, err := d.RoundToStep(step, mode)
			k := roundRef(num, den, mode)
			checkRounded(t, got, err, k.Mul(k, big.NewInt(step.Mantissa())), step.Scale(), d.String()+" to "+step.String()+" "+mode.String())
		}
	}
}

func TestDivAgainstBig(t *testing.T) {
	t.Parallel()
	rng := propertyRNG(t)
	for range 5_000 {
		d, o := randDecimal(rng), randDecimal(rng)
		if o.Sign() == 0 {
			continue
		}
		scale := rng.IntN(schema.MaxScale + 1)
		// (d/o)·10^scale = dm·10^(scale+os) / (om·10^ds)
		num := new(big.Int).Mul(big.NewInt(d.Mantissa()), pow10Big(scale+o.Scale()))
		den := new(big.Int).Mul(big.NewInt(o.Mantissa()), pow10Big(d.Scale()))
		if den.Sign() < 0 {
			num.Neg(num)
			den.Neg(den)
		}
		for _, mode := range modes {
			got, err := d.Div(o, scale, mode)
			checkRounded(t, got, err, roundRef(num, den, mode), scale, d.String()+" / "+o.String()+" "+mode.String())
		}
	}
}

func TestRoundingModes(t *testing.T) {
	t.Parallel()
	d := schema.MustParseDecimal
	tenth := d("0.1")
	for _, tc := range []struct {
		in   string
		mode schema.RoundingMode
		want string
	}{
		{"-1.27", schema.RoundDown, "-1.2"}, {"1.27", schema.RoundDown, "1.2"},
		{"-1.21", schema.RoundUp, "-1.3"}, {"1.21", schema.RoundUp, "1.3"},
		{"-1.21", schema.RoundFloor, "-1.3"}, {"1.29", schema.RoundFloor, "1.2"},
		{"-1.29", schema.RoundCeiling, "-1.2"}, {"1.21", schema.RoundCeiling, "1.3"},
		{"1.25", schema.RoundHalfUp, "1.3"}, {"-1.25", schema.RoundHalfUp, "-1.3"}, {"1.24", schema.RoundHalfUp, "1.2"},
		{"1.25", schema.RoundHalfEven, "1.2"}, {"1.35", schema.RoundHalfEven, "1.4"}, {"-1.25", schema.RoundHalfEven, "-1.2"},
		{"1.2", schema.RoundUp, "1.2"}, {"5", schema.RoundDown, "5.0"},
	} {
		got, err := d(tc.in).RoundToStep(tenth, tc.mode)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got.String(), "%s %s", tc.in, tc.mode)
	}
	p, err := d("67321.47").RoundToStep(d("0.05"), schema.RoundFloor)
	require.NoError(t, err)
	assert.Equal(t, "67321.45", p.String(), "a tick that is not a power of ten")
	q, err := d("1.23456789").Round(4, schema.RoundHalfEven)
	require.NoError(t, err)
	assert.Equal(t, "1.2346", q.String())

	third, err := d("1").Div(d("3"), 4, schema.RoundDown)
	require.NoError(t, err)
	assert.Equal(t, "0.3333", third.String())
	third, err = d("1").Div(d("3"), 4, schema.RoundUp)
	require.NoError(t, err)
	assert.Equal(t, "0.3334", third.String())
	qty, err := d("100.00").Div(d("67321.45"), 8, schema.RoundDown) // a quantity for 100 USDT
	require.NoError(t, err)
	assert.Equal(t, "0.00148541", qty.String())

	_, err = d("1").Div(d("0.000"), 2, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalDivByZero)
	_, err = d("1").Div(d("3"), 19, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = d("1").Round(-1, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = d("1").RoundToStep(d("0"), schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalStep)
	_, err = d("1").RoundToStep(d("-0.1"), schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalStep)
	_, err = d("1").RoundToStep(tenth, schema.RoundingMode(9))
	assert.ErrorIs(t, err, schema.ErrDecimalRounding)
	_, err = d("9223372036854775807").Div(d("0.1"), 0, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_, err = d("9223372036854775807").RoundToStep(d("10"), schema.RoundUp)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	assert.Equal(t, "half_even", schema.RoundHalfEven.String())
	assert.Equal(t, "unknown", schema.RoundingMode(9).String())
}

func TestRoundingDoesNotAllocate(t *testing.T) { // not parallel: it counts allocations
	p, tenth, three := schema.MustParseDecimal("67321.47"), schema.MustParseDecimal("0.1"), schema.NewDecimal(3, 0)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = p.RoundToStep(tenth, schema.RoundHalfUp)
		_, _ = tenth.Div(three, 18, schema.RoundHalfEven)
		_, _ = p.Div(schema.NewDecimal(7, 18), 0, schema.RoundDown)
	}))
}
