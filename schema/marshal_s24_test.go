package schema_test

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"strings"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s24Host is a host's own struct holding schema values, as a strategy
// keeps fills and orders in its state.
type s24Host struct {
	Price  schema.Decimal
	Qty    *schema.Decimal
	Levels [2]schema.Decimal
	Fills  []schema.Decimal
	Order  schema.ID
	ByID   map[schema.ID]schema.Decimal
	ByText map[string]schema.Decimal
}

func s24HostValue() s24Host {
	q := schema.MustParseDecimal("0.00100000")
	return s24Host{
		Price:  schema.MustParseDecimal("-67321.4500"),
		Qty:    &q,
		Levels: [2]schema.Decimal{schema.MustParseDecimal("0.000000012345"), {}},
		Fills:  []schema.Decimal{schema.MustParseDecimal("1.0"), schema.MustParseDecimal("1.00")},
		Order:  schema.MustID("OQCLML-BW3P3-BUCMWZ"),
		ByID:   map[schema.ID]schema.Decimal{schema.MustID("c7f5d3a2-0b1e-4f8a-9d2c-3e4f5a6b7c8d"): schema.MustParseDecimal("9.223372036854775807")},
		ByText: map[string]schema.Decimal{"k": schema.MustParseDecimal("-0.000000000000000001")},
	}
}

func requireSameHost(t *testing.T, want, got s24Host) {
	t.Helper()
	require.True(t, want.Price.Identical(got.Price), "%v %v", want.Price, got.Price)
	require.NotNil(t, got.Qty)
	require.True(t, want.Qty.Identical(*got.Qty))
	require.Equal(t, want.Levels, got.Levels)
	require.Equal(t, want.Fills, got.Fills, "1.0 and 1.00 keep their digits")
	require.Equal(t, want.Order, got.Order)
	require.Equal(t, want.ByID, got.ByID)
	require.Equal(t, want.ByText, got.ByText)
}

// A Decimal and an ID are values a host keeps: they go through the
// standard encodings with their digits (the Decimal doc: "keeps the digits
// the venue sent"). encoding/gob encodes a type with unexported fields only
// through GobEncoder or encoding.BinaryMarshaler (it does not use
// TextMarshaler: golang.org/issue/6760), so both types need them.
func TestS24GobRoundTrip(t *testing.T) {
	t.Parallel()
	in := s24HostValue()
	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(in))
	var out s24Host
	require.NoError(t, gob.NewDecoder(&buf).Decode(&out))
	requireSameHost(t, in, out)
}

func TestS24BinaryAndTextRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0.00", "672.00000000", "-9223372036854775807", "9.223372036854775807", "0.000000000000000001"} {
		d := schema.MustParseDecimal(s)
		var (
			_ encoding.BinaryMarshaler   = d
			_ encoding.BinaryUnmarshaler = &d
			_ encoding.BinaryAppender    = d
			_ encoding.TextAppender      = d
		)
		b, err := d.MarshalBinary()
		require.NoError(t, err)
		var back schema.Decimal
		require.NoError(t, back.UnmarshalBinary(b))
		assert.True(t, back.Identical(d), "%s: %v", s, back)
		a, err := d.AppendBinary([]byte("x"))
		require.NoError(t, err)
		assert.Equal(t, append([]byte("x"), b...), a)
		a, err = d.AppendText([]byte("x"))
		require.NoError(t, err)
		assert.Equal(t, "x"+d.String(), string(a))
	}
	var d schema.Decimal
	require.ErrorIs(t, d.UnmarshalBinary([]byte("1e99")), schema.ErrDecimalOverflow)
	require.ErrorIs(t, d.UnmarshalBinary(nil), schema.ErrDecimalEmpty)

	id := schema.MustID("x-order-1")
	var (
		_ encoding.BinaryMarshaler   = id
		_ encoding.BinaryUnmarshaler = &id
	)
	b, err := id.MarshalBinary()
	require.NoError(t, err)
	var back schema.ID
	require.NoError(t, back.UnmarshalBinary(b))
	assert.Equal(t, id, back)
	require.ErrorIs(t, back.UnmarshalBinary(bytes.Repeat([]byte("a"), 48)), schema.ErrIDTooLong)
}

