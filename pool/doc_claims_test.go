package pool_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// The tests in this file hold the package documentation (go doc -all
// ./pool) to statements the other tests do not name.

// Shutdown "refuses new Gets (they return ErrClosed, and so do Gets already
// waiting)"; its error at the deadline "is a *LeakError that matches
// ErrLeaked and ctx.Err()"; "Calling it again waits again"; Owns "reports
// whether obj is checked out of this pool".
func TestDocShutdownWaitersAndLeaks(t *testing.T) {
	p := pool.New("items", 1, newItem, nil)
	other := pool.New("others", 1, newItem, nil)
	held, err := p.Get(context.Background())
	require.NoError(t, err)
	assert.True(t, p.Owns(held))
	assert.False(t, other.Owns(held))
	assert.False(t, p.Owns(newItem()))

	waiting := make(chan error, 1)
	go func() {
		_, err := p.Get(context.Background()) // waits: the pool is exhausted
		waiting <- err
	}()
	require.Eventually(t, func() bool { return p.Stats().Waits == 1 }, time.Minute, time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed: Shutdown reports at once
	err = p.Shutdown(ctx)
	assert.ErrorIs(t, <-waiting, pool.ErrClosed, "a Get already waiting")
	_, err2 := p.TryGet()
	assert.ErrorIs(t, err2, pool.ErrClosed)
	var le *pool.LeakError
	require.True(t, errors.As(err, &le), "%v", err)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int64(1), le.Outstanding)
	assert.Equal(t, "items", le.Pool)
	assert.Equal(t, "*pool_test.item", le.Type)
	assert.Empty(t, le.Stacks, "stacks only with CaptureStacks")

	p.Put(held)
	assert.NoError(t, p.Shutdown(context.Background()), "called again, it waits again: now nothing is missing")
	require.NoError(t, other.Shutdown(context.Background()))
}

// Manager: "its zero value is an empty, usable manager"; Shutdown's error
// "errors.Is(err, ErrLeaked) is true when any pool leaked, and errors.As
// finds each *LeakError"; Stats "in the order they were added".
func TestDocManagerZeroValue(t *testing.T) {
	var m pool.Manager
	assert.Empty(t, m.Stats())
	require.NoError(t, m.Shutdown(context.Background()))

	a, b := pool.New("a", 1, newItem, nil), pool.New("b", 1, newItem, nil)
	m.Add(a, b)
	st := m.Stats()
	require.Len(t, st, 2)
	assert.Equal(t, []string{"a", "b"}, []string{st[0].Name, st[1].Name})
	held, err := b.TryGet()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = m.Shutdown(ctx)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	var le *pool.LeakError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "b", le.Pool)
	b.Put(held)
}
