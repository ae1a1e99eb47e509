package safejson_test

import (
	"errors"
	"io"
	"testing"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/internal/safejson"
)

// panicky panics in its decode hook, as goccy might inside its own code.
type panicky struct{ with any }

func (p *panicky) UnmarshalJSONFrom(*jsontext.Decoder) error { panic(p.with) }

type panickyV1 struct{}

func (*panickyV1) UnmarshalJSON([]byte) error { panic("v1 hook") }

func TestS43normUnmarshalRecoversPanic(t *testing.T) {
	for _, with := range []any{"boom", io.EOF, 42} {
		var v struct {
			A int      `json:"a"`
			P *panicky `json:"p"`
			B int      `json:"b"`
		}
		v.P = &panicky{with: with}
		var err error
		require.NotPanics(t, func() { err = safejson.Unmarshal([]byte(`{"a":1,"p":{},"b":2}`), &v) })
		var pe *safejson.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, with, pe.Value)
		assert.ErrorIs(t, err, safejson.ErrPanic)
		assert.NotErrorIs(t, err, io.EOF, "a panic's error value is not the decoder's answer")
		assert.Contains(t, err.Error(), "json decoder panic")
		assert.Equal(t, 1, v.A, "what was decoded before the panic is kept")
	}
	var w struct {
		P panickyV1 `json:"p"`
	}
	require.ErrorIs(t, safejson.Unmarshal([]byte(`{"p":1}`), &w), safejson.ErrPanic)
}

func TestS43normUnmarshalPassesErrors(t *testing.T) {
	var v struct {
		A int `json:"a"`
	}
	require.NoError(t, safejson.Unmarshal([]byte(`{"a":7}`), &v))
	assert.Equal(t, 7, v.A)
	err := safejson.Unmarshal([]byte(`{"a":"x"}`), &v)
	require.Error(t, err)
	assert.NotErrorIs(t, err, safejson.ErrPanic, "a type error is goccy's, not a panic")
	err = safejson.Unmarshal([]byte(`{"a":`), &v)
	require.Error(t, err)
	assert.NotErrorIs(t, err, safejson.ErrPanic)
}

func TestS43normRecoverGuardsAWalk(t *testing.T) {
	walk := func(fail bool) (n int, err error) {
		defer safejson.Recover(&err)
		if fail {
			panic(errors.New("inside the walk"))
		}
		return 3, nil
	}
	n, err := walk(false)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	_, err = walk(true)
	require.ErrorIs(t, err, safejson.ErrPanic)
	var pe *safejson.PanicError
	require.ErrorAs(t, err, &pe)
	assert.EqualError(t, pe.Value.(error), "inside the walk")
}

func TestS43normUnmarshalNoAllocs(t *testing.T) {
	in := []byte(`{"a":7}`)
	var v struct {
		A int `json:"a"`
	}
	require.NoError(t, safejson.Unmarshal(in, &v))
	// goccy keeps its decode state in a sync.Pool, which a GC empties (and
	// -race drops from at random): a run may allocate it again, bare or
	// guarded. The guard's own cost is what is left: none, on the best of
	// a few tries.
	extra := 1.0
	for range 10 {
		bare := testing.AllocsPerRun(100, func() { _ = json.Unmarshal(in, &v) })
		guarded := testing.AllocsPerRun(100, func() { _ = safejson.Unmarshal(in, &v) })
		if extra = guarded - bare; extra <= 0 {
			break
		}
	}
	assert.LessOrEqual(t, extra, 0.0, "the guard adds no allocation to a decode")
}
