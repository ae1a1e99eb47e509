package wsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meltica/meltica/internal/realclock"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Defaults of [Options].
const (
	DefaultDialTimeout = 10 * time.Second
	DefaultReadLimit   = 16 << 20 // a full-depth order-book snapshot fits
	// DiscardLimit is the largest message the client reads to its end to
	// drop it when it is over Options.ReadLimit (see there).
	DiscardLimit           = 1 << 30
	DefaultPingInterval    = 15 * time.Second
	DefaultPongTimeout     = 10 * time.Second
	DefaultIdleTimeout     = 30 * time.Second
	DefaultBackoffBase     = 100 * time.Millisecond
	DefaultBackoffCap      = 30 * time.Second
	DefaultBackoffReset    = 60 * time.Second
	DefaultRotationOverlap = 2 * time.Second
	// DefaultHeartbeatInterval is the period of Options.Heartbeat: Bybit
	// asks for a ping every 20 s (Bybit v5 "Connect", "How to Send the
	// Heartbeat Packet"), OKX for one within 30 s of silence (OKX v5
	// "WebSocket", "Connect").
	DefaultHeartbeatInterval = 20 * time.Second
	// DefaultCloseTimeout bounds the close handshake: a venue answers
	// within a round trip, and Close must not wait long for one that
	// does not.
	DefaultCloseTimeout = time.Second
	// DefaultTryAgainDelay is the least wait before redialling a venue
	// that closed with 1012 (service restart), 1013 (try again later) or
	// 1014 (bad gateway).
	DefaultTryAgainDelay = 5 * time.Second
	// DefaultForbiddenDelay is the least wait before redialling after a
	// handshake refused with 403 and no Retry-After: Bybit answers "403,
	// access too frequent" when an IP broke its limits and asks to "wait
	// for at least 10 minutes. The ban will be lifted automatically"
	// (Bybit v5 "Rate Limit Rules").
	DefaultForbiddenDelay = 10 * time.Minute
	// DefaultControlRate leaves headroom under Binance's limit of 5
	// incoming messages per second per connection, which counts pings,
	// pongs and JSON messages alike (Binance spot "WebSocket Streams",
	// "WebSocket Limits"), every one of which the client counts:
	// network jitter can bunch messages sent exactly 1/5 s apart into one
	// strict one-second window.
	DefaultControlRate = 4.0
	DefaultEventBuffer = 256
	// DefaultWriteTimeout bounds a host's write once begun: the bound
	// coder/websocket gives its own control frames.
	DefaultWriteTimeout = 5 * time.Second
)

