package schema_test

// Adversarial tests written apart from the implementation (reviewer R1).

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// header reads the embedded pool.Header of any schema object.
func header(obj any) pool.Header {
	return reflect.ValueOf(obj).Elem().FieldByName("Header").Interface().(pool.Header)
}

// checkPooled runs, for one schema pool: Reset leaves the Header exactly as
// it was (Put's CAS relies on it); a value copy's Put panics and changes
// nothing; and a double Put racing with a third goroutine that takes the
// object again and writes every field is race-free inside the SDK (one Put
// wins, the other panics).
func checkPooled[T any, P interface {
	*T
	pool.Object
}](t *testing.T, p *pool.Pool[P], capture bool) {
	t.Helper()
	obj, err := p.TryGet()
	require.NoError(t, err)
	fill(reflect.ValueOf(obj).Elem())
	before := header(obj)
	obj.Reset()
	assert.Equal(t, before, header(obj), "Reset wrote the Header")
	require.True(t, p.Owns(obj))

	cp := P(new(T))
	reflect.ValueOf(cp).Elem().Set(reflect.ValueOf(obj).Elem()) // cp := *obj
	assert.False(t, p.Owns(cp), "a value copy is not the object the pool handed out")
	assert.Contains(t, panicOf(func() { p.Put(cp) }), "Put of a copy")
	assert.Equal(t, int64(1), p.Stats().InUse)
	p.Put(obj)

	for range 30 {
		obj, err := p.TryGet()
		require.NoError(t, err)
		start := make(chan struct{})
		var wg sync.WaitGroup
		msgs := make(chan string, 2)
		for range 2 {
			wg.Go(func() { <-start; msgs <- panicOf(func() { p.Put(obj) }) })
		}
		// With stacks on, a third party churns the pool meanwhile, writing
		// every field of what it gets (never obj: a returned object is not
		// handed out again). With stacks off it could get obj itself, which
		// is the documented undetectable stale Put, so it does not run.
		if capture {
			wg.Go(func() {
				<-start
				if o, err := p.TryGet(); err == nil {
					fill(reflect.ValueOf(o).Elem())
					p.Put(o)
				}
			})
		}
		close(start)
		wg.Wait()
		close(msgs)
		for m := range msgs {
			if m != "" {
				require.True(t, strings.Contains(m, "second Put"), "unexpected panic: %s", m)
			}
		}
	}
	require.Zero(t, p.Stats().InUse)
}

func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestAdversarialEverySchemaPool(t *testing.T) {
	t.Parallel()
	for _, capture := range []bool{false, true} {
		t.Run(fmt.Sprintf("stacks=%v", capture), func(t *testing.T) {
			t.Parallel()
			ps := schema.NewPools(&pool.Options{CaptureStacks: capture})
			t.Run("WsFrame", func(t *testing.T) { checkPooled(t, ps.Frames, capture) })
			t.Run("ProviderRaw", func(t *testing.T) { checkPooled(t, ps.Raws, capture) })
			t.Run("CanonicalEvent", func(t *testing.T) { checkPooled(t, ps.Events, capture) })
			t.Run("MergedEvent", func(t *testing.T) { checkPooled(t, ps.Merged, capture) })
			t.Run("OrderRequest", func(t *testing.T) { checkPooled(t, ps.Orders, capture) })
			t.Run("ExecReport", func(t *testing.T) { checkPooled(t, ps.Execs, capture) })
			require.NoError(t, ps.Shutdown(context.Background()))
		})
	}
}
