package schema

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxScale is the most digits a Decimal keeps after the point.
const MaxScale = 18

// Decimal errors. A parse error is a *DecimalError that matches one of these.
var (
	ErrDecimalEmpty     = errors.New("schema: empty decimal")
	ErrDecimalSyntax    = errors.New("schema: invalid decimal syntax")
	ErrDecimalNotFinite = errors.New("schema: decimal is NaN or infinite")
	ErrDecimalOverflow  = errors.New("schema: decimal overflows 64-bit mantissa")
	ErrDecimalPrecision = errors.New("schema: decimal has more than 18 digits after the point")
)

// DecimalError is a Decimal parse error with the offending input.
type DecimalError struct {
	// Input is the offending text: whole up to 64 bytes, else its first
	// 64 bytes and "…", so that a venue's garbage (a megabyte of digits)
	// costs a short error, not a copy of itself in every log line.
	Input string
	Err   error
}

// maxErrInput bounds the text a DecimalError keeps.
const maxErrInput = 64

// errInput is the Input of a DecimalError for s.
// The cut backs off to the start of a rune, so that a venue's whole
// character is not made invalid UTF-8 (which a JSON log refuses).
func errInput[S ~string | ~[]byte](s S) string {
	if len(s) <= maxErrInput {
		return string(s)
	}
	n := maxErrInput
	for k := 1; k < utf8.UTFMax && !utf8.RuneStart(s[n]); k++ {
		n--
	}
	return string(s[:n]) + "…"
}

func (e *DecimalError) Error() string { return e.Err.Error() + ": " + strconv.Quote(e.Input) }

// Unwrap returns the sentinel error.
func (e *DecimalError) Unwrap() error { return e.Err }

// Decimal is an exact fixed-point number: an integer mantissa in
// ±(2^63-1) and a count of digits after the point (0..MaxScale). It keeps
// the digits the venue sent, trailing zeros included: "0.10000000" parses
// to mantissa 10000000, scale 8, and formats back to "0.10000000"
// (order-book checksums depend on it). Trailing zeros after the point
// that it cannot hold — past MaxScale, or past the 63-bit mantissa, as in
// Coinbase's "312345678901.00000000" SHIB volume (sizes of 8 decimals) —
// are dropped, all of them: the value stays exact. Arithmetic is exact or
// returns an error; nothing is ever rounded silently: rounding happens
// only where a [RoundingMode] is given ([Decimal.RoundToStep],
// [Decimal.Round], [Decimal.Div], [Decimal.MulRound]).
//
// The zero value is 0. Decimal is a small value type: copy it freely.
// == (and a map key) compares the digits, as [Decimal.Identical] does: "1.0"
// and "1.00" are two keys; key by [Decimal.Canonical] for one key per value,
// and compare values with [Decimal.Equal] or [Decimal.Cmp]. It encodes as
// its text in JSON (a string), text and binary (encoding/gob).
type Decimal struct {
	// m is the mantissa, an int64 kept as 8 little-endian bytes: with
	// scale the Decimal is 9 bytes aligned to one, not 16 aligned to eight,
	// so a price level ([Level]) is 18 bytes and an event's sections pack
	// (see CanonicalEvent). Read and write it only through mant and
	// mkDecimal (one unaligned load or store each).
	m     [8]byte
	scale uint8
}

// mant returns d's mantissa.
func (d Decimal) mant() int64 { return int64(binary.LittleEndian.Uint64(d.m[:])) }

// mkDecimal returns mant × 10^-scale, unchecked: the callers keep mant in
// ±(2^63-1) and scale in 0..MaxScale.
func mkDecimal(mant int64, scale uint8) Decimal {
	var d Decimal
	binary.LittleEndian.PutUint64(d.m[:], uint64(mant))
	d.scale = scale
	return d
}

