package schema_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

var headerType = reflect.TypeFor[pool.Header]()

// aliasing names the slices that point into someone else's buffer: Reset
// must drop them (nil) rather than keep their capacity.
var aliasing = map[string]bool{
	"ProviderRaw.Stream":  true,
	"ProviderRaw.Payload": true,
}

// storage names the pointers to storage a pooled object keeps for its
// life, as it keeps a slice's capacity: Reset keeps the pointer (its
// content is checked by TestS42schResetZeroesKeptStorage), and a clone
// never shares it (nil in a clone; checkClone leaves it out).
var storage = map[string]bool{
	"CanonicalEvent.kept": true,
}

// settable returns a settable view of v even for unexported fields, so the
// test reaches every byte a Reset could forget.
func settable(v reflect.Value) reflect.Value {
	if v.CanSet() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// fill sets every field of v, recursively, to a non-zero value.
func fill(v reflect.Value) {
	v = settable(v)
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == headerType {
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 5)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(3)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// walk calls f for every leaf field (and every slice and map) with its path.
func walk(v reflect.Value, path string, f func(path string, v reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == headerType {
			return
		}
		for i := range v.NumField() {
			walk(v.Field(i), path+"."+v.Type().Field(i).Name, f)
		}
	case reflect.Array:
		for i := range v.Len() {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), f)
		}
	default:
		f(path, v)
	}
}

// resettable is the six schema types as the pool constraint sees them.
type resettable interface{ Reset() }

func allTypes() []resettable {
	return []resettable{
		new(schema.WsFrame), new(schema.ProviderRaw), new(schema.CanonicalEvent),
		new(schema.MergedEvent), new(schema.OrderRequest), new(schema.ExecReport),
	}
}

func typeName(x any) string { return reflect.TypeOf(x).Elem().Name() }

// TestResetZeroesEveryField fills every field of every schema type with a
// non-zero value, resets, and fails on any field left set. A field added
// later that Reset forgets fails here.
func TestResetZeroesEveryField(t *testing.T) {
	for _, obj := range allTypes() {
		name := typeName(obj)
		t.Run(name, func(t *testing.T) {
			v := reflect.ValueOf(obj).Elem()
			fill(v)
			caps := map[string]int{}
			walk(v, name, func(path string, f reflect.Value) {
				require.False(t, f.IsZero(), "fill left %s zero: the test would not notice a forgotten field", path)
				if f.Kind() == reflect.Slice {
					caps[path] = f.Cap()
				}
			})
			obj.Reset()
			walk(v, name, func(path string, f reflect.Value) {
				if storage[path] {
					assert.False(t, f.IsNil(), "Reset must keep %s", path)
					return
				}
				if f.Kind() != reflect.Slice {
					assert.True(t, f.IsZero(), "Reset left %s set: %v", path, f)
					return
				}
				assert.Zero(t, f.Len(), "Reset left %s with elements", path)
				if aliasing[path] {
					assert.True(t, f.IsNil(), "Reset must drop aliasing slice %s", path)
				} else {
					assert.Equal(t, caps[path], f.Cap(), "Reset must keep the capacity of %s", path)
				}
			})
		})
	}
}

type cloner[T any] interface {
	*T
	resettable
	Clone() *T
	Pooled() bool
}

// checkClone fills an object, clones it, and checks the clone equals the
// original, shares no memory with it, and is refused by a pool.
func checkClone[T any, P cloner[T]](t *testing.T) {
	t.Helper()
	orig := P(new(T))
	v := reflect.ValueOf(orig).Elem()
	fill(v)
	for path := range storage {
		if typ, field, _ := strings.Cut(path, "."); typ == v.Type().Name() {
			settable(v.FieldByName(field)).SetZero()
		}
	}
	c := orig.Clone()
	assert.False(t, P(c).Pooled())
	assert.True(t, reflect.DeepEqual(orig, c), "clone differs from the original")
	// Change every byte of the original, slices' backing arrays included.
	before := reflect.ValueOf(P(c)).Elem().Interface()
	walk(v, "", func(_ string, f reflect.Value) {
		f = settable(f)
		if f.Kind() == reflect.Slice {
			for i := range f.Len() {
				fill(f.Index(i))
				walk(f.Index(i), "", func(_ string, g reflect.Value) { bump(settable(g)) })
			}
			return
		}
		bump(f)
	})
	assert.Equal(t, before, reflect.ValueOf(P(c)).Elem().Interface(), "changing the original changed the clone")
}

// bump changes a filled leaf value.
func bump(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "y")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Map:
		v.Clear()
	}
}

func TestCloneIsIndependent(t *testing.T) {
	t.Run("WsFrame", checkClone[schema.WsFrame])
	t.Run("ProviderRaw", checkClone[schema.ProviderRaw])
	t.Run("CanonicalEvent", checkClone[schema.CanonicalEvent])
	t.Run("MergedEvent", checkClone[schema.MergedEvent])
	t.Run("OrderRequest", checkClone[schema.OrderRequest])
	t.Run("ExecReport", checkClone[schema.ExecReport])
}

func TestPoolsRefuseClones(t *testing.T) {
	ps := schema.NewPools(nil)
	ctx := context.Background()
	ev, err := ps.Events.Get(ctx)
	require.NoError(t, err)
	ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal("1.0")})
	c := ev.Clone()
	assert.True(t, ev.Pooled())
	assert.False(t, c.Pooled())
	assert.PanicsWithValue(t, `pool "events": Put of a *schema.CanonicalEvent that did not come from any pool (a heap clone, or made with new)`, func() { ps.Events.Put(c) })
	ps.Events.Put(ev)

	fr, _ := ps.Frames.Get(ctx)
	assert.GreaterOrEqual(t, cap(fr.Data), schema.DefaultFrameBuffer)
	assert.Panics(t, func() { ps.Frames.Put(fr.Clone()) })
	ps.Frames.Put(fr)
	raw, _ := ps.Raws.Get(ctx)
	assert.Panics(t, func() { ps.Raws.Put(raw.Clone()) })
	ps.Raws.Put(raw)
	m, _ := ps.Merged.Get(ctx)
	assert.Panics(t, func() { ps.Merged.Put(m.Clone()) })
	ps.Merged.Put(m)
	o, _ := ps.Orders.Get(ctx)
	assert.Panics(t, func() { ps.Orders.Put(o.Clone()) })
	ps.Orders.Put(o)
	x, _ := ps.Execs.Get(ctx)
	assert.Panics(t, func() { ps.Execs.Put(x.Clone()) })
	ps.Execs.Put(x)

	st := ps.Stats()
	require.Len(t, st, 6)
	want := map[string]int{"frames": 200, "raws": 200, "events": 300, "merged": 50, "orders": 20, "execs": 20}
	for _, s := range st {
		assert.Equal(t, want[s.Name], s.Capacity, s.Name)
		assert.Zero(t, s.InUse, s.Name)
	}
	require.NoError(t, ps.Shutdown(ctx))
}

var cloneSink *schema.CanonicalEvent

func TestCloneAllocations(t *testing.T) {
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade}
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { cloneSink = ev.Clone() }), "a trade clone is one allocation")
	ev.Type = schema.EventBookUpdate
	ev.Book.Bids = make([]schema.Level, 20)
	ev.Book.Asks = make([]schema.Level, 20)
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { cloneSink = ev.Clone() }), "both book sides share one allocation")
	ev.Raw = []byte(`{"e":"depthUpdate"}`)
	assert.Equal(t, 3.0, testing.AllocsPerRun(100, func() { cloneSink = ev.Clone() }))
}
