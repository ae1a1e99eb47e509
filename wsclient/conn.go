package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Delivery modes of a connection. They change under Client.deliverMu; the
// reader loads them without it, so that a live connection's steady path
// takes no lock.
const (
	modeLive      int32 = iota // frames go to the handler, lock-free
	modeOverlap                // live, with a rotation under way: frames go to the handler and are remembered for alignment
	modeStandby                // a rotation's new connection: frames wait in queue
	modeSkipping               // live after a rotation, dropping the repeats the old connection already delivered
	modeRetired                // ended or given up: frames are dropped unread
	modePreparing              // a rotation's new connection under Options.Prepare: frames go to the handler under the lock
	// modeReplaced: a rotation's old connection past the join, until it
	// closes: its answers (Options.IsData false) go to the handler under
	// the lock, its data is dropped (the new connection delivers it).
	modeReplaced
	// modeHeld: live, but the lock is held by a replaced connection's
	// answer (handleReplaced); the reader takes the lock and finds it
	// live again.
	modeHeld
)

// conn is one WebSocket connection and the goroutines that serve it: a
// reader, a pinger and a watchdog.
type conn struct {
	c      *Client
	id     uint64
	ws     *websocket.Conn
	raw    *rawSlot        // the socket under ws, cut when a close handshake overruns
	ctx    context.Context // ends when the connection is torn down
	cancel context.CancelFunc
	wg     sync.WaitGroup
	born   time.Time // Clock time of the dial

	// Receive stamps: the wall time of the dial plus the monotonic time
	// since, one clock read per frame instead of time.Now's two.
	wall0 int64     // Unix ns at the dial
	mono0 time.Time // the same instant, with its monotonic reading

	wmu  chan struct{} // the write turn of messages (see lockWrite)
	pace *pacer        // the budget of frames the venue counts
	// The bound of the message being written (timedWrite): a timer of
	// the connection's, when the write began (writeClock; noWrite: none),
	// and whether the bound cut the connection.
	wdog   Timer
	wStart atomic.Int64
	wCut   atomic.Bool

	dead     chan struct{} // closed by fail
	deadOnce sync.Once
	reason   Reason // set before dead is closed
	err      error

	// Liveness, sampled by the watchdog (see watchdog).
	phase  atomic.Uint64 // odd while the reader waits on the socket
	ping   atomic.Uint64 // odd while a ping is outstanding
	data   atomic.Uint64 // messages Options.IsData counted as data (DataTimeout)
	checks atomic.Uint64 // watchdog evaluations, for tests

	mode atomic.Int32 // written under Client.deliverMu
	// The reader's lock-free handler calls (modeLive), for a rotation that
	// must not call the handler before the one under way returns (see
	// handlerOut): handlerIdle, handlerBusy, or handlerAwaited once the
	// rotation waits; out carries the reader's answer.
	handling atomic.Int32
	out      chan struct{}

	// Guarded by Client.deliverMu.
	queue  []*schema.WsFrame // standby frames, in order
	hashes []uint64          // frameHash of each queued frame
	skip   []uint64          // modeSkipping: hashes of the repeats still expected
	run    bool              // skip holds only copies of the join's frame: fewer may come (overlap.run)
	cand   candidates        // an ambiguous join's places still possible (overlap.cand)
	missed int               // frames sent since the last repeat skipped that were none (skipPast)
	hist   *history          // the rotation's history when the ring may have lost a copy of the join's frame (skipPast)
	told   bool              // the rotation that left skip was reported unaligned: once a rotation
	// The buffers of the latest frames the connection delivered, for a
	// rotation of it to begin with (see pastFrames). The reader writes
	// them in its lock-free handler call (modeLive) or under deliverMu; a
	// rotation reads them under deliverMu once that call is out.
	past   pastFrames
	liveCh chan struct{} // closed when a standby connection goes live
	first  chan struct{} // closed at the first message of a standby connection
}

