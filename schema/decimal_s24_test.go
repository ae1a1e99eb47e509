package schema_test

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The decimal text of the whole kind the five venues send, written from the
// venues' documents and from ParseDecimal's contract (digits kept, or a
// typed error; never a rounding or a wraparound), not from the parser:
//
//   - strings of fixed width: Binance spot "672.00000000" (8 decimals),
//     Coinbase Exchange "0.00100000", Kraken v1 "5541.20000";
//   - Kraken v2 prices and quantities as JSON numbers (WebSocket v2 book:
//     "price": 0.5, "qty": 1.2e-05 — a JSON number may carry an exponent);
//   - exponents in strings too: Coinbase's products give quote_increment
//     "1e-8" (dougdellolio/coinbasepro-csharp#175), other venues "2.345E-4"
//     (JKorf/CryptoExchange.Net#155);
//   - OKX's "" for a number not sent (handled by the venue parsers: here it
//     is ErrDecimalEmpty);
//   - meme-coin prices with 8–12 decimals ("0.000000012345"), Kraken's 10
//     decimal balances, 18-decimal token amounts at the edge of MaxScale.
func TestS24WireForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, text string
		err      error
	}{
		{in: "1e-8", text: "0.00000001"},
		{in: "1E+2", text: "100"},
		{in: "1.5e-07", text: "0.00000015"},
		{in: "0E-8", text: "0.00000000"},
		{in: "1.2e-05", text: "0.000012"},
		{in: "+5", text: "5"},
		{in: "007.50", text: "7.50"},
		{in: ".5", text: "0.5"},
		{in: "5.", text: "5"},
		{in: "-0", text: "0"},
		{in: "-0.00", text: "0.00"},
		{in: "0.00000000", text: "0.00000000"},
		{in: "672.00000000", text: "672.00000000"},
		{in: "0.000000012345", text: "0.000000012345"},
		{in: "80595.4943000000", text: "80595.4943000000"},
		{in: "1.000000000000000000", text: "1.000000000000000000"},
		{in: "9.223372036854775807", text: "9.223372036854775807"},
		{in: "-9223372036854775807", text: "-9223372036854775807"},
		{in: "1e18", text: "1000000000000000000"},
		{in: "1.5e-17", text: "0.000000000000000015"},

		{in: "", err: schema.ErrDecimalEmpty},
		{in: " 1", err: schema.ErrDecimalSyntax},
		{in: "1 ", err: schema.ErrDecimalSyntax},
		{in: "1\n", err: schema.ErrDecimalSyntax},
		{in: "1,5", err: schema.ErrDecimalSyntax},
		{in: "0x10", err: schema.ErrDecimalSyntax},
		{in: "1e", err: schema.ErrDecimalSyntax},
		{in: ".", err: schema.ErrDecimalSyntax},
		{in: "-", err: schema.ErrDecimalSyntax},
		{in: "--1", err: schema.ErrDecimalSyntax},
		{in: "1.2.3", err: schema.ErrDecimalSyntax},
		{in: ".inf", err: schema.ErrDecimalSyntax},
		{in: "NaN", err: schema.ErrDecimalNotFinite},
		{in: "Infinity", err: schema.ErrDecimalNotFinite},
		{in: "-Infinity", err: schema.ErrDecimalNotFinite},
		{in: "+inf", err: schema.ErrDecimalNotFinite},
		{in: "1e20", err: schema.ErrDecimalOverflow},
		{in: "100000000000000000000", err: schema.ErrDecimalOverflow},
		{in: "-9223372036854775808", err: schema.ErrDecimalOverflow},
		{in: "1234567890.1234567891", err: schema.ErrDecimalOverflow}, // 20 digits at Kraken's 10 decimals
		{in: "0.1234567890123456789", err: schema.ErrDecimalPrecision},
		{in: "1.5e-18", err: schema.ErrDecimalPrecision},
		// 19 significant digits after the point is the precision error
		// whatever the digits: that the mantissa also overflows does not
		// change which limit the value passed first.
		{in: "12345678901234567890.123456789012345678901", err: schema.ErrDecimalPrecision},
		{in: "1.1000000000000000001", err: schema.ErrDecimalPrecision},

		// Trailing zeros a Decimal cannot hold — past the 63-bit mantissa
		// (Coinbase Exchange's SHIB-USD volume_24h: sizes have 8 decimals
		// and SHIB trades by the hundred billion) or past MaxScale — are
		// dropped: the value is exact, only those zeros go.
		{in: "312345678901.00000000", text: "312345678901"},
		{in: "92233720368.54775808", err: schema.ErrDecimalOverflow},
		{in: "92233720368.54775810", text: "92233720368.5477581"},
		{in: "92233720368.54775807", text: "92233720368.54775807"},
		{in: "1.0000000000000000000", text: "1"},
		{in: "1234567890.1234567890", text: "1234567890.123456789"},
		{in: "0.00000000000000000000", text: "0"},
		{in: "-0.10000000000000000000000", text: "-0.1"},
		{in: "0e-100", text: "0"},
		{in: "5000000000000000000000e-3", text: "5000000000000000000"},
		{in: "3.12345678901000000000e11", text: "312345678901"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			d, err := schema.ParseDecimal(tc.in)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				var de *schema.DecimalError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, tc.in, de.Input)
				assert.Equal(t, schema.Decimal{}, d, "a failed parse gives the zero value")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.text, d.String())
			b, err := schema.ParseDecimalBytes([]byte(tc.in))
			require.NoError(t, err)
			assert.True(t, b.Identical(d))
		})
	}
}

