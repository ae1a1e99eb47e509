package schema_test

// An outside team's oracle for Decimal: every operation checked against
// math/big's exact rationals, from the docs alone (schema's Decimal,
// Add, Sub, Mul, MulRound, Div, Round, RoundToStep, Cmp, Canonical,
// String/ParseDecimal): a result is the exact value rounded once as the
// mode says, or the documented error when it does not fit.

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/meltica/meltica/schema"
)

var (
	s25ctMaxMant = new(big.Int).SetInt64(math.MaxInt64)
	s25ctTen     = big.NewInt(10)
)

func s25ctRat(d schema.Decimal) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(d.Mantissa()), new(big.Int).Exp(s25ctTen, big.NewInt(int64(d.Scale())), nil))
}

// s25ctRound rounds x to an integer by mode (java.math.RoundingMode's
// meanings, as schema's RoundingMode documents them).
func s25ctRound(x *big.Rat, mode schema.RoundingMode) *big.Int {
	num, den := x.Num(), x.Denom()
	q, r := new(big.Int).QuoRem(num, den, new(big.Int)) // toward zero
	if r.Sign() == 0 {
		return q
	}
	neg := x.Sign() < 0
	away := func() *big.Int {
		if neg {
			return q.Sub(q, big.NewInt(1))
		}
		return q.Add(q, big.NewInt(1))
	}
	twice := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
	half := twice.Cmp(den) // -1 below half, 0 tie, 1 above
	switch mode {
	case schema.RoundDown:
		return q
	case schema.RoundUp:
		return away()
	case schema.RoundFloor:
		if neg {
			return away()
		}
		return q
	case schema.RoundCeiling:
		if !neg {
			return away()
		}
		return q
	case schema.RoundHalfUp:
		if half >= 0 {
			return away()
		}
		return q
	default: // RoundHalfEven
		if half > 0 || (half == 0 && q.Bit(0) == 1) {
			return away()
		}
		return q
	}
}

// s25ctFits returns the Decimal of mantissa m at scale, or false when m is
// past ±(2^63-1).
func s25ctFits(m *big.Int, scale int) (schema.Decimal, bool) {
	if new(big.Int).Abs(m).Cmp(s25ctMaxMant) > 0 {
		return schema.Decimal{}, false
	}
	return schema.NewDecimal(m.Int64(), scale), true
}

// s25ctAt returns x × 10^scale, which must be an integer.
func s25ctAt(x *big.Rat, scale int) *big.Int {
	y := new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(s25ctTen, big.NewInt(int64(scale)), nil)))
	if !y.IsInt() {
		panic("not an integer at that scale")
	}
	return new(big.Int).Set(y.Num())
}

func s25ctDec(m int64, s uint8) (schema.Decimal, bool) {
	if m == math.MinInt64 {
		return schema.Decimal{}, false
	}
	return schema.NewDecimal(m, int(s%(schema.MaxScale+1))), true
}