// NewDecimal returns mant × 10^-scale. Mantissas lie in ±(2^63-1), so that
// every Decimal can be negated: NewDecimal panics when mant is
// math.MinInt64, and when scale is outside 0..MaxScale — both programming
// errors, as NewDecimal is meant for constants. Values from elsewhere go
// through ParseDecimal or the arithmetic, which return errors.
func NewDecimal(mant int64, scale int) Decimal {
	if scale < 0 || scale > MaxScale {
		panic("schema: NewDecimal scale out of range: " + strconv.Itoa(scale))
	}
	if mant == math.MinInt64 {
		panic("schema: NewDecimal mantissa math.MinInt64 is out of range (±(2^63-1))")
	}
	return mkDecimal(mant, uint8(scale))
}

// ParseDecimal parses a decimal such as "-12.3400", "+.5" or "1.5e-3" (an
// optional sign, digits with at most one point, an optional exponent; no
// spaces), keeping its digits (see [Decimal] for the trailing zeros it
// cannot hold). Errors are *DecimalError matching ErrDecimalEmpty,
// ErrDecimalSyntax, ErrDecimalNotFinite ("NaN", "Infinity"),
// ErrDecimalPrecision (a value with more than MaxScale digits after the
// point, trailing zeros aside) or ErrDecimalOverflow (a mantissa past
// ±(2^63-1) at the value's scale); nothing is ever rounded.
//
// A negative zero ("-0", "-0.000", "-0e5") parses to zero at its scale,
// its sign dropped: a Decimal has no negative zero, and none is needed —
// the value is equal to 0 (Sign 0, Cmp 0 with the zero value), so it
// meets every rule 0 meets (the venue parsers refuse a trade's price or
// quantity "-0" as they refuse "0"). "-0.000" formats as "0.000" and is
// [Decimal.Identical] to a parsed "0.000"; "-0" is the zero value.
func ParseDecimal(s string) (Decimal, error) { return parseDecimal(s) }

// ParseDecimalBytes is ParseDecimal for a byte slice; it does not allocate.
func ParseDecimalBytes(b []byte) (Decimal, error) { return parseDecimal(b) }

// MustParseDecimal is ParseDecimal that panics on error: for constants and tests.
func MustParseDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

func decErr[S ~string | ~[]byte](s S, err error) (Decimal, error) {
	return Decimal{}, &DecimalError{Input: errInput(s), Err: err}
}

func parseDecimal[S ~string | ~[]byte](s S) (Decimal, error) {
	// The venues' usual text — a sign, at most 18 digits, a point, an
	// exponent of one or two digits that leaves the scale in 0..MaxScale
	// — fits whatever its digits (10^18 < 2^63): read it without a check
	// per digit. Anything else goes the whole way.
	i := 0
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var mant uint64
	digits, point, exp := 0, -1, 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' && point < 0 {
			point = digits
			continue
		}
		if (c == 'e' || c == 'E') && digits > 0 {
			// An exponent of one or two digits (Kraken v2's JSON numbers,
			// "1.2e-05") is read here too.
			if exp = fastExp(s, i+1); exp == noExp {
				return parseDecimalText(s)
			}
			break
		}
		if c < '0' || c > '9' || digits == 18 {
			return parseDecimalText(s)
		}
		mant = mant*10 + uint64(c-'0')
		digits++
	}
	if digits == 0 {
		return parseDecimalText(s)
	}
	scale := -exp
	if point >= 0 {
		scale += digits - point
	}
	if scale < 0 || scale > MaxScale {
		return parseDecimalText(s) // digits to add, or zeros to drop
	}
	m := int64(mant)
	if neg {
		m = -m
	}
	return mkDecimal(m, uint8(scale)), nil
}

// noExp is what fastExp returns for an exponent it does not read.
const noExp = math.MinInt

// fastExp reads the exponent at s[i:] to the end of s: an optional sign
// and one or two digits; else noExp.
func fastExp[S ~string | ~[]byte](s S, i int) int {
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	n := len(s) - i
	if n < 1 || n > 2 {
		return noExp
	}
	e := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return noExp
		}
		e = e*10 + int(c-'0')
	}
	if neg {
		return -e
	}
	return e
}

