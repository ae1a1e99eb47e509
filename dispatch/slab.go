package dispatch

import (
	"unsafe"

	"github.com/meltica/meltica/schema"
)

// The clones of one publish come from one allocation, a slab: an array of
// events, each followed by a pointer-free tail for its book levels and raw
// bytes when the event has any, or by its one out-of-line section when it
// carries one and no payload; otherwise each out-of-line section kind the
// event carries is a typed array of N sections beside the slab. The slab is made when the first
// subscription needs a clone and holds one clone for every subscription the
// event may still reach, so a publish to N subscribers costs one
// allocation, not N; an event whose payload is larger than the largest tail
// costs a second, pointer-free one for all N payloads.
//
// Each clone is a separate element: a subscriber may change every field of
// its clone, append to its slices (their capacity ends at their own part
// of the tail) and keep it as long as it likes; nothing it does is seen by
// any other subscriber. What it shares with the other clones of the same
// publish is the allocation's lifetime: the garbage collector frees the
// slab when no clone in it is referenced any more. So a clone kept by one
// subscriber keeps its N−1 siblings' memory (N × 376 bytes plus sections
// and payloads)
// until it is dropped. The dispatcher itself keeps a clone only while it is
// queued, so what it pins is bounded by the queues: at most N slabs per
// queued event, in practice far fewer, as fast subscribers release their
// clone of a slab long before a slow one does. Slots the publish did not
// use (a subscription that replaced a queued coalescable event in place, or
// that closed meanwhile) are garbage with the rest of the slab.

// slabClass is one tail size of a slab of boxes.
type slabClass struct {
	bytes  int     // payload room per clone
	stride uintptr // bytes from one clone to the next
	alloc  func(n int) unsafe.Pointer
}

func slabOf[T any]() slabClass {
	return slabClass{
		bytes:  int(unsafe.Sizeof(*new(T))),
		stride: unsafe.Sizeof(box[T]{}),
		alloc: func(n int) unsafe.Pointer {
			return unsafe.Pointer(unsafe.SliceData(make([]box[T], n)))
		},
	}
}

// The tails grow from 256 bytes to 32 KiB in four steps a doubling (256,
// 320, 384, 448, 512, 640, ...), so a clone's tail wastes less than a
// quarter of its payload's size; the events alone (no payload) are a plain
// array.
var (
	eventSlab   = slabClass{stride: eventSize, alloc: allocEvents}
	slabClasses = [...]slabClass{
		slabOf[[32]uint64](), slabOf[[40]uint64](), slabOf[[48]uint64](), slabOf[[56]uint64](),
		slabOf[[64]uint64](), slabOf[[80]uint64](), slabOf[[96]uint64](), slabOf[[112]uint64](),
		slabOf[[128]uint64](), slabOf[[160]uint64](), slabOf[[192]uint64](), slabOf[[224]uint64](),
		slabOf[[256]uint64](), slabOf[[320]uint64](), slabOf[[384]uint64](), slabOf[[448]uint64](),
		slabOf[[512]uint64](), slabOf[[640]uint64](), slabOf[[768]uint64](), slabOf[[896]uint64](),
		slabOf[[1024]uint64](), slabOf[[1280]uint64](), slabOf[[1536]uint64](), slabOf[[1792]uint64](),
		slabOf[[2048]uint64](), slabOf[[2560]uint64](), slabOf[[3072]uint64](), slabOf[[3584]uint64](),
		slabOf[[4096]uint64](),
	}
)

func allocEvents(n int) unsafe.Pointer {
	return unsafe.Pointer(unsafe.SliceData(make([]schema.CanonicalEvent, n)))
}

// tailOffset is where a box's tail starts: right after its event, which is
// a whole number of words.
const tailOffset = eventSize

// maxSlab is the most bytes one slab may take, so that a clone kept by a
// subscriber pins at most 256 KiB. (A slab over 32 KiB is already a large
// object for Go's allocator: a span of its own from the page heap, zeroed
// or faulted in page by page; measured, an extra subscriber costs about
// the same CPU below and above that size, see the package doc.)
const maxSlab = 256 << 10

// clones hands out the clones of one published event. It lives on the
// publisher's stack for one Publish and is not safe for concurrent use.
type clones struct {
	src      *schema.CanonicalEvent
	need     int      // payload bytes per clone
	rest     int      // subscriptions still to be offered the event, the current one included
	sections sections // the parts of src that are not zero

	key             routeKey // src's stream and its hash in Subscription.slots, once keyed is set
	hash            uint64
	keyed           bool
	base, payload   unsafe.Pointer // the slab; the separate payloads when too large for a tail
	stride, pstride uintptr
	boxed           bool // payload in each clone's tail
	n, used         int
	// out is where the clones' out-of-line sections are carved, one
	// entry per kind src carries (sections&outOfLine): right after each
	// clone in the slab (a box) when src carries one and no payload, else
	// a typed array per kind and slab.
	out [len(outKinds)]struct {
		base   unsafe.Pointer
		stride uintptr
	}
}

