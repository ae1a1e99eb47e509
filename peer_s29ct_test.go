package meltica_test

// Outside contract tests, round 4 (s29ct): a hostile or foreign WebSocket
// peer, written from wsclient/doc.go and RFC 6455 without reading the
// client. The peer writes its frames by hand on the hijacked socket, so
// that it can send what coder/websocket's own server never would.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s29ctRaw is one hijacked connection of the hand-written peer.
type s29ctRaw struct {
	conn net.Conn
	w    *bufio.Writer
}

const (
	s29ctOpCont   = 0x0
	s29ctOpText   = 0x1
	s29ctOpBinary = 0x2
	s29ctOpClose  = 0x8
	s29ctOpPing   = 0x9
)

// frame writes one frame: fin, the RSV bits (rsv<<4), opcode, and the
// payload, masked with a fixed key when mask (RFC 6455 §5.2).
func (c *s29ctRaw) frame(fin bool, rsv, op byte, payload []byte, mask bool) {
	b0 := op | rsv<<4
	if fin {
		b0 |= 0x80
	}
	hdr := []byte{b0}
	var m byte
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, m|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, m|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, m|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if mask {
		key := [4]byte{1, 2, 3, 4}
		hdr = append(hdr, key[:]...)
		p := bytes.Clone(payload)
		for i := range p {
			p[i] ^= key[i%4]
		}
		payload = p
	}
	_, _ = c.w.Write(hdr)
	_, _ = c.w.Write(payload)
	_ = c.w.Flush()
}

func (c *s29ctRaw) text(s string) { c.frame(true, 0, s29ctOpText, []byte(s), false) }

// closeFrame writes a close frame with code and reason.
func (c *s29ctRaw) closeFrame(code uint16, reason []byte) {
	c.frame(true, 0, s29ctOpClose, append(binary.BigEndian.AppendUint16(nil, code), reason...), false)
}

// s29ctPeer is a venue on loopback that answers the handshake by hand and
// runs script on connection n (from 1); the socket is closed when the
// script returns, or held open until the test ends when it returns true.
// What the client sends is read and discarded.
func s29ctPeer(t *testing.T, script func(n int, c *s29ctRaw) (hold bool)) string {
	return s29ctPeerAnswer(t, func(_ int, key string) string { return s29ctGoodAnswer(key) + "\r\n" }, script)
}

// s29ctGoodAnswer is a 101 answer's status and headers for key, without the
// blank line that ends them.
func s29ctGoodAnswer(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
}

// s29ctPeerAnswer is s29ctPeer whose handshake answer on connection n is
// answer(n, key), written as it is ("" writes nothing and holds the socket
// until the test ends).
func s29ctPeerAnswer(t *testing.T, answer func(n int, key string) string, script func(n int, c *s29ctRaw) (hold bool)) string {
	var conns atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup // the readers of the client's bytes
	var mu sync.Mutex     // no wg.Add once the test ends (a client's late redial)
	ended := false
	url := s27ctServer(t, func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		mu.Lock()
		if ended {
			mu.Unlock()
			return
		}
		wg.Add(1)
		mu.Unlock()
		defer wg.Done()
		n := int(conns.Add(1))
		a := answer(n, key)
		if a == "" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = brw.WriteString(a)
		_ = brw.Flush()
		drained := make(chan struct{})
		go func() { defer close(drained); _, _ = io.Copy(io.Discard, brw) }()
		defer func() { _ = conn.Close(); <-drained }() // the reader ends with the socket
		if script(n, &s29ctRaw{conn: conn, w: brw.Writer}) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	t.Cleanup(func() {
		mu.Lock()
		ended = true
		mu.Unlock()
		close(release)
		wg.Wait()
	})
	return url
}

// s29ctGot is what a client's handler was given.
type s29ctGot struct {
	conn   uint64
	binary bool
	data   string
}

type s29ctInbox struct {
	mu  sync.Mutex
	got []s29ctGot
}

func (in *s29ctInbox) handle(_ context.Context, f *schema.WsFrame) error {
	in.mu.Lock()
	in.got = append(in.got, s29ctGot{f.ConnID, f.Binary, string(f.Data)})
	in.mu.Unlock()
	return nil
}

func (in *s29ctInbox) wait(t *testing.T, n int) []s29ctGot {
	t.Helper()
	require.Eventually(t, func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		return len(in.got) >= n
	}, s27ctWait, time.Millisecond, "%d messages", n)
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]s29ctGot(nil), in.got...)
}

