package dispatch

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// payloadEvent returns a pooled-looking event with levels book levels a
// side and raw bytes of payload.
func payloadEvent(levels, raw int) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot, SeqProvider: 9, IngestTS: 42}
	for i := range levels {
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(1000-i), 1), Qty: schema.NewDecimal(int64(i+1), 3)})
		ev.Book.Asks = append(ev.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(1001+i), 1), Qty: schema.NewDecimal(int64(i+2), 3)})
	}
	ev.Raw = bytes.Repeat([]byte("x"), raw)
	ev.Book.LastSeq = 77
	ev.UseExec().RejectReason = "kept"
	return ev
}

func TestCloneEvent(t *testing.T) { // not parallel: it counts allocations
	big := slabClasses[len(slabClasses)-1].bytes
	cases := []struct {
		name        string
		levels, raw int
		allocs      float64
		asksOnly    bool
	}{
		{name: "no payload", allocs: 1},
		{name: "raw only", raw: 300, allocs: 1},
		{name: "levels only", levels: 20, allocs: 1},
		{name: "asks only", levels: 5, asksOnly: true, allocs: 1},
		{name: "levels and raw", levels: 50, raw: 2000, allocs: 1},
		{name: "largest tail", raw: big, allocs: 1},
		{name: "beyond the tails", levels: 10, raw: big, allocs: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := payloadEvent(tc.levels, tc.raw)
			src.Exec = nil // no out-of-line section: those are counted in TestS42dispSectionsCarvedPerPublish
			if tc.asksOnly {
				src.Book.Bids = src.Book.Bids[:0]
			}
			want := src.Clone()
			c := cloneEvent(src)
			assert.False(t, c.Pooled())
			assert.Equal(t, len(want.Raw), len(c.Raw))
			assert.Equal(t, want.Raw, nilIfEmpty(c.Raw))
			assert.Equal(t, nilIfEmpty(want.Book.Bids), c.Book.Bids)
			assert.Equal(t, nilIfEmpty(want.Book.Asks), c.Book.Asks)
			c2, w2 := *c, *want
			c2.Raw, c2.Book.Bids, c2.Book.Asks = nil, nil, nil
			w2.Raw, w2.Book.Bids, w2.Book.Asks = nil, nil, nil
			assert.Equal(t, w2, c2, "every other field copied")

			// independent of the original, and of its neighbours in the box
			if len(src.Raw) > 0 {
				src.Raw[0] = 'y'
				assert.Equal(t, byte('x'), c.Raw[0])
				assert.Equal(t, len(c.Raw), cap(c.Raw))
			}
			if len(c.Book.Bids) > 0 {
				src.Book.Bids[0].Qty = schema.Decimal{}
				assert.Equal(t, want.Book.Bids[0], c.Book.Bids[0])
				assert.Equal(t, len(c.Book.Bids), cap(c.Book.Bids), "append must not write over the asks")
			}
			assert.Equal(t, tc.allocs, testing.AllocsPerRun(10, func() { _ = cloneEvent(src) }))
		})
	}
}

func TestCloneLeavesNoAlias(t *testing.T) {
	t.Parallel()
	src := payloadEvent(0, 0)
	src.Raw = make([]byte, 0, 64) // empty, with capacity: the clone must not share it
	src.Book.Bids = make([]schema.Level, 0, 8)
	c := cloneEvent(src)
	assert.Nil(t, c.Raw)
	assert.Nil(t, c.Book.Bids)
	assert.Nil(t, c.Book.Asks)
}

func TestCopyInto(t *testing.T) {
	t.Parallel()
	dst := cloneEvent(payloadEvent(3, 10))
	src := payloadEvent(2, 8)
	src.SeqProvider = 10
	require.True(t, copyInto(dst, src, sectionsOf(dst), sectionsOf(src)))
	assert.Equal(t, uint64(10), dst.SeqProvider)
	assert.Len(t, dst.Raw, 8)
	assert.Equal(t, src.Book.Bids, dst.Book.Bids)
	assert.False(t, dst.Pooled())
	assert.False(t, copyInto(dst, payloadEvent(3, 100), sectionsOf(dst), sectionsOf(src)), "the payload no longer fits")
}

func TestPointerFree(t *testing.T) {
	t.Parallel()
	assert.True(t, levelsPointerFree, "schema.Level must stay pointer-free for one-allocation clones")
	assert.True(t, pointerFree(reflect.TypeFor[[2]struct {
		A int64
		B bool
		C float64
	}]()))
	for _, typ := range []reflect.Type{reflect.TypeFor[*int](), reflect.TypeFor[string](), reflect.TypeFor[struct{ S []byte }]()} {
		assert.False(t, pointerFree(typ), typ.String())
	}
}

func TestSizeClassesGrow(t *testing.T) {
	t.Parallel()
	for i := 1; i < len(slabClasses); i++ {
		assert.Greater(t, slabClasses[i].bytes, slabClasses[i-1].bytes)
	}
}

func TestRing(t *testing.T) {
	t.Parallel()
	r := newRing[int](2)
	in, out := 0, 0
	for range 100 { // push 3, pop 2: wraps around and grows
		for range 3 {
			r.push(in)
			in++
		}
		for range 2 {
			require.Equal(t, out, r.peek())
			require.Equal(t, out, r.pop())
			out++
		}
	}
	assert.Equal(t, 100, r.len())
	assert.Equal(t, 100, r.reset())
	assert.Zero(t, r.len())
}
