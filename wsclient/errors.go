package wsclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/meltica/meltica/pool"
)

var (
	// ErrClosed is returned by Run and Write after Close.
	ErrClosed = errors.New("wsclient: closed")
	// ErrRunning is returned by a second call to Run.
	ErrRunning = errors.New("wsclient: Run already called")
	// ErrNotConnected is returned by Write when no connection is up.
	ErrNotConnected = errors.New("wsclient: not connected")
	// ErrPermanent is matched by errors that stop reconnection: a bad URL,
	// a handshake refused with 401 (or 407 by a proxy), a certificate that fails
	// verification, a closed frame pool.
	ErrPermanent = errors.New("wsclient: permanent error")
	// ErrIdle is the error of a connection that received nothing while its
	// reader waited on the socket for Options.IdleTimeout.
	ErrIdle = errors.New("wsclient: no message within the idle timeout")
	// ErrNoData is the error of a connection whose reader waited on the
	// socket for Options.DataTimeout without a message Options.IsData
	// counts as data: the subscriptions delivered nothing, whether or not
	// heartbeats or pongs came (with a DataTimeout under IdleTimeout, a
	// connection on which nothing at all came ends so too).
	ErrNoData = errors.New("wsclient: no data message within the data timeout")
	// ErrPongTimeout is the error of a connection whose ping went
	// unanswered while its reader waited on the socket for
	// Options.PongTimeout.
	ErrPongTimeout = errors.New("wsclient: no pong within the pong timeout")
	// ErrInvalidUTF8 is reported for a text message from the venue that is
	// not valid UTF-8 (the message is dropped and the connection kept), and
	// returned by Write and WriteConn for one of the host's (not sent).
	ErrInvalidUTF8 = errors.New("wsclient: text message is not valid UTF-8")
	// ErrFramesExhausted is reported (ReasonPoolExhausted) when a
	// connection's reader finds Options.Frames exhausted and waits for a
	// frame: meanwhile nothing is read from that connection. Each running
	// connection's reader holds one frame for its life, so a pool shared by
	// more connections than it has frames starves some of them. It matches
	// pool.ErrExhausted.
	ErrFramesExhausted = fmt.Errorf("wsclient: the reader waits for a frame: %w", pool.ErrExhausted)
	// ErrTooManyTopics is returned by New when Options.Topics holds more
	// than Options.MaxTopicsPerConn topics: split them with [SplitTopics]
	// and run one Client per part.
	ErrTooManyTopics = errors.New("wsclient: more topics than one connection may carry")
	// ErrRotationUnaligned is reported (Event.Err, with ReasonRotation and
	// the new connection's id) when a rotation switched connections without
	// finding where their streams join: messages around the switch may
	// repeat or be missing. It happens when the venue's frames differ per
	// connection (per-connection ids or sequence numbers) or the new
	// connection's stream does not overlap the old one's within
	// Options.RotationOverlap. Venue-specific repeat detection (sequence or
	// trade ids, in the normalizer) covers those venues. A switch without
	// a join is reported before the new connection's first frame reaches
	// the handler (OnEvent has returned from it; see the package doc,
	// Rotation); so are a divergence found later among the repeats
	// (before the next frame) and a rotation given up after its streams
	// were joined (with the old connection's id, before it delivers
	// again).
	ErrRotationUnaligned = errors.New("wsclient: rotation switched without aligning the streams: messages around the switch may repeat or be missing")
	// ErrRotationDropped is reported (an [Event] with ReasonRotation, the
	// new connection's ConnID, while the state is still Rotating;
	// Stats.RotationDropped counts the frames) when a rotation joined the
	// two streams and the new connection had received, before the join,
	// frames with a key (Options.AlignKey) that the old connection never
	// delivered since the rotation began (its set of hashes, up to 6144
	// frames; past them a frame it delivered before its latest 256 is
	// counted too, conservatively): they are not delivered, for they come from before the
	// join. They are either a subscription's snapshot, sent to the new
	// connection only and stale by the join (delivering it then would
	// replace newer state), or messages the old connection never got: a
	// possible gap. An AlignKey that is nil for the venue's subscription
	// snapshots leaves only the second kind. OnEvent has returned from it
	// before the new connection's first frame reaches the handler.
	ErrRotationDropped = errors.New("wsclient: rotation dropped frames of the new connection from before the join that the old connection never delivered: a snapshot of the subscription, or messages missing")
	// ErrInsecureRedirect is the error of a dial whose wss:// handshake
	// was redirected to ws:// (or https:// to http://): following it
	// would send the handshake's headers, then the stream and the orders,
	// in clear text. The dial is retried no sooner than
	// Options.BackoffCap (the venue will answer the same); it is not
	// permanent, so that a venue that fixes its redirect is reached again.
	// Python websockets refuses the same redirect ("redirect from WSS to
	// WS").
	ErrInsecureRedirect = errors.New("wsclient: handshake redirected from wss:// to ws://")
	// ErrMaskedFrame ends a connection (ReasonReadError) on which the
	// venue sent a masked frame: RFC 6455 §5.1 says a server never masks
	// and a client MUST close the connection on one. coder/websocket
	// v1.8.15 does not check it (it delivered a masked data frame's
	// payload still masked); the client does.
	ErrMaskedFrame = errors.New("wsclient: masked frame from the server (RFC 6455 §5.1)")
	// ErrMessageCut ends a connection (ReasonReadError) whose stream
	// ended, without a close frame, inside a frame or between the
	// fragments of a message (RFC 6455 §5.4, §7.1.5): the message is
	// incomplete and is not delivered. coder/websocket v1.8.15 took an end
	// of the stream at a frame boundary for the end of the message and
	// gave the part received as a whole message. It matches
	// io.ErrUnexpectedEOF.
	ErrMessageCut = fmt.Errorf("wsclient: the connection ended inside a message: %w", io.ErrUnexpectedEOF)
	// ErrReadPanic ends a connection (ReasonReadError) whose reading
	// panicked: coder/websocket, or the host's transport under it, hit a
	// fault on the venue's bytes. The client recovers it, so that a venue's
	// stream cannot end the host's program; the error's text carries the
	// panic's value. The handler's own panics are not recovered.
	ErrReadPanic = errors.New("wsclient: reading the connection panicked")
)

