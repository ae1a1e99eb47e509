package schema_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s46ctPanic runs f and returns what it panicked with, as text ("" when
// it did not panic).
func s46ctPanic(f func()) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	f()
	return ""
}

// s46ctPooled is what every pooled schema type offers.
type s46ctPooled[T any] interface {
	pool.Object
	Clone() T
}

// Contract 1 (DESIGN.md; pool doc, Pool.Put): for every pooled type of
// package schema, in both pool modes, a Put of what the pool did not hand
// out — the type's Clone, a copy by value (cp := *obj), an object of the
// same type from another Pools, one made with new — panics naming the
// pool and the type, and costs the owner nothing: its object is still
// checked out, its Put goes through, and Shutdown finds nothing missing.
func TestS46ctPutOfWhatThePoolDidNotHandOut(t *testing.T) {
	for _, stacks := range []bool{false, true} {
		t.Run(fmt.Sprintf("CaptureStacks=%t", stacks), func(t *testing.T) {
			pools := schema.NewPools(&pool.Options{CaptureStacks: stacks})
			other := schema.NewPools(&pool.Options{CaptureStacks: stacks})
			s46ctRefuses(t, pools.Frames, other.Frames)
			s46ctRefuses(t, pools.Raws, other.Raws)
			s46ctRefuses(t, pools.Events, other.Events)
			s46ctRefuses(t, pools.Merged, other.Merged)
			s46ctRefuses(t, pools.Orders, other.Orders)
			s46ctRefuses(t, pools.Execs, other.Execs)
			require.NoError(t, pools.Shutdown(context.Background()))
			require.NoError(t, other.Shutdown(context.Background()))
		})
	}
}

func s46ctRefuses[T s46ctPooled[T]](t *testing.T, p, other *pool.Pool[T]) {
	typ := reflect.TypeFor[T]().Elem().Name()
	t.Run(typ, func(t *testing.T) {
		ctx := context.Background()
		obj, err := p.Get(ctx)
		require.NoError(t, err)
		theirs, err := other.Get(ctx)
		require.NoError(t, err)
		byValue := reflect.New(reflect.TypeFor[T]().Elem())
		byValue.Elem().Set(reflect.ValueOf(obj).Elem()) // cp := *obj
		for name, bad := range map[string]T{
			"clone":          obj.Clone(),
			"value copy":     byValue.Interface().(T),
			"another pool's": theirs,
			"new":            reflect.New(reflect.TypeFor[T]().Elem()).Interface().(T),
		} {
			msg := s46ctPanic(func() { p.Put(bad) })
			require.NotEmpty(t, msg, "%s: a Put of a %s was accepted", typ, name)
			assert.Contains(t, msg, p.Name(), "%s: the panic of a %s names no pool", typ, name)
			assert.Contains(t, msg, typ, "%s: the panic of a %s names no type", typ, name)
			assert.False(t, p.Owns(bad), "%s: %s", typ, name)
		}
		assert.True(t, p.Owns(obj), "%s: a refused Put cost the owner its object", typ)
		assert.True(t, other.Owns(theirs), "%s: a refused Put cost the other pool its object", typ)
		p.Put(obj)
		other.Put(theirs)
		assert.Zero(t, p.Stats().InUse)
		assert.Zero(t, other.Stats().InUse)
	})
}
