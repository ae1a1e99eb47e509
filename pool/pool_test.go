package pool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// item is a pooled test type: it embeds the header and owns a buffer.
type item struct {
	pool.Header
	N   int
	Buf []byte
}

// Reset leaves the Header alone, as the pool requires: a racing second Put
// reads it while Reset runs.
func (it *item) Reset() { it.N, it.Buf = 0, it.Buf[:0] }

func newItem() *item { return &item{Buf: make([]byte, 0, 64)} }

func newPool(t testing.TB, capacity int, opts *pool.Options) *pool.Pool[*item] {
	t.Helper()
	return pool.New("items", capacity, newItem, opts)
}

func TestGetPutResetsAndReuses(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, nil)
	it, err := p.Get(context.Background())
	require.NoError(t, err)
	assert.True(t, it.Pooled())
	it.N = 7
	it.Buf = append(it.Buf, "hello"...)
	p.Put(it)
	assert.Equal(t, 0, it.N, "Put resets")
	assert.Empty(t, it.Buf)
	assert.Equal(t, 64, cap(it.Buf), "Reset keeps capacity")
	assert.False(t, it.Pooled())

	again, err := p.TryGet()
	require.NoError(t, err)
	assert.Same(t, it, again, "the free list reuses the returned object")
	p.Put(again)

	s := p.Stats()
	assert.Equal(t, pool.Stats{Name: "items", Type: "*pool_test.item", Capacity: 2, Gets: 2, Puts: 2, Created: 1, PeakInUse: 1}, s)
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestGetTimesOutWithBothErrors(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1, nil)
	held, err := p.Get(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = p.Get(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, pool.ErrExhausted)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Error(t, ctx.Err(), "Get gave up only once its context had ended")
	assert.Contains(t, err.Error(), `"items"`)

	_, err = p.TryGet()
	assert.ErrorIs(t, err, pool.ErrExhausted)

	s := p.Stats()
	assert.Equal(t, uint64(1), s.Waits)
	assert.Equal(t, uint64(2), s.Exhausted)
	p.Put(held)
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestGetWaitsForPut(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1, nil)
	held, err := p.Get(context.Background())
	require.NoError(t, err)
	got := make(chan *item)
	go func() {
		it, err := p.Get(context.Background())
		assert.NoError(t, err)
		got <- it
	}()
	require.Eventually(t, func() bool { return p.Stats().Waits == 1 }, 5*time.Second, time.Millisecond)
	p.Put(held)
	it := <-got
	assert.Same(t, held, it)
	p.Put(it)
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1, nil)
	held, _ := p.Get(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Get(ctx)
	assert.ErrorIs(t, err, pool.ErrExhausted)
	assert.ErrorIs(t, err, context.Canceled)
	p.Put(held)
}

func TestPanics(t *testing.T) {
	t.Parallel()
	p := newPool(t, 4, nil)
	other := pool.New("others", 4, newItem, nil)

	t.Run("double put", func(t *testing.T) {
		it, _ := p.Get(context.Background())
		p.Put(it)
		assertPanic(t, func() { p.Put(it) }, `pool "items": second Put of a *pool_test.item`)
	})
	t.Run("heap clone", func(t *testing.T) {
		it, _ := p.Get(context.Background())
		clone := &item{}
		*clone = *it
		clone.Header = pool.Header{}
		assertPanic(t, func() { p.Put(clone) }, `did not come from any pool`)
		p.Put(it)
	})
	t.Run("new value", func(t *testing.T) {
		assertPanic(t, func() { p.Put(newItem()) }, `pool "items": Put of a *pool_test.item that did not come from any pool`)
	})
	t.Run("other pool", func(t *testing.T) {
		it, _ := other.Get(context.Background())
		assertPanic(t, func() { p.Put(it) }, `belongs to pool "others"`)
		other.Put(it)
	})
	t.Run("nil", func(t *testing.T) {
		assertPanic(t, func() { p.Put(nil) }, `Put of a nil *pool_test.item`)
	})
	t.Run("bad construction", func(t *testing.T) {
		assertPanic(t, func() { pool.New("x", 0, newItem, nil) }, "capacity must be at least 1")
		assertPanic(t, func() { pool.New[*item]("x", 1, nil, nil) }, "nil constructor")
		nilPool := pool.New("nils", 1, func() *item { return nil }, nil)
		assertPanic(t, func() { _, _ = nilPool.TryGet() }, "constructor returned a nil")
		stolen, _ := other.Get(context.Background())
		thief := pool.New("thief", 1, func() *item { return stolen }, nil)
		assertPanic(t, func() { _, _ = thief.TryGet() }, `belongs to pool "others"`)
		other.Put(stolen)
	})
	assert.Equal(t, int64(0), p.Stats().InUse)
	assert.Equal(t, int64(0), other.Stats().InUse)
}

