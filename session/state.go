package session

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/schema"
)

// stateBoard is the session's view of its connections. Every change closes
// changed and makes a new one, so that waiters wake without polling.
type stateBoard struct {
	waiting atomic.Int32 // waiters now: pokes are free without them

	mu           sync.Mutex
	changed      chan struct{}
	market       []schema.ConnState
	marketUp     int
	withOrders   bool
	ordersState  schema.ConnState
	ordersReady  bool            // connected and the user-data subscription accepted
	userDataErr  error           // the venue refused the user-data subscription
	userDataN    uint64          // the refusals set in userDataErr so far (setUserDataErr)
	userDataTold uint64          // userDataN of the latest userDataErr a WaitConnected returned
	refused      []marketRefusal // by market connection (shard): the venue's last refusal of its requests
	told         []uint64        // by shard: the count (marketRefusal.n) of the latest refusal a WaitConnected returned
	closed       bool
}

func newStateBoard(shards int, withOrders bool) *stateBoard {
	return &stateBoard{changed: make(chan struct{}), market: make([]schema.ConnState, shards), refused: make([]marketRefusal, shards), told: make([]uint64, shards), withOrders: withOrders}
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

// marketRefusal is a market request the venue refused, the connection
// (wsclient's ConnID) that got the refusal, and n the shard's count
// of refusals (sawReady forgets none that came after what it saw).
type marketRefusal struct {
	err  *SubscribeError
	conn uint64
	n    uint64
}

// refuseMarket records the venue's refusal, on market connection conn of
// shard i, of a request (a subscription; the only requests a market
// connection sends that the venue answers). A refusal counts while conn
// is the shard's live connection (WaitConnected): the next connection
// sends every subscription again, and the venue answers those. One read
// when no connection is live any more (conn 0) counts for none.
func (b *stateBoard) refuseMarket(i int, conn uint64, v schema.Venue, c *schema.Control) {
	if conn == 0 || i < 0 || i >= len(b.refused) {
		return
	}
	err := &SubscribeError{Venue: v, RequestID: c.RequestID, Code: c.Code, Msg: c.Reason}
	b.update(func(b *stateBoard) {
		r := &b.refused[i]
		r.err, r.conn, r.n = err, conn, r.n+1
	})
}

// sawReady forgets the refusals WaitConnected saw the session ready
// after (seen, its copy of the board), not those recorded since.
func (b *stateBoard) sawReady(seen []marketRefusal) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range seen {
		if i < len(b.refused) && b.refused[i].n == seen[i].n {
			b.refused[i].err = nil
		}
	}
}

// setUserDataErr sets the private side's refusal (nil: none now),
// counting each one (caller holds b.mu: inside update).
func (b *stateBoard) setUserDataErr(err error) {
	b.userDataErr = err
	if err != nil {
		b.userDataN++
	}
}

// untold returns the counts of the latest refusals a WaitConnected
// returned: by shard (marketRefusal.n), and of the private side's
// (userDataN). A call begun now returns only those after them.
func (b *stateBoard) untold() (market []uint64, userData uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.told), b.userDataTold
}

// tell records that a WaitConnected returned shard i's refusal number n
// (i < 0: the private side's, number n).
func (b *stateBoard) tell(i int, n uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case i < 0:
		b.userDataTold = max(b.userDataTold, n)
	case i < len(b.told):
		b.told[i] = max(b.told[i], n)
	}
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
			ordersReady: b.ordersReady, userDataErr: b.userDataErr, userDataN: b.userDataN, closed: b.closed}
		snap.market = slices.Clone(b.market)
		snap.refused = slices.Clone(b.refused)
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