// s29ctStart runs a client of url on the real clock with a short backoff
// and no pings or watchdog (the peer answers no ping), and stops it at the
// test's end: Run returns nil after Close (no goroutine left: goleak in
// TestMain).
func s29ctStart(t *testing.T, url string, in *s29ctInbox, evs *s27ctEvents, opts wsclient.Options) *wsclient.Client {
	t.Helper()
	opts.Venue = schema.VenueBinance
	opts.OnEvent = evs.on
	opts.PingInterval, opts.IdleTimeout, opts.CloseTimeout = -1, -1, -1
	opts.BackoffBase, opts.BackoffCap = time.Millisecond, 5*time.Millisecond
	c, err := wsclient.New(url, in.handle, &opts)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	t.Cleanup(func() {
		require.NoError(t, c.Close(context.Background()))
		require.NoError(t, <-done)
	})
	return c
}

// wsclient/doc.go: "A text message is also checked for UTF-8" — a text
// message only. A binary message reaches the handler as sent, with
// Binary set, whatever its bytes; a text message that is not UTF-8 is
// dropped, counted (InvalidFrames) and reported (ErrInvalidUTF8,
// ReasonInvalidFrame) and the connection kept: the text after it arrives
// on the same connection.
func TestS29ctPeerBinaryAndInvalidText(t *testing.T) {
	url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
		c.frame(true, 0, s29ctOpBinary, []byte{0xff, 0xfe, '{', 0}, false)
		c.text(`{"a":1}`)
		c.frame(true, 0, s29ctOpText, []byte{'{', 0xc3, 0x28, '}'}, false)
		c.frame(true, 0, s29ctOpBinary, []byte(`{"b":2}`), false)
		c.text(`{"c":3}`)
		return true
	})
	in, evs := &s29ctInbox{}, newS27ctEvents()
	c := s29ctStart(t, url, in, evs, wsclient.Options{})
	got := in.wait(t, 4)
	assert.Equal(t, []s29ctGot{{1, true, "\xff\xfe{\x00"}, {1, false, `{"a":1}`}, {1, true, `{"b":2}`}, {1, false, `{"c":3}`}}, got)
	ev := evs.await(t, "the invalid text reported", func(ev wsclient.Event) bool { return ev.Reason == wsclient.ReasonInvalidFrame })
	assert.ErrorIs(t, ev.Err, wsclient.ErrInvalidUTF8)
	st := c.Stats()
	assert.Equal(t, uint64(1), st.InvalidFrames)
	assert.Equal(t, uint64(4), st.Messages)
	assert.Zero(t, st.TotalReconnects(), "the connection kept")
}

// RFC 6455 §5.4: a message may come in any number of fragments, control
// frames may be interleaved with them, and UTF-8 is checked on the whole
// message (§8.1: a code point split across fragments is valid). A text of
// 333 three-byte runes sent one byte a fragment (999 fragments and an
// empty final one: 1,000), a ping in the middle; a binary MiB in 1,000
// fragments of 1 KiB (a 64-bit length frame of its own after it); each
// arrives once, whole and byte-identical, on the same connection.
func TestS29ctPeerThousandFragments(t *testing.T) {
	text := strings.Repeat("€", 333)
	mib := make([]byte, 1<<20)
	for i := range mib {
		mib[i] = byte(i * 7)
	}
	url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
		for i := 0; i < len(text); i++ {
			op := byte(s29ctOpCont)
			if i == 0 {
				op = s29ctOpText
			}
			c.frame(false, 0, op, []byte{text[i]}, false)
			if i == 500 {
				c.frame(true, 0, s29ctOpPing, []byte("s29ct"), false)
			}
		}
		c.frame(true, 0, s29ctOpCont, nil, false)
		for i := 0; i < 1000; i++ {
			op := byte(s29ctOpCont)
			if i == 0 {
				op = s29ctOpBinary
			}
			part := mib[i*len(mib)/1000 : (i+1)*len(mib)/1000]
			c.frame(i == 999, 0, op, part, false)
		}
		c.frame(true, 0, s29ctOpBinary, mib, false)
		c.text("end")
		return true
	})
	in, evs := &s29ctInbox{}, newS27ctEvents()
	c := s29ctStart(t, url, in, evs, wsclient.Options{})
	got := in.wait(t, 4)
	require.Len(t, got, 4)
	assert.Equal(t, s29ctGot{1, false, text}, got[0], "the text of 1,000 fragments")
	assert.True(t, got[1].binary && got[1].data == string(mib) && got[1].conn == 1, "the MiB of 1,000 fragments, byte-identical")
	assert.True(t, got[2].binary && got[2].data == string(mib) && got[2].conn == 1, "the MiB in one frame, byte-identical")
	assert.Equal(t, s29ctGot{1, false, "end"}, got[3])
	st := c.Stats()
	assert.Zero(t, st.InvalidFrames, "UTF-8 is checked on the whole message")
	assert.Zero(t, st.TotalReconnects())
	assert.Equal(t, uint64(len(text)+2*len(mib)+3), st.Bytes)
}