// ErrNotSent is matched by an error of [Client.Write] or
// [Client.WriteConn] that was returned before any byte of the message was
// written: sending it again cannot make a duplicate. The error matches
// the cause too (ctx's error, [ErrNotConnected], [ErrClosed],
// [ErrConnChanged], [ErrInvalidUTF8]).
var ErrNotSent = errors.New("wsclient: message not sent")

// ErrMaybeSent is matched by an error of [Client.Write] or
// [Client.WriteConn] whose write began and failed: part or all of the
// message may have reached the venue, and the connection is lost. Ask the
// venue (an order's status) before sending it again.
var ErrMaybeSent = errors.New("wsclient: message may have been sent")

// outcomeError marks a write's error with what became of the message
// (ErrNotSent or ErrMaybeSent); its text is the error's own.
type outcomeError struct {
	outcome, err error
}

func (e *outcomeError) Error() string   { return e.err.Error() }
func (e *outcomeError) Unwrap() []error { return []error{e.outcome, e.err} }

func notSent(err error) error   { return &outcomeError{ErrNotSent, err} }
func maybeSent(err error) error { return &outcomeError{ErrMaybeSent, err} }

// OversizedError reports a message larger than Options.ReadLimit, which
// was read to its end and dropped: it is counted (Stats.Oversized) and
// reported in an [Event] (ReasonOversized), and the connection is kept,
// as are the messages after it (DESIGN.md contract 6: bad input costs
// nothing else). It matches [websocket.ErrMessageTooBig].
//
// A message larger than DiscardLimit (or ReadLimit, when larger), or a
// frame whose header says it is, is not read to its end: it ends the
// connection, which is re-established ([ReasonOversized] as the reason of
// the loss), and its OversizedError has Size 0 and that larger limit.
type OversizedError struct {
	Limit  int64  // the limit the message passed, in bytes: Options.ReadLimit for a dropped message
	Size   int64  // the dropped message's size in bytes (its payload, decompressed); 0 when it ended the connection
	ConnID uint64 // the connection that received the message
	Err    error  // matches websocket.ErrMessageTooBig
}