func newClones(src *schema.CanonicalEvent, subs int) clones {
	cl := clones{src: src, rest: subs}
	if subs > 0 {
		cl.need, cl.sections = payloadBytes(src), sectionsOf(src)
	}
	return cl
}

// take returns the next clone of src: an independent copy that no pool
// accepts and whose subscriber owns it.
func (cl *clones) take() *schema.CanonicalEvent {
	if cl.need > 0 && !levelsPointerFree {
		return cl.src.Clone()
	}
	if cl.used == cl.n {
		cl.grow()
	}
	i := uintptr(cl.used)
	cl.used++
	c := (*schema.CanonicalEvent)(unsafe.Add(cl.base, i*cl.stride))
	copySections(c, cl.src, cl.sections&^outOfLine) // c is zero: the slab is fresh
	for k, rest := 0, cl.sections&outOfLine; rest != 0; k++ {
		if rest&outKinds[k].bit != 0 {
			rest &^= outKinds[k].bit
			outKinds[k].carve(c, unsafe.Add(cl.out[k].base, i*cl.out[k].stride), cl.src)
		}
	}
	switch {
	case cl.need == 0:
	case cl.boxed:
		fillPayload(c, unsafe.Add(unsafe.Pointer(c), tailOffset), cl.src)
	default:
		fillPayload(c, unsafe.Add(cl.payload, i*cl.pstride), cl.src)
	}
	return c
}

// grow makes a slab for every subscription still to come, or as many as
// maxSlab holds.
func (cl *clones) grow() {
	class := &eventSlab
	cl.boxed, cl.payload = false, nil
	out := cl.sections & outOfLine
	boxedKind := -1 // the one section kind boxed after each clone
	if cl.need > 0 {
		for i := range slabClasses {
			if cl.need <= slabClasses[i].bytes {
				class, cl.boxed = &slabClasses[i], true
				break
			}
		}
	} else if out != 0 && out&(out-1) == 0 { // one out-of-line section, no payload: boxed
		for k := range outKinds {
			if outKinds[k].bit == out {
				class, boxedKind = &outKinds[k].boxed, k
			}
		}
	}
	n := min(max(cl.rest, 1), max(maxSlab/int(class.stride), 1))
	if cl.need > 0 && !cl.boxed { // larger than any tail: the payloads apart, pointer-free
		words := (cl.need + 7) / 8
		cl.payload = unsafe.Pointer(unsafe.SliceData(make([]uint64, n*words)))
		cl.pstride = uintptr(words * 8)
	}
	cl.base, cl.stride, cl.n, cl.used = class.alloc(n), class.stride, n, 0
	for k := range outKinds {
		switch {
		case k == boxedKind:
			cl.out[k].base, cl.out[k].stride = unsafe.Add(cl.base, tailOffset), cl.stride
		case out&outKinds[k].bit != 0:
			cl.out[k].base, cl.out[k].stride = outKinds[k].array(n), outKinds[k].size
		}
	}
}

// outKind is one kind of out-of-line section, for carving a publish's
// clones' sections from one allocation.
type outKind struct {
	bit   sections
	size  uintptr                    // bytes of one section
	boxed slabClass                  // a slab of events each followed by one section
	array func(n int) unsafe.Pointer // n sections, zero
	// carve points c's section at at (zero) and copies src's into it.
	carve func(c *schema.CanonicalEvent, at unsafe.Pointer, src *schema.CanonicalEvent)
}

func kindOf[S any](bit sections, field func(*schema.CanonicalEvent) **S) outKind {
	return outKind{
		bit:   bit,
		size:  unsafe.Sizeof(*new(S)),
		boxed: slabOf[S](),
		array: func(n int) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(make([]S, n))) },
		carve: func(c *schema.CanonicalEvent, at unsafe.Pointer, src *schema.CanonicalEvent) {
			p := (*S)(at)
			*p = **field(src)
			*field(c) = p
		},
	}
}

// outKinds are the out-of-line sections, in sections' order.
var outKinds = [...]outKind{
	kindOf(secTicker, func(e *schema.CanonicalEvent) **schema.Ticker { return &e.Ticker }),
	kindOf(secKline, func(e *schema.CanonicalEvent) **schema.Kline { return &e.Kline }),
	kindOf(secMark, func(e *schema.CanonicalEvent) **schema.Mark { return &e.Mark }),
	kindOf(secLiquidation, func(e *schema.CanonicalEvent) **schema.Liquidation { return &e.Liquidation }),
	kindOf(secExec, func(e *schema.CanonicalEvent) **schema.Execution { return &e.Exec }),
	kindOf(secControl, func(e *schema.CanonicalEvent) **schema.Control { return &e.Control }),
	kindOf(secBalance, func(e *schema.CanonicalEvent) **schema.Balance { return &e.Balance }),
	kindOf(secPosition, func(e *schema.CanonicalEvent) **schema.Position { return &e.Position }),
}

