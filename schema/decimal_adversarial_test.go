package schema_test

// Adversarial tests written apart from the implementation (reviewer R1):
// every Decimal operation over the full grid of edge values (the extremes
// ±(2^63-1), powers of ten and their neighbours, halves) at the scale
// limits, held against math/big. Every result is exact or an error that
// names why; nothing panics.

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// edgeMantissas are the mantissas where fixed-point code goes wrong.
var edgeMantissas = []int64{0, 1, 2, 5, 9, 10, 15, 25, 99, 1e9, 1e18 - 1, 1e18, 1e18 + 1,
	5e17, math.MaxInt64 / 10, math.MaxInt64 - 1, math.MaxInt64}

// edgeOperands are the right-hand operands: fewer, so that the grid stays
// quick under -race on a loaded machine.
var edgeOperands = []int64{0, 1, 5, 10, 25, 1e18, math.MaxInt64 - 1, math.MaxInt64}

func edgeValues(scales []int) []schema.Decimal { return edgeGrid(edgeMantissas, scales) }

func edgeGrid(mants []int64, scales []int) []schema.Decimal {
	var out []schema.Decimal
	for _, m := range mants {
		for _, s := range scales {
			out = append(out, schema.NewDecimal(m, s))
			if m != 0 {
				out = append(out, schema.NewDecimal(-m, s))
			}
		}
	}
	return out
}

func TestAdversarialDecimalEdgeGridArithmetic(t *testing.T) {
	t.Parallel()
	vals := edgeValues([]int{0, 1, 9, 17, 18})
	ops := edgeGrid(edgeOperands, []int{0, 1, 17, 18})
	for _, a := range vals {
		ra := ratOf(a)
		require.Equal(t, 0, ratOf(a.Neg()).Cmp(new(big.Rat).Neg(ra)))
		require.Equal(t, a, a.Neg().Neg())
		for _, b := range ops {
			rb := ratOf(b)
			require.Equal(t, ra.Cmp(rb), a.Cmp(b), "%v cmp %v", a, b)
			scale := max(a.Scale(), b.Scale())
			for _, op := range []struct {
				name string
				f    func(schema.Decimal) (schema.Decimal, error)
				want *big.Rat
			}{
				{"+", a.Add, new(big.Rat).Add(ra, rb)},
				{"-", a.Sub, new(big.Rat).Sub(ra, rb)},
			} {
				got, err := op.f(b)
				if fitsAt(op.want, scale) {
					require.NoError(t, err, "%v %s %v", a, op.name, b)
					require.Equal(t, 0, ratOf(got).Cmp(op.want), "%v %s %v = %v", a, op.name, b, got)
					require.Equal(t, scale, got.Scale())
				} else {
					require.ErrorIs(t, err, schema.ErrDecimalOverflow, "%v %s %v", a, op.name, b)
				}
			}
			p, err := a.Mul(b)
			want := new(big.Rat).Mul(ra, rb)
			if fitsAny(want, schema.MaxScale) {
				require.NoError(t, err, "%v × %v", a, b)
				require.Equal(t, 0, ratOf(p).Cmp(want), "%v × %v = %v", a, b, p)
			} else {
				require.Error(t, err, "%v × %v", a, b)
				require.True(t, errorsIsAny(err, schema.ErrDecimalOverflow, schema.ErrDecimalPrecision), "%v", err)
			}
		}
	}
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if err == t || strings.Contains(err.Error(), t.Error()) {
			return true
		}
	}
	return false
}

// Div and RoundToStep over edge values, every mode, result scales at both
// limits, and steps that are not powers of ten; zero and negative steps
// and divisors are errors, never panics.
func TestAdversarialDecimalEdgeGridRounding(t *testing.T) {
	t.Parallel()
	vals := edgeValues([]int{0, 1, 17, 18})
	ops := edgeGrid(edgeOperands, []int{0, 1, 18})
	for _, a := range vals {
		for _, b := range ops {
			for _, mode := range modes {
				if b.IsZero() {
					_, err := a.Div(b, 2, mode)
					require.ErrorIs(t, err, schema.ErrDecimalDivByZero)
					_, err = a.RoundToStep(b, mode)
					require.ErrorIs(t, err, schema.ErrDecimalStep)
					continue
				}
				for _, scale := range []int{0, 18} {
					got, err := a.Div(b, scale, mode)
					// a/b × 10^scale = a.m × 10^(scale + b.s - a.s) / b.m
					num := new(big.Int).Mul(big.NewInt(a.Mantissa()), pow10Big(scale+b.Scale()))
					den := new(big.Int).Mul(big.NewInt(b.Mantissa()), pow10Big(a.Scale()))
					if den.Sign() < 0 {
						num.Neg(num)
						den.Neg(den)
					}
					checkRounded(t, got, err, roundRef(num, den, mode), scale, a.String()+"/"+b.String())
				}
				got, err := a.RoundToStep(b, mode)
				if b.Sign() < 0 {
					require.ErrorIs(t, err, schema.ErrDecimalStep, "negative step %v", b)
					continue
				}
				// a / step rounded to an integer q; result q × step at step's scale.
				num := new(big.Int).Mul(big.NewInt(a.Mantissa()), pow10Big(b.Scale()))
				den := new(big.Int).Mul(big.NewInt(b.Mantissa()), pow10Big(a.Scale()))
				q := roundRef(num, den, mode)
				checkRounded(t, got, err, q.Mul(q, big.NewInt(b.Mantissa())), b.Scale(), a.String()+" to step "+b.String())
			}
		}
		for _, mode := range modes {
			for s := range schema.MaxScale + 1 {
				got, err := a.Round(s, mode)
				num := new(big.Int).Mul(big.NewInt(a.Mantissa()), pow10Big(s))
				checkRounded(t, got, err, roundRef(num, pow10Big(a.Scale()), mode), s, a.String()+" round "+string(rune('0'+s)))
			}
			_, err := a.Round(-1, mode)
			require.ErrorIs(t, err, schema.ErrDecimalScale)
			_, err = a.Round(schema.MaxScale+1, mode)
			require.ErrorIs(t, err, schema.ErrDecimalScale)
			_, err = a.Div(schema.NewDecimal(1, 0), schema.MaxScale+1, mode)
			require.ErrorIs(t, err, schema.ErrDecimalScale)
		}
		_, err := a.Div(schema.NewDecimal(1, 0), 0, schema.RoundingMode(99))
		require.ErrorIs(t, err, schema.ErrDecimalRounding)
		_, err = a.RoundToStep(schema.NewDecimal(1, 0), schema.RoundingMode(6))
		require.ErrorIs(t, err, schema.ErrDecimalRounding)
	}
}

