package pool_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// s24Obj's Reset runs the host's code: it may panic (a bug, a nil map in
// a reset helper) or break the documented rule and write the Header.
type s24Obj struct {
	pool.Header
	n      int
	panics bool
	zeroes bool
}

func (o *s24Obj) Reset() {
	switch {
	case o.panics:
		panic("reset failed")
	case o.zeroes:
		*o = s24Obj{} // writes the Header: what the package doc forbids
	}
	o.n = 0
}

// A Put whose Reset panics panics out of Put (the host's bug is not
// hidden), and costs the pool nothing else, as a panicking constructor
// costs it nothing (New's doc): the slot is free again, the object is not
// handed out half reset, InUse and Shutdown's leak count are right. A
// Reset that writes the Header, which the Header's doc forbids, is named
// by the Put that ran it, at the same cost.
func TestS24ResetFailureCostsNoSlot(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		for _, fault := range []string{"panics", "zeroes the Header"} {
			t.Run(fmt.Sprintf("stacks=%v/%s", capture, fault), func(t *testing.T) {
				t.Parallel()
				p := pool.New("s24", 1, func() *s24Obj { return new(s24Obj) }, &pool.Options{CaptureStacks: capture})
				bad, err := p.TryGet()
				require.NoError(t, err)
				bad.n = 7
				if fault == "panics" {
					bad.panics = true
					require.PanicsWithValue(t, "reset failed", func() { p.Put(bad) })
				} else {
					bad.zeroes = true
					require.Panics(t, func() { p.Put(bad) })
				}
				assert.Equal(t, int64(0), p.Stats().InUse, "nothing is checked out")
				assert.Equal(t, uint64(1), p.Stats().Puts, "the object came back, and is counted once")
				// The capacity is 1: with the slot lost, this would fail.
				good, err := p.TryGet()
				require.NoError(t, err, "the failed Put kept its slot: the pool shrank")
				require.NotSame(t, bad, good, "an object whose Reset failed is not handed out again")
				assert.Zero(t, good.n)
				p.Put(good)
				// A stale Put of the failed object is still a misuse.
				require.Panics(t, func() { p.Put(bad) })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				require.NoError(t, p.Shutdown(ctx), "no leak is reported for an object that came back")
			})
		}
	}
}

// The panic of a Reset that wrote the Header says so.
func TestS24ResetWritingTheHeaderIsNamed(t *testing.T) {
	t.Parallel()
	p := pool.New("s24-named", 2, func() *s24Obj { return new(s24Obj) }, nil)
	o, err := p.TryGet()
	require.NoError(t, err)
	o.zeroes = true
	defer func() {
		r := recover()
		require.NotNil(t, r)
		assert.Contains(t, fmt.Sprint(r), "Reset")
		assert.Contains(t, fmt.Sprint(r), "Header")
		assert.Contains(t, fmt.Sprint(r), `"s24-named"`)
	}()
	p.Put(o)
}

// Under concurrency, Puts whose Reset panics keep the books right: every
// checkout comes back exactly once, nothing is reported leaked, and the
// pool still hands out its whole capacity.
func TestS24ResetPanicsUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			const capacity, workers, rounds = 4, 8, 300
			p := pool.New("s24-conc", capacity, func() *s24Obj { return new(s24Obj) }, &pool.Options{CaptureStacks: capture})
			var wg sync.WaitGroup
			var dropped atomic.Int64
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					for i := range rounds {
						o, err := p.Get(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						o.n = w
						o.panics = (i+w)%5 == 0
						func() {
							defer func() {
								if recover() != nil {
									dropped.Add(1)
								}
							}()
							p.Put(o)
						}()
					}
				}()
			}
			wg.Wait()
			s := p.Stats()
			assert.Equal(t, int64(0), s.InUse)
			assert.Equal(t, s.Gets, s.Puts)
			assert.Equal(t, uint64(workers*rounds), s.Gets)
			assert.Positive(t, dropped.Load())
			if !capture {
				// Dropped objects are replaced; reused ones are not made again.
				assert.LessOrEqual(t, s.Created, uint64(capacity)+uint64(dropped.Load()))
			}
			held := make([]*s24Obj, 0, capacity)
			for range capacity {
				o, err := p.TryGet()
				require.NoError(t, err, "the whole capacity is still there")
				held = append(held, o)
			}
			for _, o := range held {
				p.Put(o)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, p.Shutdown(ctx))
		})
	}
}
