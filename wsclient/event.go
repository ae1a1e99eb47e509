package wsclient

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/meltica/meltica/schema"
)

// Event is a state change or a reported error, handed to Options.OnEvent.
//
// A Disconnected event means a possible gap in the data: messages the venue
// sent between the loss and the next Connected event are lost.
//
// A Reconnecting event tells one failure: Delay is the wait its Err and
// Reason ask for — the lost connection's (or failed dial's) backoff and
// floor, or, when a rotation refused by the venue before the loss asked
// for a longer wait (a Retry-After, a close code's floor), that wait,
// with the rotation's error and ReasonRotation. Its State tells the loss
// all the same (the first word of it when the queue dropped the
// Disconnected event before it): a rotation's own events are known by
// ReasonRotation with their State (Rotating, a switch's or a failed
// rotation's Connected) or Err ([ErrRotationDropped],
// [ErrRotationUnaligned]), never by ReasonRotation alone.
type Event struct {
	State   schema.ConnState // the state after the event
	Reason  Reason           // why
	Err     error            // the error behind it, if any
	ConnID  uint64           // the connection concerned, 0 when none
	Attempt int              // with ConnReconnecting: the redial number, from 1
	Delay   time.Duration    // with ConnReconnecting: the wait before it
	At      time.Time        // when it happened, on Options.Clock
	// IngestTS is when it happened on the frames' clock (Unix ns): for the
	// loss of a connection, that connection's reading of the wall clock
	// from its dial, which stamped its frames' ReceivedAt, so that a
	// consumer orders the loss after every frame the connection
	// delivered, whatever Options.Clock is (a fake one, or the host's
	// clock stepped since the dial); for other events the wall clock.
	// Compare it with frames' times (an event's IngestTS); At with the
	// Clock's.
	IngestTS int64
	Dropped  uint64 // events dropped (queue full) since the last delivered one

	// handled, when not nil, is closed once OnEvent returned from the
	// event (announce waits for it).
	handled chan struct{}
}

// Stamp is e's time among frames' events, for
// schema.CanonicalEvent.IngestTS (Unix ns): IngestTS, or At's for an
// Event built without it (a host's own), 0 when neither is set.
func (e Event) Stamp() int64 {
	switch {
	case e.IngestTS != 0:
		return e.IngestTS
	case e.At.IsZero():
		return 0
	}
	return e.At.UnixNano()
}

// setState records a state change and reports it.
func (c *Client) setState(ev Event) {
	c.st.state.Store(uint32(ev.State))
	c.emit(ev, false)
}

// report tells of an error that changed no state (handler, invalid frame):
// those use at most half the queue.
func (c *Client) report(r Reason, err error, id uint64) {
	c.emit(Event{State: c.State(), Reason: r, Err: err, ConnID: id}, true)
}

// emit queues ev without ever blocking.
func (c *Client) emit(ev Event, minor bool) {
	c.logEvent(&ev)
	if c.events == nil {
		return
	}
	if minor && len(c.events) >= cap(c.events)/2 {
		c.dropEvent()
		return
	}
	c.stamp(&ev)
	select {
	case c.events <- ev:
	default:
		c.dropEvent()
	}
}

// stamp sets ev's times as it is queued.
func (c *Client) stamp(ev *Event) {
	ev.At = c.opts.Clock.Now()
	if ev.IngestTS == 0 {
		ev.IngestTS = time.Now().UnixNano()
	}
}

// announce reports ev, a loss the handler's next frames come after (a
// rotation's, see switchTo), and returns once OnEvent has returned from
// it, so that whatever OnEvent does with it (a session publishes gap
// markers) comes before those frames; or once ctx ended (Run's end,
// Close). The event waits for room in the queue rather than be dropped.
// OnEvent must not wait for the handler's next frame meanwhile.
func (c *Client) announce(ctx context.Context, ev Event) {
	c.logEvent(&ev)
	if c.events == nil {
		return
	}
	c.stamp(&ev)
	ev.handled = make(chan struct{})
	select {
	case c.events <- ev:
	case <-ctx.Done():
		c.dropEvent()
		return
	}
	select {
	case <-ev.handled:
	case <-ctx.Done():
	}
}

func (c *Client) dropEvent() {
	c.st.eventsDropped.Add(1)
	c.st.undrop.Add(1)
}

// eventLoop runs OnEvent for each queued event until the queue is closed.
// OnEvent is host code on a goroutine of ours: a panic in it is recovered
// (onEvent), and a runtime.Goexit in it (t.FailNow in a test's callback)
// ends this goroutine, so a new one goes on with the queue — the events
// after it still reach the host (a session follows its connections by
// them), and Run still waits for the loop (evWG stays counted).
func (c *Client) eventLoop() {
	finished := false
	defer func() {
		if !finished {
			c.st.eventPanics.Add(1)
			go c.eventLoop()
			return
		}
		c.evWG.Done()
	}()
	for ev := range c.events {
		ev.Dropped = c.st.undrop.Swap(0)
		c.onEvent(ev)
	}
	finished = true
}

// onEvent runs OnEvent for ev. A panic in it is recovered, counted in
// Stats.OnEventPanics and logged at Error with its stack: the host's bug
// must not end its program from a goroutine of ours.
func (c *Client) onEvent(ev Event) {
	if ev.handled != nil {
		defer close(ev.handled) // a Goexit in OnEvent runs it too
	}
	defer func() {
		if p := recover(); p != nil {
			c.st.eventPanics.Add(1)
			c.logPanic(p)
		}
	}()
	c.opts.OnEvent(ev)
}

// logPanic logs OnEvent's panic p to Options.Logger, itself host code: a
// panic in the Logger is dropped.
func (c *Client) logPanic(p any) {
	l := c.opts.Logger
	if l == nil {
		return
	}
	defer func() { _ = recover() }()
	l.Error("wsclient: OnEvent panicked", slog.String("venue", string(c.opts.Venue)),
		slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
}