// dial opens a connection; mode is modeLive or modeStandby. A live one is
// made current and announced Connected before its reader starts.
func (c *Client) dial(ctx context.Context, mode int32) (*conn, error) {
	if err := c.opts.DialLimit.wait(ctx); err != nil {
		return nil, err
	}
	born := c.opts.Clock.Now()
	pace := newPacer(&c.opts)
	dctx, cancel := c.withTimeout(ctx, c.opts.DialTimeout, "dial")
	defer cancel() // a panic in Dial; otherwise stopped right after it
	dctx, raw := withRawSlot(dctx)
	ws, resp, err := websocket.Dial(dctx, c.url, &websocket.DialOptions{
		HTTPClient:   c.dialHTTP,
		HTTPHeader:   c.opts.HTTPHeader,
		Host:         c.opts.host, // net/http ignores it in the Header
		Subprotocols: c.opts.Subprotocols,
		// The pong answering a venue's ping is counted against its
		// limit of incoming messages (see pacer).
		OnPingReceived: pace.onPing,
	})
	if err != nil {
		if cause := context.Cause(dctx); ctx.Err() == nil && cause != nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		return nil, c.dialError(resp, err)
	}
	// The dial's timer is stopped as the dial ends, before the connection
	// is announced: a host's fake clock held it past Connected, and a
	// clock moved by DialTimeout after that fired it on a live connection.
	cancel()
	if g, ok := raw.get().(*frameGuard); ok {
		g.open(c.opts.discardLimit) // before the reader starts (go readLoop)
	}
	// The reader enforces Options.ReadLimit itself (readMessage): a larger
	// message is read to its end and dropped, the connection kept.
	// coder/websocket's own limit, which closes the connection (1009), is
	// the bound of what is read to be dropped.
	ws.SetReadLimit(c.opts.discardLimit)
	cn := &conn{
		c:      c,
		id:     c.nextID.Add(1),
		ws:     ws,
		raw:    raw,
		born:   born,
		dead:   make(chan struct{}),
		wmu:    make(chan struct{}, 1),
		pace:   pace,
		liveCh: make(chan struct{}),
		out:    make(chan struct{}, 1),
		first:  make(chan struct{}),
	}
	cn.wStart.Store(noWrite)
	cn.wdog = c.opts.Clock.AfterFunc(c.opts.WriteTimeout, cn.writeOverdue)
	cn.wdog.Stop()
	cn.mono0 = time.Now()
	cn.wall0 = cn.mono0.UnixNano()
	cn.mode.Store(mode)
	if mode == modeStandby {
		n := standbyQueue(c.frames.Capacity())
		cn.queue = make([]*schema.WsFrame, 0, n)
		cn.hashes = make([]uint64, 0, n)
	}
	cn.ctx, cn.cancel = context.WithCancel(ctx)
	pace.conn = cn.ctx // before the reader starts: no ping is read before
	// Timers are armed here, before the connection is announced and not in
	// the goroutines, so that the Clock holds them from the dial on (a fake
	// clock moved right after Connected fires them).
	var pingT, dogT, beatT Timer
	var tick time.Duration
	var dog0 time.Time
	if c.opts.PingInterval > 0 {
		pingT = c.opts.Clock.NewTimer(c.opts.PingInterval)
	}
	if len(c.opts.Heartbeat) > 0 {
		beatT = c.opts.Clock.NewTimer(c.opts.HeartbeatInterval)
	}
	if c.opts.IdleTimeout > 0 || c.opts.PingInterval > 0 || c.opts.DataTimeout > 0 {
		tick = c.watchdogTick()
		dogT, dog0 = c.opts.Clock.NewTimer(tick), c.opts.Clock.Now()
	}
	if mode == modeLive {
		c.deliverMu.Lock()
		c.lf = cn
		c.deliverMu.Unlock()
		// Made current and announced before its reader starts: no frame,
		// handler error or Stats snapshot of it comes before its Connected
		// (a venue may greet at once, and data flows while paced
		// subscriptions are still being sent).
		c.setCurrent(cn)
		c.setState(Event{State: schema.ConnConnected, ConnID: cn.id})
	}
	cn.wg.Add(1)
	go cn.readLoop()
	if pingT != nil {
		cn.wg.Add(1)
		go cn.pingLoop(pingT)
	}
	if beatT != nil {
		cn.wg.Add(1)
		go cn.heartbeatLoop(beatT)
	}
	if dogT != nil {
		cn.wg.Add(1)
		go cn.watchdog(tick, dogT, dog0)
	}
	return cn, nil
}