// parseDecimalText parses any text ParseDecimal documents.
func parseDecimalText[S ~string | ~[]byte](s S) (Decimal, error) {
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
	// The text's value is mant × 10^zeros × 10^-scale: zeros counts the
	// trailing zeros seen and not yet multiplied in, so that a value whose
	// trailing zeros a Decimal cannot hold is still read exactly, without
	// them. over: the other digits passed the mantissa's range; the scan
	// goes on, so that a syntax error is one wherever it comes and the
	// error says which limit the value passed.
	var mant uint64
	scale, zeros, digits := 0, 0, 0
	seenPoint, over := false, false
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
		if seenPoint {
			scale++
		}
		if c == '0' {
			zeros++
			continue
		}
		// mant = mant × 10^(zeros+1) + digit: one multiplication for a
		// digit and the zeros before it.
		switch k := zeros + 1; {
		case over:
		case k < len(pow10):
			hi, lo := bits.Mul64(mant, pow10[k])
			lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
			if hi|carry != 0 || lo > math.MaxInt64 {
				over = true
			} else {
				mant = lo
			}
		case mant == 0: // leading zeros, however many
			mant = uint64(c - '0')
		default:
			over = true
		}
		zeros = 0
	}
	if digits == 0 {
		// ".inf" is no spelling of infinity: only a sign may come first.
		if !seenPoint && isNotFinite(s[i:]) {
			return decErr(s, ErrDecimalNotFinite)
		}
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
		// The exponent counts in full up to past any digit count of the
		// text (a 1 and 10000 zeros, e-10000, is 1); beyond, the value
		// is 0 or past both limits whatever its exact exponent.
		exp, limit := 0, len(s)+2*len(pow10)
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return decErr(s, ErrDecimalSyntax)
			}
			if exp < limit {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			scale += exp
		} else {
			scale -= exp
		}
	}
	// The digits as sent when they fit; else without the trailing zeros
	// after the point (the value is the same); else the limit passed.
	trim := min(zeros, max(scale, 0))
	if mant == 0 && !over {
		trim = max(scale, 0) // zero: no digit but zeros
	}
	m, sc, ok := mant, 0, false
	if !over {
		if m, sc, ok = fit(mant, zeros, scale); !ok {
			m, sc, ok = fit(mant, zeros-trim, scale-trim)
		}
	}
	switch {
	case ok:
	case scale-trim > MaxScale:
		return decErr(s, ErrDecimalPrecision)
	default:
		return decErr(s, ErrDecimalOverflow)
	}
	r := int64(m)
	if neg {
		r = -r
	}
	return mkDecimal(r, uint8(sc)), nil
}

// fit returns the mantissa and scale of mant × 10^zeros × 10^-scale, or
// false when the mantissa passes 2^63-1 or the scale MaxScale.
func fit(mant uint64, zeros, scale int) (uint64, int, bool) {
	if scale < 0 {
		zeros, scale = zeros-scale, 0
	}
	if scale > MaxScale {
		return 0, 0, false
	}
	if mant == 0 || zeros == 0 {
		return mant, scale, true
	}
	if zeros >= len(pow10) {
		return 0, 0, false
	}
	hi, lo := bits.Mul64(mant, pow10[zeros])
	if hi != 0 || lo > math.MaxInt64 {
		return 0, 0, false
	}
	return lo, scale, true
}

// isNotFinite reports whether s spells NaN or infinity, so that the error
// says so rather than just "syntax".
func isNotFinite[S ~string | ~[]byte](s S) bool {
	switch len(s) {
	case 3, 8:
	default:
		return false
	}
	var buf [8]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	w := string(buf[:len(s)])
	return w == "nan" || w == "inf" || w == "infinity"
}

// Mantissa returns the integer mantissa.
func (d Decimal) Mantissa() int64 { return d.mant() }

// Scale returns the number of digits after the point.
func (d Decimal) Scale() int { return int(d.scale) }