// decimalSyntax is the text ParseDecimal documents: an optional sign,
// digits with at most one point (".5" and "5." included), an optional
// exponent.
var decimalSyntax = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// oracleParse is what ParseDecimal must return for s, computed with
// math/big: the value with its scale (digits after the point of the text,
// less the exponent, at least 0; without the trailing zeros after the
// point when the digits as sent do not fit), or the error a reader of the
// contract expects.
func oracleParse(s string) (mant *big.Int, scale int, err error) {
	if s == "" {
		return nil, 0, schema.ErrDecimalEmpty
	}
	if !decimalSyntax.MatchString(s) {
		w := strings.ToLower(strings.TrimLeft(s, "+-"))
		if len(s)-len(w) <= 1 && (w == "nan" || w == "inf" || w == "infinity") {
			return nil, 0, schema.ErrDecimalNotFinite
		}
		return nil, 0, schema.ErrDecimalSyntax
	}
	body, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		body = s[:i]
		e, ok := new(big.Int).SetString(s[i+1:], 10)
		if !ok {
			return nil, 0, schema.ErrDecimalSyntax
		}
		if e.CmpAbs(big.NewInt(1_000_000)) > 0 { // far past any scale or mantissa
			if e.Sign() < 0 {
				return nil, 0, schema.ErrDecimalPrecision
			}
			e = big.NewInt(1_000_000)
		}
		exp = e.Int64()
	}
	neg := strings.HasPrefix(body, "-")
	body = strings.TrimLeft(body, "+-")
	frac := 0
	if i := strings.IndexByte(body, '.'); i >= 0 {
		frac = len(body) - i - 1
		body = body[:i] + body[i+1:]
	}
	m, _ := new(big.Int).SetString(body, 10)
	sc := int64(frac) - exp
	if sc < 0 {
		if m.Sign() != 0 && -sc > 40 {
			return nil, 0, schema.ErrDecimalOverflow
		}
		if m.Sign() != 0 {
			m.Mul(m, new(big.Int).Exp(ten, big.NewInt(-sc), nil))
		}
		sc = 0
	}
	if neg {
		m.Neg(m)
	}
	// The digits as sent when they fit.
	if sc <= schema.MaxScale && m.CmpAbs(maxMant) <= 0 {
		return m, int(sc), nil
	}
	// Else without the trailing zeros after the point: the same value.
	for sc > 0 && new(big.Int).Rem(m, ten).Sign() == 0 {
		m.Quo(m, ten)
		sc--
	}
	switch {
	case sc > schema.MaxScale:
		return nil, 0, schema.ErrDecimalPrecision
	case m.CmpAbs(maxMant) > 0:
		return nil, 0, schema.ErrDecimalOverflow
	}
	return m, int(sc), nil
}