// withTimeout is context.WithTimeout on the Clock: the context ends d after
// the call, with a cause that matches context.DeadlineExceeded and names
// what timed out.
func (c *Client) withTimeout(ctx context.Context, d time.Duration, what string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := c.opts.Clock.AfterFunc(d, func() {
		cancel(fmt.Errorf("wsclient: %s timed out after %v: %w", what, d, context.DeadlineExceeded))
	})
	return ctx, func() {
		t.Stop()
		cancel(nil)
	}
}

// standbyQueue is how many frames a rotation's new connection may hold
// before its reader blocks (and TCP pushes back): a quarter of the pool, so
// that the live connection still finds frames.
func standbyQueue(capacity int) int { return max(1, min(64, capacity/4)) }

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

// noCancel is the context of the client's own writes (subscriptions,
// pings, heartbeats). coder/websocket closes the connection outright when
// the context of a write ends during it, which would cut short the close
// handshake that follows Close; every way the client ends a connection
// closes the socket in the end (the handshake's bound, CloseNow), and that
// ends a blocked write just as well.
var noCancel = context.Background()

// timedWrite writes msg, a host's message, as a text message, holding
// cn's write turn, bounded by Options.WriteTimeout on the Clock: a write still under way
// then (a venue that reads nothing) ends the connection, and the error
// matches context.DeadlineExceeded. It gives coder/websocket a context
// without a Done channel, for coder/websocket closes the connection when
// a write's context ends mid-write, and a context per write cost a dozen
// allocations (BenchmarkWrite); the bound is a timer of the connection's,
// armed for each write.
func (cn *conn) timedWrite(msg []byte) error {
	cn.wStart.Store(cn.writeClock())
	cn.wdog.Reset(cn.c.opts.WriteTimeout)
	err := cn.ws.Write(noCancel, websocket.MessageText, msg)
	cn.wStart.Store(noWrite)
	cn.wdog.Stop()
	if err != nil && cn.wCut.Load() {
		err = fmt.Errorf("wsclient: write timed out after %v: %w: %w", cn.c.opts.WriteTimeout, context.DeadlineExceeded, err)
	}
	return err
}

// noWrite is wStart when no write is under way.
const noWrite = math.MinInt64

// writeClock is the Clock's time since cn's dial, in ns: on the wall
// clock, its monotonic reading (a step of the wall clock does not move
// it).
func (cn *conn) writeClock() int64 {
	return int64(cn.c.opts.Clock.Now().Sub(cn.born))
}

// writeOverdue is the bound of timedWrite: it ends the connection when
// the write under way began WriteTimeout ago or more. A firing that finds
// no write under way is a stale one, after the write it was armed for; one
// that finds a younger write than WriteTimeout (a stale firing, or a
// Clock whose time runs behind its timers) arms the timer again for the
// time that write has left: dropped, it left the write unbounded.
func (cn *conn) writeOverdue() {
	start := cn.wStart.Load()
	if start == noWrite {
		return
	}
	d := cn.c.opts.WriteTimeout
	if left := d - time.Duration(cn.writeClock()-start); left > 0 {
		// Armed for the instant, not for the time left: a clock moved
		// since the reading would fire it that much late (armAt).
		armAt(cn.c.opts.Clock, cn.wdog, cn.born.Add(time.Duration(start)+d))
		return
	}
	cn.wCut.Store(true)
	cn.fail(ReasonWriteError, fmt.Errorf("wsclient: write on connection %d timed out after %v: %w", cn.id, d, context.DeadlineExceeded))
}

// writeOwn writes one of the client's own messages (a subscription, a
// heartbeat), counted against the venue's limit (lockCounted). It waits
// for its turn and the budget until cn ends.
func (cn *conn) writeOwn(msg []byte) error {
	if err := cn.lockCounted(cn.ctx); err != nil {
		return err
	}
	defer cn.unlockWrite()
	// Not bounded by WriteTimeout: a subscription or heartbeat the venue
	// does not read holds up the pings behind it, and the pong timeout
	// ends the connection; Close cuts it (cutWhenEnded).
	return cn.ws.Write(noCancel, websocket.MessageText, msg)
}

