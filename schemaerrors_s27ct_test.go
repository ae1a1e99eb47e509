package meltica_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Every error schema's docs name for decimals and identifiers, reached
// through the calls a host makes, matchable with errors.Is and, for a
// parse, errors.As a *DecimalError whose Input is the offending text
// ("whole up to 64 bytes, else its first 64 bytes and …"). A failed
// ID.Set leaves nothing half-written that compares equal to the input.
func TestS27ctSchemaNamedErrors(t *testing.T) {
	for in, want := range map[string]error{
		"":                      schema.ErrDecimalEmpty,
		"1.2.3":                 schema.ErrDecimalSyntax,
		"12a":                   schema.ErrDecimalSyntax,
		"NaN":                   schema.ErrDecimalNotFinite,
		"Infinity":              schema.ErrDecimalNotFinite,
		"99999999999999999999":  schema.ErrDecimalOverflow,
		"0.1234567890123456789": schema.ErrDecimalPrecision,
	} {
		_, err := schema.ParseDecimal(in)
		assert.ErrorIs(t, err, want, "ParseDecimal(%q)", in)
		var de *schema.DecimalError
		if assert.ErrorAs(t, err, &de, "%q", in) {
			assert.Equal(t, in, de.Input)
		}
		_, err = schema.ParseDecimalBytes([]byte(in))
		assert.ErrorIs(t, err, want, "ParseDecimalBytes(%q)", in)
		var d schema.Decimal
		assert.ErrorIs(t, d.UnmarshalText([]byte(in)), want, "UnmarshalText(%q)", in)
		if in != "" {
			assert.ErrorIs(t, d.UnmarshalJSON([]byte(`"`+in+`"`)), want, "UnmarshalJSON(%q)", in)
		}
	}
	long := strings.Repeat("9", 1<<20)
	_, err := schema.ParseDecimal(long)
	var de *schema.DecimalError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, long[:64]+"…", de.Input, "a megabyte of digits costs a short error")
	assert.Less(t, len(err.Error()), 200)

	one, two := schema.MustParseDecimal("1"), schema.MustParseDecimal("2")
	_, err = one.Div(schema.Decimal{}, 2, schema.RoundHalfEven)
	assert.ErrorIs(t, err, schema.ErrDecimalDivByZero)
	_, err = one.Div(two, 19, schema.RoundHalfEven)
	assert.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = one.Round(-1, schema.RoundHalfEven)
	assert.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = one.Round(2, schema.RoundingMode(200))
	assert.ErrorIs(t, err, schema.ErrDecimalRounding)
	_, err = one.RoundToStep(schema.Decimal{}, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalStep)
	_, err = one.RoundToStep(schema.MustParseDecimal("-0.01"), schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalStep)
	big := schema.NewDecimal(math.MaxInt64, 0)
	_, err = big.Add(one)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow, "Add past the 64-bit mantissa")
	_, err = big.Mul(two)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow, "Mul past the 64-bit mantissa")
	_, err = big.Neg().Sub(two)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow, "Sub past the 64-bit mantissa")

	var id schema.ID
	require.NoError(t, id.Set(strings.Repeat("a", 47)), "47 bytes fit")
	err = id.Set(strings.Repeat("b", 48))
	assert.ErrorIs(t, err, schema.ErrIDTooLong)
	assert.False(t, id.Equal(strings.Repeat("b", 48)))
	assert.ErrorIs(t, id.SetBytes([]byte(strings.Repeat("c", 100))), schema.ErrIDTooLong)
	assert.ErrorIs(t, id.UnmarshalText([]byte(strings.Repeat("d", 48))), schema.ErrIDTooLong)
	assert.Panics(t, func() { schema.MustID(strings.Repeat("e", 48)) })
	assert.True(t, errors.Is(err, schema.ErrIDTooLong))
}