// Options configure a [Client]. A nil *Options gives the defaults; New
// copies the struct, so changing it afterwards has no effect. A negative
// value disables the feature where the field says so (PingInterval,
// IdleTimeout, ControlRate, CloseTimeout); New refuses it in every other
// field.
type Options struct {
	// Venue is stamped on every frame as Provider. Defaults to empty, which
	// schema.WsFrame.Validate rejects: set it.
	Venue schema.Venue
	// Frames is the pool frames are taken from; it may be shared with other
	// clients. Each running connection's reader holds one frame for its
	// life, and a rotation's new connection queues up to a quarter of the
	// pool: give a shared pool more frames than the connections that share
	// it. A reader that finds the pool exhausted waits, reading nothing,
	// and says so ([ErrFramesExhausted], Stats.PoolWaits). Defaults to a
	// pool of its own with schema.CapWsFrame frames of
	// schema.DefaultFrameBuffer bytes.
	Frames *pool.Pool[*schema.WsFrame]

	// HTTPClient performs the handshake. Defaults to a client with a
	// transport of its own configured like http.DefaultTransport, which
	// verifies certificates of wss:// servers and takes its proxy from
	// the environment (HTTPS_PROXY, NO_PROXY). New refuses a client whose
	// *http.Transport skips verification unless AllowInsecureTLS is set.
	// An *http.Transport is cloned (settings kept, connection pool not
	// shared), so that a proxy's refusal of the tunnel reaches the host
	// as a [*HandshakeError]. After a failed dial and when Run returns,
	// the client closes its idle connections and ends the transport's
	// dials that no request waits for any more (through the transport's
	// CloseIdleConnections when it is not an *http.Transport), so that no
	// kept-alive connection, nor the TLS handshake of a dial that timed
	// out (net/http bounds it only by TLSHandshakeTimeout), keeps a
	// socket and net/http's goroutines: give such a client a transport
	// of its own if that disturbs other users of yours.
	HTTPClient *http.Client
	// AllowInsecureTLS accepts an HTTPClient with InsecureSkipVerify. Never
	// set it against a real venue. Defaults to false.
	AllowInsecureTLS bool
	// HTTPHeader is sent with every handshake (API keys, Origin,
	// User-Agent; a Host is sent as the Host). A Sec-WebSocket-Protocol
	// in it is offered as Subprotocols are (after them); New refuses a
	// Sec-WebSocket-Extensions, and a key or value net/http would not
	// send (a CR or LF in a value: every handshake would fail); a
	// Connection, Upgrade, Sec-WebSocket-Key or Sec-WebSocket-Version is
	// dropped, in any case of its key (coder/websocket sets them). Keys
	// are sent under their canonical form (http.CanonicalHeaderKey), the
	// values of keys differing only in case together. A
	// Proxy-Authorization is the proxy's: it is sent with the CONNECT of
	// an *http.Transport's proxy (as ProxyConnectHeader, unless that has
	// one), never to the venue. A redirect of the handshake to another
	// host (neither the first one nor its subdomain), and every later hop
	// of that chain, carries only its User-Agent, Origin and Accept
	// headers: the others may be
	// credentials (HTTPClient.CheckRedirect may set them again). Defaults
	// to none.
	HTTPHeader http.Header
	// DialLimit, shared by the clients of one venue and IP, spaces their
	// handshakes at its rate (see [DialLimit]: OKX allows 3 connection
	// requests per second per IP). Defaults to nil: no limit.
	DialLimit *DialLimit
	// MessageLimit, shared by the clients of one venue and IP, spaces the
	// frames they count against ControlRate at its rate, across all their
	// connections (see [MessageLimit]: Coinbase allows 8 messages per
	// second per IP). Defaults to nil: no limit beyond ControlRate's.
	MessageLimit *MessageLimit
	// DialTimeout bounds one dial, handshake included. Defaults to
	// DefaultDialTimeout (10 s).
	DialTimeout time.Duration
	// Subprotocols are offered in the handshake (Sec-WebSocket-Protocol),
	// in order of preference, for a server that asks for one; a server
	// that picks one not offered fails the dial. Defaults to none.
	Subprotocols []string
	// CloseTimeout bounds the close handshake of a connection the client
	// ends by choice (Close, the end of Run's context, a rotation's old
	// connection): a close frame with 1000 is sent and the venue's answer
	// awaited that long on the Clock, then the socket is cut. Defaults to
	// DefaultCloseTimeout (1 s); negative cuts the socket at once, without
	// a close frame (the venue sees 1006).
	CloseTimeout time.Duration

	// WriteTimeout bounds the write of a host's message ([Client.Write],
	// [Client.WriteConn]) once it has begun, on the Clock: the host's ctx
	// stops only the wait before it. A write still under way after it (a
	// venue that reads nothing) ends the connection ([ReasonWriteError]),
	// which is redialled, and returns [ErrMaybeSent]. Defaults to
	// DefaultWriteTimeout (5 s).
	WriteTimeout time.Duration

	// ReadLimit is the largest message accepted, in bytes (its payload,
	// decompressed). A larger one is read to its end without being kept
	// and dropped: an [*OversizedError], counted (Stats.Oversized) and
	// reported, and the connection is kept. Only a message larger than
	// DiscardLimit (or ReadLimit, when larger), or a frame that says it
	// is, ends the connection (the venue is told with status 1009 when
	// the bytes came) and it is re-established: that many bytes are not
	// worth waiting for. Defaults to DefaultReadLimit (16 MiB).
	ReadLimit int64
	// discardLimit replaces DiscardLimit in the package's own tests (0:
	// DiscardLimit).
	discardLimit int64
	// SkipUTF8Check delivers text messages without checking that they are
	// valid UTF-8. By default an invalid one is dropped, counted and
	// reported with [ErrInvalidUTF8]; the connection is kept.
	SkipUTF8Check bool

	// PingInterval is the time between pings. Defaults to
	// DefaultPingInterval (15 s); negative disables pings.
	PingInterval time.Duration
	// PongTimeout is how long a ping may go unanswered, counting only the
	// time the reader spends waiting on the socket (see the package doc).
	// Defaults to DefaultPongTimeout (10 s).
	PongTimeout time.Duration
	// IdleTimeout declares a connection dead when its reader has waited on
	// the socket that long without a message. Time spent in the frame
	// handler does not count. Control frames (the venue's pings, the pongs
	// to ours) do not count either: they prove the path, not the data, and
	// a venue that answers pings while its streams deliver nothing (pybit
	// #242) is the stall this watchdog exists for (DESIGN.md contract 5).
	// A stream that is quiet for longer on a healthy connection (an
	// illiquid symbol's trades on Binance, whose only keep-alive is
	// WebSocket pings) is therefore redialled every IdleTimeout: set it
	// above the quietest spell, or negative and use DataTimeout with
	// IsData for the data. Defaults to DefaultIdleTimeout (30 s);
	// negative disables it.
	IdleTimeout time.Duration
	// DataTimeout declares a connection dead ([ErrNoData], ReasonNoData)
	// when its reader has waited on the socket that long in all without a
	// message IsData counts as data, while other messages may still
	// arrive: the stall the idle watchdog cannot see, because the venue's
	// heartbeats (Kraken's, Coinbase's heartbeats channel) or its answers
	// to Heartbeat (OKX's "pong", Bybit's {"op":"pong"}) keep coming while
	// the subscriptions deliver nothing (publicly reported: pybit #242,
	// "the ping mechanism does not detect when a WebSocket connection has
	// stopped retrieving up-to-date prices"). The connection is then
	// redialled and resubscribed. It counts from the dial, the paced
	// subscriptions included. Set it above the longest quiet spell the
	// subscriptions may have on a healthy connection (a quiet market's
	// trades may pause for minutes; a book channel that pushes on change
	// only, too). Time in the handler does not count, as for IdleTimeout;
	// the estimate counts a sampling interval in which only other messages
	// arrived if the reader waited at its end. Defaults to 0: off. Needs
	// IsData.
	DataTimeout time.Duration
	// IsData reports whether a message carries the subscriptions' data,
	// for DataTimeout: false for a heartbeat, a pong, an acknowledgement.
	// A rotation uses it too: the new connection's frames from before the
	// join that it says are no data (answers to the connection's own
	// subscriptions, refusals, notices) are delivered, not dropped with
	// the data there, and so are the old connection's after the join,
	// until it closes (an answer to a request the host sent on it); see
	// the package doc. Without it they are dropped. Such frames are never
	// a point the streams are aligned on, whatever AlignKey says: two
	// connections send a heartbeat or an ack alike, at places of their
	// own. For that it is called once per frame of a rotation, under the
	// lock that serialises delivery, on the client's own goroutine and on
	// the readers of both connections. For DataTimeout it is
	// called on the reader, only while DataTimeout is set, once per
	// message read that passed the UTF-8 check, before the handler, on
	// every connection (a rotation's new one too, whose repeats of the
	// old one's messages never reach the handler), without a lock: during
	// a rotation both connections' readers call it at once, so it must be
	// safe for concurrent use (unlike the handler, which is never called
	// twice at once; a pure function of frame is). frame is the message,
	// text or binary, which it must not keep or change. It must be quick
	// and must not panic (a panic is not recovered: it ends the program,
	// as one in the handler does). Defaults to nil; required with
	// DataTimeout.
	IsData func(frame []byte) bool

	// Heartbeat is a text message sent every HeartbeatInterval on each
	// connection: the application-level ping of venues that want one on
	// top of, or instead of, WebSocket pings. OKX v5 closes a connection
	// that has pushed nothing for 30 s and answers the text "ping" with
	// "pong" ("Connect"); Bybit v5 asks for {"op":"ping"} every 20 s
	// ("How to Send the Heartbeat Packet"). The venue's answer reaches
	// the handler as any message does, and keeps the idle watchdog fed
	// on a quiet stream. It shares the connection's budget (ControlRate)
	// and is not counted as a subscription; New refuses one that is not
	// UTF-8. Defaults to nil:
	// none (Binance, Kraken and Coinbase
	// need none: Binance pings and Kraken and Coinbase send heartbeats).
	Heartbeat []byte
	// HeartbeatInterval is the period of Heartbeat, on the Clock, from
	// the dial. Defaults to DefaultHeartbeatInterval (20 s).
	HeartbeatInterval time.Duration

	// BackoffBase and BackoffCap bound the wait before redial number n:
	// a uniformly random duration in [0, min(BackoffCap, BackoffBase·2ⁿ⁻¹)]
	// (full jitter). Default to 100 ms and 30 s.
	BackoffBase, BackoffCap time.Duration
	// BackoffReset is how long the client must have delivered without a
	// break (from the dial of its first connection since the last loss:
	// a rotation is no break; to a loss for IdleTimeout or DataTimeout,
	// that timeout's silence not counted) for the next redial to start
	// again from attempt 1. Defaults to 60 s.
	BackoffReset time.Duration
	// TryAgainDelay is the least wait before redialling after the venue
	// closed the connection with 1012 (service restart), 1013 (try again
	// later) or 1014 (bad gateway): the wait is then at least TryAgainDelay
	// plus up to a quarter of it at random (jitter, so that clients sent
	// away together do not return together), or the backoff if longer.
	// Defaults to DefaultTryAgainDelay (5 s). A venue that refused what
	// the client sent (1003, 1007, 1008, 1009, 1010) or a handshake answered
	// with a 4xx status other than 401 (permanent), 403 (ForbiddenDelay)
	// and 408 waits the same way
	// for BackoffCap instead: retrying it at once would only be refused
	// again.
	TryAgainDelay time.Duration
	// ForbiddenDelay is the least wait before redialling after a handshake
	// refused with 403 and no Retry-After (plus up to a quarter of it as
	// jitter): at exchanges a 403 is a block that lifts, an IP over its
	// limits (Bybit: "wait for at least 10 minutes"; Binance: its WAF
	// limit) or a CDN's passing refusal, and retrying it sooner may keep
	// the block in place. Defaults to DefaultForbiddenDelay (10 min).
	ForbiddenDelay time.Duration

	// MaxAge turns rotation on: a connection that age, counted from its
	// dial, is replaced make-before-break (see the package doc). The join
	// of the two streams is looked for among what the old connection
	// delivered since the rotation began and its latest 32 frames before
	// it. A new connection whose venue path lags further behind (its
	// stream starts at its subscription: by more than those 32 frames and
	// the ones the old connection delivered while the new one was dialled
	// and subscribed) repeats frames the client no longer knows: they are
	// counted as never delivered, dropped and reported
	// ([ErrRotationDropped], Stats.RotationDropped: a loss that is none,
	// one resync, never a repeat nor a silent gap). More of them than the
	// new connection's queue holds (a quarter of Frames, at most 64; 50
	// by default) fill it before any joins: the rotation then switches
	// after RotationOverlap, unaligned ([ErrRotationUnaligned]: the
	// repeats are delivered again, with those of what the old connection
	// delivered meanwhile). The wait holds the new connection's reader
	// alone, the old connection delivers on: a full queue cannot tell
	// such a lag from a new stream ahead of the old one by more than the
	// queue, which joins once the old one catches up (a switch as soon
	// as the queue is full would lose the frames in between). Defaults
	// to 0, no rotation.
	MaxAge time.Duration
	// RotationOverlap bounds how long a rotation looks for the point where
	// the new connection's stream joins the old one's, from the new
	// connection's first message; after it, delivery switches unaligned
	// ([ErrRotationUnaligned]). With IsData, it is also how long the old
	// connection stays open after the switch, delivering its answers (see
	// the package doc). Defaults to 2 s.
	RotationOverlap time.Duration
	// OnReplacedEnd, when set with IsData, is called with the ConnID of a
	// connection a rotation replaced once it ended after its switch: its
	// RotationOverlap ran out, the venue closed it or it was lost, the
	// next rotation's switch ended it, or Run ended. It is called once
	// the connection's reader exited (every frame it delivered has been
	// handed to the handler), on a goroutine of the client's that Run
	// waits for, in no order with OnEvent (it may come before the
	// switch's Connected event reaches OnEvent). A host that waits for
	// answers to requests sent on that connection learns here that no
	// more will come (none is lost with the live connection: that is
	// OnEvent's Disconnected). It must not block. Defaults to nil.
	OnReplacedEnd func(connID uint64)
	// Prepare, when set, readies a rotation's new connection before the
	// switch, for a private stream that sends nothing before its login
	// (a venue's planned disconnect of it: Binance WebSocket API
	// serverShutdown, OKX notice 64008, Bybit and Kraken maintenance).
	// It is called on the rotation's goroutine once the new connection is
	// dialled and Subscriptions and Topics are sent, with its id and a
	// write to it (the same results as [Client.WriteConn]'s); the switch
	// waits for it. Meanwhile the new connection's frames are delivered
	// to the handler as they come, each with its ConnID, between the old
	// connection's (never at once with them): the answers to its login
	// and subscriptions are the host's to read there. The streams are not
	// aligned (a private stream's answers and reports are not the old
	// connection's): a report sent on both connections may be delivered
	// twice. ctx ends with Run (Close), with the new connection, and
	// RotationOverlap after the call, on the Clock; Prepare must return
	// by then. An error (or ctx's end) keeps the old connection, closes
	// the new one and reports a [*PrepareError], as a failed rotation is
	// (retried after a backoff). Defaults to nil: public streams,
	// aligned as described in the package doc.
	Prepare func(ctx context.Context, id uint64, write func(ctx context.Context, msg []byte) error) error

	// AlignKey returns the part of a frame that the venue sends alike on
	// every connection, which a rotation aligns the old and the new
	// streams on (see the package doc): the frame less a per-connection
	// id (Kraken v1's channelID), or nil (or an empty slice) for a
	// frame that marks no place in the stream and must not be aligned on
	// (a heartbeat, an answer to a request; a frame IsData calls no data
	// is never aligned on, whatever AlignKey returns). It is called only
	// during a rotation, under the lock that serialises delivery, with a
	// frame the handler has not seen yet or is done with; the slice it
	// returns may alias the frame and is not kept. It must not panic.
	// Defaults to nil: whole frames.
	AlignKey func(frame []byte) []byte

	// Subscriptions are sent as text messages, in order, on every new
	// connection; New refuses one that is not UTF-8 (a venue must fail
	// the connection on it: RFC 6455 §8.1). Defaults to none.
	Subscriptions [][]byte
	// Topics are sent after Subscriptions on every new connection, in
	// messages built by EncodeSubscribe of at most MaxTopicsPerMessage
	// topics each. Defaults to none.
	Topics []string
	// EncodeSubscribe appends to dst the subscribe message for topics; n
	// counts the messages of a connection from 1 (a request id). It is
	// called by New, which refuses a message that is not UTF-8. Required
	// with Topics.
	EncodeSubscribe func(dst []byte, n int, topics []string) []byte
	// MaxTopicsPerMessage splits Topics into several messages. Defaults to
	// 0, all topics in one message.
	MaxTopicsPerMessage int
	// MaxTopicsPerConn is the venue's limit per connection (Binance: 1024).
	// New fails with [ErrTooManyTopics] when Topics is longer. Defaults to
	// 0, no limit.
	MaxTopicsPerConn int
	// ControlRate is the budget of frames the client sends on its own
	// account on a connection (pings, the pongs that answer the venue's
	// pings, subscriptions, heartbeats; the host's messages too with
	// PaceWrites), in frames per second: each begins at least
	// 1/ControlRate after the previous one, with no burst (see the
	// package doc). Keep it under the venue's limit: a one-second window
	// closed at both ends holds ControlRate+1 of them. Defaults to
	// DefaultControlRate (4, under Binance's 5, which counts all of
	// them); negative disables pacing.
	ControlRate float64
	// PaceWrites puts the host's messages ([Client.Write],
	// [Client.WriteConn]) in the same budget as the client's own frames
	// (see ControlRate): each waits for its turn, and a ctx that ends
	// meanwhile sends nothing ([ErrNotSent]). Set it on a connection
	// whose venue counts the host's messages against the same limit, as
	// Binance's market streams count subscribe and unsubscribe requests
	// (5 per second, pings and pongs included). Defaults to false: the
	// host's messages (orders, on a venue that limits them by its own
	// rules) are not paced, and do not delay the client's frames.
	PaceWrites bool

	// OnEvent receives state changes and reported errors, in order, on a
	// goroutine of the client's own: it never runs on the reader. Events
	// wait in a queue of EventBuffer; when it is full they are dropped and
	// counted (Stats.EventsDropped, Event.Dropped). Handler and frame
	// errors use at most half the queue, so that state changes find room.
	// Defaults to nil: no events (Stats still counts). A panic in it is
	// recovered, counted (Stats.OnEventPanics) and logged; a
	// runtime.Goexit in it is counted and the next events go on.
	OnEvent func(Event)
	// EventBuffer is the length of the event queue. Defaults to 256.
	EventBuffer int
	// Logger receives the events too: state changes at Info, faults at
	// Warn (a lost connection, a failed or unaligned rotation, a permanent
	// error), never a line per message: handler errors and invalid frames
	// are logged at their 1st, 2nd, 4th, 8th… occurrence with the count.
	// Keys: venue, conn_id (from 1), state, reason, err, attempt, delay,
	// count. It is called on the goroutine that reports, so a slow
	// slog.Handler slows the client. Defaults to nil: silent.
	Logger *slog.Logger

	// Clock times every wait of the client (see [Clock]). Defaults to the
	// wall clock.
	Clock Clock
	// Rand returns a uniform random int64 in [0, n) for the backoff jitter.
	// It is called from one goroutine at a time. Defaults to
	// math/rand/v2.Int64N.
	Rand func(n int64) int64

	host      string // HTTPHeader's Host, in any case of its key
	proxyAuth string // HTTPHeader's Proxy-Authorization: the proxy's, sent with CONNECT (see proxied)
}

