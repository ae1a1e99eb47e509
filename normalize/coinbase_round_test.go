package normalize

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// TestMulRounded: a product a Decimal holds is exact; one it does not is
// the exact product rounded half to even at the scale it has (checked
// against math/big), and one whose integer part does not fit is an error.
func TestMulRounded(t *testing.T) {
	p, err := mulRounded(schema.MustParseDecimal("21220.64"), schema.MustParseDecimal("0.0046830664333996"))
	require.NoError(t, err)
	require.Equal(t, "99.3776668792568877", p.String()) // 99.377666879256887744 → 16 digits after the point
	p, err = mulRounded(schema.MustParseDecimal("0.25"), schema.MustParseDecimal("-0.5"))
	require.NoError(t, err)
	require.Equal(t, "-0.125", p.String())
	_, err = mulRounded(schema.MustParseDecimal("9223372036854775807"), schema.MustParseDecimal("10"))
	require.ErrorIs(t, err, schema.ErrDecimalOverflow)

	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a := schema.NewDecimal(rng.Int64N(1<<62)-1<<61, rng.IntN(schema.MaxScale+1))
		b := schema.NewDecimal(rng.Int64N(1<<40)-1<<39, rng.IntN(schema.MaxScale+1))
		p, err := mulRounded(a, b)
		exact := new(big.Rat).Mul(rat(a), rat(b))
		if err != nil {
			require.ErrorIs(t, err, schema.ErrDecimalOverflow)
			continue
		}
		// |p − exact| ≤ half a unit of p's last digit, and exactly p when p keeps every digit.
		diff := new(big.Rat).Sub(rat(p), exact)
		half := new(big.Rat).SetFrac(big.NewInt(5), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p.Scale()+1)), nil))
		require.LessOrEqual(t, new(big.Rat).Abs(diff).Cmp(half), 0, "%s × %s = %s", a, b, p)
	}
}

func rat(d schema.Decimal) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(d.Mantissa()), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil))
}