// stream returns src's stream and its hash in Subscription.slots,
// computed for the first subscription that asks: a coalescable event
// finds its slot in every subscription's table, and hashing the key (two
// strings and more) once per publish instead of once per subscriber was
// about half the CPU of replacing a queued quote in place.
func (cl *clones) stream() (routeKey, uint64) {
	if !cl.keyed {
		cl.key = keyOf(cl.src)
		cl.hash, cl.keyed = slotHash(cl.key), true
	}
	return cl.key, cl.hash
}

// next moves on to the next subscription.
func (cl *clones) next() { cl.rest-- }

// sections says which of an event's sections hold anything: of those held
// by value, the ones not zero; of those out of line, the ones carried
// (non-nil, even zero). An event carries the section of its type and, now
// and then, another; a clone made in fresh (zeroed) memory need not copy
// the rest: a trade's clone copies about 140 bytes of the event's 376.
type sections uint16

const (
	secTrade sections = 1 << iota
	secBBO
	secBook // the scalars; the levels are payload

	// The sections held through a pointer, nil unless the event carries
	// them: schema.Sections (in its order) shifted by outShift.
	secTicker      = sections(schema.SectionTicker) << outShift
	secKline       = sections(schema.SectionKline) << outShift
	secMark        = sections(schema.SectionMark) << outShift
	secLiquidation = sections(schema.SectionLiquidation) << outShift
	secExec        = sections(schema.SectionExec) << outShift
	secControl     = sections(schema.SectionControl) << outShift
	secBalance     = sections(schema.SectionBalance) << outShift
	secPosition    = sections(schema.SectionPosition) << outShift
	outOfLine      = sections(schema.AllSections) << outShift
)

// outShift is where schema.Sections start in sections: after the three
// held by value.
const outShift = 3

// sectionsOf compares every section of src with zero, once per publish.
// The book's scalars are listed one by one (its levels make it
// incomparable): TestS33rvfanEveryValueAloneClonedAndReplaced fails when a
// field of the book is left out here.
func sectionsOf(src *schema.CanonicalEvent) sections {
	var s sections
	set := func(bit sections, nonzero bool) {
		if nonzero {
			s |= bit
		}
	}
	b := &src.Book
	set(secTrade, src.Trade != schema.Trade{})
	set(secBBO, src.BBO != schema.BBO{})
	set(secBook, b.FirstSeq != 0 || b.LastSeq != 0 || b.PrevSeq != 0 || b.Checksum != 0 || b.HasChecksum || b.Depth != 0)
	return s | sections(src.Carried())<<outShift
}

// copySections copies into c, which must be zero, every field of src but
// the header and the payload slices: the common fields always, and the
// sections in s. TestSlabCloneCopiesEveryField fails when a field is added
// to the event and not here.
func copySections(c, src *schema.CanonicalEvent, s sections) {
	c.Venue, c.Symbol, c.Type = src.Venue, src.Symbol, src.Type
	c.SeqProvider, c.ExchangeTS, c.IngestTS = src.SeqProvider, src.ExchangeTS, src.IngestTS
	c.TraceID, c.DecisionID = src.TraceID, src.DecisionID
	if s != 0 {
		copySectionsOnly(c, src, s)
	}
}

// copySectionsOnly copies the sections in s of src into c (of the book,
// the scalars), and nothing else.
func copySectionsOnly(c, src *schema.CanonicalEvent, s sections) {
	copyIf(s&secTrade != 0, &c.Trade, &src.Trade)
	copyIf(s&secBBO != 0, &c.BBO, &src.BBO)
	if s&secBook != 0 {
		b := &src.Book
		c.Book.FirstSeq, c.Book.LastSeq, c.Book.PrevSeq = b.FirstSeq, b.LastSeq, b.PrevSeq
		c.Book.Checksum, c.Book.HasChecksum, c.Book.Depth = b.Checksum, b.HasChecksum, b.Depth
	}
	if o := schema.Sections(s >> outShift); o != 0 {
		src.CopyCarriedTo(c, o)
	}
}

// clearSections zeroes the sections of c in s: the book's scalars, not
// its levels.
func clearSections(c *schema.CanonicalEvent, s sections) {
	if s == 0 {
		return
	}
	copySectionsOnly(c, &zeroEvent, s&(secTrade|secBBO|secBook))
	c.Drop(schema.Sections(s >> outShift))
}

// zeroEvent is what clearSections copies from; never written.
var zeroEvent schema.CanonicalEvent

func copyIf[T any](on bool, dst, src *T) {
	if on {
		*dst = *src
	}
}
