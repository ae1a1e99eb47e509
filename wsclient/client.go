package wsclient

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Handler receives every message. It is called from the reader goroutine,
// never concurrently with itself (also not during a rotation), with a
// context that ends when the connection or Run ends. The reader owns f and
// reuses it for the next message once the handler returns: the handler
// MUST NOT keep f or f.Data. An error is counted and reported
// as an [Event] with [ReasonHandlerError]; it never closes the connection.
type Handler func(ctx context.Context, f *schema.WsFrame) error

// Client keeps one venue connection up: it dials, subscribes, reads, checks
// liveness, reconnects and rotates. Build it with [New], drive it with
// [Client.Run] and stop it with [Client.Close]. Its methods are safe for
// concurrent use; the zero value is not usable.
type Client struct {
	retiredTS int64 // ingestNow of the connection serve retired last; Run's goroutine only
	url       string
	opts      Options
	dialHTTP  *http.Client // opts.HTTPClient, its transport wrapped by rawTracker
	handler   Handler
	frames    *pool.Pool[*schema.WsFrame]
	// frameCap is the largest buffer, past maxKeptFrame, that a frame had
	// when a reader took it: the size the host's pool makes them (see
	// putFrame).
	frameCap atomic.Int64
	subMsgs  [][]byte
	seed     maphash.Seed // of frameHash

	life     context.Context // canceled by Close
	kill     context.CancelFunc
	running  atomic.Bool
	closeCtx atomic.Pointer[context.Context] // the first Close's: it bounds the close handshakes too
	runDone  chan struct{}                   // closed when Run returns
	rotReq   chan uint64                     // Rotate's requests: the connection to replace

	deliverMu sync.Mutex // serializes the handler during rotations
	ov        *overlap   // the rotation under way; guarded by deliverMu
	// lf is the connection that delivers, or may, without deliverMu
	// (modeLive): the latest dialled live or made live by a rotation.
	// Guarded by deliverMu.
	lf *conn

	mu  sync.Mutex
	cur *conn // the connection Write uses

	// reported is the connection whose loss was last reported (lost); only
	// the goroutine that runs supervise touches it.
	reported uint64
	// asked is the instant of a failed rotation's retry when the venue
	// asked for that wait (a Retry-After, or a floor retryFloor gives):
	// the redial after the old connection's loss keeps to it, and its
	// Reconnecting event then tells askedErr, the rotation's error, as
	// the error behind that wait. Zero (nil) when none; the goroutine
	// that runs supervise only.
	asked    time.Time
	askedErr error
	aside    sync.WaitGroup // connections being stopped beside the main loop (stopAside)
	// graceEnd ends the grace of the replaced connection retireAside keeps
	// (one at a time); used only by the rotating loop.
	graceEnd chan struct{}

	events chan Event // nil without OnEvent
	evWG   sync.WaitGroup

	nextID atomic.Uint64
	st     counters
}

// counters back Stats.
type counters struct {
	state                            atomic.Uint32
	connID                           atomic.Uint64
	messages, bytes                  atomic.Uint64
	oversized, invalid, handlerErrs  atomic.Uint64
	rotations, eventsDropped, undrop atomic.Uint64
	eventPanics                      atomic.Uint64
	unaligned, poolWaits, dropped    atomic.Uint64
	lastMessage, pingRTT             atomic.Int64
	reconnects                       [numReasons]atomic.Uint64
}

// New checks the URL and options and returns a client that has not
// connected yet. The URL must be ws:// or wss://; h must not be nil.
func New(rawURL string, h Handler, opts *Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, permanent(err)
	}
	if (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, permanent(fmt.Errorf("wsclient: URL %q is not ws:// or wss://", rawURL))
	}
	if h == nil {
		return nil, errors.New("wsclient: nil handler")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	subMsgs := buildSubscriptions(&o)
	if err := textMessages(&o, subMsgs); err != nil {
		return nil, err
	}
	c := &Client{
		url:      rawURL,
		opts:     o,
		dialHTTP: dialClient(o.HTTPClient, o.Clock, o.HTTPHeader, o.proxyAuth),
		handler:  h,
		frames:   o.Frames,
		subMsgs:  subMsgs,
		seed:     maphash.MakeSeed(),
		runDone:  make(chan struct{}),
		rotReq:   make(chan uint64, 1),
	}
	c.life, c.kill = context.WithCancel(context.Background())
	if o.OnEvent != nil {
		c.events = make(chan Event, o.EventBuffer)
	}
	return c, nil
}

