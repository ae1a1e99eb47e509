package pool_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// A nil context (a host's mistake: the context package says "Do not pass
// a nil Context") is ErrNilContext from Get, Shutdown and a Manager's
// Shutdown, and changes nothing: the Manager used to hand it to a
// goroutine of its own per pool, where its panic ended the process. After
// the mistake the pool still serves, and Shutdown with a real context
// still waits for the object out.
func TestS32NilContextIsAnErrorAndChangesNothing(t *testing.T) {
	var nilCtx context.Context
	p := pool.New("p", 2, func() *adv3Obj { return new(adv3Obj) }, nil)
	m := pool.NewManager(p)
	out, err := p.TryGet()
	require.NoError(t, err)

	_, err = p.Get(nilCtx)
	require.ErrorIs(t, err, pool.ErrNilContext)
	require.ErrorIs(t, p.Shutdown(nilCtx), pool.ErrNilContext)
	require.ErrorIs(t, m.Shutdown(nilCtx), pool.ErrNilContext)

	o, err := p.TryGet()
	require.NoError(t, err, "the pool still serves after the mistakes")
	p.Put(o)
	p.Put(out)
	require.NoError(t, m.Shutdown(context.Background()))
	_, err = p.TryGet()
	require.ErrorIs(t, err, pool.ErrClosed)
}