// IsZero reports whether d is 0 at any scale.
func (d Decimal) IsZero() bool { return d.mant() == 0 }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int { return cmp.Compare(d.mant(), 0) }

// Neg returns -d, always exactly: mantissas lie in ±(2^63-1).
func (d Decimal) Neg() Decimal { return mkDecimal(-d.mant(), d.scale) }

// Identical reports whether d and o have the same digits: same value and same
// scale ("1.0" and "1.00" are Equal but not Identical).
func (d Decimal) Identical(o Decimal) bool { return d == o }

// Canonical returns d without the trailing zeros after its point (at the
// smallest scale that holds its value; 0 for zero): Equal decimals have ==
// Canonical forms, so Canonical is the map key of a value. It is exact
// and allocates nothing.
func (d Decimal) Canonical() Decimal {
	m, scale := d.mant(), d.scale
	for scale > 0 && m%10 == 0 {
		m /= 10
		scale--
	}
	return mkDecimal(m, scale)
}

// Equal reports whether d and o have the same value at any scale.
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than o.
// Two decimals of one scale (a book's prices: one tick size) compare by
// their mantissas, inline.
func (d Decimal) Cmp(o Decimal) int {
	a, b := d.mant(), o.mant()
	if d.scale == o.scale {
		return cmp.Compare(a, b)
	}
	return cmpScaled(a, int(d.scale), b, int(o.scale))
}

// cmpScaled compares a × 10^-as with b × 10^-bs for scales that differ.
func cmpScaled(a int64, as int, b int64, bs int) int {
	if ds, os := cmp.Compare(a, 0), cmp.Compare(b, 0); ds != os || ds == 0 {
		return cmp.Compare(ds, os)
	}
	// Same non-zero sign: compare magnitudes at a common scale in 128 bits.
	ah, al := widen(abs64(a), bs-as)
	bh, bl := widen(abs64(b), as-bs)
	c := 0
	switch {
	case ah != bh:
		c = cmp.Compare(ah, bh)
	default:
		c = cmp.Compare(al, bl)
	}
	if a < 0 {
		return -c
	}
	return c
}

func widen(m uint64, by int) (hi, lo uint64) {
	if by <= 0 {
		return 0, m
	}
	return bits.Mul64(m, pow10[by])
}

func abs64(m int64) uint64 {
	if m < 0 {
		return uint64(-m)
	}
	return uint64(m)
}

// Add returns d + o at the larger of the two scales, or ErrDecimalOverflow
// when the exact sum does not fit that scale. The sum is computed in 128
// bits, so an operand that overflows on its way to the common scale does
// not fail a sum that fits.
func (d Decimal) Add(o Decimal) (Decimal, error) {
	s := max(d.scale, o.scale)
	ah, al := widen(abs64(d.mant()), int(s)-int(d.scale))
	bh, bl := widen(abs64(o.mant()), int(s)-int(o.scale))
	neg := d.mant() < 0
	var rh, rl uint64
	if (d.mant() < 0) == (o.mant() < 0) {
		var c uint64
		rl, c = bits.Add64(al, bl, 0)
		rh, c = bits.Add64(ah, bh, c)
		if c != 0 {
			return Decimal{}, ErrDecimalOverflow
		}
	} else {
		if ah < bh || (ah == bh && al < bl) { // |o| > |d|: the sign is o's
			ah, al, bh, bl = bh, bl, ah, al
			neg = o.mant() < 0
		}
		var b uint64
		rl, b = bits.Sub64(al, bl, 0)
		rh, _ = bits.Sub64(ah, bh, b)
	}
	return fromMagnitude(rh, rl, neg, s)
}

// fromMagnitude returns ±(hi·2^64 + lo) × 10^-scale, or ErrDecimalOverflow
// when the magnitude exceeds 2^63-1.
func fromMagnitude(hi, lo uint64, neg bool, scale uint8) (Decimal, error) {
	if hi != 0 || lo > math.MaxInt64 {
		return Decimal{}, ErrDecimalOverflow
	}
	m := int64(lo)
	if neg {
		m = -m
	}
	return mkDecimal(m, scale), nil
}

