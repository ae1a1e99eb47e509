package pool_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// s25ctObj's Reset writes the whole struct with the Header it already
// has: the pattern Header's doc names and forbids
// (`*x = T{Header: x.Header}`).
type s25ctObj struct {
	pool.Header
	n int
}

func (o *s25ctObj) Reset() { *o = s25ctObj{Header: o.Header} }

// The package doc says a Reset that "writes the Header" has its object
// dropped and Put panic. A Reset that writes the Header's own value back
// leaves nothing a pool can see (the bytes are the same ones), so the
// promise can only be about a Header it changes (a zero one: `*x = T{}`).
// What does hold, and the doc now says: such a Reset is not caught (a Put
// racing it would be a data race, which the race detector reports), the
// object is reset and reused as any other, and ownership is still checked
// on it afterwards.
func TestS25ctResetWritingItsOwnHeaderIsNotCaught(t *testing.T) {
	p := pool.New("s25ct", 1, func() *s25ctObj { return new(s25ctObj) }, nil)
	o, err := p.TryGet()
	require.NoError(t, err)
	o.n = 7
	assert.NotPanics(t, func() { p.Put(o) }, "not caught: nothing changed that a pool can see")
	again, err := p.TryGet()
	require.NoError(t, err)
	assert.Same(t, o, again, "reused, not dropped")
	assert.Zero(t, again.n, "reset")
	p.Put(again)
	assert.Panics(t, func() { p.Put(again) }, "a second Put is still caught")
	assert.Equal(t, int64(0), p.Stats().InUse)
}