// writeFailed ends the connection after a failed ping or subscription
// write. A write usually fails because the venue closed the connection, and
// then the reader is about to return the venue's close frame, which says
// far more (code and reason) than the write error: the reader gets the first
// word, and the write error ends the connection only if the reader has not
// within PongTimeout.
func (cn *conn) writeFailed(err error) {
	t := cn.c.opts.Clock.NewTimer(cn.c.opts.PongTimeout)
	defer t.Stop()
	select {
	case <-cn.dead:
	case <-t.C():
		cn.fail(ReasonWriteError, err)
	}
}

// stop ends the connection and waits for its goroutines. A connection
// ended by choice (Close, rotation) that is still up gets a close handshake
// bounded by Options.CloseTimeout: by bound, armed by a caller that
// announces the end before stop runs (stopAside), or nil to arm it now.
// Any other is cut at once. stop stops bound.
func (cn *conn) stop(r Reason, bound Timer) {
	first := false
	cn.deadOnce.Do(func() {
		cn.reason = r
		close(cn.dead)
		cn.cancel()
		first = true
	})
	switch {
	case first && graceful(r) && cn.c.opts.CloseTimeout > 0:
		if bound == nil {
			bound = cn.c.closeBound()
		}
		cn.closeHandshake(bound) // stops bound
	case first:
		_ = cn.ws.CloseNow()
		fallthrough
	default:
		if bound != nil {
			bound.Stop()
		}
	}
	cn.wg.Wait()
}

// readLoop reads every message into a pooled frame and delivers it. It
// reads with context.Background: a context with a Done channel would cost
// allocations per read and, should it expire, close the connection. The
// connection is ended by closing it.
//
// The reader owns one frame and reuses it for message after message while
// the handler runs synchronously; it takes another only when a rotation
// queues the frame, and returns its frame to the pool when it exits. Per
// message it reads the clock once (ReceivedAt), checks UTF-8 (text frames,
// unless SkipUTF8Check), and makes five uncontended atomic operations: two
// liveness marks for the watchdog (phase) and three counters for Stats,
// and takes one uncontended read lock (live: two more atomic operations).
// It takes no other lock unless a rotation is under way. The counters are
// written with Add, not as single-writer Load+Store: during a rotation two
// readers of one client count at once, and on amd64 a Store is an XCHG,
// no cheaper than the LOCK XADD of Add.
func (cn *conn) readLoop() {
	defer cn.wg.Done()
	c := cn.c
	bg := context.Background()
	// Loop invariants, held in registers or on the stack: the handler
	// call in between keeps the compiler from hoisting loads of fields.
	ctx, id, venue := cn.ctx, cn.id, c.opts.Venue
	wall0, mono0 := cn.wall0, cn.mono0
	checkUTF8, limit := !c.opts.SkipUTF8Check, c.opts.ReadLimit
	var isData func([]byte) bool // nil unless DataTimeout is on
	if c.opts.DataTimeout > 0 {
		isData = c.opts.IsData
	}
	st := &c.st
	var seq uint64 // of the frames read, from 1
	var f *schema.WsFrame
	defer func() {
		if f != nil {
			c.putFrame(f)
		}
	}()
	for {
		if f == nil {
			var err error
			if f, err = cn.frame(); err != nil {
				if errors.Is(err, pool.ErrClosed) {
					err = permanent(err)
				}
				cn.fail(ReasonReadError, err)
				return
			}
		}
		cn.phase.Add(1) // waiting on the socket
		typ, err := readMessage(bg, cn.ws, f, limit)
		cn.phase.Add(1) // busy
		if err != nil {
			var big *OversizedError
			if errors.As(err, &big) {
				// Read to its end and dropped: the connection and the
				// messages after it are unharmed (DESIGN contract 6). It
				// takes its number, as an invalid message does: the
				// frames' Seq shows that one is missing.
				seq++
				big.ConnID = id
				st.oversized.Add(1)
				c.report(ReasonOversized, big, id)
				continue
			}
			cn.readFailed(err)
			return
		}
		now := wall0 + int64(time.Since(mono0))
		seq++
		f.Provider = venue
		f.ConnID = id
		f.Seq = seq
		f.ReceivedAt = now
		f.Binary = typ == websocket.MessageBinary
		if checkUTF8 && !f.Binary && !utf8.Valid(f.Data) {
			st.invalid.Add(1)
			c.report(ReasonInvalidFrame, ErrInvalidUTF8, id)
			continue
		}
		st.lastMessage.Store(now)
		if isData != nil && isData(f.Data) {
			cn.data.Add(1)
		}
		cn.handling.Store(handlerBusy)
		if cn.mode.Load() == modeLive {
			c.handle(ctx, f, id)
			cn.past.keep(f) // inside the call a rotation waits for (handlerOut)
			cn.handlerDone()
			continue
		}
		cn.handlerDone()
		f = c.deliverShared(cn, f)
	}
}

