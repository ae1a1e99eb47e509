package pool_test

// Adversarial tests written apart from the implementation (reviewer R1):
// more cases of each kind of misuse issue #16 lists.

import (
	"time"

	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// A shallow copy of a checked-out object (`cp := *obj`) carries the
// original's Header: same owner, state "out". Putting the copy is a Put of
// something the pool never handed out; it must panic in both modes, and
// the original's own Put must still be accepted exactly once.
func TestAdversarialValueCopyPut(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			p := newPool(t, 2, &pool.Options{CaptureStacks: capture})
			it, err := p.TryGet()
			require.NoError(t, err)
			cp := new(item)
			*cp = *it //nolint:govet // the misuse under test
			assertPanic(t, func() { p.Put(cp) }, `pool "items": Put of a copy of a *pool_test.item`)
			assert.Equal(t, int64(1), p.Stats().InUse, "the copy's Put changed nothing")
			p.Put(it)
			assertPanic(t, func() { p.Put(it) }, "second Put")
			assert.Equal(t, int64(0), p.Stats().InUse)
			// The capacity is intact: both slots can be had.
			a, err := p.TryGet()
			require.NoError(t, err)
			b, err := p.TryGet()
			require.NoError(t, err)
			_, err = p.TryGet()
			require.ErrorIs(t, err, pool.ErrExhausted)
			p.Put(a)
			p.Put(b)
			require.NoError(t, p.Shutdown(context.Background()))
		})
	}
}

// With stacks on, a stale owner's Put panics whatever happened in between:
// the object idle, other objects out, the pool shut down, the pool
// exhausted with a waiter queued. Each panic names the first Put; none
// changes the counters.
func TestAdversarialStaleOwnerCaptureEveryState(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, &pool.Options{CaptureStacks: true})
	stale, err := p.TryGet()
	require.NoError(t, err)
	putHere(p, stale)

	check := func(when string, inUse int64) {
		t.Helper()
		msg := panicText(func() { p.Put(stale) })
		assert.Contains(t, msg, "second Put", when)
		assert.Contains(t, msg, "pool_test.putHere", when)
		assert.Equal(t, inUse, p.Stats().InUse, when)
	}
	check("idle", 0)
	a, _ := p.TryGet()
	b, _ := p.TryGet()
	require.NotSame(t, stale, a)
	require.NotSame(t, stale, b)
	check("exhausted", 2)

	got := make(chan *item)
	go func() {
		it, err := p.Get(context.Background())
		assert.NoError(t, err)
		got <- it
	}()
	require.Eventually(t, func() bool { return p.Stats().Waits == 1 }, waitLong, tick)
	check("waiter queued", 2)
	p.Put(a) // the waiter gets the slot, not the stale object
	c := <-got
	require.NotSame(t, stale, c)
	check("after hand-over", 2)
	p.Put(b)
	p.Put(c)
	require.NoError(t, p.Shutdown(context.Background()))
	check("after shutdown", 0)
}

// Without stacks, the documented guarantee: while the object is idle a
// second Put panics, and once it is handed out again the new owner's Put
// is the one that panics. Run the same pattern many times with objects
// going round the LIFO list.
func TestAdversarialStaleOwnerNoCaptureDocumented(t *testing.T) {
	t.Parallel()
	p := newPool(t, 3, nil)
	for range 50 {
		a, _ := p.TryGet()
		p.Put(a)
		assertPanic(t, func() { p.Put(a) }, "second Put") // idle: caught
		b, _ := p.TryGet()
		require.Same(t, a, b, "LIFO: the returned object comes back first")
		b.N = 9
		p.Put(a) // stale: accepted, resets b under the new owner
		assert.Equal(t, 0, b.N)
		assertPanic(t, func() { p.Put(b) }, "second Put")
		assert.Equal(t, int64(0), p.Stats().InUse)
	}
	require.NoError(t, p.Shutdown(context.Background()))
}

// Three and four goroutines putting the same checkout at once: exactly one
// wins in both modes, no slot is lost or made up.
func TestAdversarialManyConcurrentPuts(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			const capacity = 3
			p := newPool(t, capacity, &pool.Options{CaptureStacks: capture})
			for i := range 100 {
				it, err := p.TryGet()
				require.NoError(t, err)
				it.N, it.Buf = i, append(it.Buf, byte(i))
				n := 3 + i%2
				var wg sync.WaitGroup
				start := make(chan struct{})
				msgs := make(chan string, n)
				for range n {
					wg.Go(func() {
						<-start
						msgs <- panicText(func() { p.Put(it) })
					})
				}
				close(start)
				wg.Wait()
				close(msgs)
				wins := 0
				for m := range msgs {
					if m == "" {
						wins++
						continue
					}
					require.Contains(t, m, "second Put")
				}
				require.Equal(t, 1, wins)
				require.Equal(t, int64(0), p.Stats().InUse)
			}
			var held []*item
			for range capacity {
				it, err := p.TryGet()
				require.NoError(t, err)
				held = append(held, it)
			}
			_, err := p.TryGet()
			require.ErrorIs(t, err, pool.ErrExhausted, "no slot was made up")
			for _, it := range held {
				p.Put(it)
			}
			require.NoError(t, p.Shutdown(context.Background()))
		})
	}
}