// Clock is the time source of every wait the client makes: the ping
// interval, the pong and idle timeouts, MaxAge and RotationOverlap, the dial
// timeout, backoff, Retry-After and subscription pacing. Tests replace it so
// that nothing in them waits on wall-clock time (the package's tests use a
// fake clock that moves only when told). Stamps that describe the network
// (schema.WsFrame.ReceivedAt, Stats.LastMessage, Stats.PingRTT) always come
// from the wall clock; Event.At comes from the Clock.
//
// The interface follows benbjohnson/clock and cenkalti/backoff: a
// replaceable Now, Sleep and timers. An implementation must be safe for
// concurrent use. One that also has a method SleepUntil(ctx
// context.Context, t time.Time) error, which sleeps until the instant t
// (a fake clock's: the time left, read before a Sleep, may be stale by
// the time it is armed), is given instants where the client waits for
// one (the frame budget, DialLimit). Without it, a wait for an instant
// (those two, MaxAge, a write bound armed again) arms a timer for the
// time left, reads Now again and arms it again if the clock moved
// meanwhile (up to three times), so that a fake clock moved exactly to
// the instant fires it. Every timer of a wait is stopped when the wait
// ends (the dial's before Connected is announced).
//
// A wait the client announces (the backoff after Reconnecting, a failed
// rotation's retry, the close handshake of the connection a rotation
// replaced or gave up) is armed before its event is sent, so that a host
// moving its fake clock on the event moves it for that wait: on
// SleepUntil, given the instant read before the event, when the Clock has
// it, else on a timer (NewTimer). The client itself never calls Sleep: a
// Clock that overrides Sleep alone does not see the backoff.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
	// NewTimer returns a timer that sends the Clock's time on C once d
	// has passed, like time.NewTimer.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f on a goroutine of its own once d has passed, like
	// time.AfterFunc; its Timer's C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer of a [Clock], with the semantics of [time.Timer] since
