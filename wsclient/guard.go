package wsclient

import (
	"encoding/binary"
	"io"
	"strconv"

	"github.com/coder/websocket"
)

// frameGuard sits between the socket (the body of the handshake's 101
// response) and coder/websocket's reader, and keeps the two RFC 6455 rules
// of reading that coder/websocket v1.8.15 does not:
//
//   - §5.1: a server never masks a frame, and a client MUST close the
//     connection on a masked one. coder/websocket delivered a masked data
//     frame's payload still masked (it unmasks on the server side only).
//     The guard fails the read at the frame's header ([ErrMaskedFrame]).
//   - §5.4, §7.1.5: a message is whole only once its final frame is read.
//     coder/websocket takes an end of the stream at a frame boundary, or at
//     the start of a payload read, for the message's end (msgReader.Read
//     tests errors.Is(err, io.EOF)) and gave the part received as a
//     message. The guard turns the end of the stream inside a frame or a
//     fragmented message into [ErrMessageCut] (io.ErrUnexpectedEOF), which
//     coder/websocket returns as the read's error.
//
// Everything else (reserved bits, opcodes, control frame rules, lengths,
// close codes) coder/websocket checks itself. The guard reads only the
// frames' headers (2 to 10 bytes each) and steps over their payloads: it
// copies nothing and allocates nothing per message. Read is called by
// coder/websocket's reader only (under its read lock); Write and Close
// pass through and may be called concurrently with it.
type frameGuard struct {
	rwc io.ReadWriteCloser
	err error // the fault found; every later Read returns it

	hdr  [10]byte // the header being read, up to its extended length
	hn   int      // bytes of hdr held
	rem  uint64   // payload bytes of the current frame still to come
	frag bool     // inside a fragmented data message
	max  uint64   // the largest data frame let through (Options.DiscardLimit); 0: any
}

// errSealed is what a sealed guard's Read returns: the socket of a 101
// that coder/websocket has not accepted yet (see rawTracker). It is
// io.EOF, so that coder/websocket's read of a refused answer's body ends
// at once.
var errSealed = io.EOF

// open unseals g once the dial accepted the answer, before the
// connection's reader starts, and sets the largest data frame it lets
// through: a frame whose header says it is larger fails the read at its
// header (an error matching websocket.ErrMessageTooBig), rather than
// after its first max bytes, which may never come.
func (g *frameGuard) open(max int64) { g.err, g.max = nil, uint64(max) }

func (g *frameGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.rwc.Read(p)
	if k, ferr := g.scan(p[:n]); ferr != nil {
		g.err = ferr
		return k, ferr
	}
	if err == io.EOF && g.inside() {
		g.err = ErrMessageCut
		return n, ErrMessageCut
	}
	return n, err
}

// frameTooBig is the guard's error for a data frame whose header says it
// is larger than the guard lets through.
type frameTooBig struct{ length, max uint64 }

func (e *frameTooBig) Error() string {
	return "wsclient: a frame of " + strconv.FormatUint(e.length, 10) + " bytes, over the " +
		strconv.FormatUint(e.max, 10) + " read to be dropped"
}

// Unwrap makes it match websocket.ErrMessageTooBig.
func (e *frameTooBig) Unwrap() error { return websocket.ErrMessageTooBig }

func (g *frameGuard) Write(p []byte) (int, error) { return g.rwc.Write(p) }

func (g *frameGuard) Close() error { return g.rwc.Close() }

// inside reports whether the stream is inside a frame or between the
// fragments of a message.
func (g *frameGuard) inside() bool { return g.hn > 0 || g.rem > 0 || g.frag }

// scan follows the frames through b, the next bytes of the stream. On a
// masked frame it returns ErrMaskedFrame and how many bytes of b come
// before that frame's header.
func (g *frameGuard) scan(b []byte) (int, error) {
	rem, frag := g.rem, g.frag // in registers; stored back on return
	for i := 0; i < len(b); {
		if rem > 0 {
			k := min(rem, uint64(len(b)-i))
			rem -= k
			i += int(k)
			continue
		}
		var h []byte // the header's bytes so far
		start := i   // where it begins in b (negative: in an earlier read)
		if g.hn == 0 && len(b)-i >= len(g.hdr) {
			h = b[i:] // the common case: the header within this read
		} else {
			g.hdr[g.hn] = b[i]
			g.hn++
			h = g.hdr[:g.hn]
			start = i + 1 - g.hn
		}
		if len(h) < 2 {
			i++
			continue
		}
		if h[1]&0x80 != 0 {
			g.rem, g.frag = rem, frag
			return max(0, start), ErrMaskedFrame
		}
		n := 2
		length := uint64(h[1] & 0x7f)
		switch length {
		case 126:
			n = 4
		case 127:
			n = 10
		}
		if len(h) < n {
			i++
			continue
		}
		switch n {
		case 4:
			length = uint64(binary.BigEndian.Uint16(h[2:]))
		case 10:
			length = binary.BigEndian.Uint64(h[2:])
		}
		if g.hn == 0 {
			i += n // read from b in place
		} else {
			i++ // the header's last byte
			g.hn = 0
		}
		switch fin, op := h[0]&0x80 != 0, h[0]&0x0f; op {
		case 0x1, 0x2: // text, binary
			frag = !fin
		case 0x0: // continuation
			frag = frag && !fin
		}
		if g.max > 0 && length > g.max && length < 1<<63 && h[0]&0x08 == 0 { // a length with its MSB set is coder/websocket's to refuse
			g.rem, g.frag = 0, frag
			return max(0, start), &frameTooBig{length: length, max: g.max}
		}
		rem = length
	}
	g.rem, g.frag = rem, frag
	return 0, nil
}