// Options.ReadLimit: "A larger one is read to its end without being kept
// and dropped: an *OversizedError, counted and reported, and the
// connection is kept" — whether it comes in one frame or in 1,000
// fragments each under the limit. Nothing of it is delivered; the
// message after it, on the same connection, is.
func TestS29ctPeerOversizedInFragments(t *testing.T) {
	for _, frags := range []int{1, 1000} {
		t.Run(fmt.Sprint(frags), func(t *testing.T) {
			mib := bytes.Repeat([]byte("x"), 1<<20)
			url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
				if n > 1 {
					c.text("redialled")
					return true
				}
				c.text("before")
				for i := 0; i < frags; i++ {
					op := byte(s29ctOpCont)
					if i == 0 {
						op = s29ctOpText
					}
					c.frame(i == frags-1, 0, op, mib[i*len(mib)/frags:(i+1)*len(mib)/frags], false)
				}
				c.text("after")
				return true
			})
			in, evs := &s29ctInbox{}, newS27ctEvents()
			c := s29ctStart(t, url, in, evs, wsclient.Options{ReadLimit: 512 << 10})
			got := in.wait(t, 2)
			assert.Equal(t, []s29ctGot{{1, false, "before"}, {1, false, "after"}}, got)
			over := evs.await(t, "the oversized message reported", func(ev wsclient.Event) bool { return ev.Reason == wsclient.ReasonOversized })
			assert.Equal(t, schema.ConnConnected, over.State, "the connection kept")
			var oe *wsclient.OversizedError
			if assert.ErrorAs(t, over.Err, &oe) {
				assert.Equal(t, int64(512<<10), oe.Limit)
				assert.Equal(t, int64(len(mib)), oe.Size)
				assert.Equal(t, uint64(1), oe.ConnID)
			}
			assert.ErrorIs(t, over.Err, websocket.ErrMessageTooBig)
			assert.Equal(t, uint64(1), c.Stats().Oversized)
			assert.Zero(t, c.Stats().TotalReconnects())
		})
	}
}

