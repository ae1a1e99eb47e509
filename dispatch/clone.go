package dispatch

import (
	"reflect"
	"unsafe"

	"github.com/meltica/meltica/schema"
)

const (
	eventSize = unsafe.Sizeof(schema.CanonicalEvent{})
	levelSize = int(unsafe.Sizeof(schema.Level{}))
)

// box is one clone: the event, then room for its payload (book levels and
// raw bytes, pointer-free) or for its one out-of-line section.
type box[T any] struct {
	ev   schema.CanonicalEvent
	tail T
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

// cloneEvent returns an independent heap copy of src that no pool accepts:
// a publish's clone for one subscriber (see clones), one allocation when
// the payload fits the largest tail and src carries at most one
// out-of-line section.
func cloneEvent(src *schema.CanonicalEvent) *schema.CanonicalEvent {
	cl := newClones(src, 1)
	return cl.take()
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
// when dst's payload capacity suffices. It reports whether it did. had is
// sectionsOf(dst) (dst's slot keeps it: computing it per subscriber cost
// as much as the copy it spares), s sectionsOf(src). The coalescing lane
// uses it to replace a queued event in place: it writes the common
// fields, the sections of src in use and those of dst no longer in use
// (zeroed, or for an out-of-line section let go: nil, as in src), not the
// whole event — a quote replacing a quote writes about 110 of its 376
// bytes. An out-of-line section both carry is written where dst's is (a
// ticker replacing a ticker allocates nothing); one only src carries is
// made, one allocation (a slot holds one stream, so one type: rare).
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

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
