package schema

import (
	"errors"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"
)

func TestDecimalJSONv2(t *testing.T) {
	var v struct {
		P Decimal `json:"p"`
	}
	for in, want := range map[string]string{
		`{"p":"0.10000000"}`: "0.10000000",
		`{"p":68500.0}`:      "68500.0",
		`{"p":"1\u002e5"}`:   "1.5",
		`{"p":"-2.50"}`:      "-2.50",
		`{"p":null}`:         "0",
	} {
		v.P = Decimal{}
		require.NoError(t, json.Unmarshal([]byte(in), &v), in)
		require.Equal(t, want, v.P.String(), in)
	}
	for in, want := range map[string]error{
		`{"p":true}`:  ErrDecimalSyntax,
		`{"p":"abc"}`: ErrDecimalSyntax,
		`{"p":""}`:    ErrDecimalEmpty,
		`{"p":"NaN"}`: ErrDecimalNotFinite,
	} {
		err := json.Unmarshal([]byte(in), &v)
		require.True(t, errors.Is(err, want), "%s: %v", in, err)
	}
	out, err := json.Marshal(&struct {
		P Decimal `json:"p"`
	}{MustParseDecimal("0.00100")})
	require.NoError(t, err)
	require.Equal(t, `{"p":"0.00100"}`, string(out))
}

func FuzzDecimalJSONv2(f *testing.F) {
	for _, s := range []string{`"1.5"`, `2`, `"-0.000"`, `"1e-3"`, `null`, `"\u0031"`, `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decimal
		if json.Unmarshal(data, &d) != nil {
			return
		}
		// Whatever decoded writes back and decodes to the same digits.
		out, err := json.Marshal(d)
		require.NoError(t, err)
		var back Decimal
		require.NoError(t, json.Unmarshal(out, &back))
		require.True(t, d.Identical(back), "%s → %s", data, out)
	})
}