const (
	handlerIdle int32 = iota
	handlerBusy
	handlerAwaited
	// handlerSeed: busy, and a rotation's seed waits for the call's end
	// (without blocking: see overlap.seed), which makes it.
	handlerSeed
)

// handlerDone ends the reader's lock-free handler call, telling a rotation
// that waits for it, or seeding the one that asked (overlap.seed).
func (cn *conn) handlerDone() {
	switch cn.handling.Swap(handlerIdle) {
	case handlerAwaited:
		cn.out <- struct{}{}
	case handlerSeed:
		c := cn.c
		c.deliverMu.Lock()
		if ov := c.ov; ov != nil && ov.old == cn {
			ov.seed()
		}
		c.deliverMu.Unlock()
	}
}

// handlerOut waits until the reader of cn, no longer live, has returned
// from a lock-free handler call it began while it was: the reader reads
// its mode without the lock, so a call begun just before a rotation
// changed the mode may still run when the rotation first delivers
// (goLive) — two handler calls at once, which the handler's contract
// forbids (a parser's state raced). The reader marks each call (one
// atomic store and swap, no lock on the steady path); the mode is stored
// first, so a call begun after this looks at the mode and takes the lock.
// deliverMu is held: of two waits at once, the second would not wait.
// A wait that takes a rotation's mark (handlerSeed) seeds it, as
// handlerDone would have: the seed must not wait for a frame that may
// never come (a quiet old stream, the new connection's reader waiting
// for the switch with its queue full).
func (cn *conn) handlerOut() {
	switch {
	case cn.handling.CompareAndSwap(handlerBusy, handlerAwaited):
		<-cn.out
	case cn.handling.CompareAndSwap(handlerSeed, handlerAwaited):
		<-cn.out
		if ov := cn.c.ov; ov != nil && ov.old == cn {
			ov.seed()
		}
	}
}

// frame takes a frame from the pool for the reader. When the pool is
// exhausted (shared by more connections than it has frames, or holding a
// rotation's queue) the reader says so, once per wait, and waits: nothing is
// read from the connection meanwhile, and the host must know why.
func (cn *conn) frame() (*schema.WsFrame, error) {
	c := cn.c
	f, err := c.frames.TryGet()
	if errors.Is(err, pool.ErrExhausted) {
		c.st.poolWaits.Add(1)
		c.report(ReasonPoolExhausted, ErrFramesExhausted, cn.id)
		f, err = c.frames.Get(cn.ctx)
	}
	if err == nil {
		if n := int64(cap(f.Data)); n > maxKeptFrame && n > c.frameCap.Load() {
			c.frameCap.Store(n) // readers take frames one at a time per connection; a lost race only keeps a smaller size
		}
	}
	return f, err
}

// maxKeptFrame is the largest buffer a frame takes back to the pool. A
// reader's frame grows to the largest message of its connection and keeps
// that size while the connection lives (no allocation per message); but
// the pool keeps a frame's capacity, and a venue that sends a large
// snapshot at each connection (Coinbase's level2, the whole book) would
// over reconnects leave every frame of the pool holding megabytes.
const maxKeptFrame = 256 << 10

// putFrame returns f to the pool, with a new buffer of the default size
// when its own grew past maxKeptFrame (one allocation, off the per-message
// path: when a connection ends or a rotation's queued frame is done). A
// host whose pool makes frames larger than that on purpose (frameCap:
// room for its venue's snapshot) keeps them that size: its frames are
// shrunk only past it, and to it.
func (c *Client) putFrame(f *schema.WsFrame) {
	if n := cap(f.Data); n > maxKeptFrame {
		if host := int(c.frameCap.Load()); host > 0 {
			if n > host {
				f.Data = make([]byte, 0, host)
			}
		} else {
			f.Data = make([]byte, 0, schema.DefaultFrameBuffer)
		}
	}
	c.frames.Put(f)
}

