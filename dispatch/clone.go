package dispatch

import (
	"reflect"
	"unsafe"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A subscriber's clone is made with one allocation, payload included: the
// event and a pointer-free tail that holds the book levels and the raw
// bytes. [schema.CanonicalEvent.Clone] makes up to three (event, Raw, both
// book sides). The tail comes in a few sizes chosen so that event plus tail
// fills a malloc size class; a payload larger than the largest tail costs a
// second allocation.

const (
	eventSize = unsafe.Sizeof(schema.CanonicalEvent{})
	levelSize = int(unsafe.Sizeof(schema.Level{}))
)

// Tail sizes in 8-byte words: a size class less the event and the 8-byte
// header the allocator puts before objects over 512 bytes that hold
// pointers. max keeps every tail useful should the event grow.
const (
	fixed = eventSize + 8
	tail0 = (max(2048, fixed+256) - fixed) / 8
	tail1 = (max(3072, fixed+512) - fixed) / 8
	tail2 = (max(4096, fixed+1024) - fixed) / 8
	tail3 = (max(8192, fixed+2048) - fixed) / 8
	tail4 = (max(16384, fixed+4096) - fixed) / 8
	tail5 = (max(32768, fixed+8192) - fixed) / 8
)

// box is one clone: the event, then room for its payload.
type box[T any] struct {
	ev   schema.CanonicalEvent
	tail T
}

func newBox[T any]() (*schema.CanonicalEvent, unsafe.Pointer) {
	b := new(box[T])
	return &b.ev, unsafe.Pointer(&b.tail)
}

type sizeClass struct {
	bytes int
	alloc func() (*schema.CanonicalEvent, unsafe.Pointer)
}

var sizeClasses = [...]sizeClass{
	{int(tail0) * 8, newBox[[tail0]uint64]},
	{int(tail1) * 8, newBox[[tail1]uint64]},
	{int(tail2) * 8, newBox[[tail2]uint64]},
	{int(tail3) * 8, newBox[[tail3]uint64]},
	{int(tail4) * 8, newBox[[tail4]uint64]},
	{int(tail5) * 8, newBox[[tail5]uint64]},
}

// levelsPointerFree guards the layout trick: levels may only live in a
// pointer-free tail if they hold no pointers. Should schema.Level ever gain
// one, cloneEvent falls back to schema's Clone instead of hiding pointers
// from the garbage collector.
var levelsPointerFree = pointerFree(reflect.TypeFor[schema.Level]())

func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// cloneEvent returns an independent heap copy of src that no pool accepts,
// in one allocation when the payload fits the largest tail.
func cloneEvent(src *schema.CanonicalEvent) *schema.CanonicalEvent {
	need := payloadBytes(src)
	if need == 0 {
		c := new(schema.CanonicalEvent)
		copyScalars(c, src)
		return c
	}
	if !levelsPointerFree {
		return src.Clone()
	}
	var c *schema.CanonicalEvent
	var tail unsafe.Pointer
	for i := range sizeClasses {
		if need <= sizeClasses[i].bytes {
			c, tail = sizeClasses[i].alloc()
			break
		}
	}
	if c == nil { // larger than any tail: a second, pointer-free allocation
		c = new(schema.CanonicalEvent)
		tail = unsafe.Pointer(unsafe.SliceData(make([]uint64, (need+7)/8)))
	}
	copyScalars(c, src)
	fillPayload(c, tail, src)
	return c
}

// payloadBytes is the room src's book levels and raw bytes take in a tail.
func payloadBytes(src *schema.CanonicalEvent) int {
	return (len(src.Book.Bids)+len(src.Book.Asks))*levelSize + len(src.Raw)
}

// fillPayload copies src's book levels and raw bytes to tail, which has
// room for payloadBytes(src), and points c's slices at them. The slices'
// capacities end where their own part of the tail does, so an append by
// the subscriber copies instead of writing over the next part.
func fillPayload(c *schema.CanonicalEvent, tail unsafe.Pointer, src *schema.CanonicalEvent) {
	nb, na, nr := len(src.Book.Bids), len(src.Book.Asks), len(src.Raw)
	if nb+na > 0 {
		lv := unsafe.Slice((*schema.Level)(tail), nb+na)
		copy(lv, src.Book.Bids)
		copy(lv[nb:], src.Book.Asks)
		c.Book.Bids, c.Book.Asks = nilIfEmpty(lv[:nb:nb]), nilIfEmpty(lv[nb:])
	}
	if nr > 0 {
		c.Raw = unsafe.Slice((*byte)(unsafe.Add(tail, (nb+na)*levelSize)), nr)
		copy(c.Raw, src.Raw)
	}
}

// copyInto makes dst, a clone the dispatcher still owns, a copy of src
// without allocating, when dst's payload capacity suffices. It reports
// whether it did. had is sectionsOf(dst) (dst's slot keeps it: computing
// it per subscriber cost as much as the copy it spares), s sectionsOf(src).
// The coalescing lane uses it to
// replace a queued event in place: it writes the common fields, the
// sections of src in use and those of dst no longer in use (zeroed), not
// the whole event — a quote replacing a quote writes about 150 of its
// 1,928 bytes.
func copyInto(dst, src *schema.CanonicalEvent, had, s sections) bool {
	nb, na, nr := len(src.Book.Bids), len(src.Book.Asks), len(src.Raw)
	if nr > cap(dst.Raw) || nb > cap(dst.Book.Bids) || na > cap(dst.Book.Asks) {
		return false
	}
	raw, bids, asks := dst.Raw[:nr], dst.Book.Bids[:nb], dst.Book.Asks[:na]
	copy(raw, src.Raw)
	copy(bids, src.Book.Bids)
	copy(asks, src.Book.Asks)
	clearSections(dst, had&^s)
	copySections(dst, src, s)
	dst.Raw, dst.Book.Bids, dst.Book.Asks = raw, bids, asks
	return true
}

// copyScalars copies every field of src into dst but the header (dst stays
// unpooled) and the three slices, which it sets to nil: they must never
// point into the pooled original's buffers.
func copyScalars(dst, src *schema.CanonicalEvent) {
	*dst = *src
	dst.Header = pool.Header{}
	dst.Raw, dst.Book.Bids, dst.Book.Asks = nil, nil, nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
