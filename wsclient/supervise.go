package wsclient

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/meltica/meltica/schema"
)

// supervise dials, serves and redials until ctx ends or an error is
// permanent. Every connection it opened is stopped when it returns.
func (c *Client) supervise(ctx context.Context) error {
	c.setState(Event{State: schema.ConnConnecting})
	attempt := 0
	for {
		cn, reason, err := c.connect(ctx, modeLive)
		id, lostTS := uint64(0), int64(0)
		if cn != nil {
			id, lostTS = cn.id, cn.ingestNow()
		}
		if err == nil {
			// The stable period runs from the first connection's dial:
			// rotations replace connections without a break.
			reason, id, err = c.serve(ctx, cn)
			lostTS = c.retiredTS
			if ctx.Err() == nil && c.delivered(cn.born, reason) >= c.opts.BackoffReset {
				attempt = 0
			}
		}
		if c.ended(ctx) {
			return ctx.Err()
		}
		if errors.Is(err, ErrPermanent) {
			c.setState(Event{State: schema.ConnDisconnected, Reason: ReasonPermanent, Err: err, ConnID: id, IngestTS: lostTS})
			return err
		}
		if id == 0 || id != c.reported { // a rotation may have reported it (lost)
			c.st.reconnects[reason].Add(1)
			c.setState(Event{State: schema.ConnDisconnected, Reason: reason, Err: err, ConnID: id, IngestTS: lostTS})
		}
		attempt++
		re := Event{State: schema.ConnReconnecting, Reason: reason, Err: err, ConnID: id, Attempt: attempt, Delay: c.retryDelay(attempt, err)}
		if left := c.asked.Sub(c.opts.Clock.Now()); left > re.Delay {
			// A rotation's dial refused by the venue (its Retry-After
			// or a floor) before the connection was lost: the redial
			// keeps to it, as the rotation's retry would have, and the
			// event tells that wait's error (the loss's was told by
			// Disconnected): one failure's error, reason and wait.
			re.Reason, re.Err, re.Delay = ReasonRotation, c.askedErr, left
		}
		c.asked, c.askedErr = time.Time{}, nil
		if c.announceWait(ctx, re.Delay, re) != nil {
			return ctx.Err()
		}
	}
}

