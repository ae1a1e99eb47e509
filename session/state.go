package session

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/schema"
)

// stateBoard is the session's view of its connections. Every change closes
// changed and makes a new one, so that waiters wake without polling.
type stateBoard struct {
	waiting atomic.Int32 // waiters now: pokes are free without them

	mu          sync.Mutex
	changed     chan struct{}
	market      []schema.ConnState
	marketUp    int
	withOrders  bool
	ordersState schema.ConnState
	ordersReady bool  // connected and the user-data subscription accepted
	userDataErr error // the venue refused the user-data subscription
	marketErr   error // a market request the venue refused since WaitConnected last saw the session ready
	closed      bool
}

func newStateBoard(shards int, withOrders bool) *stateBoard {
	return &stateBoard{changed: make(chan struct{}), market: make([]schema.ConnState, shards), withOrders: withOrders}
}

// update changes the board under its lock and wakes the waiters.
func (b *stateBoard) update(f func(b *stateBoard)) {
	b.mu.Lock()
	f(b)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// setMarket records market connection i's state. Rotating counts as up:
// the old connection delivers until the switch (wsclient's rotation is
// make-before-break), however long the new one takes.
func (b *stateBoard) setMarket(i int, st schema.ConnState) {
	up := func(st schema.ConnState) bool { return st == schema.ConnConnected || st == schema.ConnRotating }
	b.update(func(b *stateBoard) {
		if up(b.market[i]) {
			b.marketUp--
		}
		if up(st) {
			b.marketUp++
		}
		b.market[i] = st
	})
}

// refuseMarket records the venue's refusal of a market connection's
// request (a subscription; the only requests a market connection sends
// that the venue answers), unless one is recorded already.
func (b *stateBoard) refuseMarket(v schema.Venue, c *schema.Control) {
	b.mu.Lock()
	had := b.marketErr != nil
	b.mu.Unlock()
	if had {
		return
	}
	err := &SubscribeError{Venue: v, RequestID: c.RequestID, Code: c.Code, Msg: c.Reason}
	b.update(func(b *stateBoard) {
		if b.marketErr == nil {
			b.marketErr = err
		}
	})
}

// sawReady forgets the market refusals: WaitConnected saw the session
// ready after them.
func (b *stateBoard) sawReady() {
	b.mu.Lock()
	b.marketErr = nil
	b.mu.Unlock()
}

func (b *stateBoard) close() { b.update(func(b *stateBoard) { b.closed = true }) }

// poke wakes the waiters, if any, to look again (a book may have gone
// live). It never takes a book's lock.
func (b *stateBoard) poke() {
	if b.waiting.Load() > 0 {
		b.update(func(*stateBoard) {})
	}
}

// wait returns when done says so, or ctx ends. done runs without the
// board's lock, on a copy of the board, so that it may look at the books
// (whose locks are held while they publish, and so while they poke).
func (b *stateBoard) wait(ctx context.Context, done func(b *stateBoard) (bool, error)) error {
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	for {
		b.mu.Lock()
		snap := &stateBoard{market: nil, marketUp: b.marketUp, withOrders: b.withOrders, ordersState: b.ordersState,
			ordersReady: b.ordersReady, userDataErr: b.userDataErr, marketErr: b.marketErr, closed: b.closed}
		snap.market = make([]schema.ConnState, len(b.market))
		copy(snap.market, b.market)
		ch := b.changed
		b.mu.Unlock()
		if ok, err := done(snap); ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
