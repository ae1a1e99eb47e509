package contracttest_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

var (
	decimalType = reflect.TypeFor[schema.Decimal]()
	idType      = reflect.TypeFor[schema.ID]()
	headerType  = reflect.TypeFor[pool.Header]()
)

// fillAll sets every exported field reachable from v to a value other than
// its zero: numbers 7, strings "x", Decimals 1.5, IDs "id", slices three
// filled elements, pointers a filled value.
func fillAll(t *testing.T, v reflect.Value) {
	switch v.Type() {
	case decimalType:
		v.Set(reflect.ValueOf(schema.MustParseDecimal("1.5")))
		return
	case idType:
		v.Set(reflect.ValueOf(schema.MustID("id")))
		return
	case headerType:
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.String:
		v.SetString("x")
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 3, 8)
		for i := range 3 {
			fillAll(t, s.Index(i))
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fillAll(t, v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillAll(t, k)
		fillAll(t, e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(t, p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(t, v.Field(i))
			}
		}
	default:
		t.Fatalf("fill: %s of kind %s not handled", v.Type(), v.Kind())
	}
}

// aliases are the slices a type does not own: ProviderRaw's Stream and
// Payload alias the frame's buffer, and Reset drops them rather than keep a
// reference into a buffer that will be reused (schema.ProviderRaw; DESIGN.md
// contract 2, "nothing points into a buffer that will be reused").
var aliases = map[string]bool{"ProviderRaw.Stream": true, "ProviderRaw.Payload": true}

// checkReset reports every exported field of v, a value after Reset, that
// is not zero; slices must be empty and keep the capacity they had, but
// for those that alias another's buffer, which must be nil.
func checkReset(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch {
	case v.Type() == headerType:
		return
	case v.Kind() == reflect.Slice && aliases[path]:
		assert.True(t, v.IsNil(), "%s: still points into the frame after Reset", path)
		return
	case v.Kind() == reflect.Slice:
		assert.Zero(t, v.Len(), "%s: not truncated", path)
		assert.Positive(t, v.Cap(), "%s: capacity not kept (the backing array is not reused)", path)
		return
	case v.Kind() == reflect.Map:
		assert.Zero(t, v.Len(), "%s: not cleared", path)
		return
	case v.Kind() == reflect.Struct && v.Type() != decimalType && v.Type() != idType:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				checkReset(t, path+"."+f.Name, v.Field(i))
			}
		}
		return
	}
	assert.True(t, v.IsZero(), "%s: %v left by Reset", path, v)
}

// resetCase fills every exported field of an object taken from p, Puts it
// (Put calls Reset), takes it again (the same object: a pool without stacks
// reuses the last returned) and checks Reset zeroed it all but kept the
// slices' capacity.
func resetCase[T pool.Object](t *testing.T, p *pool.Pool[T]) {
	t.Run(p.Name(), func(t *testing.T) {
		ctx := context.Background()
		obj, err := p.Get(ctx)
		require.NoError(t, err)
		fillAll(t, reflect.ValueOf(obj).Elem())
		p.Put(obj)
		again, err := p.Get(ctx)
		require.NoError(t, err)
		require.Equal(t, reflect.ValueOf(obj).Pointer(), reflect.ValueOf(again).Pointer(), "not the same object")
		checkReset(t, reflect.TypeOf(obj).Elem().Name(), reflect.ValueOf(again).Elem())
		p.Put(again)
	})
}

// Contract 2 (DESIGN.md; schema doc): Reset zeroes every field and keeps
// capacity — slices truncated to [:0] so their backing arrays are reused,
// maps cleared. Every exported field of each of the six pooled types is
// set; after a Put and a Get none is left.
func TestS45ctResetZeroesEveryFieldKeepsCapacity(t *testing.T) {
	pools := schema.NewPools(nil)
	resetCase(t, pools.Frames)
	resetCase(t, pools.Raws)
	resetCase(t, pools.Events)
	resetCase(t, pools.Merged)
	resetCase(t, pools.Orders)
	resetCase(t, pools.Execs)
	require.NoError(t, pools.Shutdown(context.Background()))
}
