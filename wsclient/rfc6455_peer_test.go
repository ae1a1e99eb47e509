package wsclient

import (
	"bufio"
	"crypto/sha1" //nolint:gosec // RFC 6455 §4.2.2 defines Sec-WebSocket-Accept with SHA-1
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// rawPeer is a WebSocket server written by hand on a net.Listener: it reads
// the upgrade request, answers it (a correct 101 unless answer says
// otherwise) and gives the connection to script, which writes frames byte
// by byte as RFC 6455 §5.2 lays them out, including frames a compliant
// server never sends. It is the peer nobody here wrote: coder/websocket's
// server side is not used.
type rawPeer struct {
	t      *testing.T
	ln     net.Listener
	script func(pc *peerConn)
	// answer, when set, writes the handshake answer for connection n and
	// the client's Sec-WebSocket-Key; it returns false to end the
	// connection without running the script.
	answer func(w io.Writer, n int, key string) bool
	// answerReq is answer with the subprotocols the client offered
	// (Sec-WebSocket-Protocol); it takes precedence.
	answerReq func(w io.Writer, n int, key, protocols string) bool
	n         atomic.Int32
	wg        sync.WaitGroup
	done      chan struct{}
	once      sync.Once

	mu    sync.Mutex
	conns map[int]*peerConn
}

// peerConn is one connection of a rawPeer.
type peerConn struct {
	p    *rawPeer
	n    int
	c    net.Conn
	br   *bufio.Reader
	done <-chan struct{} // the peer is shutting down

	wmu      sync.Mutex
	autoPong bool          // answer pings (set before readClient starts)
	msgs     chan string   // data messages from the client
	pongs    chan []byte   // pong payloads from the client
	pings    chan []byte   // ping payloads from the client, without autoPong
	closes   chan []byte   // close payloads from the client
	gone     chan struct{} // the client closed the connection (EOF or reset)
	readErr  error         // why reading ended; valid once gone is closed
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID)) //nolint:gosec // the RFC's algorithm
	return base64.StdEncoding.EncodeToString(h[:])
}

func newRawPeer(t *testing.T, script func(pc *peerConn)) *rawPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return newRawPeerOn(t, ln, script)
}

// newRawPeerOn is newRawPeer on a listener of the test's own.
func newRawPeerOn(t *testing.T, ln net.Listener, script func(pc *peerConn)) *rawPeer {
	t.Helper()
	p := &rawPeer{t: t, ln: ln, script: script, done: make(chan struct{}), conns: map[int]*peerConn{}}
	p.wg.Add(1)
	go p.acceptLoop()
	t.Cleanup(p.close)
	return p
}

func (p *rawPeer) url() string { return "ws://" + p.ln.Addr().String() + "/ws" }

func (p *rawPeer) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		pc := &peerConn{
			p: p, n: int(p.n.Add(1)), c: c, br: bufio.NewReader(c), done: p.done, autoPong: true,
			msgs: make(chan string, 256), pongs: make(chan []byte, 64), pings: make(chan []byte, 64), closes: make(chan []byte, 4), gone: make(chan struct{}),
		}
		p.mu.Lock()
		select {
		case <-p.done:
			p.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		p.conns[pc.n] = pc
		p.wg.Add(1)
		p.mu.Unlock()
		go pc.serve()
	}
}

func (pc *peerConn) serve() {
	defer pc.p.wg.Done()
	defer func() { _ = pc.c.Close() }()
	req, err := http.ReadRequest(pc.br)
	if err != nil {
		return
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if pc.p.answerReq != nil {
		if !pc.p.answerReq(pc.c, pc.n, key, req.Header.Get("Sec-WebSocket-Protocol")) {
			return
		}
	} else if pc.p.answer != nil {
		if !pc.p.answer(pc.c, pc.n, key) {
			return
		}
	} else if _, err := io.WriteString(pc.c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
		acceptKey(key)+"\r\n\r\n"); err != nil {
		return
	}
	pc.p.script(pc)
}

// close ends every connection and the listener, then waits for the
// scripts. It is idempotent.
func (p *rawPeer) close() {
	p.once.Do(func() {
		p.mu.Lock()
		close(p.done)
		for _, pc := range p.conns {
			_ = pc.c.Close()
		}
		p.mu.Unlock()
		_ = p.ln.Close()
		p.wg.Wait()
	})
}

// conn returns connection n, or nil.
func (p *rawPeer) conn(n int) *peerConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[n]
}

// Opcodes (RFC 6455 §5.2).
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// wsFrame encodes one frame. rsv holds the RSV1-3 bits (0x70 mask); a
// non-zero maskKey masks the payload, which a server must never do.
func wsFrame(fin bool, rsv, op byte, payload []byte, maskKey uint32) []byte {
	b0 := rsv&0x70 | op&0x0f
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	var m byte
	if maskKey != 0 {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if maskKey == 0 {
		return append(b, payload...)
	}
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], maskKey)
	b = append(b, k[:]...)
	for i, c := range payload {
		b = append(b, c^k[i%4])
	}
	return b
}

// text is one unfragmented text frame.
func text(s string) []byte { return wsFrame(true, 0, opText, []byte(s), 0) }