func assertPanic(t *testing.T, f func(), want string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		require.NotNil(t, r, "expected a panic containing %q", want)
		assert.Contains(t, r, want)
	}()
	f()
}

func panicText(f func()) (msg string) {
	defer func() { msg, _ = recover().(string) }()
	f()
	return ""
}

func TestCaptureStacksNamesPlaces(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, &pool.Options{CaptureStacks: true})
	it, _ := p.Get(context.Background())
	putHere(p, it)
	msg := panicText(func() { p.Put(it) })
	assert.Contains(t, msg, "second Put")
	assert.Contains(t, msg, "first Put at:")
	assert.Contains(t, msg, "pool_test.putHere", "the earlier Put's stack is shown")
	assert.Contains(t, msg, "taken by Get at:")
	assert.Contains(t, msg, "pool_test.TestCaptureStacksNamesPlaces")
}

//go:noinline
func putHere(p *pool.Pool[*item], it *item) { p.Put(it) }

// The sequence of issue #16: owner 1 takes a and returns it but keeps the
// pointer; owner 2 churns the pool; owner 1 then Puts a again. With stacks
// on, a is never handed out again, so the stale Put panics (naming owner 1's
// first Put) however many objects went through in between, and owner 2's
// own Puts are untouched.
func TestCaptureStacksCatchesStaleOwner(t *testing.T) {
	t.Parallel()
	const capacity = 2
	p := newPool(t, capacity, &pool.Options{CaptureStacks: true})
	stale, err := p.Get(context.Background())
	require.NoError(t, err)
	putHere(p, stale) // owner 1 keeps the pointer

	var owner2 []*item
	for range 100 * capacity { // TryGet until a would have come back, many times over
		it, err := p.TryGet()
		require.NoError(t, err)
		require.NotSame(t, stale, it, "a returned object is never handed out again")
		owner2 = append(owner2, it)
		if len(owner2) == capacity {
			for _, it := range owner2 {
				p.Put(it)
			}
			owner2 = owner2[:0]
		}
	}
	last, err := p.TryGet() // owner 2 holds an object while owner 1 misbehaves
	require.NoError(t, err)

	msg := panicText(func() { p.Put(stale) })
	assert.Contains(t, msg, "second Put of a *pool_test.item")
	assert.Contains(t, msg, "pool_test.putHere", "the first Put is named")
	s := p.Stats()
	assert.Equal(t, int64(1), s.InUse, "the stale Put changed nothing")
	assert.Equal(t, uint64(1+100*capacity+1), s.Created, "every Get made a fresh object")

	p.Put(last)                                           // owner 2's correct Put is accepted
	assertPanic(t, func() { p.Put(stale) }, "second Put") // and again, every time
	require.NoError(t, p.Shutdown(context.Background()))
}

// Without stacks a returned object comes back at once, which is what makes
// the pool free, and what makes a stale owner's Put undetectable: it is
// accepted as the new owner's, whose own Put then panics. The package
// documentation says so; this test pins that documented behaviour.
func TestWithoutStacksStaleOwnerIsNotCaught(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, nil)
	a, _ := p.Get(context.Background())
	p.Put(a) // owner 1 keeps a
	b, _ := p.Get(context.Background())
	require.Same(t, a, b, "owner 2 got the same object")
	p.Put(a) // owner 1's stale Put: accepted
	assert.Equal(t, int64(0), p.Stats().InUse)
	assertPanic(t, func() { p.Put(b) }, "second Put") // owner 2 is blamed
	assert.Contains(t, panicText(func() { p.Put(b) }), "set Options.CaptureStacks")
}

// The capacity bounds objects checked out, not objects made: retired objects
// do not count, and the pool keeps none of them.
func TestCaptureStacksKeepsTheBound(t *testing.T) {
	t.Parallel()
	p := newPool(t, 3, &pool.Options{CaptureStacks: true})
	var held []*item
	for range 3 {
		it, err := p.TryGet()
		require.NoError(t, err)
		held = append(held, it)
	}
	_, err := p.TryGet()
	require.ErrorIs(t, err, pool.ErrExhausted)

	got := make(chan *item)
	go func() {
		it, err := p.Get(context.Background())
		assert.NoError(t, err)
		got <- it
	}()
	require.Eventually(t, func() bool { return p.Stats().Waits == 1 }, 10*time.Second, time.Millisecond)
	p.Put(held[0]) // hands its slot to the waiter, with a fresh object
	it := <-got
	assert.NotSame(t, held[0], it)
	assert.Equal(t, 0, it.N)
	for _, h := range append(held[1:], it) {
		p.Put(h)
	}
	s := p.Stats()
	assert.Equal(t, int64(0), s.InUse)
	assert.Equal(t, int64(3), s.PeakInUse)
	assert.Equal(t, uint64(4), s.Created)
	require.NoError(t, p.Shutdown(context.Background()))
}

