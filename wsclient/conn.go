package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Delivery modes of a connection, guarded by Client.deliverMu.
const (
	modeLive    = iota // frames go to the handler
	modeStandby        // a rotation's new connection: frames wait in queue
	modeRetired        // replaced: frames are returned unread
)

// conn is one WebSocket connection and the goroutines that serve it: a
// reader, a pinger and a watchdog.
type conn struct {
	c      *Client
	id     uint64
	ws     *websocket.Conn
	ctx    context.Context // ends when the connection is torn down
	cancel context.CancelFunc
	wg     sync.WaitGroup
	born   time.Time // Clock time of the dial

	dead     chan struct{} // closed by fail
	deadOnce sync.Once
	reason   Reason // set before dead is closed
	err      error

	// Liveness, in Client.mono ns. The reader writes waitStart and
	// waitTotal; the watchdog reads them.
	waitStart atomic.Int64 // when the reader began waiting on the socket; 0 while it is not
	waitTotal atomic.Int64 // time spent waiting on the socket, finished waits
	pingBase  atomic.Int64 // waited() when the outstanding ping was sent; -1 when none

	// Guarded by Client.deliverMu.
	mode   int
	queue  []*schema.WsFrame // standby frames, in order
	liveCh chan struct{}     // closed when a standby connection goes live
	first  chan struct{}     // closed at the first message
	seq    uint64            // reader only
}

// dial opens connection number id; mode is modeLive or modeStandby.
func (c *Client) dial(ctx context.Context, mode int) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, c.url, &websocket.DialOptions{
		HTTPClient: c.opts.HTTPClient,
		HTTPHeader: c.opts.HTTPHeader,
	})
	if err != nil {
		return nil, dialError(resp, err)
	}
	ws.SetReadLimit(c.opts.ReadLimit)
	cn := &conn{
		c:      c,
		id:     c.nextID.Add(1),
		ws:     ws,
		born:   c.opts.Clock.Now(),
		dead:   make(chan struct{}),
		mode:   mode,
		liveCh: make(chan struct{}),
		first:  make(chan struct{}),
	}
	if mode == modeStandby {
		cn.queue = make([]*schema.WsFrame, 0, standbyQueue(c.frames.Capacity()))
	}
	cn.pingBase.Store(-1)
	cn.ctx, cn.cancel = context.WithCancel(ctx)
	cn.wg.Add(1)
	go cn.readLoop()
	if c.opts.PingInterval > 0 {
		cn.wg.Add(1)
		go cn.pingLoop()
	}
	if c.opts.IdleTimeout > 0 || c.opts.PingInterval > 0 {
		cn.wg.Add(1)
		go cn.watchdog()
	}
	return cn, nil
}

// standbyQueue is how many frames a rotation's new connection may hold
// before its reader blocks (and TCP pushes back): a quarter of the pool, so
// that the live connection still finds frames.
func standbyQueue(capacity int) int { return max(1, min(64, capacity/4)) }

// dialError classifies a failed dial: 401/403 and certificate errors are
// permanent.
func dialError(resp *http.Response, err error) error {
	var certErr *tls.CertificateVerificationError
	switch {
	case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
		return &HandshakeError{StatusCode: resp.StatusCode, Err: err}
	case errors.As(err, &certErr):
		return permanent(err)
	}
	return err
}

// fail marks the connection dead, once, and closes the socket, which ends
// its reader and pinger. Safe from any goroutine.
func (cn *conn) fail(r Reason, err error) {
	cn.deadOnce.Do(func() {
		cn.reason, cn.err = r, err
		close(cn.dead)
		cn.cancel()
		_ = cn.ws.CloseNow()
	})
}

// stop fails the connection and waits for its goroutines.
func (cn *conn) stop(r Reason) {
	cn.fail(r, nil)
	cn.wg.Wait()
}

// readLoop reads every message into a pooled frame and delivers it. It
// reads with context.Background: a context with a Done channel would cost
// allocations per read and, should it expire, close the connection. The
// connection is ended by closing it.
func (cn *conn) readLoop() {
	defer cn.wg.Done()
	c := cn.c
	bg := context.Background()
	for {
		cn.waitStart.Store(c.mono(time.Now()))
		typ, r, err := cn.ws.Reader(bg)
		if err != nil {
			cn.endWait(time.Now())
			cn.readFailed(err)
			return
		}
		f, err := c.frames.Get(cn.ctx)
		if err != nil {
			cn.endWait(time.Now())
			if errors.Is(err, pool.ErrClosed) {
				err = permanent(err)
			}
			cn.fail(ReasonReadError, err)
			return
		}
		f.Data, err = readAll(f.Data[:0], r)
		now := time.Now()
		cn.endWait(now)
		if err != nil {
			c.frames.Put(f)
			cn.readFailed(err)
			return
		}
		cn.seq++
		f.Provider = c.opts.Venue
		f.ConnID = cn.id
		f.Seq = cn.seq
		f.ReceivedAt = now.UnixNano()
		f.Binary = typ == websocket.MessageBinary
		if !f.Binary && !c.opts.SkipUTF8Check && !utf8.Valid(f.Data) {
			c.frames.Put(f)
			c.st.invalid.Add(1)
			c.report(ReasonInvalidFrame, ErrInvalidUTF8, cn.id)
			continue
		}
		c.st.messages.Add(1)
		c.st.bytes.Add(uint64(len(f.Data)))
		c.st.lastMessage.Store(f.ReceivedAt)
		c.deliver(cn, f)
	}
}