// readFailed ends the connection after a failed read.
func (cn *conn) readFailed(err error) {
	r, err := classifyRead(err, cn.c.opts.discardLimit, cn.id)
	if r == ReasonOversized {
		cn.c.st.oversized.Add(1)
	}
	cn.fail(r, err)
}

// readMessage reads the connection's next message into f.Data, at most
// limit bytes of it: a larger message is read on to its end without being
// kept (a fixed scratch buffer, so its size costs no memory) and is an
// [*OversizedError] with the message's size; f.Data then holds nothing of
// it. A panic while reading (coder/websocket's parsing of the venue's
// bytes, or the transport under it) is recovered into an error matching
// ErrReadPanic: the connection is lost, the host's program is not.
func readMessage(ctx context.Context, ws *websocket.Conn, f *schema.WsFrame, limit int64) (typ websocket.MessageType, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrReadPanic, p)
		}
	}()
	typ, r, err := ws.Reader(ctx)
	if err == nil {
		f.Data, err = readAll(f.Data[:0], r, limit)
	}
	return typ, err
}

// readAll reads r to EOF into buf, growing it only when it is full, so that
// a reused buffer costs no allocation. Past limit bytes it reads on to EOF
// into a scratch buffer, keeps nothing, and returns buf empty and an
// [*OversizedError] (ConnID unset: the caller's).
func readAll(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, growth(0, schema.DefaultFrameBuffer, limit))
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return discard(buf, r, limit)
			}
			buf = slices.Grow(buf, growth(len(buf), cap(buf), limit))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			if int64(len(buf)) > limit {
				return buf[:0], &OversizedError{Limit: limit, Size: int64(len(buf)), Err: websocket.ErrMessageTooBig}
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// growth is how many bytes a buffer holding n bytes grows by: by, or
// less so as to pass limit by one byte at most — that byte tells an
// oversized message from one of exactly limit bytes.
func growth(n, by int, limit int64) int {
	if rest := limit - int64(n); rest < int64(by) {
		return int(rest) + 1
	}
	return by
}

// discard reads the rest of an oversized message, of which buf holds the
// first bytes (io.Discard reads through a pooled buffer: nothing kept, no
// allocation), and returns buf empty and the [*OversizedError].
func discard(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return buf[:0], err
	}
	return buf[:0], &OversizedError{Limit: limit, Size: int64(len(buf)) + n, Err: websocket.ErrMessageTooBig}
}

// handle counts f as delivered (Stats.Messages and Bytes: a frame a
// rotation drops as a repeat is not counted) and runs the handler on it.
// The caller owns f before and after.
func (c *Client) handle(ctx context.Context, f *schema.WsFrame, id uint64) {
	c.st.messages.Add(1)
	c.st.bytes.Add(uint64(len(f.Data)))
	if err := c.handler(ctx, f); err != nil {
		c.handlerFailed(err, id)
	}
}

func (c *Client) handlerFailed(err error, id uint64) {
	c.st.handlerErrs.Add(1)
	c.report(ReasonHandlerError, err, id)
}