func (e *OversizedError) Error() string {
	head := "wsclient: connection " + strconv.FormatUint(e.ConnID, 10)
	if e.Size == 0 {
		return head + ": message larger than " + strconv.FormatInt(e.Limit, 10) + " bytes: connection closed"
	}
	return head + ": message of " + strconv.FormatInt(e.Size, 10) + " bytes dropped, larger than the read limit of " +
		strconv.FormatInt(e.Limit, 10) + " bytes"
}

// Unwrap returns the error matching websocket.ErrMessageTooBig.
func (e *OversizedError) Unwrap() error { return e.Err }

// HandshakeError is a WebSocket handshake the server answered with an HTTP
// status other than 101, or whose tunnel the HTTP proxy refused (Proxy).
// 401 and 407 (the proxy's credentials) are permanent (they match
// [ErrPermanent]); other statuses are retried, never before RetryAfter. A
// 403 is retried too, after Options.ForbiddenDelay: at exchanges it is a
// block that lifts (Bybit v5 "Rate Limit Rules": "403, access too
// frequent ... The ban will be lifted automatically"; Binance's WAF
// limit; CloudFront's "Request blocked ... Try again later"), and making
// it permanent stopped the stream for good on a passing block.
type HandshakeError struct {
	StatusCode int // HTTP status of the server's answer
	// Proxy says the status is the HTTP proxy's answer to CONNECT (the
	// tunnel to a wss:// venue), not the venue's.
	Proxy bool
	// RetryAfter is the server's Retry-After (delta-seconds or an HTTP
	// date), 0 when absent or unparsable, at most a year. The next dial waits at least
	// that long, whatever the backoff says: Binance answers 429 when its
	// limits are broken and 418 (an IP ban) when the client went on, both
	// with Retry-After (Binance spot API docs, "LIMITS").
	RetryAfter time.Duration
	Err        error // the error from coder/websocket
}