// Two goroutines Put the same object at once, in both modes: exactly one
// returns it and the other panics with "second Put". Run under -race: the
// race detector must see nothing inside the pool (the test type's Reset,
// like schema's, leaves the Header alone).
func TestConcurrentDoublePut(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			p := newPool(t, 4, &pool.Options{CaptureStacks: capture})
			for range 200 {
				it, err := p.TryGet()
				require.NoError(t, err)
				it.N, it.Buf = 5, append(it.Buf, 1)
				panics := racePut(func() { p.Put(it) })
				require.Equal(t, 1, panics, "exactly one of two concurrent Puts panics")
				require.Equal(t, int64(0), p.Stats().InUse)
			}
			require.NoError(t, p.Shutdown(context.Background()))
		})
	}
}

// racePut runs put on two goroutines released at the same instant and
// returns how many panicked with "second Put".
func racePut(put func()) int {
	start := make(chan struct{})
	results := make(chan string, 2)
	for range 2 {
		go func() {
			<-start
			results <- panicText(put)
		}()
	}
	close(start)
	n := 0
	for range 2 {
		if msg := <-results; msg != "" {
			if !strings.Contains(msg, "second Put") {
				panic("unexpected panic: " + msg)
			}
			n++
		}
	}
	return n
}

// A Put into the wrong pool names the pool the object belongs to and, when
// that pool records stacks, where the object was taken.
func TestWrongPoolNamesWhereTaken(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, &pool.Options{CaptureStacks: true})
	other := pool.New("others", 2, newItem, &pool.Options{CaptureStacks: true})
	it := takeHere(other)
	msg := panicText(func() { p.Put(it) })
	assert.Contains(t, msg, `pool "items": Put of a *pool_test.item that belongs to pool "others"`)
	assert.Contains(t, msg, `taken from pool "others" by Get at:`)
	assert.Contains(t, msg, "pool_test.takeHere")
	other.Put(it)

	plain := pool.New("plain", 2, newItem, nil)
	it2, _ := plain.Get(context.Background())
	msg = panicText(func() { p.Put(it2) })
	assert.Contains(t, msg, `belongs to pool "plain" (where it was taken is not recorded: pool "plain" has CaptureStacks off)`)
	plain.Put(it2)
}

//go:noinline
func takeHere(p *pool.Pool[*item]) *item {
	it, err := p.Get(context.Background())
	if err != nil {
		panic(err)
	}
	return it
}

func TestShutdownReportsLeaks(t *testing.T) {
	t.Parallel()
	p := newPool(t, 4, &pool.Options{CaptureStacks: true})
	a, _ := p.Get(context.Background())
	leakOne(p)
	p.Put(a)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := p.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var le *pool.LeakError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "items", le.Pool)
	assert.Equal(t, "*pool_test.item", le.Type)
	assert.Equal(t, int64(1), le.Outstanding)
	require.Len(t, le.Stacks, 1)
	assert.Contains(t, le.Stacks[0], "pool_test.leakOne")
	assert.Contains(t, err.Error(), `pool "items": 1 *pool_test.item not returned`)

	_, err = p.Get(context.Background())
	assert.ErrorIs(t, err, pool.ErrClosed)
	_, err = p.TryGet()
	assert.ErrorIs(t, err, pool.ErrClosed)
}

//go:noinline
func leakOne(p *pool.Pool[*item]) { _, _ = p.Get(context.Background()) }

func TestShutdownWithoutStacksCountsLeaks(t *testing.T) {
	t.Parallel()
	p := newPool(t, 4, nil)
	_, _ = p.Get(context.Background())
	_, _ = p.Get(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	var le *pool.LeakError
	require.ErrorAs(t, p.Shutdown(ctx), &le)
	assert.Equal(t, int64(2), le.Outstanding)
	assert.Empty(t, le.Stacks)
}

func TestShutdownWaitsForReturns(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1, nil)
	it, _ := p.Get(context.Background())
	done := make(chan error)
	go func() { done <- p.Shutdown(context.Background()) }()
	// Shutdown has begun once TryGet says closed instead of exhausted.
	require.Eventually(t, func() bool {
		_, err := p.TryGet()
		return errors.Is(err, pool.ErrClosed)
	}, 5*time.Second, time.Millisecond)
	p.Put(it)
	require.NoError(t, <-done)
	require.NoError(t, p.Shutdown(context.Background()), "a second Shutdown is fine")
}

