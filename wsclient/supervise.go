package wsclient

import (
	"context"
	"errors"
	"time"

	"github.com/meltica/meltica/schema"
)

// supervise dials, serves and redials until ctx ends or an error is
// permanent. Every connection it opened is stopped when it returns.
func (c *Client) supervise(ctx context.Context) error {
	c.setState(Event{State: schema.ConnConnecting})
	attempt := 0
	for {
		cn, reason, err := c.connect(ctx, modeLive)
		if err == nil {
			var born time.Time
			reason, born, err = c.serve(ctx, cn)
			if ctx.Err() == nil && c.opts.Clock.Now().Sub(born) >= c.opts.BackoffReset {
				attempt = 0
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		id := uint64(0)
		if cn != nil {
			id = cn.id
		}
		if errors.Is(err, ErrPermanent) {
			c.setState(Event{State: schema.ConnDisconnected, Reason: ReasonPermanent, Err: err, ConnID: id})
			return err
		}
		c.st.reconnects[reason].Add(1)
		c.setState(Event{State: schema.ConnDisconnected, Reason: reason, Err: err, ConnID: id})
		attempt++
		delay := c.backoff(attempt)
		c.setState(Event{State: schema.ConnReconnecting, Reason: reason, Err: err, ConnID: id, Attempt: attempt, Delay: delay})
		if c.opts.Clock.Sleep(ctx, delay) != nil {
			return ctx.Err()
		}
	}
}

// backoff is the full-jitter wait before redial number attempt (from 1): a
// uniform random duration in [0, min(cap, base·2^(attempt-1))].
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.BackoffBase
	for i := 1; i < attempt && d < c.opts.BackoffCap; i++ {
		d *= 2
	}
	d = min(d, c.opts.BackoffCap)
	return time.Duration(c.opts.Rand(int64(d) + 1))
}

// connect dials and subscribes a connection. On failure the connection, if
// any, is stopped, and the reason and error say why.
func (c *Client) connect(ctx context.Context, mode int) (*conn, Reason, error) {
	cn, err := c.dial(ctx, mode)
	if err != nil {
		return nil, ReasonDial, err
	}
	if err := c.subscribe(cn); err != nil {
		cn.fail(ReasonWriteError, err)
		cn.wg.Wait()
		c.dropQueue(cn)
		return cn, cn.reason, cn.err
	}
	return cn, ReasonNone, nil
}

// serve keeps cn (and its successors, with rotation) delivering until the
// live connection dies or ctx ends. It returns why, and the Clock time the
// last live connection was dialled.
func (c *Client) serve(ctx context.Context, cn *conn) (Reason, time.Time, error) {
	live := cn
	c.setCurrent(live)
	c.setState(Event{State: schema.ConnConnected, ConnID: live.id})
	var rot *time.Timer
	var rotC <-chan time.Time // nil without rotation: never fires
	if c.opts.MaxAge > 0 {
		rot = time.NewTimer(c.opts.MaxAge)
		defer rot.Stop()
		rotC = rot.C
	}
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return c.retire(live, ReasonClosed)
		case <-live.dead:
			return c.retire(live, live.reason)
		case <-rotC:
			if next := c.rotate(ctx, live); next != nil {
				live, failures = next, 0
				rot.Reset(c.opts.MaxAge)
			} else {
				failures++
				rot.Reset(c.backoff(failures))
			}
		}
	}
}

// retire stops the live connection and clears it for Write.
func (c *Client) retire(cn *conn, r Reason) (Reason, time.Time, error) {
	c.setCurrent(nil)
	cn.stop(r)
	return cn.reason, cn.born, cn.err
}

// rotate replaces old make-before-break: it dials and subscribes a standby
// connection, waits for its first message, lets old deliver for
// RotationOverlap more, then switches delivery and closes old. It returns
// the new live connection, or nil when the rotation failed (old is kept).
func (c *Client) rotate(ctx context.Context, old *conn) *conn {
	c.setState(Event{State: schema.ConnRotating, Reason: ReasonRotation, ConnID: old.id})
	nb, _, err := c.connect(ctx, modeStandby)
	if err != nil {
		c.rotationFailed(old, err)
		return nil
	}
	abort := func(err error) *conn {
		nb.stop(ReasonRotation)
		c.dropQueue(nb)
		c.rotationFailed(old, err)
		return nil
	}
	select {
	case <-nb.first:
		t := time.NewTimer(c.opts.RotationOverlap)
		defer t.Stop()
		select {
		case <-t.C:
		case <-old.dead:
		case <-nb.dead:
			return abort(nb.err)
		case <-ctx.Done():
			return abort(ctx.Err())
		}
	case <-old.dead:
	case <-nb.dead:
		return abort(nb.err)
	case <-ctx.Done():
		return abort(ctx.Err())
	}
	c.goLive(nb, old)
	c.setCurrent(nb)
	select {
	case <-old.dead: // lost before the switch: a possible gap
		c.st.reconnects[old.reason].Add(1)
		c.setState(Event{State: schema.ConnDisconnected, Reason: old.reason, Err: old.err, ConnID: old.id})
	default:
	}
	old.stop(ReasonRotation)
	c.st.rotations.Add(1)
	c.setState(Event{State: schema.ConnConnected, Reason: ReasonRotation, ConnID: nb.id})
	return nb
}

// rotationFailed reports a failed rotation; old stays live unless it died.
func (c *Client) rotationFailed(old *conn, err error) {
	select {
	case <-old.dead:
		return // serve sees it next
	default:
	}
	c.setState(Event{State: schema.ConnConnected, Reason: ReasonRotation, Err: err, ConnID: old.id})
}