// Run connects and keeps the connection up until ctx ends, Close is called
// or a permanent error occurs; it returns nil after Close, ctx.Err() when ctx
// ended, and an error matching [ErrPermanent] otherwise. Every goroutine it
// started has stopped and every frame is back in its pool when it returns.
// It may be called once. A nil ctx returns [pool.ErrNilContext] (the
// Client untouched: Run may then be called with a real one).
func (c *Client) Run(ctx context.Context) error {
	if ctx == nil {
		return pool.ErrNilContext
	}
	if c.life.Err() != nil {
		return ErrClosed
	}
	if !c.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(c.runDone)
	if c.life.Err() != nil {
		// Close came between the check above and the swap: it saw no Run
		// to wait for and returned, so this one must not start anything
		// (no dial, no OnEvent after Close returned).
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.life, cancel)
	defer stop()

	if c.events != nil {
		c.evWG.Add(1)
		go c.eventLoop()
	}
	err := c.supervise(ctx)
	cancel() // ends the grace of a replaced connection (retireAside)
	c.aside.Wait()
	// A refused handshake leaves its HTTP connection idle in the
	// transport, with net/http's reader and writer goroutines: close it.
	c.dialHTTP.CloseIdleConnections()
	if c.life.Err() != nil && !errors.Is(err, ErrPermanent) {
		err = nil // Close: nothing went wrong
	}
	c.setState(Event{State: schema.ConnClosed, Reason: ReasonClosed, Err: err})
	if c.events != nil {
		close(c.events)
		c.evWG.Wait()
	}
	return err
}

// Close stops Run and waits until it has returned, or until ctx ends. It is
// idempotent and safe to call before, during or after Run, but not from the
// handler or OnEvent (Run waits for them). The open connections are closed
// with a close handshake that lasts at most Options.CloseTimeout, or until
// the ctx of the first Close ends, whichever comes first. A nil ctx
// returns [pool.ErrNilContext] and closes nothing.
func (c *Client) Close(ctx context.Context) error {
	if ctx == nil {
		return pool.ErrNilContext
	}
	c.closeCtx.CompareAndSwap(nil, &ctx)
	c.kill()
	if !c.running.Load() {
		return nil
	}
	select {
	case <-c.runDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wsclient: close: %w", ctx.Err())
	}
}

// Rotate asks for the current connection to be replaced now,
// make-before-break, as at Options.MaxAge (see the package doc): for a
// venue that announced it will close the connection soon, such as
// Binance's serverShutdown event ("Please establish a new connection as
// soon as possible") or OKX's notice 64008 (a service upgrade); a private
// stream, which sends nothing before its login, needs Options.Prepare for
// it. It returns at once; the rotation shows in the events (ConnRotating, then Connected
// with ReasonRotation, or Connected with the error of a failed rotation,
// retried after a backoff while the old connection lasts). A request names
// the connection it was made on: one made twice, or during a rotation,
// counts once, and one whose connection was since replaced is dropped;
// one made while a failed rotation waits for its retry is that retry,
// which keeps to its backoff or the venue's Retry-After. A new connection
// lagging more than the old one's latest 32 frames from before the
// request reports a loss that is none (see Options.MaxAge). It returns
// ErrClosed after Close and ErrNotConnected when no connection is up.
// Safe for concurrent use, and from the handler or OnEvent.
func (c *Client) Rotate() error {
	cn, err := c.current()
	if err != nil {
		return err
	}
	for {
		select {
		case c.rotReq <- cn.id:
			return nil
		default:
		}
		select { // an older request: this one replaces it
		case <-c.rotReq:
		default:
		}
	}
}