// deliverShared delivers f when cn is not simply live: during a rotation,
// on standby, skipping repeats or retired. It returns the frame the reader
// keeps for its next message: f, or nil when f was queued.
func (c *Client) deliverShared(cn *conn, f *schema.WsFrame) *schema.WsFrame {
	c.deliverMu.Lock()
	for cn.mode.Load() == modeStandby && len(cn.queue) == cap(cn.queue) {
		c.deliverMu.Unlock()
		select {
		case <-cn.liveCh:
		case <-cn.dead:
			return f
		}
		c.deliverMu.Lock()
	}
	defer c.deliverMu.Unlock()
	if ov := c.ov; ov != nil && ov.old == cn {
		ov.seed() // before cn's first frame of the overlap
	}
	switch cn.mode.Load() {
	case modeLive, modeHeld:
		c.handle(cn.ctx, f, cn.id)
		cn.past.keep(f)
	case modeReplaced:
		if c.answer(f) {
			c.handleReplaced(cn, f)
		}
		// Its data after the join is the new connection's to deliver;
		// a rotation given up then leaves it undelivered, the gap
		// restoreOld reports. Kept, the frames cn reads go on without a
		// hole: the next rotation's new connection that repeats them
		// drops them as the loss reported, neither delivered out of
		// their place nor reported again.
		cn.past.keep(f)
	case modeOverlap:
		// A rotation begun while cn still skipped the repeats of the one
		// before it: they were delivered, by the connection cn replaced.
		if (len(cn.skip) > 0 || cn.hist != nil) && c.skipRepeat(cn, f) {
			cn.past.keep(f) // delivered, by the connection cn replaced
			return f
		}
		c.handle(cn.ctx, f, cn.id)
		if c.ov != nil {
			c.ov.oldDelivered(f.Data)
		}
		cn.past.keep(f) // for the next rotation, should this one fail
	case modePreparing:
		// The old connection's reader may still be in a lock-free call
		// begun before the rotation changed its mode: the handler takes
		// one call at a time (as goLive waits for it).
		if c.ov != nil {
			c.ov.old.handlerOut()
		}
		c.handle(cn.ctx, f, cn.id)
	case modeStandby:
		if c.ov == nil || c.ov.newArrived(cn, f) {
			return f // the rotation was given up, or the old connection delivered it already
		}
		return nil
	case modeSkipping:
		if !c.skipRepeat(cn, f) {
			c.handle(cn.ctx, f, cn.id)
		}
		cn.past.keep(f) // delivered, or by the connection cn replaced
	}
	return f
}

// handleReplaced delivers f, an answer the replaced connection cn read
// (a refusal or an ack of a request the host sent on it: the new
// connection never has it), while the live connection may deliver
// without the lock: that one is held to the lock (modeHeld) for the call,
// once its lock-free call under way returned, so that the handler is
// never called twice at once. A live connection no longer modeLive (a
// rotation begun since, within old's grace: modeOverlap) delivers under
// the lock from now on, but may still be in a call begun while it was:
// that one is waited for too. deliverMu is held.
func (c *Client) handleReplaced(cn *conn, f *schema.WsFrame) {
	lf := c.lf
	if lf == nil || lf == cn {
		c.handle(cn.ctx, f, cn.id) // nothing delivers without the lock
		return
	}
	held := lf.mode.CompareAndSwap(modeLive, modeHeld)
	lf.handlerOut()
	c.handle(cn.ctx, f, cn.id)
	if held {
		lf.mode.Store(modeLive)
	}
}

// dropQueue returns the frames of a standby connection that never went
// live; its reader has exited.
func (c *Client) dropQueue(cn *conn) {
	c.deliverMu.Lock()
	c.putQueue(cn)
	c.deliverMu.Unlock()
}

// putQueue returns every queued frame of cn; deliverMu is held.
func (c *Client) putQueue(cn *conn) {
	for i, f := range cn.queue {
		c.putFrame(f)
		cn.queue[i] = nil
	}
	cn.queue = cn.queue[:0]
	cn.hashes = cn.hashes[:0]
}

// pingLoop pings every PingInterval from its own goroutine: Conn.Ping waits
// for a pong that only the reader can receive. The watchdog, not a context
// deadline, decides when a pong is late.
func (cn *conn) pingLoop(t Timer) {
	c := cn.c
	cn.every(t, c.opts.PingInterval, "ping", func() error {
		if err := cn.pace.take(cn.ctx, false); err != nil {
			return err
		}
		if err := c.opts.MessageLimit.take(cn.ctx, false); err != nil {
			return err
		}
		start := time.Now()
		cn.ping.Add(1) // outstanding
		err := cn.ws.Ping(noCancel)
		cn.ping.Add(1)
		if err == nil {
			c.st.pingRTT.Store(int64(time.Since(start)))
		}
		return err
	})
}

// heartbeatLoop writes Options.Heartbeat every HeartbeatInterval: the
// application-level ping of venues that close a connection on which they
// received nothing (OKX after 30 s) or ask for one (Bybit: every 20 s).
// Its answer is an ordinary message for the handler, and feeds the idle
// watchdog like any other.
func (cn *conn) heartbeatLoop(t Timer) {
	c := cn.c
	cn.every(t, c.opts.HeartbeatInterval, "heartbeat", func() error {
		return cn.writeOwn(c.opts.Heartbeat)
	})
}