// announceWait announces ev, then waits d on the Clock, the wait armed
// before the announcement: a host that moves its fake clock by ev.Delay
// when it sees the event (its OnEvent runs on a goroutine of its own, which
// may run before this one arms anything) moves it past the wait's end,
// never before the wait began. Announced first and armed by Sleep after, a
// clock moved in between was moved for nothing, and the client waited for
// ever. A Clock with SleepUntil is given the instant, read before the
// announcement; any other has its timer armed before it.
func (c *Client) announceWait(ctx context.Context, d time.Duration, ev Event) error {
	clk := c.opts.Clock
	if u, ok := clk.(untilClock); ok {
		at := clk.Now().Add(d)
		c.setState(ev)
		return u.SleepUntil(ctx, at)
	}
	t := clk.NewTimer(d)
	defer t.Stop()
	c.setState(ev)
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ended reports whether Run's ctx has ended or Close was called: Close
// ends ctx through an AfterFunc, on a goroutine of its own, so that ctx
// may not have ended yet when Close has returned from kill. A Rotate
// request pending at Close then started a rotation.
func (c *Client) ended(ctx context.Context) bool {
	return ctx.Err() != nil || c.life.Err() != nil
}

// delivered is how long the client delivered without a break, from born
// (the dial of the first connection since the last loss) to a loss for
// reason now: the time since born, less the silence that ended the last
// connection when a timeout of silence did (IdleTimeout, DataTimeout),
// which was no delivery. Without it a timeout longer than BackoffReset
// (DataTimeout is meant to be minutes) started the attempt count again
// at every loss of a venue that accepts and then delivers nothing, which
// was redialled at attempt 1 for ever.
func (c *Client) delivered(born time.Time, reason Reason) time.Duration {
	d := c.opts.Clock.Now().Sub(born)
	switch reason {
	case ReasonIdle:
		d -= c.opts.IdleTimeout
	case ReasonNoData:
		d -= c.opts.DataTimeout
	}
	return d
}

// backoff is the full-jitter wait before redial number attempt (from 1): a
// uniform random duration in [0, min(cap, base·2^(attempt-1))].
//
// The doubling stops at the cap without passing it, and the jitter's
// bound saturates, so that a cap of math.MaxInt64 ("as long as it takes")
// neither overflows into a negative wait nor panics in Rand.
func (c *Client) backoff(attempt int) time.Duration {
	d, limit := c.opts.BackoffBase, c.opts.BackoffCap
	for i := 1; i < attempt && d < limit; i++ {
		if d > limit/2 {
			d = limit
			break
		}
		d *= 2
	}
	return c.jitter(min(d, limit))
}

// jitter is a uniform random duration in [0, d], d ≥ 0.
func (c *Client) jitter(d time.Duration) time.Duration {
	if d == math.MaxInt64 {
		return time.Duration(c.opts.Rand(int64(d))) // d+1 would overflow; one value in 2⁶³ is lost
	}
	return time.Duration(c.opts.Rand(int64(d) + 1))
}

// retryDelay is the wait before redial number attempt after err: the
// backoff, at least the floor err asks for (retryFloor) with up to a
// quarter of it as jitter, and at least the Retry-After of a refused
// handshake.
func (c *Client) retryDelay(attempt int, err error) time.Duration {
	d := c.backoff(attempt)
	if f := c.retryFloor(err); f > 0 {
		d = max(d, f+min(c.jitter(f/4), math.MaxInt64-f)) // saturates: a huge floor stays a floor
	}
	var he *HandshakeError
	if errors.As(err, &he) && he.RetryAfter > d {
		d = he.RetryAfter
	}
	return d
}

// retryFloor is the least wait before redialling after err, by what the
// venue said (RFC 6455 §7.4.1 and the IANA close code registry): 1012
// service restart, 1013 try again later and 1014 bad gateway ask to come
// back later (TryAgainDelay); 1003 unsupported data, 1007 invalid payload,
// 1008 policy violation, 1009 message too big (ours, to the venue) and
// 1010 missing extension, like a handshake
// refused with a 4xx status (but 408; 401 and 407 are permanent; 403, a
// block that lifts, waits ForbiddenDelay) without a
// Retry-After or redirected from wss:// to ws:// (ErrInsecureRedirect),
// refuse what the client sends, which a tight retry only repeats
// (BackoffCap). A Retry-After is the venue's own word: retryDelay
// keeps to it instead.
// Other closes, the venue's 1000, 1001 and 1011 among them, and lost
// connections have no floor: the backoff alone.
func (c *Client) retryFloor(err error) time.Duration {
	switch websocket.CloseStatus(err) {
	case websocket.StatusServiceRestart, websocket.StatusTryAgainLater, websocket.StatusBadGateway:
		return c.opts.TryAgainDelay
	case websocket.StatusUnsupportedData, websocket.StatusInvalidFramePayloadData,
		websocket.StatusPolicyViolation, websocket.StatusMessageTooBig, websocket.StatusMandatoryExtension:
		return c.opts.BackoffCap
	}
	if errors.Is(err, ErrInsecureRedirect) {
		return c.opts.BackoffCap
	}
	var he *HandshakeError
	if errors.As(err, &he) && he.RetryAfter == 0 && he.StatusCode == http.StatusForbidden {
		return c.opts.ForbiddenDelay
	}
	if errors.As(err, &he) && he.RetryAfter == 0 && he.StatusCode >= 400 && he.StatusCode < 500 && he.StatusCode != http.StatusRequestTimeout {
		return c.opts.BackoffCap
	}
	return 0
}

// venueAsked reports whether the venue asked, by err, for a wait before
// the next dial: a floor (retryFloor) or a refused handshake's
// Retry-After.
func (c *Client) venueAsked(err error) bool {
	var he *HandshakeError
	return c.retryFloor(err) > 0 || (errors.As(err, &he) && he.RetryAfter > 0)
}

// connect dials and subscribes a connection. On failure the connection, if
// any, is stopped, and the reason and error say why.
func (c *Client) connect(ctx context.Context, mode int32) (*conn, Reason, error) {
	cn, err := c.dial(ctx, mode)
	if err != nil {
		return nil, ReasonDial, err
	}
	if err := c.subscribe(cn); err != nil {
		if mode == modeLive {
			c.setCurrent(nil)
		}
		r := ReasonWriteError
		if cn.ctx.Err() == nil {
			cn.writeFailed(err)
		} else if ctx.Err() != nil {
			r = ReasonClosed // Close while subscribing: still a close handshake
		}
		cn.stop(r, nil)
		c.dropQueue(cn)
		if cn.err != nil {
			err = cn.err
		}
		// Never nil: a connection stopped by Close while it subscribed
		// (no error of its own) is no connection (a rotation switched to it).
		return cn, cn.reason, err
	}
	return cn, ReasonNone, nil
}

// serve keeps cn (and its successors, with rotation) delivering until the
// live connection dies or ctx ends. It returns why, and which connection
// (the last live one) ended.
func (c *Client) serve(ctx context.Context, cn *conn) (Reason, uint64, error) {
	// dial made cn current and announced it Connected.
	live := cn
	var rotC <-chan time.Time // nil until a rotation is due: never fires
	var rot Timer
	arm := func(at time.Time) { // an instant: see armAt
		rot = armAt(c.opts.Clock, rot, at)
		rotC = rot.C()
	}
	defer func() {
		if rot != nil {
			rot.Stop()
		}
	}()
	if c.opts.MaxAge > 0 {
		arm(c.maxAgeAt(live))
	}
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return c.retire(live, ReasonClosed)
		case <-live.dead:
			return c.retire(live, live.reason)
		case <-rotC:
		case id := <-c.rotReq:
			if id != live.id || failures > 0 {
				// Asked of a connection since replaced, or while a failed
				// rotation's retry is due: it comes after the backoff or
				// the venue's Retry-After, which a request must not skip.
				continue
			}
		}
		if c.ended(ctx) { // select picks at random among what is ready
			return c.retire(live, ReasonClosed)
		}
		select {
		case <-live.dead:
			// Dead as its rotation came due (a failed rotation's retry,
			// MaxAge, a request): a loss, redialled as any other. Rotated,
			// the dead connection was announced Rotating, and the redial a
			// rotation's switch with ErrRotationUnaligned: a second report
			// of the one gap.
			return c.retire(live, live.reason)
		default:
		}
		next, err := c.rotate(ctx, live)
		switch {
		case next == nil: // old kept: try again after a backoff
			failures++
			// Armed before the failure is announced: a host that moves
			// its fake clock by the backoff when it sees the event (on
			// OnEvent's goroutine) moves it past the retry, never before
			// the retry's instant was read (as announceWait).
			at := c.opts.Clock.Now().Add(c.retryDelay(failures, err))
			arm(at)
			c.asked, c.askedErr = time.Time{}, nil
			if c.venueAsked(err) { // kept by a redial should old be lost before the retry
				c.asked, c.askedErr = at, err
			}
			c.rotationFailed(ctx, live, err)
		case c.opts.MaxAge > 0:
			live, failures, c.asked, c.askedErr = next, 0, time.Time{}, nil
			arm(c.maxAgeAt(live))
		default:
			live, failures, c.asked, c.askedErr = next, 0, time.Time{}, nil
			if rot != nil {
				rot.Stop() // a retry of a requested rotation, no longer due
			}
		}
	}
}

// maxAgeAt is when cn reaches MaxAge, counted from its dial.
func (c *Client) maxAgeAt(cn *conn) time.Time { return cn.born.Add(c.opts.MaxAge) }

// retire stops the live connection and clears it for Write.
func (c *Client) retire(cn *conn, r Reason) (Reason, uint64, error) {
	c.setCurrent(nil)
	cn.stop(r, nil)
	c.retiredTS = cn.ingestNow()
	return cn.reason, cn.id, cn.err
}