func FuzzS25ctDecimalOracle(f *testing.F) {
	f.Add(int64(123456), uint8(3), int64(-7), uint8(1), uint8(2), uint8(5))
	f.Add(int64(math.MaxInt64), uint8(18), int64(math.MaxInt64), uint8(0), uint8(18), uint8(4))
	f.Add(int64(12345678), uint8(12), int64(123456789012), uint8(8), uint8(8), uint8(5))
	f.Add(int64(5), uint8(1), int64(-5), uint8(1), uint8(0), uint8(5))
	f.Add(int64(-25), uint8(1), int64(5), uint8(1), uint8(0), uint8(4))
	f.Add(int64(1), uint8(0), int64(3), uint8(0), uint8(4), uint8(1))
	f.Fuzz(func(t *testing.T, m1 int64, s1 uint8, m2 int64, s2 uint8, scale uint8, modeB uint8) {
		a, ok1 := s25ctDec(m1, s1)
		b, ok2 := s25ctDec(m2, s2)
		if !ok1 || !ok2 {
			return
		}
		ra, rb := s25ctRat(a), s25ctRat(b)
		mode := schema.RoundingMode(modeB % 6)
		sc := int(scale % (schema.MaxScale + 1))

		// Cmp, Equal, Canonical, and the text round trip.
		if got, want := a.Cmp(b), ra.Cmp(rb); got != want {
			t.Fatalf("%v Cmp %v = %d, want %d", a, b, got, want)
		}
		if c := a.Canonical(); !c.Equal(a) || (c.Scale() > 0 && c.Mantissa()%10 == 0) {
			t.Fatalf("Canonical(%v) = %v", a, c)
		}
		if p, err := schema.ParseDecimal(a.String()); err != nil || !p.Identical(a) {
			t.Fatalf("ParseDecimal(%q) = %v, %v: not the same digits", a.String(), p, err)
		}

		// Add and Sub: exact at the larger scale, or ErrDecimalOverflow.
		big2 := max(a.Scale(), b.Scale())
		for _, op := range []struct {
			name string
			got  func() (schema.Decimal, error)
			want *big.Rat
		}{
			{"+", func() (schema.Decimal, error) { return a.Add(b) }, new(big.Rat).Add(ra, rb)},
			{"-", func() (schema.Decimal, error) { return a.Sub(b) }, new(big.Rat).Sub(ra, rb)},
		} {
			got, err := op.got()
			want, fits := s25ctFits(s25ctAt(op.want, big2), big2)
			switch {
			case fits && (err != nil || !got.Identical(want)):
				t.Fatalf("%v %s %v = %v, %v; want %v", a, op.name, b, got, err, want)
			case !fits && !errors.Is(err, schema.ErrDecimalOverflow):
				t.Fatalf("%v %s %v = %v, %v; want ErrDecimalOverflow", a, op.name, b, got, err)
			}
		}

		// Mul: exact, at the sum of the scales less the trailing zeros that
		// must go to fit; else ErrDecimalOverflow or ErrDecimalPrecision.
		prod := new(big.Rat).Mul(ra, rb)
		want, fits := schema.Decimal{}, false
		for s := a.Scale() + b.Scale(); s >= 0; s-- {
			m := new(big.Rat).Mul(prod, new(big.Rat).SetInt(new(big.Int).Exp(s25ctTen, big.NewInt(int64(s)), nil)))
			if !m.IsInt() {
				break // a digit that is not a trailing zero would go
			}
			if s <= schema.MaxScale {
				if want, fits = s25ctFits(m.Num(), s); fits {
					break
				}
			}
		}
		got, err := a.Mul(b)
		switch {
		case fits && (err != nil || !got.Identical(want)):
			t.Fatalf("%v × %v = %v, %v; want %v", a, b, got, err, want)
		case !fits && !errors.Is(err, schema.ErrDecimalOverflow) && !errors.Is(err, schema.ErrDecimalPrecision):
			t.Fatalf("%v × %v = %v, %v; want an overflow or precision error", a, b, got, err)
		}

		// MulRound, Div and Round: the exact value rounded once by mode at
		// scale, or ErrDecimalOverflow.
		scaled := func(x *big.Rat, s int) *big.Rat {
			return new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(s25ctTen, big.NewInt(int64(s)), nil)))
		}
		check := func(name string, got schema.Decimal, err error, exact *big.Rat, s int) {
			t.Helper()
			want, fits := s25ctFits(s25ctRound(scaled(exact, s), mode), s)
			switch {
			case fits && (err != nil || !got.Identical(want)):
				t.Fatalf("%s(%v, %v, scale %d, %v) = %v, %v; want %v", name, a, b, s, mode, got, err, want)
			case !fits && !errors.Is(err, schema.ErrDecimalOverflow):
				t.Fatalf("%s(%v, %v, scale %d, %v) = %v, %v; want ErrDecimalOverflow", name, a, b, s, mode, got, err)
			}
		}
		got, err = a.MulRound(b, sc, mode)
		check("MulRound", got, err, prod, sc)
		if b.Sign() != 0 {
			got, err = a.Div(b, sc, mode)
			check("Div", got, err, new(big.Rat).Quo(ra, rb), sc)
		} else if _, err := a.Div(b, sc, mode); !errors.Is(err, schema.ErrDecimalDivByZero) {
			t.Fatalf("%v / 0: %v", a, err)
		}
		got, err = a.Round(sc, mode)
		check("Round", got, err, ra, sc)

		// RoundToStep: the multiple of step mode picks, at step's scale.
		if b.Sign() > 0 {
			n := s25ctRound(new(big.Rat).Quo(ra, rb), mode)
			exact := new(big.Rat).Mul(new(big.Rat).SetInt(n), rb)
			want, fits := s25ctFits(s25ctAt(exact, b.Scale()), b.Scale())
			got, err := a.RoundToStep(b, mode)
			switch {
			case fits && (err != nil || !got.Identical(want)):
				t.Fatalf("RoundToStep(%v, step %v, %v) = %v, %v; want %v", a, b, mode, got, err, want)
			case !fits && !errors.Is(err, schema.ErrDecimalOverflow):
				t.Fatalf("RoundToStep(%v, step %v, %v) = %v, %v; want ErrDecimalOverflow", a, b, mode, got, err)
			}
		}
	})
}

