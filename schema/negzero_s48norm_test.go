package schema

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestS48normParseDecimalNegativeZero pins ParseDecimal's documented
// reading of a negative zero: zero at its scale, the sign dropped, equal
// to 0 and identical to the unsigned spelling, never an error. A venue
// rule on 0 ("price 0", "quantity 0") then holds for "-0" with no code of
// its own.
func TestS48normParseDecimalNegativeZero(t *testing.T) {
	for _, tc := range []struct{ in, unsigned, str string }{
		{"-0", "0", "0"},
		{"-0.000", "0.000", "0.000"},
		{"-0e5", "0", "0"},
		{"-.0", "0.0", "0.0"},
		{"-0.0e-3", "0.0000", "0.0000"},
	} {
		d, err := ParseDecimal(tc.in)
		require.NoError(t, err, tc.in)
		b, err := ParseDecimalBytes([]byte(tc.in))
		require.NoError(t, err, tc.in)
		u, err := ParseDecimal(tc.unsigned)
		require.NoError(t, err, tc.unsigned)
		require.True(t, d.Identical(u), tc.in)
		require.True(t, b.Identical(u), tc.in)
		require.Zero(t, d.Sign(), tc.in)
		require.True(t, d.IsZero(), tc.in)
		require.Zero(t, d.Cmp(Decimal{}), tc.in)
		require.Equal(t, tc.str, d.String(), tc.in)
	}
	d, err := ParseDecimal("-0")
	require.NoError(t, err)
	require.Equal(t, Decimal{}, d, `"-0" is the zero value`)
}
