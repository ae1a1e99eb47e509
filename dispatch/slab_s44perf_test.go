package dispatch

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s44perfKeep keeps the last clone of each publish reachable, as a
// subscriber would for a moment, so that no allocation is optimised away.
var s44perfKeep *schema.CanonicalEvent

func s44perfTrade() *schema.CanonicalEvent {
	return &schema.CanonicalEvent{
		Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade,
		SeqProvider: 123456789, ExchangeTS: 1_700_000_000_000_000_000, IngestTS: 1_700_000_000_000_100_000,
		Trade: schema.Trade{Price: schema.MustParseDecimal("97123.45"), Qty: schema.MustParseDecimal("0.0125"), Side: schema.SideBuy},
	}
}

// BenchmarkS44perfClones is the clones of one trade published to n
// subscribers, without the delivery, for telling apart where a clone's
// CPU goes: how=slab is what dispatch does (one slab a publish, the
// sections in use copied into it); alloconly the slab's allocation alone
// (a pointer-holding array: 8-byte malloc header, zeroed); bytesonly the
// same bytes with no pointers (no header, not scanned: what the runtime
// would cost if the event held no pointers); copyall the slab with whole
// events copied; each one allocation per clone. cpu-ns/op counts all
// threads (the garbage collector's too).
func BenchmarkS44perfClones(b *testing.B) {
	src := s44perfTrade()
	s := sectionsOf(src)
	hows := []struct {
		name    string
		publish func(n int)
	}{
		{"slab", func(n int) {
			cl := newClones(src, n)
			for range n {
				s44perfKeep = cl.take()
				cl.next()
			}
		}},
		{"each", func(n int) {
			for range n {
				c := new(schema.CanonicalEvent)
				copySections(c, src, s)
				s44perfKeep = c
			}
		}},
		{"copyall", func(n int) {
			evs := make([]schema.CanonicalEvent, n)
			for i := range evs {
				evs[i] = *src
			}
			s44perfKeep = &evs[n-1]
		}},
		{"alloconly", func(n int) { s44perfKeep = &make([]schema.CanonicalEvent, n)[n-1] }},
		{"bytesonly", func(n int) {
			s44perfKeep = (*schema.CanonicalEvent)(unsafe.Pointer(unsafe.SliceData(make([]byte, n*int(eventSize)))))
		}},
	}
	for _, n := range []int{16, 64} {
		for _, how := range hows {
			b.Run(fmt.Sprintf("how=%s/subs=%d", how.name, n), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					how.publish(n)
				}
				reportCPU(b, cpu0)
			})
		}
	}
}

// TestS44perfTailWastesLessThanAQuarter: a clone's tail is the smallest
// class that holds its payload, and wastes less than a quarter of the
// payload's size (beyond the smallest tail, 256 bytes): a 20-level book
// diff (640 bytes of levels) gets a 640-byte tail, not 1 KiB. Payloads
// just above and at every class's size are tried. Seen failing with the
// tails doubling (a 640-byte payload in a 1,024-byte tail; 257 bytes in
// 512).
func TestS44perfTailWastesLessThanAQuarter(t *testing.T) {
	t.Parallel()
	src := payloadEvent(0, 0)
	src.Exec = nil
	raw := make([]byte, slabClasses[len(slabClasses)-1].bytes)
	tailFor := func(need int) int {
		src.Raw = raw[:need]
		cl := newClones(src, 1)
		require.Equal(t, need, cl.need)
		cl.grow()
		require.True(t, cl.boxed, "payload %d", need)
		return int(cl.stride - tailOffset)
	}
	prev := 0
	for _, c := range slabClasses {
		for _, need := range []int{prev + 1, (prev + c.bytes + 1) / 2, c.bytes} {
			tail := tailFor(need)
			assert.Equal(t, c.bytes, tail, "payload %d: the smallest tail that holds it", need)
			if need > slabClasses[0].bytes {
				assert.Less(t, tail-need, need/4, "payload %d in a %d-byte tail", need, tail)
			}
		}
		prev = c.bytes
	}
	levels := payloadEvent(10, 0) // 10 bids and 10 asks
	levels.Exec = nil
	cl := newClones(levels, 16)
	cl.grow()
	// 20 levels of 18 bytes (360) take the 384-byte tail: 24 bytes wasted.
	assert.Equal(t, 384, int(cl.stride-tailOffset), "a 20-level diff's tail (%d bytes of levels)", 20*levelSize)
}
