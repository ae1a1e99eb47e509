package schema

import (
	"cmp"
	"errors"
	"math"
	"math/bits"
)

// Errors of rounding and division.
var (
	ErrDecimalDivByZero = errors.New("schema: decimal division by zero")
	ErrDecimalStep      = errors.New("schema: decimal rounding step must be positive")
	ErrDecimalScale     = errors.New("schema: decimal scale out of range 0..18")
	ErrDecimalRounding  = errors.New("schema: unknown rounding mode")
)

// RoundingMode says where a result that falls between two representable
// values goes. The names are those of java.math.RoundingMode and IEEE 754;
// "down" and "up" are toward and away from zero, whatever the sign.
type RoundingMode uint8

// Rounding modes.
const (
	// RoundDown truncates: toward zero. -1.27 to a step of 0.1 is -1.2.
	// The usual mode for an order quantity that must not exceed a budget.
	RoundDown RoundingMode = iota
	// RoundUp goes away from zero. -1.21 to a step of 0.1 is -1.3.
	RoundUp
	// RoundFloor goes toward negative infinity. -1.21 to 0.1 is -1.3, 1.29
	// is 1.2. The usual mode for a buy limit price.
	RoundFloor
	// RoundCeiling goes toward positive infinity. -1.29 to 0.1 is -1.2,
	// 1.21 is 1.3. The usual mode for a sell limit price.
	RoundCeiling
	// RoundHalfUp goes to the nearest value; a tie (exactly half way) goes
	// away from zero: 1.25 and -1.25 to 0.1 are 1.3 and -1.3.
	RoundHalfUp
	// RoundHalfEven goes to the nearest value; a tie goes to the even
	// multiple (banker's rounding): 1.25 is 1.2, 1.35 is 1.4.
	RoundHalfEven
)

var roundingNames = [...]string{"down", "up", "floor", "ceiling", "half_up", "half_even"}

func (m RoundingMode) String() string {
	if int(m) < len(roundingNames) {
		return roundingNames[m]
	}
	return "unknown"
}

// RoundToStep returns the multiple of step that mode picks for d, at step's
// scale: 1.23456 to a step of 0.01 with RoundDown is 1.23, and 5 to a step
// of 0.5 is 5.0. Steps need not be powers of ten (a tick of 0.05 or 25 is
// fine). It is exact before the one rounding and allocates nothing. It
// returns ErrDecimalStep when step is not positive, ErrDecimalRounding for
// an unknown mode and ErrDecimalOverflow when the result does not fit.
// Venues' tick and lot sizes are steps: round a price with its tick size,
// a quantity with its step size.
func (d Decimal) RoundToStep(step Decimal, mode RoundingMode) (Decimal, error) {
	if step.mant() <= 0 {
		return Decimal{}, ErrDecimalStep
	}
	if mode > RoundHalfEven {
		return Decimal{}, ErrDecimalRounding
	}
	s := max(d.scale, step.scale)
	nh, nl := widen(abs64(d.mant()), int(s)-int(d.scale))
	th, tl := widen(uint64(step.mant()), int(s)-int(step.scale))
	q, rh, rl, over := divmod128(nh, nl, th, tl)
	if !over {
		q, over = roundQuotient(q, rh, rl, th, tl, d.mant() < 0, mode)
	}
	if over {
		return Decimal{}, ErrDecimalOverflow
	}
	hi, lo := bits.Mul64(q, uint64(step.mant()))
	return fromMagnitude(hi, lo, d.mant() < 0, step.scale)
}

// Round returns d with scale digits after the point, rounded by mode: the
// same as RoundToStep with a step of 10^-scale.
func (d Decimal) Round(scale int, mode RoundingMode) (Decimal, error) {
	if scale < 0 || scale > MaxScale {
		return Decimal{}, ErrDecimalScale
	}
	return d.RoundToStep(mkDecimal(1, uint8(scale)), mode)
}

// Div returns d / o with scale digits after the point, rounded by mode:
// 1 / 3 at scale 4 is 0.3333 (RoundDown) or 0.3334 (RoundUp). It is exact
// before the one rounding, allocates nothing, and returns
// ErrDecimalDivByZero, ErrDecimalScale for a scale outside 0..MaxScale,
// ErrDecimalRounding for an unknown mode, or ErrDecimalOverflow when the
// rounded quotient does not fit.
func (d Decimal) Div(o Decimal, scale int, mode RoundingMode) (Decimal, error) {
	switch {
	case o.mant() == 0:
		return Decimal{}, ErrDecimalDivByZero
	case scale < 0 || scale > MaxScale:
		return Decimal{}, ErrDecimalScale
	case mode > RoundHalfEven:
		return Decimal{}, ErrDecimalRounding
	}
	// d/o = (|d.mant()| × 10^e) / (|o.mant()|) × 10^-scale, e = scale + o.scale - d.scale.
	neg := (d.mant() < 0) != (o.mant() < 0)
	e := scale + int(o.scale) - int(d.scale)
	nh, nl := uint64(0), abs64(d.mant())
	th, tl := uint64(0), abs64(o.mant())
	var ok bool
	if e >= 0 {
		if nh, nl, ok = mulPow10(nh, nl, e); !ok {
			// The numerator passed 2^128, so the quotient is over 2^128 / 2^63.
			return Decimal{}, ErrDecimalOverflow
		}
	} else if th, tl, ok = mulPow10(th, tl, -e); !ok {
		// The divisor passed 2^128 while the numerator is under 2^63: the
		// quotient is 0 and the remainder far below half of any divisor
		// that large, which 2^128-1 stands for.
		th, tl = math.MaxUint64, math.MaxUint64
	}
	return divRound(nh, nl, th, tl, neg, mode, scale)
}