// Go 1.23: after Stop or Reset returns, no stale value is received from C.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; false if it had already fired
	// or been stopped.
	Stop() bool
	// Reset makes the timer fire d from now; false if it had already fired
	// or been stopped.
	Reset(d time.Duration) bool
}

// SystemClock returns the real time source, the default [Clock]. A host
// (or a test) that replaces only some of a Clock's methods embeds it.
func SystemClock() Clock { return realClock{} }

// realClock is the module's wall clock (Now, Sleep: the one recorder's
// SystemClock is too) with timers.
type realClock struct{ realclock.Clock }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// withDefaults returns a copy of opts with defaults applied, or an error for
// a combination that cannot work.
func (opts *Options) withDefaults() (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.checkNegative(); err != nil {
		return o, err
	}
	o.HTTPHeader = o.HTTPHeader.Clone() // the caller's map may change
	if err := o.handshakeHeader(); err != nil {
		return o, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = ownHTTPClient()
	}
	orDefault(&o.DialTimeout, DefaultDialTimeout)
	orDefault(&o.ReadLimit, DefaultReadLimit)
	if o.discardLimit <= 0 {
		o.discardLimit = DiscardLimit
	}
	o.discardLimit = max(o.discardLimit, o.ReadLimit)
	orDefault(&o.PingInterval, DefaultPingInterval)
	orDefault(&o.PongTimeout, DefaultPongTimeout)
	orDefault(&o.IdleTimeout, DefaultIdleTimeout)
	orDefault(&o.BackoffBase, DefaultBackoffBase)
	orDefault(&o.BackoffCap, DefaultBackoffCap)
	orDefault(&o.BackoffReset, DefaultBackoffReset)
	orDefault(&o.RotationOverlap, DefaultRotationOverlap)
	orDefault(&o.CloseTimeout, DefaultCloseTimeout)
	orDefault(&o.WriteTimeout, DefaultWriteTimeout)
	orDefault(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	o.Heartbeat = bytes.Clone(o.Heartbeat) // the caller's slice may change
	orDefault(&o.TryAgainDelay, DefaultTryAgainDelay)
	orDefault(&o.ForbiddenDelay, DefaultForbiddenDelay)
	orDefault(&o.ControlRate, DefaultControlRate)
	orDefault(&o.EventBuffer, DefaultEventBuffer)
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Int64N
	}
	if o.Frames == nil {
		o.Frames = pool.New("wsclient.frames", schema.CapWsFrame, func() *schema.WsFrame {
			return &schema.WsFrame{Data: make([]byte, 0, schema.DefaultFrameBuffer)}
		}, nil)
	}
	if o.BackoffCap < o.BackoffBase {
		o.BackoffCap = o.BackoffBase
	}
	switch {
	case o.DataTimeout > 0 && o.IsData == nil:
		return o, errors.New("wsclient: Options.DataTimeout needs Options.IsData, which tells data from heartbeats")
	case len(o.Topics) > 0 && o.EncodeSubscribe == nil:
		return o, errors.New("wsclient: Options.Topics needs Options.EncodeSubscribe")
	case o.MaxTopicsPerConn > 0 && len(o.Topics) > o.MaxTopicsPerConn:
		return o, ErrTooManyTopics
	case !o.AllowInsecureTLS && insecure(o.HTTPClient):
		return o, errors.New("wsclient: the HTTPClient skips certificate verification; set Options.AllowInsecureTLS to accept it")
	}
	return o, nil
}

