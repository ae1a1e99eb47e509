package recorder

import (
	"encoding/binary"
	"hash/crc32"
	"unsafe"
)

// FormatName and FormatVersion open every recording file: its first line is
// a Line with Format and Version set (the header), every later line is one
// frame.
const (
	FormatName    = "meltica.recording"
	FormatVersion = 1
)

// Line is one line of a recording, JSON-encoded (JSON Lines, one object per
// line, "\n" after each). A file's first line is its header; every later
// line is one WebSocket message.
//
// Header fields: Format, Version, Venue, URL, Part (the file's number within
// a rotated recording, from 1) and Time (when the file was opened, Unix ns).
//
// Frame fields: Time (the receive time stamped by the reader, Unix ns), Conn
// (the connection id within the client, from 1), Seq (the message number
// within the connection), Out (true for a message sent to the venue, such
// as a subscription, false for one received), and the message itself in
// exactly one of Text (a text message that is valid UTF-8, as a JSON string:
// the bytes come back identical) or Bin (any other message, and a text
// message too long to be sure its escaped form fits in [MaxLine]; base64 as
// encoding/json writes []byte). Binary says whether the WebSocket message
// was binary. CRC is the line's checksum, [Line.Sum] as 4 bytes big-endian
// (base64 in the file, so every line's is 8 characters), which a Writer
// sets on every frame line and a Reader verifies when present: a byte
// flipped on disk is a format error, never a frame that was not recorded
// (a quantity read as another). Lines without one (recordings written
// before it) are read unverified.
//
// The field names are short because a recording repeats them on every line.
type Line struct {
	Format  string `json:"format,omitzero"`
	Version int    `json:"version,omitzero"`
	Venue   string `json:"venue,omitzero"`
	URL     string `json:"url,omitzero"`
	Part    int    `json:"part,omitzero"`

	Time   int64  `json:"t"`
	Conn   uint64 `json:"conn,omitzero"`
	Seq    uint64 `json:"seq,omitzero"`
	Out    bool   `json:"out,omitzero"`
	Binary bool   `json:"binary,omitzero"`
	Text   string `json:"text,omitzero"`
	Bin    []byte `json:"bin,omitzero"`
	CRC    []byte `json:"crc,omitzero"`
}

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and
// arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sum is a frame line's checksum: CRC-32C over Time, Conn and Seq (8 bytes
// each, little-endian), one byte of flags (1 Out, 2 Binary) and the
// message (Bin when set, else Text).
func (l *Line) Sum() uint32 {
	var b [25]byte
	return l.sum(&b)
}

// sum is Sum with a scratch buffer of the caller's (no allocation).
func (l *Line) sum(b *[25]byte) uint32 {
	*b = [25]byte{}
	binary.LittleEndian.PutUint64(b[0:], uint64(l.Time))
	binary.LittleEndian.PutUint64(b[8:], l.Conn)
	binary.LittleEndian.PutUint64(b[16:], l.Seq)
	if l.Out {
		b[24] |= 1
	}
	if l.Binary {
		b[24] |= 2
	}
	sum := crc32.Update(0, castagnoli, b[:])
	if l.Bin != nil {
		sum = crc32.Update(sum, castagnoli, l.Bin)
	} else if l.Text != "" {
		sum = crc32.Update(sum, castagnoli, unsafe.Slice(unsafe.StringData(l.Text), len(l.Text)))
	}
	return sum
}

// IsHeader reports whether l is a file header rather than a frame.
func (l *Line) IsHeader() bool { return l.Format != "" }