// MulRound returns d × o with scale digits after the point, rounded by
// mode: where Mul refuses a product that is exact only past MaxScale (a
// meme coin's notional: 0.000012345678 × 1234.56789012 is exact at 20
// digits), MulRound gives it at the scale asked, 0.01524158 at 8 with
// RoundHalfEven. It is exact before the one rounding (the product is kept
// in 128 bits), allocates nothing, and returns ErrDecimalScale for a scale
// outside 0..MaxScale, ErrDecimalRounding for an unknown mode, or
// ErrDecimalOverflow when the rounded product does not fit.
func (d Decimal) MulRound(o Decimal, scale int, mode RoundingMode) (Decimal, error) {
	switch {
	case scale < 0 || scale > MaxScale:
		return Decimal{}, ErrDecimalScale
	case mode > RoundHalfEven:
		return Decimal{}, ErrDecimalRounding
	}
	neg := (d.mant() < 0) != (o.mant() < 0)
	nh, nl := bits.Mul64(abs64(d.mant()), abs64(o.mant()))
	e := scale - int(d.scale) - int(o.scale) // the product's scale is d's + o's
	if e >= 0 {
		nh, nl, ok := mulPow10(nh, nl, e)
		if !ok {
			return Decimal{}, ErrDecimalOverflow
		}
		return fromMagnitude(nh, nl, neg, uint8(scale))
	}
	// Drop -e ≤ 36 digits: the divisor 10^-e fits 128 bits.
	th, tl, _ := mulPow10(0, 1, -e)
	return divRound(nh, nl, th, tl, neg, mode, scale)
}

// divRound returns ±n/t (n nh:nl, t th:tl > 0) rounded by mode to an
// integer, as the mantissa of a Decimal at scale, or ErrDecimalOverflow.
func divRound(nh, nl, th, tl uint64, neg bool, mode RoundingMode, scale int) (Decimal, error) {
	q, rh, rl, over := divmod128(nh, nl, th, tl)
	if !over {
		q, over = roundQuotient(q, rh, rl, th, tl, neg, mode)
	}
	if over {
		return Decimal{}, ErrDecimalOverflow
	}
	return fromMagnitude(0, q, neg, uint8(scale))
}

// roundQuotient applies mode to the truncated quotient q of a magnitude
// division with remainder r (rh:rl) by t (th:tl); neg is the sign of the
// exact result. It returns q or q+1, and over when q+1 does not fit.
func roundQuotient(q, rh, rl, th, tl uint64, neg bool, mode RoundingMode) (uint64, bool) {
	if rh|rl == 0 {
		return q, false
	}
	up := false
	switch mode {
	case RoundUp:
		up = true
	case RoundFloor:
		up = neg
	case RoundCeiling:
		up = !neg
	case RoundHalfUp, RoundHalfEven:
		// Compare 2r with t; when r ≥ 2^127, 2r passes 2^128 > t.
		c := 1
		if rh>>63 == 0 {
			c = cmp128(rh<<1|rl>>63, rl<<1, th, tl)
		}
		up = c > 0 || c == 0 && (mode == RoundHalfUp || q&1 == 1)
	}
	if !up {
		return q, false
	}
	return q + 1, q == math.MaxUint64
}

// divmod128 divides n (nh:nl) by t (th:tl), t > 0, and returns the quotient
// (over reports one that does not fit 64 bits) and the remainder.
func divmod128(nh, nl, th, tl uint64) (q, rh, rl uint64, over bool) {
	if th == 0 {
		if nh >= tl {
			return 0, 0, 0, true
		}
		q, r := bits.Div64(nh, nl, tl)
		return q, 0, r, false
	}
	// t ≥ 2^64, so q < 2^64: binary long division, one bit of n at a time.
	for i := 127; i >= 0; i-- {
		carry := rh >> 63 // r<<1 passes 2^128: then it is surely ≥ t
		rh = rh<<1 | rl>>63
		rl <<= 1
		if i >= 64 {
			rl |= nh >> (i - 64) & 1
		} else {
			rl |= nl >> i & 1
		}
		if carry != 0 || cmp128(rh, rl, th, tl) >= 0 {
			var b uint64
			rl, b = bits.Sub64(rl, tl, 0) // modulo 2^128: the true difference is < t
			rh, _ = bits.Sub64(rh, th, b)
			if i >= 64 {
				return 0, 0, 0, true
			}
			q |= 1 << i
		}
	}
	return q, rh, rl, false
}

// mulPow10 returns (hi:lo) × 10^e, or false when it passes 2^128.
func mulPow10(hi, lo uint64, e int) (uint64, uint64, bool) {
	for e > 0 {
		k := min(e, 19)
		e -= k
		p := pow10[k]
		h1, l1 := bits.Mul64(lo, p)
		h2, l2 := bits.Mul64(hi, p)
		if h2 != 0 {
			return 0, 0, false
		}
		var c uint64
		h1, c = bits.Add64(h1, l2, 0)
		if c != 0 {
			return 0, 0, false
		}
		hi, lo = h1, l1
	}
	return hi, lo, true
}

func cmp128(ah, al, bh, bl uint64) int {
	if ah != bh {
		return cmp.Compare(ah, bh)
	}
	return cmp.Compare(al, bl)
}
