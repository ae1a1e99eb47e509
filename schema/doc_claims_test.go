package schema_test

import (
	"context"
	"math"
	"strings"
	"testing"

	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// The tests in this file check, through the public API, the concrete
// statements of the package documentation (go doc -all ./schema): each names
// the sentence it holds the code to.

// "0.10000000" parses to mantissa 10000000, scale 8, and formats back to
// "0.10000000"; "1.0" and "1.00" are Equal but not Identical.
func TestDocDecimalKeepsTheVenuesDigits(t *testing.T) {
	t.Parallel()
	d, err := schema.ParseDecimal("0.10000000")
	require.NoError(t, err)
	assert.Equal(t, int64(10000000), d.Mantissa())
	assert.Equal(t, 8, d.Scale())
	assert.Equal(t, "0.10000000", d.String())

	a, b := schema.MustParseDecimal("1.0"), schema.MustParseDecimal("1.00")
	assert.True(t, a.Equal(b))
	assert.False(t, a.Identical(b))

	var zero schema.Decimal
	assert.True(t, zero.IsZero(), "the zero value is 0")
	assert.Equal(t, "0", zero.String())

	e, err := schema.ParseDecimal("1.5e-3")
	require.NoError(t, err)
	assert.True(t, e.Equal(schema.MustParseDecimal("0.0015")), "ParseDecimal takes an exponent: %s", e)
}

// ParseDecimalBytes "does not allocate"; AppendTo "does not allocate when b
// has room".
func TestDocDecimalParseAndAppendAllocateNothing(t *testing.T) {
	in := []byte("67000.01000000")
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		d, err := schema.ParseDecimalBytes(in)
		if err != nil {
			panic(err)
		}
		buf = d.AppendTo(buf[:0])
	})
	assert.Zero(t, allocs)
	assert.Equal(t, string(in), string(buf))
}