// checkNegative refuses a negative value where the field gives it no
// meaning (only PingInterval, IdleTimeout, ControlRate and CloseTimeout
// say that negative disables them): a negative DialTimeout or PongTimeout would end every
// dial or connection at once, a negative BackoffBase panic in the jitter,
// a negative EventBuffer panic in New, a negative ReadLimit lift the limit.
func (o *Options) checkNegative() error {
	for _, f := range [...]struct {
		name string
		v    int64
	}{
		{"DialTimeout", int64(o.DialTimeout)},
		{"WriteTimeout", int64(o.WriteTimeout)},
		{"PongTimeout", int64(o.PongTimeout)},
		{"DataTimeout", int64(o.DataTimeout)},
		{"BackoffBase", int64(o.BackoffBase)},
		{"BackoffCap", int64(o.BackoffCap)},
		{"BackoffReset", int64(o.BackoffReset)},
		{"TryAgainDelay", int64(o.TryAgainDelay)},
		{"ForbiddenDelay", int64(o.ForbiddenDelay)},
		{"HeartbeatInterval", int64(o.HeartbeatInterval)},
		{"MaxAge", int64(o.MaxAge)},
		{"RotationOverlap", int64(o.RotationOverlap)},
		{"ReadLimit", o.ReadLimit},
		{"EventBuffer", int64(o.EventBuffer)},
		{"MaxTopicsPerMessage", int64(o.MaxTopicsPerMessage)},
		{"MaxTopicsPerConn", int64(o.MaxTopicsPerConn)},
	} {
		if f.v < 0 {
			return fmt.Errorf("wsclient: Options.%s is negative (%d): only PingInterval, IdleTimeout, ControlRate and CloseTimeout may be", f.name, f.v)
		}
	}
	return nil
}

