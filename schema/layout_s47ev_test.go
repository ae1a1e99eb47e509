package schema_test

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/meltica/meltica/schema"
)

// A Decimal is 9 bytes aligned to one (the mantissa's 8 bytes and the
// scale), so a price level is 18 bytes, not 32, and the sections of an
// event pack without padding (session 47, #15).
func TestS47evDecimalIsNineBytes(t *testing.T) {
	t.Parallel()
	var d schema.Decimal
	assert.Equal(t, uintptr(9), unsafe.Sizeof(d))
	assert.Equal(t, uintptr(1), unsafe.Alignof(d))
	assert.Equal(t, uintptr(18), unsafe.Sizeof(schema.Level{}))
	assert.Equal(t, uintptr(67), unsafe.Sizeof(schema.Trade{}))
	assert.Equal(t, uintptr(36), unsafe.Sizeof(schema.BBO{}))
}

// The mantissa's bytes hold every int64 the Decimal accepts, both
// extremes and the sign, through the arithmetic and the text forms.
func TestS47evMantissaExtremesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mant  int64
		scale int
		text  string
	}{
		{9223372036854775807, 0, "9223372036854775807"},
		{-9223372036854775807, 0, "-9223372036854775807"},
		{9223372036854775807, 18, "9.223372036854775807"},
		{-1, 18, "-0.000000000000000001"},
		{-256, 0, "-256"},
		{255, 1, "25.5"},
		{1 << 56, 0, "72057594037927936"},
	} {
		d := schema.NewDecimal(c.mant, c.scale)
		assert.Equal(t, c.mant, d.Mantissa(), c.text)
		assert.Equal(t, c.scale, d.Scale(), c.text)
		assert.Equal(t, c.text, d.String())
		p, err := schema.ParseDecimal(c.text)
		assert.NoError(t, err)
		assert.Equal(t, d, p, "== compares the digits: %s", c.text)
		assert.Equal(t, c.mant < 0, d.Sign() < 0, c.text)
		n := d.Neg()
		assert.Equal(t, -c.mant, n.Mantissa(), c.text)
		z, err := d.Add(n)
		assert.NoError(t, err)
		assert.True(t, z.IsZero(), c.text)
	}
}