// Write sends a text message on the current connection (during a rotation,
// the old one until the switch). It is safe for concurrent use; messages
// are written one at a time, in the order their writers got their turn.
// It is not paced unless Options.PaceWrites says so.
//
// What the result says of the message, for a caller deciding whether an
// order went out:
//
//   - nil: the message was written whole to the socket (not a receipt:
//     the venue's answer is that).
//   - an error matching [ErrNotSent]: nothing of it was written, and
//     nothing will be; sending it again cannot make a duplicate. So it is
//     when ctx ends (or has ended) before the message's write begins —
//     while it waits for its turn behind other messages or, with
//     PaceWrites, for the budget —, the error then matching ctx's error
//     too; when no connection is up ([ErrNotConnected]), after Close
//     ([ErrClosed]), when the connection ended before the write began
//     ([ErrConnChanged]), and for a message that is not UTF-8
//     ([ErrInvalidUTF8]: the venue would fail the connection on it, RFC
//     6455 §8.1). The connection is untouched.
//   - an error matching [ErrMaybeSent]: the write began and failed; any
//     part of the message, all of it included, may have reached the
//     venue. The connection is lost (coder/websocket closes a connection
//     whose write fails) and the client reconnects; ask the venue what it
//     has (an order's status) before sending it again.
//
// ctx bounds only the wait for the write's turn. Once the message's write
// has begun it is written to the end whatever ctx does, bounded by
// Options.WriteTimeout: coder/websocket closes a connection whose write
// context ends mid-write, which would take the connection, with every
// other order and stream on it, for one caller's deadline. A write still
// under way after WriteTimeout (a venue that reads nothing) ends the
// connection and returns ErrMaybeSent.
//
// What Write sends belongs to that connection only: a subscription sent
// with Write is not sent again on the next connection, after a loss or a
// rotation alike (a rotation reports no loss, only a Connected event with
// a new ConnID and ReasonRotation). Put lasting subscriptions in
// Options.Subscriptions or Options.Topics, or send them again on every
// Connected event with a new ConnID (WriteConn names it).
func (c *Client) Write(ctx context.Context, msg []byte) error {
	if ctx == nil {
		return notSent(pool.ErrNilContext)
	}
	cn, err := c.current()
	if err != nil {
		return notSent(err)
	}
	return cn.write(ctx, msg)
}

// current returns the connection Write uses: ErrClosed after Close,
// ErrNotConnected when none is up.
func (c *Client) current() (*conn, error) {
	if c.life.Err() != nil {
		return nil, ErrClosed
	}
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn == nil {
		return nil, ErrNotConnected
	}
	return cn, nil
}

// write sends a text message on cn for the host (see Client.Write for
// what its result means). One that is not UTF-8 is refused and not sent:
// the venue would fail the whole connection on it (RFC 6455 §8.1, 1007),
// every stream and order with it.
//
// The host's ctx never reaches coder/websocket: it closes the connection
// when the context of a write ends during the write, and even a ctx that
// ended before the call could close it (its lock picks at random between
// an ended ctx and a free lock, then arms the write's timeout on the ended
// ctx). ctx stops only the wait for cn's write turn (lockWrite); the write
// itself is bounded by Options.WriteTimeout (timedWrite).
func (cn *conn) write(ctx context.Context, msg []byte) error {
	if !utf8.Valid(msg) {
		return notSent(fmt.Errorf("wsclient: write on connection %d: %w", cn.id, ErrInvalidUTF8))
	}
	lock := cn.lockWrite
	if cn.c.opts.PaceWrites {
		lock = cn.lockCounted
	}
	if err := lock(ctx); err != nil {
		return notSent(fmt.Errorf("wsclient: write on connection %d: %w", cn.id, err))
	}
	defer cn.unlockWrite()
	if err := cn.timedWrite(msg); err != nil {
		return maybeSent(fmt.Errorf("wsclient: write on connection %d: %w", cn.id, err))
	}
	return nil
}