// A Put into the wrong pool, in all four combinations of the two pools'
// modes: the message names both pools and the type, and shows where the
// object was taken exactly when its own pool records stacks.
func TestAdversarialWrongPoolEveryMode(t *testing.T) {
	t.Parallel()
	for _, into := range []bool{false, true} {
		for _, from := range []bool{false, true} {
			t.Run(fmt.Sprintf("into=%v/from=%v", into, from), func(t *testing.T) {
				p := pool.New("into", 1, newItem, &pool.Options{CaptureStacks: into})
				other := pool.New("from", 1, newItem, &pool.Options{CaptureStacks: from})
				it := takeHere(other)
				msg := panicText(func() { p.Put(it) })
				assert.Contains(t, msg, `pool "into": Put of a *pool_test.item that belongs to pool "from"`)
				if from {
					assert.Contains(t, msg, "pool_test.takeHere")
				} else {
					assert.Contains(t, msg, "CaptureStacks off")
				}
				// The object is still the other pool's and goes back there.
				assert.True(t, other.Owns(it))
				assert.False(t, p.Owns(it))
				other.Put(it)
				// A returned object of another pool is still another pool's.
				assert.Contains(t, panicText(func() { p.Put(it) }), `belongs to pool "from"`)
				require.NoError(t, p.Shutdown(context.Background()))
				require.NoError(t, other.Shutdown(context.Background()))
			})
		}
	}
}

// Shutdown's leak report: exact count and one stack per missing object
// with stacks on, none without; an object returned after the report lets
// the next Shutdown succeed; a retired object's stale Put after a leak
// report changes nothing.
func TestAdversarialShutdownLeakReports(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			p := newPool(t, 5, &pool.Options{CaptureStacks: capture})
			var held []*item
			for range 3 {
				held = append(held, takeHere(p))
			}
			done, _ := p.TryGet()
			p.Put(done)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // no wall clock: the wait ends at once
			err := p.Shutdown(ctx)
			var le *pool.LeakError
			require.ErrorAs(t, err, &le)
			assert.ErrorIs(t, err, pool.ErrLeaked)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, int64(3), le.Outstanding)
			assert.Equal(t, "items", le.Pool)
			assert.Equal(t, "*pool_test.item", le.Type)
			if capture {
				require.Len(t, le.Stacks, 3)
				for _, s := range le.Stacks {
					assert.Contains(t, s, "pool_test.takeHere")
				}
				assert.Contains(t, err.Error(), "checkout 3 taken at")
			} else {
				assert.Empty(t, le.Stacks)
			}
			_, err = p.TryGet()
			require.ErrorIs(t, err, pool.ErrClosed)
			_, err = p.Get(context.Background())
			require.ErrorIs(t, err, pool.ErrClosed)

			p.Put(held[0])
			err = p.Shutdown(ctx)
			require.ErrorAs(t, err, &le)
			assert.Equal(t, int64(2), le.Outstanding)
			if capture {
				assert.Len(t, le.Stacks, 2)
			}
			// Returns after the report finish the shutdown.
			released := make(chan error, 1)
			go func() { released <- p.Shutdown(context.Background()) }()
			p.Put(held[1])
			p.Put(held[2])
			require.NoError(t, <-released)
			assertPanic(t, func() { p.Put(held[2]) }, "second Put")
			require.NoError(t, p.Shutdown(ctx), "everything is back")
		})
	}
}

// Get(ctx) cancellation racing with Puts handing their slots over: no slot
// is ever lost (every slot can be taken at the end) and every failed Get
// matches both ErrExhausted and the context's error.
func TestAdversarialGetCancelRacesPut(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			const capacity = 2
			p := newPool(t, capacity, &pool.Options{CaptureStacks: capture})
			for range 200 {
				a, _ := p.TryGet()
				b, _ := p.TryGet()
				ctx, cancel := context.WithCancel(context.Background())
				res := make(chan error, 1)
				var got *item
				go func() {
					it, err := p.Get(ctx)
					got = it
					res <- err
				}()
				// Cancel and Put at once: whichever wins, the slot survives.
				start := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() { <-start; cancel() })
				wg.Go(func() { <-start; p.Put(a) })
				close(start)
				wg.Wait()
				if err := <-res; err != nil {
					require.ErrorIs(t, err, pool.ErrExhausted)
					require.ErrorIs(t, err, context.Canceled)
				} else {
					p.Put(got)
				}
				p.Put(b)
				require.Equal(t, int64(0), p.Stats().InUse)
			}
			x, err := p.TryGet()
			require.NoError(t, err)
			y, err := p.TryGet()
			require.NoError(t, err, "a cancelled waiter lost a slot")
			p.Put(x)
			p.Put(y)
			require.NoError(t, p.Shutdown(context.Background()))
		})
	}
}

// A Get whose context is already done still gets an object when one is
// free (the context bounds only the wait), and fails at once otherwise.
func TestAdversarialGetDoneContext(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	it, err := p.Get(ctx)
	require.NoError(t, err)
	_, err = p.Get(ctx)
	require.True(t, errors.Is(err, pool.ErrExhausted) && errors.Is(err, context.Canceled), "%v", err)
	p.Put(it)
	require.NoError(t, p.Shutdown(context.Background()))
}

// Generous deadlines for require.Eventually: a busy machine must not fail
// these tests, and nothing asserts on how long anything took.
const (
	waitLong = 30 * time.Second
	tick     = time.Millisecond
)