// every runs send each time t fires, then every interval, until the
// connection's context ends; a send that fails on a live connection
// fails it (what names the send in the error).
func (cn *conn) every(t Timer, interval time.Duration, what string, send func() error) {
	defer cn.wg.Done()
	defer t.Stop()
	for {
		select {
		case <-t.C():
		case <-cn.ctx.Done():
			return
		}
		if err := send(); err != nil {
			if cn.ctx.Err() == nil {
				cn.writeFailed(fmt.Errorf("wsclient: %s: %w", what, err))
			}
			return
		}
		t.Reset(interval)
	}
}

// watchdogTick is the watchdog's sampling period: an eighth of the shorter
// timeout in use, at least 1 ms.
func (c *Client) watchdogTick() time.Duration {
	tick := time.Duration(math.MaxInt64)
	if c.opts.PingInterval > 0 {
		tick = c.opts.PongTimeout
	}
	if c.opts.IdleTimeout > 0 {
		tick = min(tick, c.opts.IdleTimeout)
	}
	if c.opts.DataTimeout > 0 {
		tick = min(tick, c.opts.DataTimeout)
	}
	return max(tick/8, time.Millisecond)
}

// watchdog declares the connection dead when the reader has waited on the
// socket for IdleTimeout without a message, or for PongTimeout in all since
// the outstanding ping was sent.
//
// It samples instead of timing every wait, so that the reader reads no
// clock for liveness: every tick (an eighth of the shorter timeout, on the
// Clock) it looks at the reader's phase. An interval in which the reader
// stayed waiting counts in full; one in which it stayed in the handler (or
// blocked on a full standby queue) counts nothing; one in which messages
// arrived counts for the pong timeout if the reader was waiting at its end
// (an unbiased estimate of the share of time spent waiting) and restarts
// the idle count. Detection thus comes within one tick after the timeout.
// A slow handler is never taken for a dead venue: messages it has not read
// yet wait in the kernel's buffers and TCP pushes back on the venue.
func (cn *conn) watchdog(tick time.Duration, t Timer, prev time.Time) {
	defer cn.wg.Done()
	c := cn.c
	clk := c.opts.Clock
	idle, pong, noData := c.opts.IdleTimeout, c.opts.PongTimeout, c.opts.DataTimeout
	pinging := c.opts.PingInterval > 0
	defer t.Stop()
	// The marks as they were when t was armed (prev, in dial): zero, for
	// the reader and the pinger start after. Not loaded here: this
	// goroutine may be scheduled after the first ping went out, and the
	// time since prev would then all count as the pong's wait.
	var lastPhase, lastPing, lastData uint64
	var idleWait, pongWait, dataWait time.Duration
	for {
		select {
		case <-t.C():
		case <-cn.ctx.Done():
			return
		}
		now := clk.Now()
		dt := now.Sub(prev)
		prev = now
		p, pg, d := cn.phase.Load(), cn.ping.Load(), cn.data.Load()
		waiting := p&1 == 1
		if waiting && p == lastPhase {
			idleWait += dt
		} else {
			idleWait = 0
		}
		switch {
		case pg&1 == 0 || pg != lastPing: // no ping out, or a new one
			pongWait = 0
		case waiting:
			pongWait += dt
		}
		switch { // as the pong's wait: other messages do not restart it
		case d != lastData:
			dataWait = 0
		case waiting:
			dataWait += dt
		}
		lastPhase, lastPing, lastData = p, pg, d
		if idle > 0 && idleWait >= idle {
			cn.fail(ReasonIdle, ErrIdle)
			return
		}
		if noData > 0 && dataWait >= noData {
			cn.fail(ReasonNoData, ErrNoData)
			return
		}
		if pinging && pongWait >= pong {
			cn.fail(ReasonPongTimeout, ErrPongTimeout)
			return
		}
		t.Reset(tick)
		cn.checks.Add(1) // after Reset: a test that saw it may advance the clock
	}
}

// ingestNow reads cn's receive-stamp clock (ReceivedAt's: the dial's wall
// time plus the monotonic time since): an event stamped with it orders
// after every frame cn delivered. The wall clock before the dial.
func (cn *conn) ingestNow() int64 {
	if cn.mono0.IsZero() {
		return time.Now().UnixNano()
	}
	return cn.wall0 + int64(time.Since(cn.mono0))
}