// handshakeHeader takes the Host, the WebSocket headers and a
// Proxy-Authorization (the proxy's, sent with its CONNECT: see proxied)
// out of a copy of HTTPHeader. The Host goes to DialOptions.Host: net/http sends the
// URL's host and ignores a Host in the Header. coder/websocket checks the venue's answer against
// DialOptions only, so a "Sec-WebSocket-Protocol" header (how
// gorilla/websocket users pass subprotocols) made every dial fail once the
// venue picked one: its protocols are offered as Subprotocols, after
// those. A "Sec-WebSocket-Extensions" header is refused: the client does
// not do compression, and the venue's answer to it would fail every dial
// (gorilla/websocket's Dial refuses it too).
//
// Keys are matched in any case: a header written as a map literal keeps
// its key as written (http.Header{"Sec-WebSocket-Protocol": …}), which
// Header.Get, looking for the canonical "Sec-Websocket-Protocol", misses.
func (o *Options) handshakeHeader() error {
	if err := validHeader(o.HTTPHeader); err != nil {
		return err
	}
	if len(headerValues(o.HTTPHeader, "Sec-WebSocket-Extensions")) > 0 {
		return errors.New("wsclient: Options.HTTPHeader sets Sec-WebSocket-Extensions: the client does not negotiate extensions (compression)")
	}
	host := headerValues(o.HTTPHeader, "Host")
	protos := headerValues(o.HTTPHeader, "Sec-WebSocket-Protocol")
	if pa := headerValues(o.HTTPHeader, "Proxy-Authorization"); len(pa) > 0 {
		o.proxyAuth = pa[0]
	}
	taken := func(k string) bool {
		return strings.EqualFold(k, "Host") || strings.EqualFold(k, "Sec-WebSocket-Protocol") ||
			strings.EqualFold(k, "Proxy-Authorization") || handshakeOwn(k)
	}
	need := false
	for k := range o.HTTPHeader {
		need = need || taken(k) || k != http.CanonicalHeaderKey(k)
	}
	if !need {
		return nil
	}
	// Out of a copy: a "host" written in another case would go out as a
	// second Host header, which servers refuse (400).
	o.HTTPHeader = canonicalHeader(o.HTTPHeader)
	for k := range o.HTTPHeader {
		if taken(k) {
			delete(o.HTTPHeader, k)
		}
	}
	if len(host) > 0 {
		o.host = host[0]
	}
	o.Subprotocols = slices.Clone(o.Subprotocols)
	for _, v := range protos {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(o.Subprotocols, p) {
				o.Subprotocols = append(o.Subprotocols, p)
			}
		}
	}
	return nil
}

