package schema_test

import (
	"errors"
	"math"
	"strconv"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		mant  int64
		scale int
		out   string
	}{
		{"0", 0, 0, "0"},
		{"0.10000000", 10000000, 8, "0.10000000"},
		{"25.35190000", 2535190000, 8, "25.35190000"},
		{"-12.3400", -123400, 4, "-12.3400"},
		{"+5", 5, 0, "5"},
		{".5", 5, 1, "0.5"},
		{"5.", 5, 0, "5"},
		{"0.00000001", 1, 8, "0.00000001"},
		{"000123.4500", 1234500, 4, "123.4500"},
		{"1e3", 1000, 0, "1000"},
		{"1.5E3", 1500, 0, "1500"},
		{"1.5e-3", 15, 4, "0.0015"},
		{"2.50e+1", 250, 1, "25.0"},
		{"9223372036854775807", math.MaxInt64, 0, "9223372036854775807"},
		{"-9223372036854775807", -math.MaxInt64, 0, "-9223372036854775807"},
		{"0.123456789012345678", 123456789012345678, 18, "0.123456789012345678"},
		{"-0.00", 0, 2, "0.00"},
		{"0e-18", 0, 18, "0.000000000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := schema.ParseDecimal(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.mant, d.Mantissa())
			assert.Equal(t, tt.scale, d.Scale())
			assert.Equal(t, tt.out, d.String())
			b, err := schema.ParseDecimalBytes([]byte(tt.in))
			require.NoError(t, err)
			assert.True(t, d.Identical(b))
		})
	}
}

func TestParseDecimalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want error
	}{
		{"", schema.ErrDecimalEmpty},
		{"-", schema.ErrDecimalSyntax},
		{".", schema.ErrDecimalSyntax},
		{"1.2.3", schema.ErrDecimalSyntax},
		{"abc", schema.ErrDecimalSyntax},
		{"12a", schema.ErrDecimalSyntax},
		{"1e", schema.ErrDecimalSyntax},
		{"1e+", schema.ErrDecimalSyntax},
		{"1e5x", schema.ErrDecimalSyntax},
		{" 1", schema.ErrDecimalSyntax},
		{"0x10", schema.ErrDecimalSyntax},
		{"NaN", schema.ErrDecimalNotFinite},
		{"-nan", schema.ErrDecimalNotFinite},
		{"Inf", schema.ErrDecimalNotFinite},
		{"+Infinity", schema.ErrDecimalNotFinite},
		{"9223372036854775808", schema.ErrDecimalOverflow},
		{"99999999999999999999", schema.ErrDecimalOverflow},
		{"1e19", schema.ErrDecimalOverflow},
		{"1e999999999999", schema.ErrDecimalOverflow},
		{"0.0000000000000000001", schema.ErrDecimalPrecision},
		{"1e-19", schema.ErrDecimalPrecision},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := schema.ParseDecimal(tt.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			var de *schema.DecimalError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.in, de.Input)
			assert.Contains(t, err.Error(), strconv.Quote(tt.in))
		})
	}
}

func TestParseDecimalDoesNotAllocate(t *testing.T) {
	in := []byte("67321.45000000")
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := schema.ParseDecimalBytes(in); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
	d := schema.MustParseDecimal("67321.45000000")
	buf := make([]byte, 0, 32)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { buf = d.AppendTo(buf[:0]) }))
}

func TestDecimalCmp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1.000", 0},
		{"1.0001", "1", 1},
		{"-1", "1", -1},
		{"-1.5", "-1.4", -1},
		{"0", "-0.0", 0},
		{"0.1", "0", 1},
		{"9223372036854775807", "0.000000000000000001", 1},
		{"-9223372036854775807", "-0.1", -1},
		{"9223372036854775807", "922337203685477580.7", 1},
		{"922337203685477.580", "922337203685477.58", 0},
	}
	for _, tt := range tests {
		a, b := schema.MustParseDecimal(tt.a), schema.MustParseDecimal(tt.b)
		assert.Equal(t, tt.want, a.Cmp(b), "%s cmp %s", tt.a, tt.b)
		assert.Equal(t, -tt.want, b.Cmp(a), "%s cmp %s", tt.b, tt.a)
		assert.Equal(t, tt.want == 0, a.Equal(b))
	}
	assert.False(t, schema.MustParseDecimal("1.0").Identical(schema.MustParseDecimal("1.00")))
}