// Format and parse: every edge value formats as math/big writes it at its
// scale and parses back to the identical Decimal, in string, bytes, JSON
// (quoted and bare) and text form.
func TestAdversarialDecimalFormatParseRoundTrip(t *testing.T) {
	t.Parallel()
	scales := make([]int, schema.MaxScale+1)
	for i := range scales {
		scales[i] = i
	}
	for _, d := range edgeValues(scales) {
		s := d.String()
		require.Equal(t, ratOf(d).FloatString(d.Scale()), strings.Replace(s, "-0.", "-0.", 1), "format %d×10^-%d", d.Mantissa(), d.Scale())
		for _, in := range []string{s, "+" + strings.TrimPrefix(s, "+")} {
			if strings.HasPrefix(s, "-") && strings.HasPrefix(in, "+") {
				continue
			}
			got, err := schema.ParseDecimal(in)
			require.NoError(t, err, in)
			require.True(t, got.Identical(d), "%q parsed to %v", in, got)
		}
		got, err := schema.ParseDecimalBytes([]byte(s))
		require.NoError(t, err)
		require.True(t, got.Identical(d))
		j, err := d.MarshalJSON()
		require.NoError(t, err)
		var back schema.Decimal
		require.NoError(t, back.UnmarshalJSON(j))
		require.True(t, back.Identical(d))
		require.NoError(t, back.UnmarshalJSON([]byte(s)), "bare JSON number")
		require.True(t, back.Identical(d))
		txt, _ := d.MarshalText()
		require.NoError(t, back.UnmarshalText(txt))
		require.True(t, back.Identical(d))
	}
}

// Inputs a venue could send: each is a value or a typed error, never a
// panic, never a silently different number.
func TestAdversarialDecimalParseWireEdges(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"9223372036854775807":     "9223372036854775807",
		"-9223372036854775807":    "-9223372036854775807",
		"0.000000000000000001":    "0.000000000000000001",
		"9.223372036854775807":    "9.223372036854775807",
		"-0":                      "0",
		"-0.00":                   "0.00",
		"00000000000000000000001": "1",
		"1.":                      "1",
		".5":                      "0.5",
		"1e18":                    "1000000000000000000",
		"1E-18":                   "0.000000000000000001",
		"1.5e-3":                  "0.0015",
		"0e999999999999":          "0",
		"922337203685477580.7e1":  "9223372036854775807",
		"+1":                      "1",
	}
	for in, want := range ok {
		d, err := schema.ParseDecimal(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, d.String(), in)
	}
	bad := map[string]error{
		"":                      schema.ErrDecimalEmpty,
		"-":                     schema.ErrDecimalSyntax,
		"+":                     schema.ErrDecimalSyntax,
		".":                     schema.ErrDecimalSyntax,
		"-.":                    schema.ErrDecimalSyntax,
		"1..2":                  schema.ErrDecimalSyntax,
		"1.2.3":                 schema.ErrDecimalSyntax,
		"1e":                    schema.ErrDecimalSyntax,
		"1e+":                   schema.ErrDecimalSyntax,
		"1e-":                   schema.ErrDecimalSyntax,
		"1e1.5":                 schema.ErrDecimalSyntax,
		" 1":                    schema.ErrDecimalSyntax,
		"1 ":                    schema.ErrDecimalSyntax,
		"0x10":                  schema.ErrDecimalSyntax,
		"--1":                   schema.ErrDecimalSyntax,
		"1_000":                 schema.ErrDecimalSyntax,
		"NaN":                   schema.ErrDecimalNotFinite,
		"-Infinity":             schema.ErrDecimalNotFinite,
		"inf":                   schema.ErrDecimalNotFinite,
		"9223372036854775808":   schema.ErrDecimalOverflow,
		"-9223372036854775808":  schema.ErrDecimalOverflow,
		"99999999999999999999":  schema.ErrDecimalOverflow,
		"1e19":                  schema.ErrDecimalOverflow,
		"1e999999999999":        schema.ErrDecimalOverflow,
		"9.223372036854775808":  schema.ErrDecimalOverflow,
		"0.0000000000000000001": schema.ErrDecimalPrecision,
		"1e-19":                 schema.ErrDecimalPrecision,
		"1e-99999999999":        schema.ErrDecimalPrecision,
	}
	for in, want := range bad {
		_, err := schema.ParseDecimal(in)
		require.ErrorIs(t, err, want, "%q", in)
		var de *schema.DecimalError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, in, de.Input)
	}
	var d schema.Decimal
	for _, in := range []string{`"`, `""`, `"1`, `1"`, `true`, `{}`, `[]`, `"1e"`} {
		assert.Error(t, d.UnmarshalJSON([]byte(in)), in)
	}
	require.NoError(t, d.UnmarshalJSON([]byte("null")))
	assert.True(t, d.IsZero())
}
