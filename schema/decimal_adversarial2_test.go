package schema_test

// Adversarial tests, second round (reviewer R4): Div, Round and
// RoundToStep on exact ties and their nearest neighbours — where rounding
// modes differ — with operands of every length up to ±(2^63-1), held
// against math/big; and Decimal through goccy/go-json's v2 API.

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	jsonv2 "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// randMant draws a non-zero mantissa of a random length, even when asked.
func randMant(rng *rand.Rand, even bool) int64 {
	m := rng.Int64N(int64(math.Pow10(1+rng.IntN(18)))) + 1
	if rng.IntN(6) == 0 {
		m = math.MaxInt64 - rng.Int64N(1000)
	}
	if even && m%2 != 0 {
		m--
		if m == 0 {
			m = 2
		}
	}
	if rng.IntN(2) == 0 {
		m = -m
	}
	return m
}

// tieMant returns half × (2q+1) ± delta, or false when it does not fit.
func tieMant(half, q, delta int64) (int64, bool) {
	v := new(big.Int).Mul(big.NewInt(half), big.NewInt(2*q+1))
	v.Add(v, big.NewInt(delta))
	if !v.IsInt64() || v.Int64() == math.MinInt64 {
		return 0, false
	}
	return v.Int64(), true
}

func TestAdversarial2RoundingTies(t *testing.T) {
	t.Parallel()
	rng := propertyRNG(t)
	ties := 0
	rounds := volume(20_000)
	for range rounds {
		// A divisor or step b with an even mantissa, and a = b × (q + ½)
		// exactly, or one unit of a's last digit either side.
		bm := randMant(rng, true)
		bs := rng.IntN(schema.MaxScale + 1)
		q := rng.Int64N(int64(math.Pow10(rng.IntN(10))))
		delta := []int64{0, 0, 0, -1, 1}[rng.IntN(5)]
		am, ok := tieMant(bm/2, q, delta)
		if !ok {
			continue
		}
		b := schema.NewDecimal(bm, bs)
		if delta == 0 {
			ties++
		}

		// RoundToStep: a at b's scale; a step must be positive.
		step := schema.NewDecimal(abs(bm), bs)
		a := schema.NewDecimal(am, bs)
		for _, mode := range modes {
			got, err := a.RoundToStep(step, mode)
			// a / step rounded, times step, at step's scale.
			k := roundRef(big.NewInt(am), big.NewInt(abs(bm)), mode)
			want := new(big.Int).Mul(k, big.NewInt(abs(bm)))
			checkRounded(t, got, err, want, bs, a.String()+" to step "+step.String()+" "+mode.String())
		}

		// Div: a at scale as = bs + s divided by b at scale s is q + ½
		// (± a unit): the quotient's digit s is where the tie falls.
		s := rng.IntN(schema.MaxScale + 1)
		as := bs + s
		if as > schema.MaxScale {
			continue
		}
		a = schema.NewDecimal(am, as)
		for _, mode := range modes {
			got, err := a.Div(b, s, mode)
			// a/b × 10^s = am × 10^(bs+s) / (bm × 10^as) = am / bm.
			num, den := big.NewInt(am), big.NewInt(bm)
			if bm < 0 {
				num.Neg(num)
				den.Neg(den)
			}
			checkRounded(t, got, err, roundRef(num, den, mode), s, a.String()+" / "+b.String()+" "+mode.String())
		}
		// Round is RoundToStep with a power-of-ten step.
		if s < as {
			for _, mode := range modes {
				got, err := a.Round(s, mode)
				want := roundRef(big.NewInt(am), pow10Big(as-s), mode)
				checkRounded(t, got, err, want, s, a.String()+" round "+mode.String())
			}
		}
	}
	require.Greater(t, ties, rounds/20, "too few exact ties drawn to test anything")
}

func abs(m int64) int64 {
	if m < 0 {
		return -m
	}
	return m
}

// Through goccy/go-json's v2 API, in a struct as a venue payload has it:
// strings and bare numbers keep their digits, null is zero, and every
// malformed or out-of-range value is an error naming it — never a panic,
// never a silently wrong value.
func TestAdversarial2DecimalJSONv2(t *testing.T) {
	t.Parallel()
	type msg struct {
		P schema.Decimal `json:"p"`
	}
	for _, tc := range []struct {
		in, want string // want "": an error
	}{
		{`{"p":"0.10000000"}`, "0.10000000"},
		{`{"p":0.10000000}`, "0.10000000"},
		{`{"p":"\u0031.5"}`, "1.5"},
		{`{"p":-0}`, "0"},
		{`{"p":"-0.000"}`, "0.000"},
		{`{"p":1e2}`, "100"},
		{`{"p":1.5E-3}`, "0.0015"},
		{`{"p":"9223372036854775807"}`, "9223372036854775807"},
		{`{"p":-9223372036854775807}`, "-9223372036854775807"},
		{`{"p":null}`, "0"},
		{`{"p":"0.000000000000000001"}`, "0.000000000000000001"},
		{`{"p":"-9223372036854775808"}`, ""},
		{`{"p":9223372036854775808}`, ""},
		{`{"p":"0.0000000000000000001"}`, ""},
		{`{"p":1e19}`, ""},
		{`{"p":1e-19}`, ""},
		{`{"p":1e999999999999}`, ""},
		{`{"p":""}`, ""},
		{`{"p":"null"}`, ""},
		{`{"p":"NaN"}`, ""},
		{`{"p":"Infinity"}`, ""},
		{`{"p":"-inf"}`, ""},
		{`{"p":true}`, ""},
		{`{"p":{}}`, ""},
		{`{"p":[1]}`, ""},
		{`{"p":"1 "}`, ""},
		{`{"p":" 1"}`, ""},
		{`{"p":"1.2.3"}`, ""},
		{`{"p":"+-1"}`, ""},
		{`{"p":"0x10"}`, ""},
		{`{"p":"1e"}`, ""},
		{`{"p":"\u0000"}`, ""},
	} {
		var m msg
		var err error
		require.NotPanics(t, func() { err = jsonv2.Unmarshal([]byte(tc.in), &m) }, tc.in)
		if tc.want == "" {
			require.Error(t, err, "%s gave %v", tc.in, m.P)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, m.P.String(), tc.in)
		out, err := jsonv2.Marshal(&m)
		require.NoError(t, err)
		var back msg
		require.NoError(t, jsonv2.Unmarshal(out, &back), string(out))
		require.True(t, back.P.Identical(m.P), "%s → %s", tc.in, out)
	}
}