// Div: "1 / 3 at scale 4 is 0.3333 (RoundDown) or 0.3334 (RoundUp)", and its
// four errors.
func TestDocDecimalDiv(t *testing.T) {
	t.Parallel()
	one, three := schema.NewDecimal(1, 0), schema.NewDecimal(3, 0)
	q, err := one.Div(three, 4, schema.RoundDown)
	require.NoError(t, err)
	assert.Equal(t, "0.3333", q.String())
	q, err = one.Div(three, 4, schema.RoundUp)
	require.NoError(t, err)
	assert.Equal(t, "0.3334", q.String())

	_, err = one.Div(schema.Decimal{}, 4, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalDivByZero)
	_, err = one.Div(three, schema.MaxScale+1, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = one.Div(three, -1, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalScale)
	_, err = one.Div(three, 4, schema.RoundingMode(200))
	assert.ErrorIs(t, err, schema.ErrDecimalRounding)
	_, err = schema.NewDecimal(math.MaxInt64, 0).Div(schema.MustParseDecimal("0.1"), 0, schema.RoundDown)
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
}

// RoundToStep: "1.23456 to a step of 0.01 with RoundDown is 1.23, and 5 to a
// step of 0.5 is 5.0. Steps need not be powers of ten (a tick of 0.05 or 25
// is fine)", and the examples of each RoundingMode.
func TestDocDecimalRoundToStep(t *testing.T) {
	t.Parallel()
	round := func(v, step string, mode schema.RoundingMode) string {
		t.Helper()
		r, err := schema.MustParseDecimal(v).RoundToStep(schema.MustParseDecimal(step), mode)
		require.NoError(t, err)
		return r.String()
	}
	assert.Equal(t, "1.23", round("1.23456", "0.01", schema.RoundDown))
	assert.Equal(t, "5.0", round("5", "0.5", schema.RoundDown))
	assert.Equal(t, "1.20", round("1.23", "0.05", schema.RoundDown))
	assert.Equal(t, "125", round("130", "25", schema.RoundDown))

	for _, c := range []struct {
		mode      schema.RoundingMode
		in, out   string
		docString string
	}{
		{schema.RoundDown, "-1.27", "-1.2", "RoundDown: -1.27 to a step of 0.1 is -1.2"},
		{schema.RoundUp, "-1.21", "-1.3", "RoundUp: -1.21 to a step of 0.1 is -1.3"},
		{schema.RoundFloor, "-1.21", "-1.3", "RoundFloor: -1.21 to 0.1 is -1.3"},
		{schema.RoundFloor, "1.29", "1.2", "RoundFloor: 1.29 is 1.2"},
		{schema.RoundCeiling, "-1.29", "-1.2", "RoundCeiling: -1.29 to 0.1 is -1.2"},
		{schema.RoundCeiling, "1.21", "1.3", "RoundCeiling: 1.21 is 1.3"},
		{schema.RoundHalfUp, "1.25", "1.3", "RoundHalfUp: 1.25 to 0.1 is 1.3"},
		{schema.RoundHalfUp, "-1.25", "-1.3", "RoundHalfUp: -1.25 to 0.1 is -1.3"},
		{schema.RoundHalfEven, "1.25", "1.2", "RoundHalfEven: 1.25 is 1.2"},
		{schema.RoundHalfEven, "1.35", "1.4", "RoundHalfEven: 1.35 is 1.4"},
	} {
		assert.Equal(t, c.out, round(c.in, "0.1", c.mode), c.docString)
	}

	for _, step := range []string{"0", "-0.01"} {
		_, err := schema.MustParseDecimal("1").RoundToStep(schema.MustParseDecimal(step), schema.RoundDown)
		assert.ErrorIs(t, err, schema.ErrDecimalStep, "step %s", step)
	}
	_, err := schema.MustParseDecimal("1").RoundToStep(schema.MustParseDecimal("0.1"), schema.RoundingMode(200))
	assert.ErrorIs(t, err, schema.ErrDecimalRounding)

	r, err := schema.MustParseDecimal("1.23456").Round(2, schema.RoundHalfUp)
	require.NoError(t, err)
	assert.Equal(t, "1.23", r.String(), "Round is RoundToStep with a step of 10^-scale")
}

// Add: "The sum is computed in 128 bits, so an operand that overflows on its
// way to the common scale does not fail a sum that fits."
func TestDocDecimalAddIn128Bits(t *testing.T) {
	t.Parallel()
	big := schema.NewDecimal(92233720368547759, 0) // ×100 overflows int64
	neg := schema.NewDecimal(-math.MaxInt64, 2)    // -92233720368547758.07
	sum, err := big.Add(neg)
	require.NoError(t, err)
	assert.Equal(t, "0.93", sum.String())

	_, err = schema.NewDecimal(math.MaxInt64, 0).Add(schema.NewDecimal(1, 0))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
	_, err = schema.NewDecimal(-math.MaxInt64, 0).Sub(schema.NewDecimal(1, 0))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)
}

// Mul: "The scale is the sum of the scales, less any trailing zeros that must
// go to fit"; Neg is always exact; NewDecimal panics on MinInt64 and on a
// scale outside 0..MaxScale.
func TestDocDecimalMulNegNew(t *testing.T) {
	t.Parallel()
	p, err := schema.MustParseDecimal("0.10").Mul(schema.MustParseDecimal("0.200"))
	require.NoError(t, err)
	assert.Equal(t, 5, p.Scale(), "sum of the scales")
	assert.Equal(t, "0.02000", p.String())

	_, err = schema.NewDecimal(math.MaxInt64, 0).Mul(schema.NewDecimal(2, 0))
	assert.ErrorIs(t, err, schema.ErrDecimalOverflow)

	max := schema.NewDecimal(math.MaxInt64, 0)
	assert.Equal(t, -1, max.Neg().Sign())
	assert.True(t, max.Neg().Neg().Identical(max))

	assert.Panics(t, func() { schema.NewDecimal(math.MinInt64, 0) })
	assert.Panics(t, func() { schema.NewDecimal(1, schema.MaxScale+1) })
	assert.Panics(t, func() { schema.NewDecimal(1, -1) })
	assert.NotPanics(t, func() { schema.NewDecimal(1, schema.MaxScale) })
}