// goccy/go-json v2 (the module's JSON) with the schema values inside a
// host's struct: digits kept both ways, map keys included.
func TestS24HostStructJSONv2(t *testing.T) {
	t.Parallel()
	in := s24HostValue()
	b, err := json.Marshal(in)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"Price":"-67321.4500"`)
	assert.Contains(t, string(b), `"Fills":["1.0","1.00"]`)
	var out s24Host
	require.NoError(t, json.Unmarshal(b, &out))
	requireSameHost(t, in, out)
}

// UnmarshalJSON is the standard json.Unmarshaler, called with the raw JSON
// value by any JSON library: a string value's escapes are JSON's to decode
// ("\u0031" is "1"), as UnmarshalJSONFrom does.
func TestS24UnmarshalJSONDecodesEscapes(t *testing.T) {
	t.Parallel()
	var d schema.Decimal
	require.NoError(t, d.UnmarshalJSON([]byte(`"\u0031.50"`)))
	assert.Equal(t, "1.50", d.String())
	require.NoError(t, d.UnmarshalJSON([]byte(`"-0.5"`)))
	assert.Equal(t, "-0.5", d.String())
	require.ErrorIs(t, d.UnmarshalJSON([]byte(`"\u00"`)), schema.ErrDecimalSyntax)
	require.ErrorIs(t, d.UnmarshalJSON([]byte(`"1\n"`)), schema.ErrDecimalSyntax)
	require.ErrorIs(t, d.UnmarshalJSON([]byte(`""`)), schema.ErrDecimalEmpty)
	require.ErrorIs(t, d.UnmarshalJSON([]byte(`"`)), schema.ErrDecimalSyntax)
	require.ErrorIs(t, d.UnmarshalJSON(nil), schema.ErrDecimalEmpty)
	require.ErrorIs(t, d.UnmarshalJSON([]byte(`true`)), schema.ErrDecimalSyntax)
}

// == on Decimals compares digits (Identical): "1.0" and "1.00" are two map
// keys. A host that keys by value (a book level by its price, when one
// message sends "100.0" and another "100.00") needs one key per value:
// Canonical gives it, equal for Equal values, different otherwise.
func TestS24CanonicalIsTheKeyOfAValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"100.00", "100"}, {"100", "100"}, {"0.10000000", "0.1"}, {"-1.2300", "-1.23"},
		{"0.00000000", "0"}, {"-0.000", "0"}, {"1000", "1000"}, {"9.223372036854775807", "9.223372036854775807"},
		{"0.000000000000000010", "0.00000000000000001"},
	} {
		c := schema.MustParseDecimal(tc.in).Canonical()
		assert.Equal(t, tc.want, c.String(), tc.in)
		assert.True(t, c.Equal(schema.MustParseDecimal(tc.in)))
	}
	rng := propertyRNG(t)
	keys := map[schema.Decimal]string{}
	for range 20_000 {
		a := randDecimal(rng)
		// The same value at a larger scale, when it fits.
		if b, err := a.Mul(schema.NewDecimal(1, 0)); err == nil {
			if c, err := b.Round(min(a.Scale()+rng.IntN(4), schema.MaxScale), schema.RoundDown); err == nil {
				require.Equal(t, a.Canonical(), c.Canonical(), "%v and %v", a, c)
			}
		}
		k := a.Canonical()
		if prev, ok := keys[k]; ok {
			require.True(t, schema.MustParseDecimal(prev).Equal(a), "%s and %v share a key", prev, a)
		}
		keys[k] = a.String()
	}
}

// FuzzS24UnmarshalRaw feeds any bytes to the standard unmarshalers, as a
// JSON library that does not validate might: no panic, a typed error, and
// a failed call leaves the value as it was.
func FuzzS24UnmarshalRaw(f *testing.F) {
	for _, s := range []string{`"1.5"`, `"\u0031"`, `"`, `""`, `null`, `-0`, `"1e-8"`, `"\"`, `"\u00`, `1.0000000000000000000`, `"` + strings.Repeat("\\u0030", 20) + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, un := range []func(*schema.Decimal, []byte) error{
			(*schema.Decimal).UnmarshalJSON, (*schema.Decimal).UnmarshalText, (*schema.Decimal).UnmarshalBinary,
		} {
			d := schema.MustParseDecimal("7.70")
			if err := un(&d, data); err != nil {
				var de *schema.DecimalError
				require.ErrorAs(t, err, &de)
				require.True(t, d.Identical(schema.MustParseDecimal("7.70")), "a failed unmarshal changed the value to %v", d)
			}
		}
		var id schema.ID
		if id.UnmarshalBinary(data) == nil {
			require.Equal(t, string(data), id.String())
		}
	})
}
