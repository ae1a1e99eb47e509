package schema

import (
	"unsafe"

	"github.com/meltica/meltica/pool"
)

// WsFrame is one WebSocket message as read from a venue. The reader fills
// Data in place (its capacity is kept across uses) and hands the frame to a
// handler that MUST NOT keep it or Data after returning.
type WsFrame struct {
	pool.Header `json:"-"` // the pool's bookkeeping, not data: never encoded
	Provider    Venue      // venue the connection belongs to
	ConnID      uint64     // connection number within the client, from 1
	Seq         uint64     // message number within the connection, from 1
	ReceivedAt  int64      // receive time, Unix ns
	Binary      bool       // binary message (text otherwise)
	Data        []byte     // the message; owned, capacity kept by Reset
}

// Reset zeroes every field but the header and keeps Data's capacity.
func (f *WsFrame) Reset() {
	f.Provider, f.ConnID, f.Seq, f.ReceivedAt, f.Binary = "", 0, 0, 0, false
	f.Data = f.Data[:0]
}

// Clone returns an independent heap copy that no pool accepts.
func (f *WsFrame) Clone() *WsFrame {
	c := &WsFrame{}
	*c = *f
	c.Header = pool.Header{}
	c.Data = cloneBytes(f.Data)
	return c
}

// Validate checks that the frame has a provider, data and a receive time.
func (f *WsFrame) Validate() error {
	switch {
	case f.Provider == "":
		return invalid("WsFrame", "Provider", "empty")
	case len(f.Data) == 0:
		return invalid("WsFrame", "Data", "empty")
	case f.ReceivedAt <= 0:
		return invalid("WsFrame", "ReceivedAt", "not set")
	}
	return nil
}

// ProviderRaw is one venue message split out of a frame's envelope, before
// decoding. Stream and Payload alias the frame's buffer: they are valid only
// while the frame is held, and Reset drops them rather than keep a reference
// into a buffer that will be reused.
type ProviderRaw struct {
	pool.Header `json:"-"` // the pool's bookkeeping, not data: never encoded
	Provider    Venue
	ConnID      uint64
	ReceivedAt  int64  // Unix ns, from the frame
	Stream      []byte // stream or channel name when the envelope names one; aliases the frame
	Payload     []byte // the message itself; aliases the frame
}

// Reset zeroes every field but the header; the aliasing slices become nil.
func (r *ProviderRaw) Reset() {
	r.Provider, r.ConnID, r.ReceivedAt = "", 0, 0
	r.Stream, r.Payload = nil, nil
}

// Clone returns an independent heap copy (Stream and Payload copied) that no
// pool accepts.
func (r *ProviderRaw) Clone() *ProviderRaw {
	c := &ProviderRaw{}
	*c = *r
	c.Header = pool.Header{}
	c.Stream = cloneBytes(r.Stream)
	c.Payload = cloneBytes(r.Payload)
	return c
}

// Validate checks that the message has a provider and a payload.
func (r *ProviderRaw) Validate() error {
	switch {
	case r.Provider == "":
		return invalid("ProviderRaw", "Provider", "empty")
	case len(r.Payload) == 0:
		return invalid("ProviderRaw", "Payload", "empty")
	}
	return nil
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// maxKeptBuffer is the most bytes of a slice's backing array that Reset
// keeps for the object's next use (Raw, book levels, fragments); a larger
// one is dropped, so that a pool's memory is bounded by what its objects
// usually hold, not by the largest message they ever held. 256 KiB, as
// wsclient keeps its frames: 8,192 book levels, every venue's usual
// message and Binance's largest REST snapshot (5,000 levels a side).
const maxKeptBuffer = 256 << 10

// kept is s emptied for reuse, or nil when its backing array is larger
// than maxKeptBuffer.
func kept[T any](s []T) []T {
	var zero T
	if uintptr(cap(s))*unsafe.Sizeof(zero) > maxKeptBuffer {
		return nil
	}
	return s[:0]
}