// canonicalHeader is a copy of h under canonical keys, the values of keys
// that differ only in case joined in the order of their keys. net/http
// writes a Header's keys as they are, and looks only under the canonical
// key for those it writes or leaves out itself: a "user-agent" went out
// after net/http's own User-Agent (Go-http-client/1.1), which the venue
// took; a "content-length" on the body-less GET had the venue wait for a
// body until the dial timed out.
func canonicalHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], h[k]...)
	}
	return out
}

// handshakeOwn reports whether k (in any case) is a header of the
// handshake that coder/websocket sets itself: one the host gives too went
// out as a second one when its key was not canonical (net/http writes a
// Header's keys as they are; "Sec-WebSocket-Key", as everyone spells it,
// is not the canonical "Sec-Websocket-Key"), and the venue answered for
// the host's key, failing every dial.
func handshakeOwn(k string) bool {
	for _, own := range [...]string{"Connection", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version"} {
		if strings.EqualFold(k, own) {
			return true
		}
	}
	return false
}

// validHeader refuses what net/http refuses to send (httpguts'
// ValidHeaderFieldName, ValidHeaderFieldValue and ValidHostHeader): a key
// that is not a token, a value with a control character other than a tab
// (CR and LF among them), a Host with a byte no host or port has. net/http
// fails every handshake on it, which the client would redial for ever.
func validHeader(h http.Header) error {
	for k, vs := range h {
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r >= utf8.RuneSelf || !tokenByte[r] }) >= 0 {
			return fmt.Errorf("wsclient: Options.HTTPHeader: invalid key %q", k)
		}
		host := strings.EqualFold(k, "Host")
		for _, v := range vs {
			for i := range len(v) {
				if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f || (host && (b >= utf8.RuneSelf || !hostByte[b])) {
					return fmt.Errorf("wsclient: Options.HTTPHeader: invalid value of %q (byte %#x at %d)", k, b, i)
				}
			}
		}
	}
	return nil
}

// tokenByte are the bytes of an HTTP token (RFC 9110 §5.6.2), the
// header's key; hostByte those net/http allows in a Host.
var tokenByte, hostByte = func() (tok, host [utf8.RuneSelf]bool) {
	for b := range utf8.RuneSelf {
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		tok[b] = alnum || strings.IndexByte("!#$%&'*+-.^_`|~", byte(b)) >= 0
		host[b] = alnum || strings.IndexByte("!$%&'()*+,-.:;=[]_~", byte(b)) >= 0
	}
	return tok, host
}()

// headerValues returns the values of h under name, its key in any case.
func headerValues(h http.Header, name string) []string {
	var vs []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			vs = append(vs, v...)
		}
	}
	return vs
}

// ownHTTPClient is the default HTTP client: http.DefaultTransport's
// settings in a transport of the client's own, so that closing its idle
// connections disturbs nobody else.
func ownHTTPClient() *http.Client {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return &http.Client{Transport: t.Clone()}
	}
	return http.DefaultClient
}

func insecure(c *http.Client) bool {
	t, ok := c.Transport.(*http.Transport)
	return ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify
}
