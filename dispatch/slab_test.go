package dispatch

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// fillNonZero sets every scalar, string and array element reachable from v
// (a settable value) to something other than zero, unexported fields
// included, making the out-of-line sections (schema's pointers to
// structs, not the pool header's) on the way; slices are left alone (they
// are payload).
func fillNonZero(v reflect.Value, n *int) {
	if !v.CanSet() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		if e := v.Type().Elem(); e.Kind() == reflect.Struct && e.PkgPath() == reflect.TypeFor[schema.Ticker]().PkgPath() {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			fillNonZero(v.Elem(), n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fillNonZero(v.Field(i), n)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillNonZero(v.Index(i), n)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n%100 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(*n%100 + 1))
	case reflect.String:
		v.SetString("s")
	}
}

// unheadered is ev without its pool header, for comparisons.
func unheadered(ev *schema.CanonicalEvent) schema.CanonicalEvent {
	c := *ev
	c.Header = src0.Header
	return c
}

var src0 schema.CanonicalEvent

// TestSlabCloneCopiesEveryField fills one field of the event at a time —
// every common field and every section, book levels and raw bytes beside
// them — and requires each slab clone to equal schema's Clone. A field
// added to the event and forgotten by copySections or sectionsOf fails
// here.
func TestSlabCloneCopiesEveryField(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[schema.CanonicalEvent]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Header" {
			continue
		}
		for _, payload := range []int{0, 3} {
			t.Run(fmt.Sprintf("%s/levels=%d", f.Name, payload), func(t *testing.T) {
				src := payloadEvent(payload, payload*10)
				var n int
				fillNonZero(reflect.ValueOf(src).Elem().Field(i), &n)
				want := src.Clone()
				cl := newClones(src, 4)
				for range 4 {
					c := cl.take()
					cl.next()
					assert.False(t, c.Pooled())
					assert.Equal(t, unheadered(want), unheadered(c))
				}
			})
		}
	}
	t.Run("everything", func(t *testing.T) {
		src := payloadEvent(2, 10)
		var n int
		fillNonZero(reflect.ValueOf(src).Elem(), &n)
		src.Book.Bids = append(src.Book.Bids, schema.Level{Price: schema.NewDecimal(1, 0)})
		src.Raw = append(src.Raw, "x"...)
		cl := newClones(src, 1)
		assert.Equal(t, unheadered(src.Clone()), unheadered(cl.take()))
	})
}

// TestSlabClonesIndependent changes one clone of a publish in every way a
// subscriber may — fields, book levels, raw bytes, appends — and requires
// its siblings from the same slab and the original to be untouched.
func TestSlabClonesIndependent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		levels, raw int
	}{
		{"no payload", 0, 0},
		{"boxed payload", 10, 512},
		{"payload beyond the tails", 0, slabClasses[len(slabClasses)-1].bytes + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := payloadEvent(tc.levels, tc.raw)
			src.Type = schema.EventTrade
			src.Trade.Price = schema.NewDecimal(5, 0)
			want := src.Clone()
			cl := newClones(src, 3)
			var got [3]*schema.CanonicalEvent
			for i := range got {
				got[i] = cl.take()
				cl.next()
			}
			a := got[0]
			a.Symbol, a.Trade.Price, a.UseExec().RejectReason = "X-Y", schema.NewDecimal(6, 0), "mine"
			for i := range a.Raw {
				a.Raw[i] = 'z'
			}
			for i := range a.Book.Bids {
				a.Book.Bids[i].Qty = schema.NewDecimal(0, 0)
			}
			a.Raw = append(a.Raw, "more"...)
			a.Book.Bids = append(a.Book.Bids, schema.Level{})
			for _, b := range got[1:] {
				assert.Equal(t, unheadered(want), unheadered(b))
			}
			assert.Equal(t, unheadered(want), unheadered(src.Clone()), "the original")
		})
	}
}

// TestSlabAllocations counts the allocations of a publish's clones: one
// for any number of subscriptions up to maxSlab's worth, payload included,
// and a second for payloads larger than the largest tail.
func TestSlabAllocations(t *testing.T) { // not parallel: it counts allocations
	perSlab := maxSlab / int(eventSize)
	cases := []struct {
		name        string
		levels, raw int
		subs        int
		allocs      float64
	}{
		{"trade to 1", 0, 0, 1, 1},
		{"trade to 16", 0, 0, 16, 1},
		{"trade to 64", 0, 0, 64, 1},
		{"trade beyond one slab", 0, 0, perSlab + 1, 2},
		{"book20+raw512 to 16", 10, 512, 16, 1},
		{"payload beyond the tails to 16", 0, slabClasses[len(slabClasses)-1].bytes + 1, 16, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := payloadEvent(tc.levels, tc.raw)
			src.Exec = nil // no out-of-line section: those are counted in TestS42dispSectionsCarvedPerPublish
			// The fewest of three counts: AllocsPerRun counts every
			// goroutine's allocations. This case failed once in a full run of
			// the package at load 15 and passed 200 times alone: most likely
			// a goroutine an earlier test left winding down allocated during
			// the count. An allocation of newClones' own shows in every count.
			got := math.Inf(1)
			for range 3 {
				got = math.Min(got, testing.AllocsPerRun(20, func() {
					cl := newClones(src, tc.subs)
					for range tc.subs {
						_ = cl.take()
						cl.next()
					}
				}))
			}
			assert.Equal(t, tc.allocs, got)
		})
	}
	require.Positive(t, perSlab)
}

// TestSlabSections checks sectionsOf on a zero event and on one section
// set at a time.
func TestSlabSections(t *testing.T) {
	t.Parallel()
	assert.Zero(t, sectionsOf(&schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: 1}))
	ev := &schema.CanonicalEvent{}
	ev.Book.HasChecksum = true
	assert.Equal(t, secBook, sectionsOf(ev))
	ev = &schema.CanonicalEvent{}
	ev.UseControl().Reason = "r"
	assert.Equal(t, secControl, sectionsOf(ev))
	ev = &schema.CanonicalEvent{Ticker: &schema.Ticker{}}
	assert.Equal(t, secTicker, sectionsOf(ev), "a section carried, even zero, is carried")
}