// RFC 6455 faults of the peer, each after a good message on connection 1:
// the client reports a read error (ReasonReadError, typed where the doc
// names the error), delivers nothing of the bad frame or message, redials
// and delivers connection 2's message. wsclient/doc.go names: a masked
// frame (ErrMaskedFrame, §5.1), a stream ending inside a frame or between
// fragments (ErrMessageCut, §5.4/§7.1.5), and coder/websocket's protocol
// errors: reserved bits, unknown opcodes, bad fragments, control frames
// over 125 bytes, invalid close codes (1005, 1006, 1015; under 1000, 1004,
// 1016–2999; over 4999).
func TestS29ctPeerProtocolFaults(t *testing.T) {
	cases := map[string]struct {
		bad  func(c *s29ctRaw) (hold bool)
		want error
	}{
		"masked frame": {func(c *s29ctRaw) bool { c.frame(true, 0, s29ctOpText, []byte(`{"m":1}`), true); return true }, wsclient.ErrMaskedFrame},
		"masked fragment": {func(c *s29ctRaw) bool {
			c.frame(false, 0, s29ctOpText, []byte(`{"m":`), false)
			c.frame(true, 0, s29ctOpCont, []byte(`1}`), true)
			return true
		}, wsclient.ErrMaskedFrame},
		"cut between fragments": {func(c *s29ctRaw) bool { c.frame(false, 0, s29ctOpText, []byte(`{"part":`), false); return false }, wsclient.ErrMessageCut},
		"cut inside a frame": {func(c *s29ctRaw) bool {
			_, _ = c.w.Write([]byte{0x81, 20, '{', '"'})
			_ = c.w.Flush()
			return false
		}, wsclient.ErrMessageCut},
		"cut inside a header": {func(c *s29ctRaw) bool {
			_, _ = c.w.Write([]byte{0x81, 127, 0, 0})
			_ = c.w.Flush()
			return false
		}, wsclient.ErrMessageCut},
		"rsv1 without extension": {func(c *s29ctRaw) bool { c.frame(true, 4, s29ctOpText, []byte(`{"r":1}`), false); return true }, nil},
		"rsv3":                   {func(c *s29ctRaw) bool { c.frame(true, 1, s29ctOpText, []byte(`{"r":1}`), false); return true }, nil},
		"opcode 3":               {func(c *s29ctRaw) bool { c.frame(true, 0, 3, []byte(`{"o":3}`), false); return true }, nil},
		"opcode 11":              {func(c *s29ctRaw) bool { c.frame(true, 0, 11, []byte(`{"o":11}`), false); return true }, nil},
		"continuation first":     {func(c *s29ctRaw) bool { c.frame(true, 0, s29ctOpCont, []byte(`{"c":1}`), false); return true }, nil},
		"text inside a message": {func(c *s29ctRaw) bool {
			c.frame(false, 0, s29ctOpText, []byte(`{"a":`), false)
			c.frame(true, 0, s29ctOpText, []byte(`{"b":1}`), false)
			return true
		}, nil},
		"ping of 126 bytes": {func(c *s29ctRaw) bool {
			c.frame(true, 0, s29ctOpPing, bytes.Repeat([]byte("p"), 126), false)
			return true
		}, nil},
		"fragmented ping":   {func(c *s29ctRaw) bool { c.frame(false, 0, s29ctOpPing, []byte("p"), false); return true }, nil},
		"close of one byte": {func(c *s29ctRaw) bool { c.frame(true, 0, s29ctOpClose, []byte{3}, false); return true }, nil},
		"close 1005":        {func(c *s29ctRaw) bool { c.closeFrame(1005, nil); return true }, nil},
		"close 1006":        {func(c *s29ctRaw) bool { c.closeFrame(1006, nil); return true }, nil},
		"close 1015":        {func(c *s29ctRaw) bool { c.closeFrame(1015, nil); return true }, nil},
		"close 999":         {func(c *s29ctRaw) bool { c.closeFrame(999, nil); return true }, nil},
		"close 1004":        {func(c *s29ctRaw) bool { c.closeFrame(1004, nil); return true }, nil},
		"close 2999":        {func(c *s29ctRaw) bool { c.closeFrame(2999, nil); return true }, nil},
		"close 5000":        {func(c *s29ctRaw) bool { c.closeFrame(5000, nil); return true }, nil},
		"64-bit length MSB": {func(c *s29ctRaw) bool {
			_, _ = c.w.Write([]byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 'x'})
			_ = c.w.Flush()
			return true
		}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
				if n > 1 {
					c.text("after")
					return true
				}
				c.text("before")
				return tc.bad(c)
			})
			in, evs := &s29ctInbox{}, newS27ctEvents()
			c := s29ctStart(t, url, in, evs, wsclient.Options{})
			got := in.wait(t, 2)
			lost := evs.await(t, "the connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
			assert.Equal(t, []s29ctGot{{1, false, "before"}, {2, false, "after"}}, got, "nothing of the bad frame delivered")
			assert.Equal(t, wsclient.ReasonReadError, lost.Reason, "%v", lost.Err)
			assert.Equal(t, uint64(1), lost.ConnID)
			if tc.want != nil {
				assert.ErrorIs(t, lost.Err, tc.want)
			}
			assert.Equal(t, uint64(2), c.Stats().Messages)
			assert.Equal(t, uint64(1), c.Stats().Reconnects[wsclient.ReasonReadError])
		})
	}
}

