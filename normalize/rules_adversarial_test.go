package normalize_test

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// ratOfDecimal is d exactly.
func ratOfDecimal(d schema.Decimal) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(d.Mantissa()), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil))
}

// gridRef is base + k·step with k = floor((v − base) / step) (up: ceil):
// the grid point at or below (above) v, whatever the side of base v is on.
func gridRef(v, base, step *big.Rat, up bool) *big.Rat {
	q := new(big.Rat).Quo(new(big.Rat).Sub(v, base), step)
	k := new(big.Int).Div(q.Num(), q.Denom()) // Euclidean: floor for a positive denominator
	if up && new(big.Rat).SetInt(k).Cmp(q) != 0 {
		k.Add(k, big.NewInt(1))
	}
	return new(big.Rat).Add(base, new(big.Rat).Mul(new(big.Rat).SetInt(k), step))
}

// randGridDecimal is a positive decimal with mantissa up to 10^digits and
// scale 0..8, never zero.
func randGridDecimal(rng *rand.Rand, digits int) schema.Decimal {
	m := int64(1)
	for range digits {
		m *= 10
	}
	return schema.NewDecimal(1+rng.Int64N(m), rng.IntN(9))
}

// TestAdvRulesRoundAgainstBig holds InstrumentRules.Round to its promise,
// against math/big, over random grids (steps that are not powers of ten,
// minimums that are not multiples of the step: the grid is the step's
// multiples all the same, Binance "price % tickSize == 0") and values on
// both sides of the minimum: a buy's price goes to the grid point at or below it, a
// sell's at or above, a quantity at or below — a rounded order is never
// larger or more aggressive than the one given — and Check then finds the
// rounded value on its grid.
func TestAdvRulesRoundAgainstBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 5))
	for i := range 20000 {
		r := normalize.InstrumentRules{TickSize: randGridDecimal(rng, 3), StepSize: randGridDecimal(rng, 3)}
		if rng.IntN(2) == 0 {
			r.MinPrice = randGridDecimal(rng, 4)
		}
		if rng.IntN(2) == 0 {
			r.MinQty = randGridDecimal(rng, 4)
		}
		side := schema.SideBuy
		if rng.IntN(2) == 0 {
			side = schema.SideSell
		}
		o := &schema.OrderRequest{Symbol: "X-Y", Type: schema.OrderTypeLimit, Side: side,
			Price: randGridDecimal(rng, 7), Qty: randGridDecimal(rng, 7)}
		price, qty := ratOfDecimal(o.Price), ratOfDecimal(o.Qty)
		require.NoError(t, r.Round(o), "case %d", i)
		zero := new(big.Rat)
		wantPrice := gridRef(price, zero, ratOfDecimal(r.TickSize), side == schema.SideSell)
		wantQty := gridRef(qty, zero, ratOfDecimal(r.StepSize), false)
		require.Zero(t, wantPrice.Cmp(ratOfDecimal(o.Price)), "case %d: %s price %s on tick %s from %s: got %s, want %s",
			i, side, price.FloatString(8), r.TickSize, r.MinPrice, o.Price, wantPrice.FloatString(12))
		require.Zero(t, wantQty.Cmp(ratOfDecimal(o.Qty)), "case %d: qty %s on step %s from %s: got %s, want %s (a quantity never grows)",
			i, qty.FloatString(8), r.StepSize, r.MinQty, o.Qty, wantQty.FloatString(12))
		if o.Price.Sign() > 0 && o.Qty.Sign() > 0 {
			err := r.Check(o)
			var rerr *normalize.RuleError
			if errors.As(err, &rerr) {
				require.NotContains(t, []string{"tick size", "step size"}, rerr.Rule, "case %d: rounded yet off its grid: %v", i, err)
			}
		}
	}
}

// TestAdvRulesExtremes: huge, tiny and negative values and notionals past
// int64 give an error or a refusal, never a panic nor a wrong pass.
func TestAdvRulesExtremes(t *testing.T) {
	d := schema.MustParseDecimal
	r := normalize.InstrumentRules{TickSize: d("0.00000001"), StepSize: d("0.00000001"), MinNotional: d("1")}
	for _, tc := range []struct{ price, qty string }{
		{"92233720368.54775807", "92233720368.54775807"}, // notional past int64
		{"0.000000000000000001", "1"},
		{"9223372036854775807", "9223372036854775807"},
		{"-5", "1"},
		{"5", "-1"},
	} {
		o := &schema.OrderRequest{Symbol: "X-Y", Type: schema.OrderTypeLimit, Side: schema.SideBuy, Price: d(tc.price), Qty: d(tc.qty)}
		require.NotPanics(t, func() { _ = r.Round(o) })
		o.Price, o.Qty = d(tc.price), d(tc.qty)
		require.NotPanics(t, func() {
			err := r.Check(o)
			if tc.price == "0.000000000000000001" {
				require.Error(t, err, "off the tick")
			}
		})
		require.NotPanics(t, func() { _, _ = r.MinQtyAt(o.Price) })
	}
}