// s25ctParseOracle is ParseDecimal's documented grammar and value rules,
// on math/big: an optional sign, digits with at most one point (one digit
// at least), an optional exponent (e or E, an optional sign, digits); the
// digits kept, trailing zeros after the point dropped — all of them —
// only when the value cannot be held with them (past MaxScale or the
// 63-bit mantissa). It returns the decimal, or the sentinel error.
func s25ctParseOracle(s string) (schema.Decimal, error) {
	if s == "" {
		return schema.Decimal{}, schema.ErrDecimalEmpty
	}
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	switch low := []byte(s[i:]); string(bytesLower(low)) {
	case "nan", "inf", "infinity":
		return schema.Decimal{}, schema.ErrDecimalNotFinite
	}
	var digits []byte
	frac, point := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			if point {
				frac++
			}
			continue
		case c == '.' && !point:
			point = true
			continue
		}
		break
	}
	if len(digits) == 0 {
		return schema.Decimal{}, schema.ErrDecimalSyntax
	}
	exp := new(big.Int)
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return schema.Decimal{}, schema.ErrDecimalSyntax
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg, i = s[i] == '-', i+1
		}
		if i == len(s) {
			return schema.Decimal{}, schema.ErrDecimalSyntax
		}
		for ; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return schema.Decimal{}, schema.ErrDecimalSyntax
			}
			exp.Mul(exp, s25ctTen).Add(exp, big.NewInt(int64(s[i]-'0')))
		}
		if eneg {
			exp.Neg(exp)
		}
	}
	mant, _ := new(big.Int).SetString(string(digits), 10)
	if neg {
		mant.Neg(mant)
	}
	scale := new(big.Int).Sub(big.NewInt(int64(frac)), exp)
	if mant.Sign() == 0 {
		if scale.Sign() < 0 || scale.Cmp(big.NewInt(schema.MaxScale)) > 0 {
			return schema.NewDecimal(0, 0), nil // all zeros: at scale 0 when they do not fit
		}
		return schema.NewDecimal(0, int(scale.Int64())), nil
	}
	limit := big.NewInt(int64(len(s) + 40))
	if new(big.Int).Abs(scale).Cmp(limit) > 0 { // a value far past both limits
		if scale.Sign() < 0 {
			return schema.Decimal{}, schema.ErrDecimalOverflow
		}
		return schema.Decimal{}, schema.ErrDecimalPrecision
	}
	sc := int(scale.Int64())
	if sc < 0 {
		mant.Mul(mant, new(big.Int).Exp(s25ctTen, big.NewInt(int64(-sc)), nil))
		sc = 0
	}
	if sc <= schema.MaxScale {
		if d, ok := s25ctFits(mant, sc); ok {
			return d, nil
		}
	}
	for sc > 0 && new(big.Int).Rem(mant, s25ctTen).Sign() == 0 {
		mant.Quo(mant, s25ctTen)
		sc--
	}
	if sc > schema.MaxScale {
		return schema.Decimal{}, schema.ErrDecimalPrecision
	}
	if d, ok := s25ctFits(mant, sc); ok {
		return d, nil
	}
	return schema.Decimal{}, schema.ErrDecimalOverflow
}

func bytesLower(b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// ParseDecimal against the oracle of its doc, on any text: the same value
// and digits, or a *DecimalError matching the same sentinel; and
// ParseDecimalBytes and UnmarshalText agree with it.
func FuzzS25ctParseDecimalOracle(f *testing.F) {
	for _, s := range []string{"0.10000000", "-12.3400", "+.5", "1.5e-3", "5.", ".", "1e", "1e+", "-0", "NaN", "-Infinity", "inf",
		"312345678901.00000000", "0.0000000000000000000", "1e-19", "1.00000000000000000000", "9223372036854775807", "9223372036854775808",
		"92233720368547758070e-1", "0e999999999999999999999", "1e-999999999999999999", "00000000000000000000000001.5", "1.2E+05", "12345678901234567890e-2",
		"0.000000000000000001", "1..2", "1e5.5", " 1", "1 ", "--1", "+-1", "1_000", "０"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 80 {
			return
		}
		want, wantErr := s25ctParseOracle(s)
		got, err := schema.ParseDecimal(s)
		if wantErr != nil {
			var de *schema.DecimalError
			if !errors.As(err, &de) || !errors.Is(err, wantErr) {
				t.Fatalf("ParseDecimal(%q) = %v, %v; want %v", s, got, err, wantErr)
			}
			return
		}
		if err != nil || !got.Identical(want) {
			t.Fatalf("ParseDecimal(%q) = %v (mant %d scale %d), %v; want %v (mant %d scale %d)", s, got, got.Mantissa(), got.Scale(), err, want, want.Mantissa(), want.Scale())
		}
		if b, err := schema.ParseDecimalBytes([]byte(s)); err != nil || !b.Identical(got) {
			t.Fatalf("ParseDecimalBytes(%q) = %v, %v", s, b, err)
		}
	})
}