// wsclient/doc.go: "A close reason that is not UTF-8 is taken as
// coder/websocket takes it, with its code ... the code is what sets the
// redial's floor": a 1012 (service restart) whose reason is not UTF-8 is
// ReasonPeerClosed with code 1012, and the redial waits TryAgainDelay
// plus up to a quarter. 1001 and 1011 get the plain backoff.
func TestS29ctPeerCloseCodes(t *testing.T) {
	const floor = 40 * time.Millisecond
	cases := map[string]struct {
		code       uint16
		reason     []byte
		minD, maxD time.Duration
	}{
		"1012 reason not UTF-8": {1012, []byte{0xff, 'x'}, floor, floor + floor/4},
		"1013 long reason":      {1013, bytes.Repeat([]byte("r"), 123), floor, floor + floor/4},
		"1001":                  {1001, []byte("going away"), 0, 5 * time.Millisecond},
		"1011":                  {1011, nil, 0, 5 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
				if n > 1 {
					c.text("after")
					return true
				}
				c.text("before")
				c.closeFrame(tc.code, tc.reason)
				return true // never closes the socket itself
			})
			in, evs := &s29ctInbox{}, newS27ctEvents()
			s29ctStart(t, url, in, evs, wsclient.Options{TryAgainDelay: floor})
			got := in.wait(t, 2)
			assert.Equal(t, []s29ctGot{{1, false, "before"}, {2, false, "after"}}, got)
			lost := evs.await(t, "the connection lost", func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected })
			assert.Equal(t, wsclient.ReasonPeerClosed, lost.Reason, "%v", lost.Err)
			assert.Equal(t, websocket.StatusCode(tc.code), websocket.CloseStatus(lost.Err), "%v", lost.Err)
			re := evs.await(t, "the redial", func(ev wsclient.Event) bool { return ev.State == schema.ConnReconnecting })
			assert.GreaterOrEqual(t, re.Delay, tc.minD)
			assert.LessOrEqual(t, re.Delay, tc.maxD)
		})
	}
}

var _ = errors.Is

// A peer that sends far faster than the host reads: wsclient/doc.go, "Time
// in the handler does not count: a slow handler is never taken for a dead
// venue, however slow it is. While it runs, the messages behind it wait in
// the kernel's socket buffers, then TCP pushes back on the venue; the
// client holds one frame, never a backlog." The peer writes 20,000
// messages of 1 KiB (20 MiB, more than the socket buffers hold) while the
// handler holds the first; the clock moves 5 minutes meanwhile (ten idle
// timeouts); the reader holds one frame of the pool. Released, the handler
// gets every message, in order, on connection 1: no loss, no reconnection.
// After Close the pool has every frame back and its buffers are at most
// 256 KiB (the 1 MiB message of TestS29ctPeerThousandFragments aside,
// here every message is 1 KiB).
func TestS29ctPeerFasterThanTheHost(t *testing.T) {
	const n = 20000
	pad := strings.Repeat("p", 1024-12)
	url := s29ctPeer(t, func(_ int, c *s29ctRaw) bool {
		for i := 1; i <= n; i++ {
			c.text(fmt.Sprintf("%06d:%s", i, pad))
		}
		return true
	})
	clk := newS27ctClock()
	evs := newS27ctEvents()
	frames := schema.NewPools(nil).Frames
	first := make(chan struct{})
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	var conns []uint64
	c, err := wsclient.New(url, func(_ context.Context, f *schema.WsFrame) error {
		mu.Lock()
		got = append(got, string(f.Data[:6]))
		if len(conns) == 0 || conns[len(conns)-1] != f.ConnID {
			conns = append(conns, f.ConnID)
		}
		k := len(got)
		mu.Unlock()
		if k == 1 {
			close(first)
			<-release
		}
		return nil
	}, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, Frames: frames, PingInterval: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	<-first
	s27ctDialDone(t, clk)
	s27ctAdvance(t, clk, 5*time.Minute, nil)
	assert.LessOrEqual(t, frames.Stats().InUse, int64(1), "one frame held, never a backlog")
	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	}, s27ctWait, time.Millisecond, "every message")
	mu.Lock()
	for i, s := range got {
		if s != fmt.Sprintf("%06d", i+1) {
			t.Fatalf("message %d is %q", i+1, s)
		}
	}
	assert.Equal(t, []uint64{1}, conns, "one connection throughout")
	mu.Unlock()
	evs.mu.Lock()
	for _, ev := range evs.evs {
		assert.NotEqual(t, schema.ConnDisconnected, ev.State, "no loss: %+v", ev)
	}
	evs.mu.Unlock()
	assert.Zero(t, c.Stats().TotalReconnects())
	assert.LessOrEqual(t, frames.Stats().PeakInUse, int64(1))
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
	assert.Zero(t, frames.Stats().InUse, "every frame back after Run")
	require.NoError(t, frames.Shutdown(context.Background()))
}