// Sub returns d - o at the larger of the two scales, or ErrDecimalOverflow.
func (d Decimal) Sub(o Decimal) (Decimal, error) { return d.Add(o.Neg()) }

// Mul returns d × o exactly. The scale is the sum of the scales, less any
// trailing zeros that must go to fit; ErrDecimalOverflow or
// ErrDecimalPrecision when the exact product cannot be represented.
func (d Decimal) Mul(o Decimal) (Decimal, error) {
	hi, lo := bits.Mul64(abs64(d.mant()), abs64(o.mant()))
	scale := int(d.scale) + int(o.scale)
	for (hi != 0 || lo > math.MaxInt64 || scale > MaxScale) && scale > 0 {
		qhi, rhi := hi/10, hi%10
		qlo, r := bits.Div64(rhi, lo, 10)
		if r != 0 {
			break
		}
		hi, lo = qhi, qlo
		scale--
	}
	if hi != 0 || lo > math.MaxInt64 {
		return Decimal{}, ErrDecimalOverflow
	}
	if scale > MaxScale {
		return Decimal{}, ErrDecimalPrecision
	}
	m := int64(lo)
	if (d.mant() < 0) != (o.mant() < 0) {
		m = -m
	}
	return mkDecimal(m, uint8(scale)), nil
}

// Float64 returns the nearest float64. For display and statistics only:
// nothing on Meltica's data path uses floats.
func (d Decimal) Float64() float64 {
	var buf [32]byte
	f, _ := strconv.ParseFloat(string(d.AppendTo(buf[:0])), 64)
	return f
}

// String formats d with exactly its scale's digits after the point.
func (d Decimal) String() string {
	var buf [32]byte
	return string(d.AppendTo(buf[:0]))
}

// AppendTo appends d's text to b and returns the extended slice; it does not
// allocate when b has room.
func (d Decimal) AppendTo(b []byte) []byte {
	var tmp [20]byte
	digits := strconv.AppendUint(tmp[:0], abs64(d.mant()), 10)
	if d.mant() < 0 {
		b = append(b, '-')
	}
	sc := int(d.scale)
	if sc == 0 {
		return append(b, digits...)
	}
	if len(digits) > sc {
		b = append(b, digits[:len(digits)-sc]...)
		b = append(b, '.')
		return append(b, digits[len(digits)-sc:]...)
	}
	b = append(b, '0', '.')
	for i := len(digits); i < sc; i++ {
		b = append(b, '0')
	}
	return append(b, digits...)
}

// MarshalJSON writes d as a quoted string, digits kept.
func (d Decimal) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = d.AppendTo(b)
	return append(b, '"'), nil
}

// MarshalText writes d's text.
func (d Decimal) MarshalText() ([]byte, error) { return d.AppendTo(nil), nil }

// AppendText appends d's text to b (encoding.TextAppender).
func (d Decimal) AppendText(b []byte) ([]byte, error) { return d.AppendTo(b), nil }

// MarshalBinary writes d's text, as MarshalText: the digits are the value
// and the encoding, with no version to outgrow. It makes Decimal
// encodable by encoding/gob, which does not use MarshalText.
func (d Decimal) MarshalBinary() ([]byte, error) { return d.AppendTo(nil), nil }

// AppendBinary appends what MarshalBinary writes to b
// (encoding.BinaryAppender).
func (d Decimal) AppendBinary(b []byte) ([]byte, error) { return d.AppendTo(b), nil }

// UnmarshalBinary reads what MarshalBinary writes (any text ParseDecimal
// reads); on error d is unchanged.
func (d *Decimal) UnmarshalBinary(b []byte) error { return d.UnmarshalText(b) }

// UnmarshalText parses d's text; on error d is unchanged.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := parseDecimal(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
