package book

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Fetches reserving and giving back OKXLimiter slots at once, while the
// clock moves: the slots kept (reserved and not given back) never hold
// more than Requests in any Per, and the limiter's list stays bounded by
// what the longest wait allows ahead.
func TestS34rvOKXLimiterConcurrentReserveAndRelease(t *testing.T) {
	clk := newStepClock()
	l := &OKXLimiter{Requests: 5, Per: time.Second, Clock: clk}
	const most = 3 * time.Second
	var (
		mu   sync.Mutex
		kept []time.Time
		wg   sync.WaitGroup
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 300 {
				d, at, ok := l.reserve(nil, most)
				if !ok {
					require.Greater(t, d, most)
					continue
				}
				require.LessOrEqual(t, d, most)
				if r.IntN(2) == 0 {
					l.release(at) // sent nothing
					continue
				}
				mu.Lock()
				kept = append(kept, at)
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 200 {
			clk.step(50 * time.Millisecond)
			l.mu.Lock()
			n := len(l.slots)
			l.mu.Unlock()
			require.LessOrEqual(t, n, 5*int((most+2*time.Second)/time.Second), "unbounded")
		}
	}()
	wg.Wait()
	slices.SortFunc(kept, func(a, b time.Time) int { return a.Compare(b) })
	require.NotEmpty(t, kept)
	for i := 5; i < len(kept); i++ {
		require.GreaterOrEqual(t, kept[i].Sub(kept[i-5]), time.Second, "six requests in one window at %d: %v", i, kept[i-5:i+1])
	}
}