// closeFrame is a close frame with code and reason; code 0 sends no
// status at all (an empty payload).
func closeFrame(code uint16, reason string) []byte {
	if code == 0 {
		return wsFrame(true, 0, opClose, nil, 0)
	}
	p := binary.BigEndian.AppendUint16(nil, code)
	return wsFrame(true, 0, opClose, append(p, reason...), 0)
}

// write sends raw bytes, each argument in a TCP write of its own.
func (pc *peerConn) write(chunks ...[]byte) error {
	pc.wmu.Lock()
	defer pc.wmu.Unlock()
	for _, b := range chunks {
		if _, err := pc.c.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// readClient reads the client's frames on a goroutine of the peer's own,
// answering pings (when autoPong) and recording messages, pongs and close
// frames, until the connection ends.
func (pc *peerConn) readClient() {
	pc.p.wg.Add(1)
	go func() {
		defer pc.p.wg.Done()
		defer close(pc.gone)
		var msg []byte
		for {
			fin, op, payload, err := readClientFrame(pc.br)
			if err != nil {
				pc.readErr = err
				return
			}
			switch op {
			case opPing:
				if pc.autoPong {
					_ = pc.write(wsFrame(true, 0, opPong, payload, 0))
				} else {
					pc.pings <- payload
				}
			case opPong:
				pc.pongs <- payload
			case opClose:
				pc.closes <- payload
			default:
				msg = append(msg, payload...)
				if fin {
					pc.msgs <- string(msg)
					msg = nil
				}
			}
		}
	}()
}

// readClientFrame reads one frame from the client, which must be masked
// (RFC 6455 §5.1), and unmasks it.
func readClientFrame(br *bufio.Reader) (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(br, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0f
	if h[1]&0x80 == 0 {
		return fin, op, nil, errors.New("peer: unmasked frame from the client")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err = io.ReadFull(br, e[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err = io.ReadFull(br, e[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if n > 8<<20 {
		return fin, op, nil, fmt.Errorf("peer: client frame of %d bytes", n)
	}
	var k [4]byte
	if _, err = io.ReadFull(br, k[:]); err != nil {
		return
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(br, payload); err != nil {
		return
	}
	for i := range payload {
		payload[i] ^= k[i%4]
	}
	return fin, op, payload, nil
}

// expectSubs reads the test subscriptions.
func (pc *peerConn) expectSubs() error {
	for range testSubs {
		select {
		case <-pc.msgs:
		case <-pc.gone:
			return errors.New("peer: client gone before subscribing")
		case <-pc.done:
			return errors.New("peer: shut down")
		}
	}
	return nil
}

// hold keeps the connection open until the client or the peer ends it.
func (pc *peerConn) hold() {
	select {
	case <-pc.gone:
	case <-pc.done:
	}
}

// steadyPeer is the script of a well-behaved connection: subscriptions
// read, one message naming the connection, then open until the end.
func steadyPeer(pc *peerConn) {
	pc.readClient()
	if pc.expectSubs() != nil {
		return
	}
	_ = pc.write(text(fmt.Sprintf(`{"conn":%d}`, pc.n)))
	pc.hold()
}

// firstPeer runs fault on the first connection, right after the handshake
// (the client's frames are read for it, pings answered if autoPong), and
// steadyPeer on the others.
func firstPeer(autoPong bool, fault func(pc *peerConn)) func(pc *peerConn) {
	return func(pc *peerConn) {
		if pc.n > 1 {
			steadyPeer(pc)
			return
		}
		pc.autoPong = autoPong
		pc.readClient()
		fault(pc)
	}
}

// faultyPeer runs fault on the first connection (after the subscriptions)
// and steadyPeer on the others.
func faultyPeer(fault func(pc *peerConn)) func(pc *peerConn) {
	return firstPeer(true, func(pc *peerConn) {
		if pc.expectSubs() == nil {
			fault(pc)
		}
	})
}

// peerOptions are quickOptions without liveness (tests that exercise it
// turn it on): the fake clock moves during pacing, and pings would then
// come at places the tests do not control.
func peerOptions() *Options {
	o := quickOptions()
	o.PingInterval = -1
	o.IdleTimeout = -1
	o.ControlRate = -1
	return o
}

// recvWait waits for a value from ch, failing the test after wait.
func recvWait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
		var zero T
		return zero
	}
}

// conn1Lost waits for connection 1's Disconnected event.
func conn1Lost(t *testing.T, h *harness) Event {
	t.Helper()
	return h.rec.waitFor(t, "disconnected", func(ev Event) bool {
		return ev.State == schema.ConnDisconnected && ev.ConnID == 1
	})
}

// requireLost waits for connection 1's Disconnected event, requires its
// reason, and waits for connection 2 to be up.
func requireLost(t *testing.T, h *harness, want Reason) Event {
	t.Helper()
	lost := conn1Lost(t, h)
	require.Equal(t, want, lost.Reason, "err %v", lost.Err)
	require.Error(t, lost.Err)
	h.rec.waitFor(t, "connected on 2", connected(2))
	return lost
}

// tickWatchdog moves the clock on by d and waits until cn's watchdog has
// looked at the reader (or cn died).
func tickWatchdog(t *testing.T, h *harness, cn *conn, d time.Duration) {
	t.Helper()
	before := cn.checks.Load()
	h.clock.advance(d)
	require.Eventually(t, func() bool {
		select {
		case <-cn.dead:
			return true
		default:
			return cn.checks.Load() > before
		}
	}, wait, time.Millisecond, "watchdog tick")
}
