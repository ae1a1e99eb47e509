package pool_test

// Adversarial tests, second round (reviewer R4), written apart from the
// implementation: a constructor that panics, and Get, TryGet, Put and
// Shutdown racing on real goroutines in both modes.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// A constructor that panics (the host's code: out of memory for a buffer,
// a bug) panics out of Get, and costs the pool nothing: the slot it was
// to fill is free again, so the capacity is intact, a waiting Get is not
// stranded and Shutdown does not report an object nobody ever had.
func TestAdversarial2ConstructorPanics(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			failing := atomic.Bool{}
			p := pool.New("items", 2, func() *item {
				calls.Add(1)
				if failing.Load() {
					panic("constructor failed")
				}
				return newItem()
			}, &pool.Options{CaptureStacks: capture})
			a, err := p.TryGet()
			require.NoError(t, err)
			failing.Store(true)
			for range 3 {
				require.PanicsWithValue(t, "constructor failed", func() { _, _ = p.TryGet() })
				// Bounded: with a slot lost, this Get would wait forever.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				require.PanicsWithValue(t, "constructor failed", func() { _, _ = p.Get(ctx) })
				cancel()
			}
			failing.Store(false)
			assert.Equal(t, int64(1), p.Stats().InUse, "the failed constructions are not checked out")
			b, err := p.TryGet()
			require.NoError(t, err, "a failed construction kept its slot: the capacity shrank")
			// The pool is exhausted: a waiter is served by the next Put.
			got := make(chan *item)
			go func() {
				c, err := p.Get(context.Background())
				if err != nil {
					panic(err)
				}
				got <- c
			}()
			p.Put(a)
			c := <-got
			p.Put(b)
			p.Put(c)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, p.Shutdown(ctx), "a failed construction counted as a leak")
		})
	}
}

// Many goroutines Get (some with contexts that end), TryGet and Put while
// Shutdown begins: the capacity is never exceeded, every object handed out
// is handed to one owner at a time, Gets after Shutdown return ErrClosed,
// Shutdown returns once everything is back, and the counters add up.
func TestAdversarial2RacingOwnersAndShutdown(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			const capacity, workers = 4, 12
			p := newPool(t, capacity, &pool.Options{CaptureStacks: capture})
			var out atomic.Int32
			var owners sync.Map // *item → worker holding it
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var fail atomic.Value
			report := func(format string, args ...any) { fail.CompareAndSwap(nil, fmt.Sprintf(format, args...)) }
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var it *item
						var err error
						switch i % 3 {
						case 0:
							it, err = p.TryGet()
						case 1:
							ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Microsecond)
							it, err = p.Get(ctx)
							cancel()
						default:
							it, err = p.Get(context.Background())
						}
						if err != nil {
							if errors.Is(err, pool.ErrClosed) {
								return
							}
							if !errors.Is(err, pool.ErrExhausted) {
								report("worker %d: %v", w, err)
							}
							continue
						}
						if n := out.Add(1); n > capacity {
							report("%d objects out at once, capacity %d", n, capacity)
						}
						if prev, loaded := owners.LoadOrStore(it, w); loaded {
							report("object handed to worker %d while worker %v holds it", w, prev)
						}
						if it.N != 0 || len(it.Buf) != 0 {
							report("object handed out not reset: %+v", it.N)
						}
						it.N = w + 1
						it.Buf = append(it.Buf, byte(w))
						owners.Delete(it)
						out.Add(-1)
						p.Put(it)
					}
				}()
			}
			// Let them run until enough has happened, then shut down under
			// their feet.
			require.Eventually(t, func() bool { return p.Stats().Gets > 3000 }, 60*time.Second, time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			shut := make(chan error, 1)
			go func() { shut <- p.Shutdown(ctx) }()
			// Shutdown refuses new Gets: every worker ends on ErrClosed
			// by itself (stop is only a safety net).
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				close(stop)
				<-done
				t.Fatal("workers kept getting objects after Shutdown")
			}
			require.NoError(t, <-shut)
			if f := fail.Load(); f != nil {
				t.Fatal(f)
			}
			st := p.Stats()
			assert.Equal(t, st.Gets, st.Puts)
			assert.Zero(t, st.InUse)
			assert.LessOrEqual(t, st.PeakInUse, int64(capacity))
			_, err := p.TryGet()
			assert.ErrorIs(t, err, pool.ErrClosed)
		})
	}
}