// wsclient/doc.go: "a frame goes back to the pool with at most 256 KiB (a
// larger buffer is replaced by one of the default size)". After a client
// read 1 MiB messages (whole and in 1,000 fragments), every frame of its
// pool has a buffer of at most 256 KiB once Run returned.
func TestS29ctPeerLargeMessageFrameBackSmall(t *testing.T) {
	mib := bytes.Repeat([]byte("y"), 1<<20)
	url := s29ctPeer(t, func(_ int, c *s29ctRaw) bool {
		c.frame(true, 0, s29ctOpBinary, mib, false)
		for i := 0; i < 1000; i++ {
			op := byte(s29ctOpCont)
			if i == 0 {
				op = s29ctOpText
			}
			c.frame(i == 999, 0, op, mib[i*len(mib)/1000:(i+1)*len(mib)/1000], false)
		}
		c.text("end")
		return true
	})
	frames := schema.NewPools(nil).Frames
	in, evs := &s29ctInbox{}, newS27ctEvents()
	opts := wsclient.Options{Venue: schema.VenueBinance, Frames: frames, OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1}
	c, err := wsclient.New(url, in.handle, &opts)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	got := in.wait(t, 3)
	assert.Len(t, got[0].data, 1<<20)
	assert.Len(t, got[1].data, 1<<20)
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
	ctx := context.Background()
	var held []*schema.WsFrame
	for range frames.Capacity() {
		f, err := frames.Get(ctx)
		require.NoError(t, err)
		assert.LessOrEqual(t, cap(f.Data), 256<<10, "a frame back from the reader with %d bytes", cap(f.Data))
		held = append(held, f)
	}
	for _, f := range held {
		frames.Put(f)
	}
	require.NoError(t, frames.Shutdown(ctx))
}

// A peer that pings as fast as it writes (wsclient/doc.go: "a peer pinging
// faster than the budget would otherwise hold every message behind its
// pings": a ping within a gap of the last pong is not answered): 5,000
// pings of 125 bytes (the most a control frame holds), each before a
// message, and pings between the fragments of a message. Every message
// arrives, in order, on one connection.
func TestS29ctPeerPingFlood(t *testing.T) {
	const n = 5000
	ping := bytes.Repeat([]byte("p"), 125)
	url := s29ctPeer(t, func(_ int, c *s29ctRaw) bool {
		for i := 1; i <= n; i++ {
			c.frame(true, 0, s29ctOpPing, ping, false)
			if i%100 == 0 {
				c.frame(false, 0, s29ctOpText, []byte(fmt.Sprintf("%05d", i)[:2]), false)
				c.frame(true, 0, s29ctOpPing, ping, false)
				c.frame(true, 0, s29ctOpCont, []byte(fmt.Sprintf("%05d", i)[2:]), false)
				continue
			}
			c.text(fmt.Sprintf("%05d", i))
		}
		return true
	})
	in, evs := &s29ctInbox{}, newS27ctEvents()
	c := s29ctStart(t, url, in, evs, wsclient.Options{})
	got := in.wait(t, n)
	for i, g := range got {
		require.Equal(t, s29ctGot{1, false, fmt.Sprintf("%05d", i+1)}, g)
	}
	assert.Zero(t, c.Stats().TotalReconnects())
}

// RFC 6455 §5.5.1: after sending a close frame, an endpoint sends no more
// data; a peer that does anyway has ended the conversation. The client
// reports the venue's close (ReasonPeerClosed with its code), delivers
// nothing sent after the close frame, and redials.
func TestS29ctPeerDataAfterClose(t *testing.T) {
	url := s29ctPeer(t, func(n int, c *s29ctRaw) bool {
		if n > 1 {
			c.text("after")
			return true
		}
		c.text("before")
		c.closeFrame(1001, []byte("bye"))
		for i := 0; i < 10; i++ {
			c.text("zombie")
		}
		return true
	})
	in, evs := &s29ctInbox{}, newS27ctEvents()
	s29ctStart(t, url, in, evs, wsclient.Options{})
	got := in.wait(t, 2)
	assert.Equal(t, []s29ctGot{{1, false, "before"}, {2, false, "after"}}, got)
	lost := evs.await(t, "lost", s29ctIs(schema.ConnDisconnected))
	assert.Equal(t, wsclient.ReasonPeerClosed, lost.Reason)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(lost.Err))
}
