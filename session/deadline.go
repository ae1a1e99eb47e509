package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/meltica/meltica/wsclient"
)

// answerTimeout is how long a private login or subscription (Binance's
// user-data subscription too) may go unanswered before the connection is
// taken for broken (ErrNoAnswer).
const answerTimeout = 10 * time.Second

// deadline bounds the wait for a venue's answer on Client.Clock: armed for
// one request (or one batch) at a time, it calls its expire function once
// the time has passed, unless stopped or armed again first, or the
// session begins to close. The private connections' handshake (login,
// subscriptions) and Binance's user-data subscription use it alike.
//
// Its wait runs on a goroutine of the session's (s.bg: Close waits for
// it), on a timer of Client.Clock (NewTimer: a test's clock fires it as it
// fires the session's other timers; Clock.AfterFunc would not do, as a
// test clock firing every AfterFunc of 10 s would end wsclient's dials,
// whose default timeout is 10 s too). Arm it where Close cannot have begun
// waiting for s.bg (a connection's event or worker goroutine: Close waits
// for those first). The zero value is unarmed; it is safe for concurrent
// use.
type deadline struct {
	s    *Session
	mu   sync.Mutex
	stop chan struct{} // the armed wait's; nil when unarmed
	gen  uint64        // the arming live now; changed by arm and disarm
}

// arm starts the deadline anew, in place of the one armed before: expire
// is called with the arming's generation after d on Client.Clock, on the
// deadline's goroutine, unless disarm or arm comes first. It returns that
// generation (see live).
func (d *deadline) arm(after time.Duration, expire func(gen uint64)) uint64 {
	s := d.s
	d.mu.Lock()
	d.disarmLocked()
	stop := make(chan struct{})
	d.stop = stop
	g := d.gen
	t := s.cfg.Client.Clock.NewTimer(after)
	s.bg.Add(1)
	d.mu.Unlock()
	go func() {
		defer s.bg.Done()
		defer t.Stop()
		select {
		case <-t.C():
		case <-stop:
			return
		case <-s.dying.Done():
			return
		}
		d.mu.Lock()
		live := d.gen == g
		if live {
			d.stop = nil // fired: nothing to stop
		}
		d.mu.Unlock()
		if live {
			expire(g)
		}
	}()
	return g
}

// disarm stops the deadline armed, if any: its expire is not called (a
// call under way already still ends).
func (d *deadline) disarm() {
	d.mu.Lock()
	d.disarmLocked()
	d.mu.Unlock()
}

func (d *deadline) disarmLocked() {
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
	d.gen++
}

// live reports whether gen is the arming live now: neither disarmed nor
// armed again since (an expiry handed to another goroutine checks it
// there, where the request may have been answered meanwhile).
func (d *deadline) live(gen uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.gen == gen
}

// restTimeout is the cause of a REST call ended by its deadline of d
// (Config.RESTTimeout) on Client.Clock.
func restTimeout(d time.Duration) error {
	return fmt.Errorf("%w (%v on Client.Clock)", ErrRESTTimeout, d)
}

// restDeadline bounds a REST call (instruments, server time, Kraken's
// WebSocket token, order queries) by d (Config.RESTTimeout) on clk, the
// session's Client.Clock, as every other wait of the session is: with a
// test's clock, or a host's simulated one, a venue that never answers
// holds the call until that clock says so, not for the wall clock's d.
// The call runs with the returned context; end stops the deadline (its
// goroutine gone when end returns) and returns the call's error, which
// wraps ErrRESTTimeout (and context.DeadlineExceeded) when the deadline
// ended the call. end may be called more than once (a deferred end(nil)
// as a guard).
func restDeadline(ctx context.Context, clk wsclient.Clock, d time.Duration) (context.Context, func(err error) error) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := clk.NewTimer(d)
	stop, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-t.C():
			cancel(restTimeout(d))
		case <-stop:
		case <-ctx.Done():
		}
	}()
	var once sync.Once
	return ctx, func(err error) error {
		once.Do(func() {
			close(stop)
			<-exited
			t.Stop()
		})
		if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrRESTTimeout) && !errors.Is(err, ErrRESTTimeout) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		cancel(nil)
		return err
	}
}
