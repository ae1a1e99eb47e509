package schema_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/meltica/meltica/schema"
)

// FuzzDecimalDivRoundAgainstBig: for any two mantissas and scales the
// fuzzer finds, Div (at every scale it is asked) and RoundToStep agree with
// math/big in every rounding mode: the same digits when the result fits,
// ErrDecimalOverflow when it does not, and never a panic. The property
// tests draw from a distribution; the fuzzer searches the carries and
// ties that distribution misses.
func FuzzDecimalDivRoundAgainstBig(f *testing.F) {
	for _, s := range [][5]int64{
		{1, 0, 3, 0, 2}, {-1, 0, 3, 0, 2}, {math.MaxInt64, 0, 1, 18, 18}, {math.MaxInt64, 18, 3, 0, 18},
		{-math.MaxInt64, 3, 7, 2, 9}, {5, 1, 1, 0, 0}, {15, 1, 1, 0, 0}, {25, 1, 5, 1, 0}, {999999999999999999, 18, 1, 8, 8},
	} {
		f.Add(s[0], uint8(s[1]), s[2], uint8(s[3]), uint8(s[4]))
	}
	f.Fuzz(func(t *testing.T, dm int64, ds uint8, om int64, os uint8, scale uint8) {
		if dm == math.MinInt64 || om == math.MinInt64 { // refused by NewDecimal's contract
			return
		}
		ds, os, scale = ds%(schema.MaxScale+1), os%(schema.MaxScale+1), scale%(schema.MaxScale+1)
		d, o := schema.NewDecimal(dm, int(ds)), schema.NewDecimal(om, int(os))
		if o.Sign() == 0 {
			if _, err := d.Div(o, int(scale), schema.RoundDown); err == nil {
				t.Fatalf("%s / 0: no error", d)
			}
			return
		}
		num := new(big.Int).Mul(big.NewInt(dm), pow10Big(int(scale)+int(os)))
		den := new(big.Int).Mul(big.NewInt(om), pow10Big(int(ds)))
		if den.Sign() < 0 {
			num.Neg(num)
			den.Neg(den)
		}
		step := schema.NewDecimal(max(om, -om), int(os))
		snum := new(big.Int).Mul(big.NewInt(dm), pow10Big(int(os)))
		sden := new(big.Int).Mul(big.NewInt(step.Mantissa()), pow10Big(int(ds)))
		for _, mode := range modes {
			got, err := d.Div(o, int(scale), mode)
			checkRounded(t, got, err, roundRef(num, den, mode), int(scale), d.String()+" / "+o.String()+" "+mode.String())
			r, err := d.RoundToStep(step, mode)
			k := roundRef(snum, sden, mode)
			checkRounded(t, r, err, k.Mul(k, big.NewInt(step.Mantissa())), int(os), d.String()+" to "+step.String()+" "+mode.String())
		}
	})
}
