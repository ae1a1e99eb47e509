package dispatch

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s45rvcoreSpan is the memory one slice of a clone may write: from its
// first element to the end of its capacity.
type s45rvcoreSpan struct {
	lo, hi uintptr
	clone  int
	what   string
}

func s45rvcoreSpans[T any](s []T, clone int, what string) []s45rvcoreSpan {
	if cap(s) == 0 {
		return nil
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return []s45rvcoreSpan{{lo: lo, hi: lo + uintptr(cap(s))*unsafe.Sizeof(*new(T)), clone: clone, what: what}}
}

// s45rvcorePayload is an event whose payload is need bytes: as many
// levels as fit (bids and asks alternating), the rest raw bytes, each
// byte and level distinct so a clone that read another's part shows it.
func s45rvcorePayload(need int) *schema.CanonicalEvent {
	src := &schema.CanonicalEvent{Venue: bin, Symbol: "BTC-USDT", Type: schema.EventBookUpdate, SeqProvider: 9}
	n := need / levelSize / 2 // levels per side, leaving raw bytes
	for i := range n {
		src.Book.Bids = append(src.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(1_000_000-i), 2), Qty: schema.NewDecimal(int64(i+1), 3)})
		src.Book.Asks = append(src.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(1_000_001+i), 2), Qty: schema.NewDecimal(int64(i+7), 3)})
	}
	if r := need - 2*n*levelSize; r > 0 {
		src.Raw = make([]byte, r)
	}
	for i := range src.Raw {
		src.Raw[i] = byte('a' + i%26)
	}
	return src
}

// A publish's clones at every tail class's edge — a payload one byte
// under, at and one byte over each class, levels and raw bytes mixed, the
// largest tail and the first payload beyond it (the separate payloads),
// zero-length slices — over enough subscribers to fill more than one slab:
// each clone holds src's payload exactly, every slice's capacity is its
// own length (an append copies), no byte a clone may write (its event,
// its levels' and raw bytes' capacity) is another clone's, and a clone
// written all over and appended to leaves its siblings as they were.
// Session 44 made 29 classes of the 8 (f5ae6d2e); this checks what
// TestS44perfTailWastesLessThanAQuarter (which class is picked) does not.
func TestS45rvcoreTailsNeverShared(t *testing.T) {
	t.Parallel()
	largest := slabClasses[len(slabClasses)-1].bytes
	var needs []int
	for _, c := range slabClasses {
		needs = append(needs, c.bytes-1, c.bytes, c.bytes+1)
	}
	needs = append(needs, 1, levelSize, 2*levelSize, largest+levelSize*2+3)
	slices.Sort(needs)
	needs = slices.Compact(needs)
	for _, need := range needs {
		t.Run(fmt.Sprint(need), func(t *testing.T) {
			t.Parallel()
			src := s45rvcorePayload(need)
			require.Equal(t, need, payloadBytes(src))
			want := src.Clone()
			cl := newClones(src, 2)
			cl.grow()
			// Two slabs' worth and one more, so clones come from a
			// second (and third) allocation too.
			n := 2*cl.n + 1
			cl = newClones(src, n)
			got := make([]*schema.CanonicalEvent, n)
			var spans []s45rvcoreSpan
			for i := range got {
				c := cl.take()
				cl.next()
				got[i] = c
				require.Equal(t, len(c.Raw), cap(c.Raw), "clone %d: raw capacity past its own", i)
				require.Equal(t, len(c.Book.Bids), cap(c.Book.Bids), "clone %d: bids capacity past its own", i)
				require.Equal(t, len(c.Book.Asks), cap(c.Book.Asks), "clone %d: asks capacity past its own", i)
				require.Equal(t, src.Raw, c.Raw, "clone %d", i)
				require.Equal(t, src.Book.Bids, c.Book.Bids, "clone %d", i)
				require.Equal(t, src.Book.Asks, c.Book.Asks, "clone %d", i)
				lo := uintptr(unsafe.Pointer(c))
				spans = append(spans, s45rvcoreSpan{lo: lo, hi: lo + eventSize, clone: i, what: "event"})
				spans = append(spans, s45rvcoreSpans(c.Book.Bids, i, "bids")...)
				spans = append(spans, s45rvcoreSpans(c.Book.Asks, i, "asks")...)
				spans = append(spans, s45rvcoreSpans(c.Raw, i, "raw")...)
			}
			slices.SortFunc(spans, func(a, b s45rvcoreSpan) int {
				if a.lo < b.lo {
					return -1
				}
				if a.lo > b.lo {
					return 1
				}
				return 0
			})
			for i := 1; i < len(spans); i++ {
				a, b := spans[i-1], spans[i]
				require.LessOrEqual(t, a.hi, b.lo, "clone %d's %s [%#x, %#x) overlaps clone %d's %s from %#x",
					a.clone, a.what, a.lo, a.hi, b.clone, b.what, b.lo)
			}
			// One clone in each slab written all over and appended to.
			for _, i := range []int{0, cl.n - 1, n - 1} {
				c := got[i]
				for j := range c.Raw {
					c.Raw[j] = 0xff
				}
				for j := range c.Book.Bids {
					c.Book.Bids[j] = schema.Level{}
				}
				for j := range c.Book.Asks {
					c.Book.Asks[j] = schema.Level{}
				}
				c.Raw = append(c.Raw, 0xee)
				c.Book.Bids = append(c.Book.Bids, schema.Level{})
				c.Book.Asks = append(c.Book.Asks, schema.Level{})
			}
			for i, c := range got {
				if i == 0 || i == cl.n-1 || i == n-1 {
					continue
				}
				if !bytes.Equal(want.Raw, c.Raw) || !slices.Equal(want.Book.Bids, c.Book.Bids) || !slices.Equal(want.Book.Asks, c.Book.Asks) {
					t.Fatalf("clone %d changed by a sibling's writes", i)
				}
			}
			require.Equal(t, want.Raw, src.Raw, "the original")
		})
	}
	t.Run("zero-length", func(t *testing.T) {
		t.Parallel()
		src := payloadEvent(0, 0)
		src.Raw, src.Book.Bids, src.Book.Asks = []byte{}, []schema.Level{}, []schema.Level{}
		require.Zero(t, payloadBytes(src))
		cl := newClones(src, 3)
		for range 3 {
			c := cl.take()
			cl.next()
			require.Empty(t, c.Raw)
			require.Empty(t, c.Book.Bids)
			require.Empty(t, c.Book.Asks)
			c.Raw = append(c.Raw, 1) // a zero-length clone's append writes nothing shared
		}
		require.Empty(t, src.Raw)
	})
}
