package schema_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A DecimalError's Input is cut to 64 bytes; the cut must not split a
// rune: a host that logs the error as JSON (goccy/go-json v2 refuses
// invalid UTF-8 by default, RFC 8259 §8.1) or a terminal that shows it
// gets a broken character where the venue sent a whole one.
func TestS24rvErrorInputCutsWholeRunes(t *testing.T) {
	t.Parallel()
	for pad := 60; pad <= 64; pad++ {
		for _, r := range []string{"é", "€", "😀"} {
			in := strings.Repeat("1", pad) + strings.Repeat(r, 4)
			for name, parse := range map[string]func() error{
				"ParseDecimal":      func() error { _, err := schema.ParseDecimal(in); return err },
				"ParseDecimalBytes": func() error { _, err := schema.ParseDecimalBytes([]byte(in)); return err },
				"UnmarshalJSON":     func() error { var d schema.Decimal; return d.UnmarshalJSON([]byte(`"` + in + `"`)) },
			} {
				err := parse()
				var de *schema.DecimalError
				require.True(t, errors.As(err, &de), "%s(%q): %v", name, in, err)
				require.True(t, utf8.ValidString(de.Input), "%s: pad %d %s: Input %q is not UTF-8", name, pad, r, de.Input)
				require.LessOrEqual(t, len(strings.TrimSuffix(de.Input, "…")), 64)
				_, jerr := json.Marshal(struct{ Input string }{de.Input})
				require.NoError(t, jerr, "%s: the error's Input encodes as JSON", name)
			}
		}
	}
}

// The exponent is read in full, however many digits the mantissa has:
// "1" and 10000 zeros, times 10^-10000, is 1 (the trailing zeros are the
// value's, ParseDecimal's doc says they are dropped and the value kept
// exact), and 0.(10000 zeros)1 × 10^10001 is 1.
func TestS24rvLongExponentIsExact(t *testing.T) {
	t.Parallel()
	zeros := strings.Repeat("0", 10000)
	for in, want := range map[string]string{
		"1" + zeros + "e-10000":    "1",
		"1" + zeros + "e-10001":    "0.1",
		"-1" + zeros + ".0e-10004": "-0.0001",
		"0." + zeros + "1e+10001":  "1",
		"0." + zeros + "15e10002":  "15",
		"0." + zeros + "1E+9985":   "0.0000000000000001",
		"1" + zeros + "e-9999":     "10",
	} {
		d, err := schema.ParseDecimal(in)
		require.NoError(t, err, "%.20s…%s", in, in[len(in)-10:])
		require.Equal(t, want, d.String(), "%.20s…%s", in, in[len(in)-10:])
	}
	_, err := schema.ParseDecimal("1" + zeros + "e-99999999999")
	require.ErrorIs(t, err, schema.ErrDecimalPrecision)
	_, err = schema.ParseDecimal("0." + zeros + "1e+99999999999")
	require.ErrorIs(t, err, schema.ErrDecimalOverflow)
}

// escapeAll writes every character of s as a JSON \u00XX escape: the same
// JSON string as s (RFC 8259 §7: any character may be escaped).
func escapeAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\u%04x`, s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// A JSON string is its decoded text, however it is escaped (RFC 8259 §7),
// through UnmarshalJSON (any JSON library) and goccy v2 alike: Binance's
// "672.00000000" written with escapes is 74 bytes of JSON.
func TestS24rvEscapedStringOfAnyLength(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1.5", "672.00000000", "-0.000000012345", "312345678901.00000000", "9223372036854775807", "1e-8"} {
		want := schema.MustParseDecimal(s)
		raw := escapeAll(s)
		var d schema.Decimal
		require.NoError(t, d.UnmarshalJSON([]byte(raw)), raw)
		require.True(t, d.Identical(want), "%s: %v", raw, d)
		var v struct{ P schema.Decimal }
		require.NoError(t, json.Unmarshal([]byte(`{"P":`+raw+`}`), &v), raw)
		require.True(t, v.P.Identical(want), "%s: %v", raw, v.P)
	}
	var d schema.Decimal
	require.ErrorIs(t, d.UnmarshalJSON([]byte(escapeAll("1.5x"+strings.Repeat("0", 100)))), schema.ErrDecimalSyntax)
}

// MulRound is Mul then Round whenever Mul's exact product fits, in every
// mode (the one rounding is the same rounding), and MulRound of d by 1 at
// d's scale is d.
func TestS24rvMulRoundIsMulThenRound(t *testing.T) {
	t.Parallel()
	rng := propertyRNG(t)
	one := schema.NewDecimal(1, 0)
	for range 50_000 {
		a, b := randDecimal(rng), randDecimal(rng)
		scale := rng.IntN(schema.MaxScale + 1)
		mode := schema.RoundingMode(rng.IntN(6))
		got, err := a.MulRound(b, scale, mode)
		if p, perr := a.Mul(b); perr == nil {
			want, werr := p.Round(scale, mode)
			if werr == nil {
				require.NoError(t, err, "%v × %v at %d %v", a, b, scale, mode)
				require.True(t, got.Identical(want), "%v × %v at %d %v: %v, Mul+Round %v", a, b, scale, mode, got, want)
			}
		}
		same, err := a.MulRound(one, a.Scale(), mode)
		require.NoError(t, err)
		require.True(t, same.Identical(a), "%v × 1: %v", a, same)
	}
}
