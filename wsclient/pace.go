package wsclient

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// pacer is the budget of one connection's frames counted against the
// venue's limit of incoming messages: the client's own (pings, the pongs
// that answer the venue's pings, subscriptions, heartbeats) and, with
// Options.PaceWrites, the host's. Binance counts "PING frames, PONG
// frames, JSON-formatted messages (e.g., subscription or unsubscription
// requests)" against 5 per second per connection, and disconnects a
// connection over it (Binance spot "WebSocket Limits"; "Too many
// requests", 1008). Each counted frame begins at least gap
// (1/ControlRate, on the Clock) after the previous one: no burst, so that
// no window of a second holds more than ControlRate of them (one more in a
// closed window), whatever mix of senders (a token bucket that refills at
// 5 per second lets 9 through in the first second). A frame is counted
// when it is let go (tryClaim), right before its write: pacing the
// subscriptions alone let a pong, a ping and a heartbeat through in the
// same second as them. Frames go in the order they came, a pong first.
//
// Not counted: the close frame of a close handshake, and, without
// PaceWrites, the host's messages.
type pacer struct {
	clk  Clock
	gap  time.Duration // 0: unpaced
	mu   sync.Mutex
	last time.Time // when the latest counted frame was let go; zero: none yet
	// lastPong is when the latest pong was let go (see onPing).
	lastPong time.Time
	pings    atomic.Uint64 // pings received, for tests
	// conn is the connection's context, set before its reader starts
	// (nil for a DialLimit): its end stops a pong's wait (onPing).
	conn context.Context
	// shared is Options.MessageLimit (nil: none), which a pong waits for
	// after the connection's own budget (onPing).
	shared *MessageLimit
	// Frames waiting, in the order they go: first come, first served (a
	// free-for-all starved the heartbeat behind a frequent ping), but
	// for a pong, which goes first (it holds the reader up).
	queue   []*ticket
	changed chan struct{} // closed and replaced when the queue's head changes
}

// ticket is one frame's place in the queue, told apart by its address:
// it must not be of zero size (Go may give every zero-size object the
// same address, and every ticket was then the queue's head).
type ticket struct{ pong bool }

func newPacer(o *Options) *pacer {
	p := &pacer{clk: o.Clock, changed: make(chan struct{}), shared: o.MessageLimit}
	if o.ControlRate > 0 {
		p.gap = time.Duration(float64(time.Second) / o.ControlRate)
	}
	return p
}

// due is how long until the next frame may go; mu is held.
func (p *pacer) due(now time.Time) time.Duration {
	if p.last.IsZero() {
		return 0
	}
	return p.last.Add(p.gap).Sub(now)
}

// enter queues a frame, at the head when first; nil when unpaced.
func (p *pacer) enter(first bool) *ticket {
	if p.gap <= 0 {
		return nil
	}
	tk := &ticket{pong: first}
	p.mu.Lock()
	if first {
		p.queue = append([]*ticket{tk}, p.queue...)
		p.headChanged()
	} else {
		p.queue = append(p.queue, tk)
		if len(p.queue) == 1 {
			p.headChanged()
		}
	}
	p.mu.Unlock()
	return tk
}

// headChanged wakes the waiters; mu is held.
func (p *pacer) headChanged() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// remove takes tk out of the queue; mu is held.
func (p *pacer) remove(tk *ticket) {
	for i, q := range p.queue {
		if q == tk {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			if i == 0 {
				p.headChanged()
			}
			return
		}
	}
}

// leave takes tk out of the queue without sending.
func (p *pacer) leave(tk *ticket) {
	if tk == nil {
		return
	}
	p.mu.Lock()
	p.remove(tk)
	p.mu.Unlock()
}

