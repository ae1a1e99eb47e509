package dispatch

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// tailOffsetOf is where box[T]'s tail starts, as the compiler lays it out.
func tailOffsetOf[T any]() uintptr { return unsafe.Offsetof(box[T]{}.tail) }

// TestS42rvschTailOffsetIsEveryBoxsTail: take and grow find a clone's
// payload or its boxed section at tailOffset from the clone; for every box
// type a slab is made of (the payload tails and the eight sections) that
// must be where the compiler put the tail, and each slab's stride must be
// its box's size. Seen failing with tailOffset set to eventSize+8.
func TestS42rvschTailOffsetIsEveryBoxsTail(t *testing.T) {
	t.Parallel()
	offsets := []uintptr{
		tailOffsetOf[[32]uint64](), tailOffsetOf[[40]uint64](), tailOffsetOf[[48]uint64](), tailOffsetOf[[56]uint64](),
		tailOffsetOf[[64]uint64](), tailOffsetOf[[80]uint64](), tailOffsetOf[[96]uint64](), tailOffsetOf[[112]uint64](),
		tailOffsetOf[[128]uint64](), tailOffsetOf[[160]uint64](), tailOffsetOf[[192]uint64](), tailOffsetOf[[224]uint64](),
		tailOffsetOf[[256]uint64](), tailOffsetOf[[320]uint64](), tailOffsetOf[[384]uint64](), tailOffsetOf[[448]uint64](),
		tailOffsetOf[[512]uint64](), tailOffsetOf[[640]uint64](), tailOffsetOf[[768]uint64](), tailOffsetOf[[896]uint64](),
		tailOffsetOf[[1024]uint64](), tailOffsetOf[[1280]uint64](), tailOffsetOf[[1536]uint64](), tailOffsetOf[[1792]uint64](),
		tailOffsetOf[[2048]uint64](), tailOffsetOf[[2560]uint64](), tailOffsetOf[[3072]uint64](), tailOffsetOf[[3584]uint64](),
		tailOffsetOf[[4096]uint64](),
		tailOffsetOf[schema.Ticker](), tailOffsetOf[schema.Kline](), tailOffsetOf[schema.Mark](), tailOffsetOf[schema.Liquidation](),
		tailOffsetOf[schema.Execution](), tailOffsetOf[schema.Control](), tailOffsetOf[schema.Balance](), tailOffsetOf[schema.Position](),
	}
	for i, off := range offsets {
		assert.Equal(t, off, tailOffset, "box type %d", i)
	}
	// The list above is every box type: a class or a kind added must be
	// added there too.
	require.Len(t, slabClasses, 29)
	require.Len(t, outKinds, 8)
	for i := range slabClasses {
		assert.Equal(t, tailOffset+uintptr(slabClasses[i].bytes), slabClasses[i].stride, "payload class %d", i)
	}
	for k := range outKinds {
		assert.Equal(t, (tailOffset+outKinds[k].size+7)&^7, outKinds[k].boxed.stride, "section kind %d", k)
	}
}

// s42rvschBuf is memory a section's string points into, with a finalizer
// that says when the garbage collector freed it.
type s42rvschBuf struct{ b [64]byte }

// s42rvschTracked returns a string in a new allocation and a flag its
// finalizer sets.
func s42rvschTracked(s string) (string, *atomic.Bool) {
	p := new(s42rvschBuf)
	n := copy(p.b[:], s)
	freed := new(atomic.Bool)
	runtime.SetFinalizer(p, func(*s42rvschBuf) { freed.Store(true) })
	return unsafe.String(&p.b[0], n), freed
}

// s42rvschCollect runs the garbage collector until an object dropped now
// has been finalized, twice over: whatever no live pointer reaches was
// freed and finalized by then.
func s42rvschCollect(t *testing.T) {
	for range 2 {
		_, freed := s42rvschTracked("control")
		for i := 0; !freed.Load(); i++ {
			require.Less(t, i, 10000, "the control object was never finalized")
			runtime.GC()
			runtime.Gosched()
		}
	}
}

// s42rvschClones returns four clones of a gap marker whose Reason is
// reason in memory of its own, and the flag set when that memory is
// freed; the original and the clones' maker are gone when it returns.
//
//go:noinline
func s42rvschClones(reason string, raw int, withTicker bool) ([]*schema.CanonicalEvent, *atomic.Bool) {
	r, freed := s42rvschTracked(reason)
	src := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventGap, Raw: make([]byte, raw),
		Control: &schema.Control{Kind: schema.ControlGap, Reason: r}}
	if withTicker {
		src.Ticker = &schema.Ticker{Window: "1h"}
	}
	cl := newClones(src, 4)
	got := make([]*schema.CanonicalEvent, 0, 4)
	for range 4 {
		got = append(got, cl.take())
		cl.next()
	}
	return got, freed
}

// TestS42rvschCarvedSectionsAreSeenByTheGC: a clone's out-of-line
// sections are carved from slab memory the garbage collector scans (a
// typed box or array), so the strings they hold (Control.Reason,
// Exec's ids, Kline.Interval) stay alive while only the clone refers to
// them: boxed after the clone (one section, no payload), in a typed array
// beside the slab (a payload, or two sections). Seen failing (the
// Reason's memory finalized while the clone held it) with the sections'
// arrays made pointer-free (make([]uint64, ...)) and with the boxed
// section's slab made a payload class.
func TestS42rvschCarvedSectionsAreSeenByTheGC(t *testing.T) { // not parallel: it runs the collector
	for _, tc := range []struct {
		name       string
		raw        int
		withTicker bool
	}{
		{"boxed", 0, false},
		{"array beside a payload", 40, false},
		{"arrays for two sections", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := fmt.Sprintf("reason of %s", tc.name)
			got, freed := s42rvschClones(want, tc.raw, tc.withTicker) // only the clones refer to the Reason now
			s42rvschCollect(t)
			assert.False(t, freed.Load(), "the Reason's memory was freed while clones hold it")
			for _, c := range got {
				assert.Equal(t, want, c.Control.Reason)
			}
			runtime.KeepAlive(got)
		})
	}
}
