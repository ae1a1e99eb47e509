package schema_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/meltica/meltica/schema"
)

// extremeMantissas are the edges of int64 and the ties of rounding.
var extremeMantissas = []int64{0, 1, -1, 5, -5, 15, -15, 25, -25, 123456789, -123456789,
	1_000_000_000_000_000_000, -1_000_000_000_000_000_000, math.MaxInt64, -math.MaxInt64, math.MaxInt64 - 1, -(math.MaxInt64 - 1)}

// TestRoundingExtremesAgainstBig: every pairing of extreme values, scales
// 0 to 18, steps and divisors from 1 unit to the largest, in every mode,
// against math/big: the exact result or ErrDecimalOverflow, never a panic
// nor a wrong digit.
func TestRoundingExtremesAgainstBig(t *testing.T) {
	scales := []int{0, 1, 8, 17, 18}
	var values []schema.Decimal
	for _, m := range extremeMantissas {
		for _, sc := range scales {
			values = append(values, schema.NewDecimal(m, sc))
		}
	}
	for _, d := range values {
		num := func(scale int) *big.Int { // d × 10^scale, exact
			return new(big.Int).Mul(big.NewInt(d.Mantissa()), pow10Big(scale))
		}
		for _, o := range values {
			if o.Mantissa() <= 0 {
				continue
			}
			for _, mode := range modes {
				// RoundToStep: k = d/step rounded, result k·step at step's scale.
				s := max(d.Scale(), o.Scale())
				k := roundRef(num(s-d.Scale()), new(big.Int).Mul(big.NewInt(o.Mantissa()), pow10Big(s-o.Scale())), mode)
				got, err := d.RoundToStep(o, mode)
				checkRounded(t, got, err, new(big.Int).Mul(k, big.NewInt(o.Mantissa())), o.Scale(), d.String()+" to step "+o.String()+" "+mode.String())
				// Div at a few scales, by a positive and a negative divisor.
				for _, sc := range []int{0, 8, 18} {
					for _, div := range []schema.Decimal{o, o.Neg()} {
						// d/div × 10^sc = d.m × 10^(sc + div.scale) / (div.m × 10^d.scale)
						n := new(big.Int).Mul(big.NewInt(d.Mantissa()), pow10Big(sc+div.Scale()))
						den := new(big.Int).Mul(big.NewInt(div.Mantissa()), pow10Big(d.Scale()))
						if den.Sign() < 0 {
							n.Neg(n)
							den.Neg(den)
						}
						got, err := d.Div(div, sc, mode)
						checkRounded(t, got, err, roundRef(n, den, mode), sc, d.String()+" / "+div.String()+" "+mode.String())
					}
				}
			}
		}
	}
}