func TestShutdownWakesWaiters(t *testing.T) {
	t.Parallel()
	p := newPool(t, 1, nil)
	it, _ := p.Get(context.Background())
	errc := make(chan error)
	go func() {
		_, err := p.Get(context.Background())
		errc <- err
	}()
	require.Eventually(t, func() bool { return p.Stats().Waits == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, p.Shutdown(ctx), pool.ErrLeaked)
	assert.ErrorIs(t, <-errc, pool.ErrClosed)
	p.Put(it)
	require.NoError(t, p.Shutdown(context.Background()))
}

// A Shutdown whose context has no deadline gives up after the default wait
// (shortened here) with the leak report.
func TestShutdownDefaultWait(t *testing.T) { // not parallel: it changes the default
	restore := pool.SetDefaultShutdownWait(time.Millisecond)
	defer restore()
	p := newPool(t, 1, nil)
	_, _ = p.Get(context.Background())
	err := p.Shutdown(context.Background())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, pool.ErrLeaked)
}

func TestHammer(t *testing.T) {
	t.Parallel()
	const capacity, workers, rounds = 8, 32, 2000
	p := newPool(t, capacity, nil)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				var it *item
				var err error
				if i%3 == 0 {
					if it, err = p.TryGet(); err != nil {
						continue
					}
				} else if it, err = p.Get(context.Background()); err != nil {
					t.Error(err)
					return
				}
				if it.N != 0 || len(it.Buf) != 0 {
					t.Error("Get returned an object that was not reset")
				}
				it.N = w
				it.Buf = append(it.Buf, byte(w))
				if p.Stats().InUse > capacity {
					t.Error("more than capacity checked out")
				}
				p.Put(it)
			}
		}()
	}
	wg.Wait()
	s := p.Stats()
	assert.Equal(t, int64(0), s.InUse)
	assert.LessOrEqual(t, s.PeakInUse, int64(capacity))
	assert.LessOrEqual(t, s.Created, uint64(capacity))
	assert.Equal(t, s.Gets, s.Puts)
	require.NoError(t, p.Shutdown(context.Background()))
}

func TestGetPutDoesNotAllocate(t *testing.T) {
	p := newPool(t, 4, nil)
	ctx := context.Background()
	it, _ := p.Get(ctx)
	p.Put(it)
	allocs := testing.AllocsPerRun(1000, func() {
		it, err := p.Get(ctx)
		if err != nil {
			panic(err)
		}
		it.Buf = append(it.Buf, 1, 2, 3)
		p.Put(it)
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(1000, func() {
		it, _ := p.TryGet()
		p.Put(it)
	})
	assert.Zero(t, allocs)
}

func TestManager(t *testing.T) {
	t.Parallel()
	a := newPool(t, 2, nil)
	b := pool.New("bees", 3, newItem, nil)
	m := pool.NewManager(a)
	m.Add(b)
	held, _ := b.Get(context.Background())

	st := m.Stats()
	require.Len(t, st, 2)
	assert.Equal(t, "items", st[0].Name)
	assert.Equal(t, "bees", st[1].Name)
	assert.Equal(t, int64(1), st[1].InUse)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := m.Shutdown(ctx)
	assert.ErrorIs(t, err, pool.ErrLeaked)
	var le *pool.LeakError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "bees", le.Pool)
	b.Put(held)
	require.NoError(t, m.Shutdown(context.Background()))

	var zero pool.Manager
	assert.Empty(t, zero.Stats())
	assert.NoError(t, zero.Shutdown(context.Background()))
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	p := newPool(t, 5, nil)
	assert.Equal(t, "items", p.Name())
	assert.Equal(t, 5, p.Capacity())
}

func TestOwns(t *testing.T) {
	t.Parallel()
	p := newPool(t, 2, nil)
	other := pool.New("others", 2, newItem, nil)
	it, _ := p.Get(context.Background())
	foreign, _ := other.Get(context.Background())
	assert.True(t, p.Owns(it))
	assert.False(t, p.Owns(foreign), "another pool's object")
	assert.False(t, p.Owns(newItem()), "a heap value")
	assert.False(t, p.Owns(nil))
	p.Put(it)
	assert.False(t, p.Owns(it), "a returned object")
	other.Put(foreign)
}