// JSON: MarshalJSON writes a quoted string, digits kept; Unmarshal reads a
// quoted string or a bare number, and null leaves d at zero.
func TestDocDecimalJSON(t *testing.T) {
	t.Parallel()
	var v struct{ P, Q, R schema.Decimal }
	require.NoError(t, json.Unmarshal([]byte(`{"P":"0.10000000","Q":1.50,"R":null}`), &v))
	assert.Equal(t, "0.10000000", v.P.String())
	assert.Equal(t, "1.50", v.Q.String(), "a bare number keeps its digits too")
	assert.True(t, v.R.IsZero())

	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"P":"0.10000000","Q":"1.50","R":"0"}`, string(out))

	var d schema.Decimal
	err = d.UnmarshalJSON([]byte(`"1.2.3"`))
	var de *schema.DecimalError
	require.ErrorAs(t, err, &de, "a parse error is a *DecimalError")
	assert.Equal(t, "1.2.3", de.Input)
	assert.ErrorIs(t, err, schema.ErrDecimalSyntax)
}

// ID: "It holds up to 47 bytes"; Set "returns ErrIDTooLong and leaves it
// empty"; MustID "panics if s is too long"; Equal "without allocating".
func TestDocIDHolds47Bytes(t *testing.T) {
	var id schema.ID
	require.NoError(t, id.Set(strings.Repeat("x", 47)))
	assert.Equal(t, 47, id.Len())

	require.NoError(t, id.Set("keep"))
	assert.ErrorIs(t, id.Set(strings.Repeat("x", 48)), schema.ErrIDTooLong)
	assert.True(t, id.IsZero(), "a refused Set leaves the ID empty")
	assert.ErrorIs(t, id.SetBytes([]byte(strings.Repeat("x", 48))), schema.ErrIDTooLong)
	assert.True(t, id.IsZero())
	assert.Panics(t, func() { schema.MustID(strings.Repeat("x", 48)) })

	id.SetUint(18446744073709551615)
	assert.Equal(t, "18446744073709551615", id.String())
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = id.Equal("18446744073709551615") }))
}

// EventType: each constant's comment names its class; Critical and
// Coalescable must say the same, and "the rest are ordered".
func TestDocEventTypeClasses(t *testing.T) {
	t.Parallel()
	coalescable := []schema.EventType{schema.EventBBO, schema.EventTicker, schema.EventKlineLive, schema.EventMarkPrice, schema.EventFundingRate}
	critical := []schema.EventType{schema.EventExecReport, schema.EventOrderAck, schema.EventGap, schema.EventConnState, schema.EventControl, schema.EventBalance, schema.EventPosition}
	ordered := []schema.EventType{schema.EventTrade, schema.EventBookSnapshot, schema.EventBookUpdate, schema.EventKlineClosed, schema.EventLiquidation}
	for _, ty := range coalescable {
		assert.True(t, ty.Coalescable(), "%s", ty)
		assert.False(t, ty.Critical(), "%s", ty)
	}
	for _, ty := range critical {
		assert.True(t, ty.Critical(), "%s", ty)
		assert.False(t, ty.Coalescable(), "%s", ty)
	}
	for _, ty := range ordered {
		assert.False(t, ty.Critical(), "%s", ty)
		assert.False(t, ty.Coalescable(), "%s", ty)
	}
}

// NewPools "builds the six schema pools"; Shutdown and Stats cover all six;
// Clone "makes an independent heap copy that no pool accepts".
func TestDocPoolsSixAndCloneRefused(t *testing.T) {
	t.Parallel()
	p := schema.NewPools(nil)
	assert.Len(t, p.Stats(), 6)

	ev, err := p.Events.Get(context.Background())
	require.NoError(t, err)
	ev.Type, ev.Symbol = schema.EventTrade, "BTC-USDT"
	c := ev.Clone()
	assert.False(t, c.Pooled())
	assert.Equal(t, "BTC-USDT", c.Symbol)
	assert.Panics(t, func() { p.Events.Put(c) }, "no pool accepts a clone")
	p.Events.Put(ev)
	assert.Equal(t, "BTC-USDT", c.Symbol, "the clone is independent of the returned original")
	require.NoError(t, p.Shutdown(context.Background()))
}
