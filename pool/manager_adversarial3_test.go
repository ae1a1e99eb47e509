package pool_test

// Adversarial tests, third round, from the documentation only: a
// Manager's Shutdown over several leaking pools tells the host about each.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

type adv3Obj struct {
	pool.Header
	N int
}

func (o *adv3Obj) Reset() { o.N = 0 }

// "errors.Is(err, ErrLeaked) is true when any pool leaked", and the host
// finds each *LeakError: with three pools, two of them leaking, errors.As
// finds one, and the joined error's Unwrap() []error lists both — each
// naming its pool, its type, how many are out, and the context's error —
// and none for the pool that drained.
func TestAdversarial3ManagerReportsEveryLeak(t *testing.T) {
	t.Parallel()
	mk := func(name string, capture bool) *pool.Pool[*adv3Obj] {
		return pool.New(name, 4, func() *adv3Obj { return new(adv3Obj) }, &pool.Options{CaptureStacks: capture})
	}
	a, b, c := mk("a", false), mk("b", true), mk("c", false)
	m := pool.NewManager(a, b)
	m.Add(c)
	for range 2 {
		_, err := a.TryGet()
		require.NoError(t, err)
	}
	_, err := b.TryGet()
	require.NoError(t, err)
	x, err := c.TryGet()
	require.NoError(t, err)
	c.Put(x)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = m.Shutdown(ctx)
	require.ErrorIs(t, err, pool.ErrLeaked)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	var first *pool.LeakError
	require.ErrorAs(t, err, &first)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "a joined error")
	var leaks []*pool.LeakError
	for _, e := range joined.Unwrap() {
		if le := (*pool.LeakError)(nil); errors.As(e, &le) {
			leaks = append(leaks, le)
		}
	}
	require.Len(t, leaks, 2)
	byPool := map[string]*pool.LeakError{}
	for _, le := range leaks {
		byPool[le.Pool] = le
		require.Equal(t, "*pool_test.adv3Obj", le.Type)
		require.ErrorIs(t, le, context.DeadlineExceeded)
	}
	require.Equal(t, int64(2), byPool["a"].Outstanding)
	require.Empty(t, byPool["a"].Stacks, "no stacks without CaptureStacks")
	require.Equal(t, int64(1), byPool["b"].Outstanding)
	require.Len(t, byPool["b"].Stacks, 1)
	require.Contains(t, byPool["b"].Stacks[0], "TestAdversarial3ManagerReportsEveryLeak", "where it was taken")
}
