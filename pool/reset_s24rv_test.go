package pool_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
)

// rvObj's Reset is the host's code, failing in each way Go code can stop:
// a panic, a panic(nil) (a *runtime.PanicNilError since Go 1.21), and
// runtime.Goexit (t.FailNow called from a Reset helper).
type rvObj struct {
	pool.Header
	fail string
}

func (o *rvObj) Reset() {
	switch f := o.fail; f {
	case "panic":
		panic("reset failed")
	case "panic(nil)":
		panic(nil) //nolint:govet // what a host's Reset may do
	case "Goexit":
		runtime.Goexit()
	}
}

// A Get waiting on an exhausted pool is handed the slot of a Put whose
// Reset fails, however it fails, and a Shutdown waiting for that object
// returns: the host's bug strands neither.
func TestS24rvFailedResetHandsItsSlotToAWaiter(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		for _, fail := range []string{"panic", "panic(nil)", "Goexit"} {
			t.Run(fmt.Sprintf("stacks=%v/%s", capture, fail), func(t *testing.T) {
				t.Parallel()
				p := pool.New("s24rv", 1, func() *rvObj { return new(rvObj) }, &pool.Options{CaptureStacks: capture})
				bad, err := p.TryGet()
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				got := make(chan *rvObj, 1)
				go func() {
					o, err := p.Get(ctx)
					assert.NoError(t, err)
					got <- o
				}()
				require.Eventually(t, func() bool { return p.Stats().Waits == 1 }, 30*time.Second, time.Millisecond)
				bad.fail = fail
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { // Goexit ends the goroutine that calls Put
					defer wg.Done()
					defer func() { _ = recover() }()
					p.Put(bad)
				}()
				wg.Wait()
				var good *rvObj
				select {
				case good = <-got:
				case <-ctx.Done():
					t.Fatal("the waiting Get was stranded by a failed Reset")
				}
				require.NotNil(t, good)
				require.NotSame(t, bad, good)
				s := p.Stats()
				assert.Equal(t, uint64(2), s.Gets)
				assert.Equal(t, uint64(1), s.Puts)
				assert.Equal(t, int64(1), s.InUse)
				done := make(chan error, 1)
				go func() { done <- p.Shutdown(ctx) }()
				p.Put(good)
				require.NoError(t, <-done)
				require.Panics(t, func() { p.Put(bad) }, "a stale Put of the dropped object is still a second Put")
			})
		}
	}
}