// readFailed ends the connection after a failed read.
func (cn *conn) readFailed(err error) {
	r, err := classifyRead(err, cn.c.opts.ReadLimit, cn.id)
	if r == ReasonOversized {
		cn.c.st.oversized.Add(1)
	}
	cn.fail(r, err)
}

// endWait records that the reader stopped waiting on the socket.
func (cn *conn) endWait(now time.Time) {
	start := cn.waitStart.Swap(0)
	if start != 0 {
		cn.waitTotal.Add(cn.c.mono(now) - start)
	}
}

// waited is the total time the reader has spent waiting on the socket.
func (cn *conn) waited(now int64) int64 {
	w := cn.waitTotal.Load()
	if start := cn.waitStart.Load(); start != 0 && now > start {
		w += now - start
	}
	return w
}

// readAll reads r to EOF into buf, growing it only when it is full, so that
// a reused buffer costs no allocation.
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, schema.DefaultFrameBuffer)
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// deliver hands f to the handler, parks it (standby) or drops it (retired),
// and in every case makes sure it goes back to its pool.
func (c *Client) deliver(cn *conn, f *schema.WsFrame) {
	c.deliverMu.Lock()
	for cn.mode == modeStandby && len(cn.queue) == cap(cn.queue) {
		c.deliverMu.Unlock()
		select {
		case <-cn.liveCh:
		case <-cn.dead:
			c.frames.Put(f)
			return
		}
		c.deliverMu.Lock()
	}
	switch cn.mode {
	case modeLive:
		c.handle(cn.ctx, f, cn.id)
	case modeStandby:
		if len(cn.queue) == 0 {
			close(cn.first)
		}
		cn.queue = append(cn.queue, f)
	default:
		c.frames.Put(f)
	}
	c.deliverMu.Unlock()
}

// handle runs the handler on f and returns f to its pool; deliverMu is held.
func (c *Client) handle(ctx context.Context, f *schema.WsFrame, id uint64) {
	err := c.handler(ctx, f)
	c.frames.Put(f)
	if err != nil {
		c.st.handlerErrs.Add(1)
		c.report(ReasonHandlerError, err, id)
	}
}

// goLive turns a standby connection into the live one: its queued frames
// are delivered first, then the old connection's frames are dropped.
func (c *Client) goLive(cn, old *conn) {
	c.deliverMu.Lock()
	if old != nil {
		old.mode = modeRetired
	}
	cn.mode = modeLive
	for i, f := range cn.queue {
		c.handle(cn.ctx, f, cn.id)
		cn.queue[i] = nil
	}
	cn.queue = cn.queue[:0]
	close(cn.liveCh)
	c.deliverMu.Unlock()
}

// dropQueue returns the frames of a standby connection that never went
// live; its reader has exited.
func (c *Client) dropQueue(cn *conn) {
	c.deliverMu.Lock()
	for i, f := range cn.queue {
		c.frames.Put(f)
		cn.queue[i] = nil
	}
	cn.queue = cn.queue[:0]
	c.deliverMu.Unlock()
}

// pingLoop pings every PingInterval from its own goroutine: Conn.Ping waits
// for a pong that only the reader can receive. The watchdog, not a context
// deadline, decides when a pong is late.
func (cn *conn) pingLoop() {
	defer cn.wg.Done()
	c := cn.c
	t := time.NewTimer(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-cn.ctx.Done():
			return
		}
		start := time.Now()
		cn.pingBase.Store(cn.waited(c.mono(start)))
		err := cn.ws.Ping(cn.ctx)
		cn.pingBase.Store(-1)
		if err != nil {
			cn.fail(ReasonWriteError, fmt.Errorf("wsclient: ping: %w", err))
			return
		}
		c.st.pingRTT.Store(int64(time.Since(start)))
		t.Reset(c.opts.PingInterval)
	}
}

// watchdog declares the connection dead when the reader has waited on the
// socket for IdleTimeout without a message, or for PongTimeout in all since
// the outstanding ping was sent. Time the reader spends in the handler (or
// blocked on a full standby queue) does not count, so a slow handler is not
// taken for a dead venue; messages it has not read yet wait in the kernel's
// buffers and TCP pushes back on the venue.
func (cn *conn) watchdog() {
	defer cn.wg.Done()
	c := cn.c
	idle, pong := c.opts.IdleTimeout, c.opts.PongTimeout
	tick := pong
	if c.opts.PingInterval <= 0 || (idle > 0 && idle < pong) {
		tick = idle
	}
	tk := time.NewTicker(max(tick/8, time.Millisecond))
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			m := c.mono(time.Now())
			if start := cn.waitStart.Load(); idle > 0 && start != 0 && m-start > int64(idle) {
				cn.fail(ReasonIdle, ErrIdle)
				return
			}
			if base := cn.pingBase.Load(); base >= 0 && cn.waited(m)-base > int64(pong) {
				cn.fail(ReasonPongTimeout, ErrPongTimeout)
				return
			}
		case <-cn.ctx.Done():
			return
		}
	}
}
