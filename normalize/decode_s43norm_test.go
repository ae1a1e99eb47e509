package normalize

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/schema"
)

// The REST, WS-API query and order-answer decoders share one boundary
// (decode, through safejson): a decoder panic is a *ParseError wrapping
// ErrDecoderPanic and the *safejson.PanicError, a malformed answer one
// wrapping ErrMalformed (or the field's cause), and a good answer after
// either decodes as usual.
func TestS43normDecodersTypedPanic(t *testing.T) {
	type target struct {
		A int     `json:"a"`
		P panicky `json:"p"`
	}
	for name, dec := range map[string]func([]byte, any) error{
		"decodeREST":   func(b []byte, v any) error { return decodeREST(b, v, schema.VenueOKX, "instruments") },
		"decodeAnswer": func(b []byte, v any) error { return decodeAnswer(schema.VenueOKX, b, v) },
	} {
		var v target
		var err error
		require.NotPanics(t, func() { err = dec([]byte(`{"a":1,"p":"boom"}`), &v) }, name)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, name)
		assert.Equal(t, schema.VenueOKX, pe.Venue, name)
		assert.ErrorIs(t, err, ErrDecoderPanic, name)
		assert.ErrorIs(t, err, safejson.ErrPanic, name)
		assert.NotErrorIs(t, err, ErrMalformed, name)

		err = dec([]byte(`{"a":"x"}`), &v)
		require.ErrorAs(t, err, &pe, name)
		assert.NotErrorIs(t, err, ErrDecoderPanic, name)

		v = target{}
		require.NoError(t, dec([]byte(`{"a":2,"p":"1.5"}`), &v), name)
		assert.Equal(t, 2, v.A, name)
	}
	require.ErrorIs(t, decodeREST([]byte(`{`), &target{}, schema.VenueOKX, "x"), ErrMalformed)
}

// The exchangeInfo and WS-API query decoders that had their own recover
// now go through decodeREST: malformed answers are *ParseErrors wrapping
// ErrMalformed, never a panic nor a nil error.
func TestS43normQueryDecodersMalformed(t *testing.T) {
	for _, bad := range []string{``, `[`, `{"symbols":7}`, `{"symbols":[{"filters":{}}]}`, `nul`} {
		ins, err := ParseBinanceExchangeInfo([]byte(bad))
		assert.Nil(t, ins, bad)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, bad)
		assert.Equal(t, "exchangeInfo", pe.Stream, bad)
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
	for _, bad := range []string{`[`, `{"status":"x"}`, `{"result":7}`} {
		res, err := decodeQuery[bnQueryOrder]("order.status", []byte(bad))
		assert.Nil(t, res, bad)
		require.ErrorIs(t, err, ErrMalformed, bad)
	}
}

// rescanName reads a refused frame's channel after the decode stopped; it
// ran on the very frames that might have made the decoder panic, without a
// guard. Now under safejson: a frame not well-formed up to the member
// leaves the name unset, and nothing is raised.
func TestS43normRescanNameMalformed(t *testing.T) {
	for _, frame := range []string{
		``, `[`, `{`, `{"arg":`, `{"arg":{"channel":`, `{"arg":{"channel":7}}`, `{"arg":[1,2]}`,
		`{"x":[{"y":` + "\x00" + `}],"arg":{"channel":"orders"}}`, `{"arg":{"channel":"orders"`,
	} {
		var dst text
		require.NotPanics(t, func() { rescanName([]byte(frame), &dst, "arg", "channel") }, frame)
		assert.False(t, dst.ok, frame)
	}
	var dst text
	rescanName([]byte(`{"op":1,"arg":{"x":{"a":[1]},"channel":"orders"},"data":[{"p":{}}]}`), &dst, "arg", "channel")
	require.True(t, dst.ok)
	assert.Equal(t, "orders", string(dst.bytes()))

	_, err := rescan([]byte(`{"arg":{}}`), []string{"arg", "channel"})
	assert.True(t, errors.Is(err, errNoMember))
}
