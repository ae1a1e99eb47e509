package schema

import "errors"

// ErrIDTooLong is returned when an identifier does not fit in an ID.
var ErrIDTooLong = errors.New("schema: identifier longer than 47 bytes")

// ID is an identifier (trade id, order id, asset) stored inline, so filling
// one from a frame buffer neither allocates nor keeps a reference into the
// buffer. It holds up to 47 bytes, which covers every venue's order, trade
// and client ids (UUIDs are 36). The zero value is the empty ID. IDs of
// the same identifier are ==, however each was set and whatever it held
// before, so an ID may be compared with == and used as a map key.
type ID struct {
	n uint8
	b [47]byte
}

// SetBytes copies b into the ID, or returns ErrIDTooLong and leaves it
// empty. b may be the ID's own Bytes, or part of them.
func (id *ID) SetBytes(b []byte) error {
	if len(b) > len(id.b) {
		*id = ID{}
		return ErrIDTooLong
	}
	copy(id.b[:], b) // first: b may alias id (Bytes), which put clears past the new length
	id.put(len(b))
	return nil
}

// Set copies s into the ID, or returns ErrIDTooLong and leaves it empty.
func (id *ID) Set(s string) error {
	if len(s) > len(id.b) {
		*id = ID{}
		return ErrIDTooLong
	}
	copy(id.b[:], s)
	id.put(len(s))
	return nil
}

// SetUint writes n in decimal; numeric trade ids take this path.
func (id *ID) SetUint(n uint64) {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	copy(id.b[:], tmp[i:])
	id.put(len(tmp) - i)
}

// put sets the length to n and zeroes what a longer identifier held past
// it: IDs are compared with == and used as map keys, so two IDs of the same
// identifier must be equal bytes, whatever each held before.
func (id *ID) put(n int) {
	if n < int(id.n) {
		clear(id.b[n:id.n])
	}
	id.n = uint8(n)
}

// MustID returns an ID holding s; it panics if s is too long.
func MustID(s string) ID {
	var id ID
	if err := id.Set(s); err != nil {
		panic(err)
	}
	return id
}

// Bytes returns the identifier's bytes; the slice aliases id, and its
// capacity is its length, so that appending to it copies rather than
// writing into the ID past its end (where == would see it).
func (id *ID) Bytes() []byte { return id.b[:id.n:id.n] }

// String returns the identifier (it allocates).
func (id ID) String() string { return string(id.b[:id.n]) }

// Len returns the identifier's length in bytes.
func (id ID) Len() int { return int(id.n) }

// IsZero reports whether the ID is empty.
func (id ID) IsZero() bool { return id.n == 0 }

// Equal reports whether id holds s, without allocating.
func (id *ID) Equal(s string) bool { return string(id.b[:id.n]) == s }

// MarshalText writes the identifier.
func (id ID) MarshalText() ([]byte, error) { return append([]byte(nil), id.b[:id.n]...), nil }

// UnmarshalText reads the identifier.
func (id *ID) UnmarshalText(b []byte) error { return id.SetBytes(b) }

// MarshalBinary writes the identifier's bytes, as MarshalText; it makes ID
// encodable by encoding/gob, which does not use MarshalText.
func (id ID) MarshalBinary() ([]byte, error) { return id.MarshalText() }

// UnmarshalBinary reads the identifier's bytes, or returns ErrIDTooLong
// and leaves the ID empty.
func (id *ID) UnmarshalBinary(b []byte) error { return id.SetBytes(b) }
