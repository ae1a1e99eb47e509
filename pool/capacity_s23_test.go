package pool_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

type s23Obj struct {
	pool.Header
	n int
}

func (o *s23Obj) Reset() { o.n = 0 }

// The capacity is a bound ("at most its capacity of objects at once"), not
// a size: a pool bounded far above what it will ever hand out — up to
// math.MaxInt — costs what it hands out, not its bound.
func TestS23CapacityIsABoundNotASize(t *testing.T) {
	t.Parallel()
	p := pool.New("s23-huge", math.MaxInt, func() *s23Obj { return new(s23Obj) }, nil)
	require.Equal(t, math.MaxInt, p.Capacity())
	ctx := context.Background()
	var held []*s23Obj
	for range 100 {
		o, err := p.Get(ctx)
		require.NoError(t, err)
		held = append(held, o)
	}
	for _, o := range held {
		p.Put(o)
	}
	require.Equal(t, uint64(100), p.Stats().Created)
	require.NoError(t, p.Shutdown(ctx))
}
