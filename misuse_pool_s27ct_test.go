package meltica_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A host's misuse of a pool: New "panics when capacity < 1 or newFn is
// nil"; Get with a ctx already ended on an exhausted pool matches both
// ErrExhausted and ctx.Err(); "Shutdown refuses new Gets (they return
// ErrClosed, and so do Gets already waiting)"; Shutdown with a ctx already
// ended and an object out returns a *LeakError matching ErrLeaked and the
// ctx's error, naming the pool, the type and the count; "Calling it again
// waits again": once the object is back, a second Shutdown is nil; a Put
// after Shutdown of an object taken before it is accepted (that is what
// Shutdown waits for); the zero Manager "is an empty, usable manager".
func TestS27ctPoolMisuse(t *testing.T) {
	newFrame := func() *schema.WsFrame { return &schema.WsFrame{} }
	assert.Panics(t, func() { pool.New("p", 0, newFrame, nil) }, "capacity 0")
	assert.Panics(t, func() { pool.New[*schema.WsFrame]("p", 1, nil, nil) }, "nil newFn")

	p := pool.New("frames-s27ct", 1, newFrame, &pool.Options{})
	ctx := context.Background()
	f, err := p.Get(ctx)
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = p.Get(cancelled)
	assert.ErrorIs(t, err, pool.ErrExhausted)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = p.TryGet()
	assert.ErrorIs(t, err, pool.ErrExhausted)

	waiting := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := p.Get(ctx)
		waiting <- err
	})
	err = p.Shutdown(cancelled)
	var le *pool.LeakError
	require.ErrorAs(t, err, &le)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int64(1), le.Outstanding)
	assert.Equal(t, "frames-s27ct", le.Pool)
	assert.Contains(t, err.Error(), "frames-s27ct", "the message names the pool: %q", err.Error())
	assert.Contains(t, err.Error(), "WsFrame", "the message names the type: %q", err.Error())
	wg.Wait()
	assert.ErrorIs(t, <-waiting, pool.ErrClosed, "a Get waiting when Shutdown began")
	_, err = p.Get(ctx)
	assert.ErrorIs(t, err, pool.ErrClosed)
	_, err = p.TryGet()
	assert.ErrorIs(t, err, pool.ErrClosed)

	assert.NotPanics(t, func() { p.Put(f) }, "the late owner's Put after Shutdown")
	assert.NoError(t, p.Shutdown(cancelled), "a second Shutdown with everything back")
	assert.Panics(t, func() { p.Put(f) }, "a second Put, after Shutdown too")
	func() {
		defer func() {
			v := recover()
			require.NotNil(t, v, "Put(nil) panics")
			msg := fmt.Sprint(v)
			assert.Contains(t, msg, "frames-s27ct", "the panic names the pool: %s", msg)
			assert.Contains(t, msg, "WsFrame", "the panic names the type: %s", msg)
		}()
		p.Put(nil)
	}()
	assert.Equal(t, int64(0), p.Stats().InUse)

	var m pool.Manager
	assert.NoError(t, m.Shutdown(ctx), "the zero Manager")
	assert.Empty(t, m.Stats())
	q := pool.New("q-s27ct", 2, newFrame, nil)
	m.Add(q, pool.New("r-s27ct", 2, newFrame, nil))
	g, err := q.Get(ctx)
	require.NoError(t, err)
	err = m.Shutdown(cancelled)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "q-s27ct", le.Pool)
	q.Put(g)
	assert.NoError(t, m.Shutdown(ctx))
}
