package schema_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// TestConcurrentDoublePut puts one object of each schema pool from two
// goroutines at once, many times, with stacks off and on. Exactly one Put
// may win and the other must panic with "second Put"; under -race the
// detector must find nothing in pool or schema (Reset leaves the header
// alone while the losing Put reads it).
func TestConcurrentDoublePut(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			ps := schema.NewPools(&pool.Options{CaptureStacks: capture})
			for range 50 {
				doublePut(t, ps.Frames, func(f *schema.WsFrame) { f.Data = append(f.Data, "x"...); f.ConnID = 1 })
				doublePut(t, ps.Raws, func(r *schema.ProviderRaw) { r.Payload = []byte("x") })
				doublePut(t, ps.Events, func(e *schema.CanonicalEvent) {
					e.Symbol = "BTC-USDT"
					e.Book.Bids = append(e.Book.Bids, schema.Level{Qty: schema.NewDecimal(1, 0)})
				})
				doublePut(t, ps.Merged, func(m *schema.MergedEvent) { m.Symbol = "BTC-USDT" })
				doublePut(t, ps.Orders, func(o *schema.OrderRequest) { o.Symbol = "BTC-USDT" })
				doublePut(t, ps.Execs, func(x *schema.ExecReport) { x.Symbol = "BTC-USDT" })
			}
			for _, s := range ps.Stats() {
				require.Zero(t, s.InUse, s.Name)
			}
			require.NoError(t, ps.Shutdown(context.Background()))
		})
	}
}

func doublePut[T pool.Object](t *testing.T, p *pool.Pool[T], use func(T)) {
	t.Helper()
	obj, err := p.TryGet()
	require.NoError(t, err)
	use(obj)
	start := make(chan struct{})
	results := make(chan any, 2)
	for range 2 {
		go func() {
			defer func() { results <- recover() }()
			<-start
			p.Put(obj)
		}()
	}
	close(start)
	panics := 0
	for range 2 {
		if r := <-results; r != nil {
			msg, _ := r.(string)
			require.True(t, strings.Contains(msg, "second Put"), "unexpected panic: %v", r)
			panics++
		}
	}
	require.Equal(t, 1, panics, "%s: exactly one of two concurrent Puts panics", p.Name())
}