// venueNumbers returns every number-looking text of the venue messages in
// testdata/venues: quoted decimals and bare JSON numbers, as sent.
func venueNumbers(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "venues", "*.json"))
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	quoted := regexp.MustCompile(`"([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)"`)
	bare := regexp.MustCompile(`[:\[,]\s*(-?[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?)`)
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(tb, err)
		for _, re := range []*regexp.Regexp{quoted, bare} {
			for _, m := range re.FindAllSubmatch(b, -1) {
				if s := string(m[1]); !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// venueShapes is one number of each shape in venueNumbers (digits 1–9 as
// one, zeros kept: the trailing zeros and the point are the shape), a seed
// corpus the fuzzer can start from quickly.
func venueShapes(tb testing.TB) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range venueNumbers(tb) {
		shape := strings.Map(func(r rune) rune {
			if '1' <= r && r <= '9' {
				return '1'
			}
			return r
		}, s)
		if !seen[shape] {
			seen[shape] = true
			out = append(out, s)
		}
	}
	return out
}

func checkAgainstOracle(t *testing.T, s string) {
	t.Helper()
	wantM, wantScale, wantErr := oracleParse(s)
	d, err := schema.ParseDecimal(s)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("ParseDecimal(%q) = %v, %v; want %v", s, d, err, wantErr)
		}
		var de *schema.DecimalError
		if !errors.As(err, &de) || !strings.HasPrefix(s, strings.TrimSuffix(de.Input, "…")) || len(de.Input) > 64+len("…") {
			t.Fatalf("ParseDecimal(%q): error %v is not a *DecimalError naming the input", s, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseDecimal(%q) = %v; want %v at scale %d", s, err, wantM, wantScale)
	}
	if d.Mantissa() != wantM.Int64() || d.Scale() != wantScale {
		t.Fatalf("ParseDecimal(%q) = %d×10^-%d; want %v×10^-%d", s, d.Mantissa(), d.Scale(), wantM, wantScale)
	}
	b, err := schema.ParseDecimalBytes([]byte(s))
	if err != nil || !b.Identical(d) {
		t.Fatalf("ParseDecimalBytes(%q) = %v, %v; ParseDecimal gave %v", s, b, err, d)
	}
	// The text goes back out in plain positional notation, the only form
	// every venue takes in an order (Kraken refuses "7.3e-7": Invalid
	// price, askmike/gekko#1556), and parses back to the same digits.
	text := d.String()
	if !plainDecimal.MatchString(text) {
		t.Fatalf("ParseDecimal(%q) formats as %q", s, text)
	}
	if back, err := schema.ParseDecimal(text); err != nil || !back.Identical(d) {
		t.Fatalf("%q formats as %q, which parses to %v, %v", s, text, back, err)
	}
}

var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Every number in the real venue messages parses to exactly what math/big
// reads in it, at the scale the text shows.
func TestS24VenueNumbersAgainstBig(t *testing.T) {
	t.Parallel()
	nums := venueNumbers(t)
	require.Greater(t, len(nums), 200, "the corpus has hundreds of numbers")
	for _, s := range nums {
		checkAgainstOracle(t, s)
		checkJSONAgainstOracle(t, s)
	}
}

// FuzzS24ParseAgainstBig holds ParseDecimal against math/big on any text:
// the exact value at the text's scale, or the error the contract names.
// Seeds: every number of the real venue messages, and the wire edges.
func FuzzS24ParseAgainstBig(f *testing.F) {
	for _, s := range venueShapes(f) {
		f.Add(s)
	}
	for _, s := range []string{"1e-8", "1E+2", "1.5e-07", "0E-8", "+5", ".5", "5.", "-0", "1.0000000000000000000",
		"1e20", "", " 1", "NaN", "-Infinity", ".inf", "9223372036854775807", "9223372036854775808",
		"0.000000000000000001", "1e-0000000000000000000000000000018", "0e999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkAgainstOracle(t, s) })
}

// jsonNumber is RFC 8259's number grammar: what a venue may send bare
// (Kraken v2's prices and quantities).
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// FuzzS24JSONAgainstBig holds the JSON path (goccy/go-json v2, through
// UnmarshalJSONFrom) against the same math/big oracle: a decimal sent as a
// JSON string (any escapes decoded) or as a bare JSON number decodes to
// exactly what the text says, or fails with the text's error — never via a
// float64, never rounded.
func FuzzS24JSONAgainstBig(f *testing.F) {
	for _, s := range venueShapes(f) {
		f.Add(s)
	}
	for _, s := range []string{"1e-8", "1.5E-07", "-0", "0.10000000", "", "NaN", "1.0000000000000000000", "1e19"} {
		f.Add(s)
	}
	f.Fuzz(checkJSONAgainstOracle)
}

// checkJSONAgainstOracle decodes s sent as a JSON string and, when it is
// a JSON number, sent bare, and holds both against the oracle.
func checkJSONAgainstOracle(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		return
	}
	wantM, wantScale, wantErr := oracleParse(s)
	check := func(doc []byte) {
		var d schema.Decimal
		err := json.Unmarshal(doc, &d)
		if wantErr != nil {
			if !errors.Is(err, wantErr) {
				t.Fatalf("%s: %v, %v; want %v", doc, d, err, wantErr)
			}
			return
		}
		if err != nil || d.Mantissa() != wantM.Int64() || d.Scale() != wantScale {
			t.Fatalf("%s: %d×10^-%d, %v; want %v×10^-%d", doc, d.Mantissa(), d.Scale(), err, wantM, wantScale)
		}
	}
	quoted, err := jsontext.AppendQuote(nil, s)
	if err != nil {
		return
	}
	check(quoted)
	if jsonNumber.MatchString(s) {
		check([]byte(s))
	}
}