// lockWrite takes cn's write turn, which every message written on cn
// (the host's and the client's subscriptions and heartbeats) holds for
// its write. ctx's end, or cn's, stops the wait: nothing was written
// then. The caller unlocks with unlockWrite.
func (cn *conn) lockWrite(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case cn.wmu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-cn.dead:
		return fmt.Errorf("%w: connection %d ended", ErrConnChanged, cn.id)
	}
	// select picks at random among the ready cases: an ended ctx or
	// connection wins over the turn.
	if err := ctx.Err(); err != nil {
		cn.unlockWrite()
		return err
	}
	select {
	case <-cn.dead:
		cn.unlockWrite()
		return fmt.Errorf("%w: connection %d ended", ErrConnChanged, cn.id)
	default:
	}
	return nil
}

func (cn *conn) unlockWrite() { <-cn.wmu }

func (c *Client) setCurrent(cn *conn) {
	c.mu.Lock()
	c.cur = cn
	c.mu.Unlock()
	var id uint64
	if cn != nil {
		id = cn.id
	}
	c.st.connID.Store(id)
}

// clearCurrent takes cn from Write, unless another is current already.
func (c *Client) clearCurrent(cn *conn) {
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
		c.st.connID.Store(0)
	}
	c.mu.Unlock()
}

// State returns the current connection state.
func (c *Client) State() schema.ConnState { return schema.ConnState(c.st.state.Load()) }

// Stats is a snapshot of a client's counters.
type Stats struct {
	State      schema.ConnState
	ConnID     uint64             // the live connection, 0 when none
	Messages   uint64             // messages delivered to the handler
	Bytes      uint64             // their bytes
	Reconnects [NumReasons]uint64 // connections lost (and failed dials, under ReasonDial), by reason
	Rotations  uint64             // completed rotations
	Unaligned  uint64             // rotations that switched without aligning the streams ([ErrRotationUnaligned])
	// RotationDropped counts the frames of rotations' new connections, from
	// before the join, that the old connection never delivered and the
	// handler never saw ([ErrRotationDropped]).
	RotationDropped uint64
	Oversized       uint64        // messages over ReadLimit
	InvalidFrames   uint64        // text messages that were not UTF-8
	HandlerErrors   uint64        // errors returned by the handler
	PoolWaits       uint64        // times a reader found the frame pool exhausted and waited ([ErrFramesExhausted])
	EventsDropped   uint64        // events lost to a full queue
	OnEventPanics   uint64        // OnEvent calls that panicked (recovered) or called runtime.Goexit
	LastMessage     time.Time     // receive time of the latest message; zero if none
	PingRTT         time.Duration // round trip of the latest ping
}

// TotalReconnects is the sum of Reconnects.
func (s Stats) TotalReconnects() uint64 {
	var n uint64
	for _, v := range s.Reconnects {
		n += v
	}
	return n
}

// Stats returns the client's counters. It allocates nothing.
func (c *Client) Stats() Stats {
	s := Stats{
		State:           c.State(),
		ConnID:          c.st.connID.Load(),
		Messages:        c.st.messages.Load(),
		Bytes:           c.st.bytes.Load(),
		Rotations:       c.st.rotations.Load(),
		Unaligned:       c.st.unaligned.Load(),
		RotationDropped: c.st.dropped.Load(),
		Oversized:       c.st.oversized.Load(),
		InvalidFrames:   c.st.invalid.Load(),
		HandlerErrors:   c.st.handlerErrs.Load(),
		PoolWaits:       c.st.poolWaits.Load(),
		EventsDropped:   c.st.eventsDropped.Load(),
		OnEventPanics:   c.st.eventPanics.Load(),
		PingRTT:         time.Duration(c.st.pingRTT.Load()),
	}
	if ns := c.st.lastMessage.Load(); ns != 0 {
		s.LastMessage = time.Unix(0, ns)
	}
	for i := range s.Reconnects {
		s.Reconnects[i] = c.st.reconnects[i].Load()
	}
	return s
}