func TestDecimalArithmetic(t *testing.T) {
	t.Parallel()
	d := schema.MustParseDecimal
	sum, err := d("0.1").Add(d("0.20"))
	require.NoError(t, err)
	assert.Equal(t, "0.30", sum.String())
	diff, err := d("1").Sub(d("0.001"))
	require.NoError(t, err)
	assert.Equal(t, "0.999", diff.String())
	prod, err := d("1.5").Mul(d("-2.25"))
	require.NoError(t, err)
	assert.Equal(t, "-3.375", prod.String())
	prod, err = d("0.000000001").Mul(d("0.0000000010")) // scale 19 with a trailing zero: trimmed to 18
	require.NoError(t, err)
	assert.Equal(t, "0.000000000000000001", prod.String())
	prod, err = d("100000000000").Mul(d("100000000.00")) // 10^19 with two zeros to drop, still too big
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_ = prod
	_, err = d("0.000000001").Mul(d("0.0000000011"))
	assert.ErrorIs(t, err, schema.ErrDecimalPrecision)
	_, err = d("9223372036854775807").Add(d("1"))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_, err = d("-9223372036854775807").Sub(d("1"))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_, err = d("92233720368547759").Add(d("0.01"))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	sum, err = d("-5").Add(d("5.00"))
	require.NoError(t, err)
	assert.True(t, sum.IsZero())
	assert.Equal(t, "0.00", sum.String())
	assert.Equal(t, -1, d("-3").Sign())
	assert.Equal(t, 0, d("0.0").Sign())
	assert.Equal(t, 1, d("3").Sign())
	assert.Equal(t, "3.5", d("-3.5").Neg().String())
	assert.InDelta(t, 67321.45, d("67321.45000000").Float64(), 1e-9)
	assert.Equal(t, "1.23", schema.NewDecimal(123, 2).String())
	assert.Panics(t, func() { schema.NewDecimal(1, 19) })
	assert.Panics(t, func() { schema.MustParseDecimal("x") })
}

func TestDecimalJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		P schema.Decimal `json:"p"`
		Q schema.Decimal `json:"q"`
		N schema.Decimal `json:"n"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"p":"0.10000000","q":1234.5000,"n":null}`), &v))
	assert.Equal(t, "0.10000000", v.P.String())
	assert.Equal(t, "1234.5000", v.Q.String(), "a bare JSON number keeps its digits")
	assert.True(t, v.N.IsZero())
	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"p":"0.10000000","q":"1234.5000","n":"0"}`, string(out))
	assert.Error(t, json.Unmarshal([]byte(`{"p":"NaN"}`), &v))

	var d schema.Decimal
	require.NoError(t, d.UnmarshalText([]byte("-1.50")))
	txt, _ := d.MarshalText()
	assert.Equal(t, "-1.50", string(txt))
	assert.ErrorIs(t, d.UnmarshalText([]byte("1..")), schema.ErrDecimalSyntax)
}

// FuzzDecimal checks that parsing never panics, and that format → parse is
// the identity on everything that parses.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "0.10000000", "-12.3400", "1e3", "1.5e-3", ".5", "NaN",
		"9223372036854775807", "0.123456789012345678", "67321.45000000", "1e-19", "-0", "+7.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := schema.ParseDecimal(s)
		if err != nil {
			var de *schema.DecimalError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		text := d.String()
		again, err := schema.ParseDecimal(text)
		if err != nil {
			t.Fatalf("%q formats as %q which does not parse: %v", s, text, err)
		}
		if !again.Identical(d) {
			t.Fatalf("%q: parse(format) = %v (scale %d), want %v (scale %d)", s, again, again.Scale(), d, d.Scale())
		}
		if again.String() != text {
			t.Fatalf("format is not stable: %q then %q", text, again.String())
		}
		b, err := schema.ParseDecimalBytes([]byte(s))
		if err != nil || !b.Identical(d) {
			t.Fatalf("bytes and string parse differ on %q", s)
		}
		// Arithmetic must be exact or refuse: d + d - d == d.
		if s2, err := d.Add(d); err == nil {
			if back, err := s2.Sub(d); err == nil && !back.Equal(d) {
				t.Fatalf("%v + %v - %v = %v", d, d, d, back)
			}
		}
		if p, err := d.Mul(schema.NewDecimal(1, 0)); err != nil || !p.Equal(d) {
			t.Fatalf("%v × 1 = %v, %v", d, p, err)
		}
		// Rounding and division never panic, and d/1 at d's scale is d.
		if q, err := d.Div(schema.NewDecimal(1, 0), d.Scale(), schema.RoundHalfEven); err != nil || !q.Identical(d) {
			t.Fatalf("%v / 1 = %v, %v", d, q, err)
		}
		for _, m := range []schema.RoundingMode{schema.RoundDown, schema.RoundUp, schema.RoundHalfUp} {
			_, _ = d.RoundToStep(schema.MustParseDecimal("0.05"), m)
			_, _ = schema.NewDecimal(7, 3).Div(d, 18, m)
		}
	})
}