// wait sleeps until tk heads the queue and the budget allows a frame,
// claiming nothing (see tryClaim). ctx's end stops it with ctx's error;
// tk stays queued either way.
func (p *pacer) wait(ctx context.Context, tk *ticket) error {
	if tk == nil {
		return ctx.Err()
	}
	for {
		p.mu.Lock()
		head := p.queue[0] == tk
		d := p.due(p.clk.Now())
		at := p.last.Add(p.gap)
		changed := p.changed
		p.mu.Unlock()
		switch {
		case head && d <= 0:
			return ctx.Err()
		case head:
			// A pong may come ahead meanwhile: wait's loop looks again.
			if err := sleepUntil(ctx, p.clk, at); err != nil {
				return err
			}
		default:
			select {
			case <-changed:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// untilClock is a Clock that sleeps to an instant (see Clock).
type untilClock interface {
	SleepUntil(ctx context.Context, at time.Time) error
}

// sleepUntil sleeps until the instant at of clk, or until ctx ends. A
// Clock that has a SleepUntil method (the tests' fake clock) is given the
// instant; any other gets a timer armed for it (armAt): the time left,
// read before a Sleep, would have a clock moved meanwhile sleep that much
// past it, and the queue's head with it.
func sleepUntil(ctx context.Context, clk Clock, at time.Time) error {
	if u, ok := clk.(untilClock); ok {
		return u.SleepUntil(ctx, at)
	}
	t := armAt(clk, nil, at)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// armTries bounds how many times armAt arms a timer again for a clock
// that moved while it was armed.
const armTries = 3

// armAt arms t (a new timer of clk when nil) to fire at the instant at
// of clk, at once when at has come, and returns it. A Clock's timer counts
// from the instant it is armed, and the time left is read before: a clock
// that moves in between (a host's fake clock moved by its test, which has
// no SleepUntil) armed it that much past at, and a test that moved the
// clock exactly to at stalled. The time is read again once the timer is
// armed; if it moved (forward or back), the timer is armed again for the
// time left, up to armTries times in all, or to fire at once when at came
// meanwhile (a clock that moves at every reading, as the wall clock
// does, is then late by what it moved while the timer was armed, as
// time.Timer is).
func armAt(clk Clock, t Timer, at time.Time) Timer {
	_, wall := clk.(realClock)
	for try := 1; ; try++ {
		before := clk.Now()
		d := at.Sub(before)
		if t == nil {
			t = clk.NewTimer(d)
		} else {
			t.Stop()
			t.Reset(d)
		}
		if d <= 0 || wall {
			return t
		}
		after := clk.Now()
		switch {
		case after.Equal(before):
			return t // armed at before: fires at at
		case !after.Before(at): // at came meanwhile: fire at once
			t.Stop()
			t.Reset(0)
			return t
		case try >= armTries:
			return t
		}
		// Moved, either way (a clock set back armed it early): arm again
		// for what is left.
	}
}

// tryClaim counts tk's frame, which goes now, if tk heads the queue and
// the budget allows it; tk leaves the queue then.
func (p *pacer) tryClaim(tk *ticket) bool {
	if tk == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clk.Now()
	if p.queue[0] != tk || p.due(now) > 0 {
		return false
	}
	p.last = now
	p.remove(tk)
	return true
}

// take waits for the budget and claims it for a frame the caller sends
// at once (a control frame: coder/websocket writes it under a lock of its
// own); first puts it at the head of the queue (a pong).
func (p *pacer) take(ctx context.Context, first bool) error {
	tk := p.enter(first)
	for {
		if err := p.wait(ctx, tk); err != nil {
			p.leave(tk)
			return err
		}
		if p.tryClaim(tk) {
			return nil
		}
	}
}

// lockCounted takes cn's write turn with the budget claimed, for a
// counted message: the budget is claimed holding the turn, so that the
// message begins as it is counted (one claimed before the turn could wait
// behind a long write, then go together with the next), and only the
// queue's head may claim it. The waits hold neither: a message of the
// host that is not counted never waits for a counted one's pace. ctx's
// end stops them; nothing is written then. So does cn's end, for a
// host's write (ErrConnChanged, as lockWrite): a wait on the host's ctx
// alone held cn's turn, and a MessageLimit's queue, after cn was gone.
func (cn *conn) lockCounted(ctx context.Context) (err error) {
	if ctx != cn.ctx && (cn.pace.gap > 0 || cn.c.opts.MessageLimit != nil) {
		host := ctx
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(cn.ctx, cancel)()
		defer func() {
			if err != nil && host.Err() == nil && cn.ctx.Err() != nil {
				err = fmt.Errorf("%w: connection %d ended", ErrConnChanged, cn.id)
			}
		}()
	}
	tk := cn.pace.enter(false)
	for {
		if err := cn.pace.wait(ctx, tk); err != nil {
			cn.pace.leave(tk)
			return err
		}
		if err := cn.lockWrite(ctx); err != nil {
			cn.pace.leave(tk)
			return err
		}
		if cn.pace.tryClaim(tk) {
			// Then the budget shared with other connections, still
			// holding the turn: the message goes as it is counted.
			if err := cn.c.opts.MessageLimit.take(ctx, false); err != nil {
				cn.unlockWrite()
				return err
			}
			return nil
		}
		cn.unlockWrite() // a pong came ahead: wait again, still in line
	}
}

// onPing is coder/websocket's OnPingReceived: the pong that answers a
// venue's ping waits for the budget on the reader (at most a few gaps:
// one per other sender), then coder/websocket writes it. Binance wants it
// within a minute. A pong is sent even when the wait is cut short (ctx:
// coder/websocket's 5 s bound on a control frame's handling).
//
// A ping that comes within a gap of the last pong is not answered, a
// departure from RFC 6455 §5.5.2, which wants a pong for every ping
// (§5.5.3 lets only pings not yet answered share one pong, for the
// latest; coder/websocket cannot send that pong later, off the reader):
// waiting for its slot would hold the reader, and every
// message behind it, a gap per ping of a peer that pings faster than the
// budget. A venue that pings at most every few seconds (Binance: 20 s)
// has every ping answered.
func (p *pacer) onPing(ctx context.Context, _ []byte) bool {
	gap := p.gap
	if gap <= 0 && p.shared != nil {
		gap = p.shared.p.gap // a flood must not hold the reader a shared gap per ping either
	}
	if gap <= 0 {
		p.pings.Add(1)
		return true
	}
	p.mu.Lock()
	recent := !p.lastPong.IsZero() && p.clk.Now().Sub(p.lastPong) < gap
	p.mu.Unlock()
	if recent {
		p.pings.Add(1)
		return false
	}
	if p.conn != nil {
		// ctx is coder/websocket's, which ends 5 s of the wall clock
		// after the ping came, not with the connection: without this a
		// pong waiting for its slot held the reader, and Close waiting
		// for it, that long (a host's fake clock never gives the slot).
		// Two allocations a ping answered, none a message.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(p.conn, cancel)()
	}
	tk := p.enter(true)
	p.pings.Add(1) // once queued: a test that saw it may move the clock
	for {
		if err := p.wait(ctx, tk); err != nil {
			p.leave(tk)
			return true
		}
		if p.tryClaim(tk) {
			if p.shared != nil {
				// The budget shared with other connections, a pong
				// first; the pong goes when the wait is cut short, as
				// above.
				_ = p.shared.take(ctx, true)
			}
			p.mu.Lock()
			p.lastPong = p.last
			if tk == nil || p.shared != nil {
				p.lastPong = p.clk.Now() // when it goes: after the shared wait
			}
			p.mu.Unlock()
			return true
		}
	}
}

// DialLimit spaces the handshakes of the clients that share it, for a
// venue that limits new connections per IP: OKX allows 3 connection
// requests per second per IP (OKX v5 "WebSocket", "Connect": "Connection
// limit: 3 requests per second (based on IP)"), Binance 300 connections
// per 5 minutes per IP (Binance spot "WebSocket Limits"). Each dial of a
// client given it in Options.DialLimit (the first, every redial, a
// rotation's) waits until at least 1/rate has passed, on its Clock, since
// the previous one of any of them began, first come first served: clients
// started together, or redialling together after the venue dropped them
// all, would otherwise hit the venue in the same instant, and a refused
// handshake (429) costs the client BackoffCap without data. The wait ends
// with Close or the end of Run's context, and does not count in
// DialTimeout. Share one per venue and IP. Safe for concurrent use; the
// zero value is not usable.
type DialLimit struct{ p *pacer }

// NewDialLimit returns a limit of rate dials per second on clk (the wall
// clock when nil). A rate of 0 or less limits nothing.
func NewDialLimit(rate float64, clk Clock) *DialLimit {
	return &DialLimit{p: sharedPacer(rate, clk)}
}

// sharedPacer is the pacer of a limit shared by clients: rate frames per
// second on clk (the wall clock when nil).
func sharedPacer(rate float64, clk Clock) *pacer {
	if clk == nil {
		clk = realClock{}
	}
	return newPacer(&Options{ControlRate: rate, Clock: clk})
}

// wait waits for a dial's turn and claims it.
func (l *DialLimit) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	return l.p.take(ctx, false)
}

// MessageLimit is a budget of messages shared by the clients given it in
// Options.MessageLimit, for a venue that limits the messages a client
// sends per IP, not per connection: Coinbase Advanced Trade allows 8
// unauthenticated messages per second per IP (Advanced Trade "WebSocket
// Rate Limits"), which pacing each connection (ControlRate) cannot keep
// beyond a few connections. Every frame a client counts against
// ControlRate (pings, the pongs that answer the venue's pings,
// subscriptions, heartbeats, and the host's messages with PaceWrites)
// waits for it too, after the connection's own budget: each begins at
// least 1/rate after the previous one of any connection of any of the
// clients, on its Clock, first come first served, a pong first. A
// rotation's two connections share it as any two connections do. The
// wait ends with the connection (a pong then goes at once, as with
// ControlRate) or, for a host's message, with the ctx of its write
// ([ErrNotSent]). Share one per venue and IP, and give it a rate under
// the venue's (a one-second window closed at both ends holds rate+1
// frames). Safe for concurrent use; the zero value is not usable.
type MessageLimit struct{ p *pacer }

// NewMessageLimit returns a limit of rate messages per second on clk (the
// wall clock when nil). A rate of 0 or less limits nothing.
func NewMessageLimit(rate float64, clk Clock) *MessageLimit {
	return &MessageLimit{p: sharedPacer(rate, clk)}
}

// take waits for a frame's turn and claims it; first puts it at the head
// of the queue (a pong).
func (l *MessageLimit) take(ctx context.Context, first bool) error {
	if l == nil {
		return ctx.Err()
	}
	return l.p.take(ctx, first)
}
