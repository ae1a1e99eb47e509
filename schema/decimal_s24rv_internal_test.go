package schema

import (
	"errors"
	"math"
	"math/bits"
	"testing"
)

// oldParseDecimal is ParseDecimal as it was at c7cf95c, before the fast
// path and the trailing-zero trimming: every text it accepted must still
// parse to the same digits (a venue's book checksum and == depend on
// them), so the new parser is held against it.
func oldParseDecimal(s string) (Decimal, error) {
	if len(s) == 0 {
		return decErr(s, ErrDecimalEmpty)
	}
	i := 0
	neg := false
	switch s[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	var mant uint64
	scale, digits := 0, 0
	seenPoint := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if seenPoint {
				return decErr(s, ErrDecimalSyntax)
			}
			seenPoint = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		digits++
		hi, lo := bits.Mul64(mant, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 || lo > math.MaxInt64 {
			return decErr(s, ErrDecimalOverflow)
		}
		mant = lo
		if seenPoint {
			scale++
		}
	}
	if digits == 0 {
		return decErr(s, ErrDecimalSyntax)
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return decErr(s, ErrDecimalSyntax)
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return decErr(s, ErrDecimalSyntax)
		}
		exp := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return decErr(s, ErrDecimalSyntax)
			}
			if exp < 1000 {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			scale += exp
		} else {
			scale -= exp
		}
		if scale < 0 {
			if mant != 0 {
				if -scale >= len(pow10) {
					return decErr(s, ErrDecimalOverflow)
				}
				hi, lo := bits.Mul64(mant, pow10[-scale])
				if hi != 0 || lo > math.MaxInt64 {
					return decErr(s, ErrDecimalOverflow)
				}
				mant = lo
			}
			scale = 0
		}
	}
	if scale > MaxScale {
		return decErr(s, ErrDecimalPrecision)
	}
	m := int64(mant)
	if neg {
		m = -m
	}
	return mkDecimal(m, uint8(scale)), nil
}

var s24rvSeeds = []string{
	"0", "-0", "+0", "-0.00", "1.", ".5", "+.5", "-.5", ".", "-", "+", "-.", "1..2", "1.2.",
	"123456789012345678", "12345678901234567.8", ".123456789012345678", "-.123456789012345678",
	"1234567890123456789", "9223372036854775807", "-9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "922337203685477580.7", "0.9223372036854775807", "000000000000000000000000001.5",
	"0.000000000000000001", "0.0000000000000000001", "0.0000000000000000010", "1.0000000000000000000",
	"312345678901.00000000", "100000000000.00000000", "1e18", "1e19", "1E-18", "10e-19", "1.5e-07",
	"0e-99999", "1e", "1e+", "1e-", "e1", "1.2e-05", "1.2E+05", "-9.669E-05", "123456789012345678e-18",
	"12345678901234567.8e-2", "1.20e-17", "1e-99", "1e5", "1e+1x", "1.e1", ".5e1", "1e1.5", "1ee1", "NaN", "-inf", ".inf", "1 ", " 1", "1_000", "١",
}

func addS24rvSeeds(f *testing.F) {
	for _, s := range s24rvSeeds {
		f.Add(s)
	}
}

// The fast path (at most 18 digits) gives exactly what the whole parser
// gives, digits and error alike.
func FuzzS24rvFastPathIsTheWholeParser(f *testing.F) {
	addS24rvSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		fast, ferr := parseDecimal(s)
		whole, werr := parseDecimalText(s)
		if fast != whole || (ferr == nil) != (werr == nil) || ferr != nil && !sameSentinel(ferr, werr) {
			t.Fatalf("%q: fast path %v, %v; whole parser %v, %v", s, fast, ferr, whole, werr)
		}
	})
}

// Every text the c7cf95c parser read parses to the same digits (never
// fewer trailing zeros: checksums are computed from them), and a text it
// refused is refused alike unless its value is exact without trailing
// zeros it could not hold.
func FuzzS24rvSameDigitsAsBefore(f *testing.F) {
	addS24rvSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		old, oerr := oldParseDecimal(s)
		d, err := ParseDecimal(s)
		switch {
		case oerr == nil && (err != nil || d != old):
			t.Fatalf("%q: was %d×10^-%d, now %v, %v", s, old.mant(), old.scale, d, err)
		case oerr != nil && errors.Is(oerr, ErrDecimalSyntax) && err == nil:
			t.Fatalf("%q: was %v, now %v", s, oerr, d)
		}
	})
}

func sameSentinel(a, b error) bool {
	for _, e := range []error{ErrDecimalEmpty, ErrDecimalSyntax, ErrDecimalNotFinite, ErrDecimalOverflow, ErrDecimalPrecision} {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return true
}