func (e *HandshakeError) Error() string {
	who := "handshake"
	if e.Proxy {
		who = "proxy tunnel"
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("wsclient: %s refused with HTTP %d, retry after %v: %v", who, e.StatusCode, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("wsclient: %s refused with HTTP %d: %v", who, e.StatusCode, e.Err)
}

// Unwrap returns the underlying error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPermanent) true for 401 and 407.
func (e *HandshakeError) Is(target error) bool {
	return target == ErrPermanent && permanentStatus(e.StatusCode)
}

func permanentStatus(code int) bool {
	return code == http.StatusUnauthorized || code == http.StatusProxyAuthRequired
}

// dialError classifies a failed dial: 401/407 and certificate errors are
// permanent; other refusals carry their Retry-After.
//
// Whatever failed, the transport's idle connections are closed and its
// dials in progress that no request waits for any more are ended
// (http.Transport.CloseIdleConnections does both): a refused handshake's
// HTTP connection goes back to the idle pool, and net/http runs each dial
// detached from the request (a dial may serve a later request), bounding
// its TLS handshake only by the transport's TLSHandshakeTimeout, which a
// host's transport may leave at zero. Without this a venue stuck in the
// TLS handshake kept the socket and net/http's goroutines of every dial
// that timed out, for as long as the outage lasted.
func (c *Client) dialError(resp *http.Response, err error) error {
	c.dialHTTP.CloseIdleConnections()
	var certErr *tls.CertificateVerificationError
	switch {
	case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
		return &HandshakeError{
			StatusCode: resp.StatusCode,
			RetryAfter: RetryAfterHeader(resp.Header, c.opts.Clock.Now()),
			Err:        err,
		}
	case errors.As(err, &certErr):
		return permanent(err)
	}
	return err
}

// maxRetryAfter caps a Retry-After in either form.
const maxRetryAfter = 365 * 24 * time.Hour

// RetryAfter parses an HTTP Retry-After value (RFC 9110 §10.2.3):
// delta-seconds or an HTTP date, relative to now; 0 when absent, past or
// unparsable; at most a year (also for delta-seconds too large to
// represent, RFC 9111 §1.2.2). With the whole answer at hand, prefer
// [RetryAfterHeader], which reads a date against the server's clock.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err == nil && n <= 0:
		return 0
	case err == nil:
		return time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	case errors.Is(err, strconv.ErrRange) && v[0] != '-':
		// delta-seconds past int64: "the largest positive integer
		// representable" (RFC 9111 §1.2.2), here the cap.
		return maxRetryAfter
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// RetryAfterHeader is [RetryAfter] for the header h of an HTTP answer: an
// HTTP date is read against the answer's Date header, the server's own
// clock (RFC 9110 §6.6.1: an origin server with a clock MUST send Date),
// so that a host clock off the server's by minutes or hours neither
// stretches the wait by that much nor takes the date for past and retries
// at once; without a valid Date it is read against now. Delta-seconds
// need no clock.
func RetryAfterHeader(h http.Header, now time.Time) time.Duration {
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	return RetryAfter(h.Get("Retry-After"), now)
}

// PrepareError is the error of a rotation whose Options.Prepare failed
// or did not return within RotationOverlap: the old connection is kept,
// the new one (ConnID) closed.
type PrepareError struct {
	ConnID uint64 // the new connection
	Err    error  // Prepare's error, or why its ctx ended: RotationOverlap (matches context.DeadlineExceeded), the new connection's loss (its error), Run's end
}

func (e *PrepareError) Error() string {
	return fmt.Sprintf("wsclient: preparing connection %d: %v", e.ConnID, e.Err)
}

func (e *PrepareError) Unwrap() error { return e.Err }

// permanent wraps err so that it matches ErrPermanent.
func permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// Reason says why the state changed or why an event was reported.
type Reason uint8

// Reasons.
const (
	ReasonNone          Reason = iota
	ReasonDial                 // a dial failed (retried)
	ReasonPeerClosed           // the venue closed the connection with a close frame
	ReasonReadError            // reading failed: reset, EOF, protocol error
	ReasonWriteError           // a write (subscription, ping) failed
	ReasonIdle                 // nothing arrived within IdleTimeout ([ErrIdle])
	ReasonPongTimeout          // a ping went unanswered ([ErrPongTimeout])
	ReasonOversized            // a message exceeded ReadLimit ([*OversizedError])
	ReasonRotation             // a connection replaced at its maximum age
	ReasonHandlerError         // the frame handler returned an error (connection kept)
	ReasonInvalidFrame         // a text message was not valid UTF-8 (connection kept)
	ReasonPermanent            // a permanent error stopped reconnection
	ReasonClosed               // Close was called or Run's context ended
	ReasonPoolExhausted        // the reader waits for a frame: the frame pool is exhausted ([ErrFramesExhausted]; connection kept)
	ReasonNoData               // no data message within DataTimeout, other messages aside ([ErrNoData])
	numReasons
)

// NumReasons is one more than the largest Reason, for tables indexed by it.
const NumReasons = int(numReasons)

var reasonNames = [...]string{
	ReasonNone:          "none",
	ReasonDial:          "dial",
	ReasonPeerClosed:    "peer_closed",
	ReasonReadError:     "read_error",
	ReasonWriteError:    "write_error",
	ReasonIdle:          "idle",
	ReasonPongTimeout:   "pong_timeout",
	ReasonOversized:     "oversized",
	ReasonRotation:      "rotation",
	ReasonHandlerError:  "handler_error",
	ReasonInvalidFrame:  "invalid_frame",
	ReasonPermanent:     "permanent",
	ReasonClosed:        "closed",
	ReasonPoolExhausted: "pool_exhausted",
	ReasonNoData:        "no_data",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// classifyRead maps a read error of connection id to a reason and the error
// to report.
func classifyRead(err error, limit int64, id uint64) (Reason, error) {
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		return ReasonOversized, &OversizedError{Limit: limit, ConnID: id, Err: err}
	case websocket.CloseStatus(err) != -1:
		return ReasonPeerClosed, err
	}
	return ReasonReadError, err
}
