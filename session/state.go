package session

import (
	"context"
	"sync"

	"github.com/meltica/meltica/schema"
)

// stateBoard is the session's view of its connections. Every change closes
// changed and makes a new one, so that waiters wake without polling.
type stateBoard struct {
	mu          sync.Mutex
	changed     chan struct{}
	market      []schema.ConnState
	marketUp    int
	withOrders  bool
	ordersState schema.ConnState
	ordersReady bool  // connected and the user-data subscription accepted
	userDataErr error // the venue refused the user-data subscription
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

func (b *stateBoard) setMarket(i int, st schema.ConnState) {
	b.update(func(b *stateBoard) {
		if b.market[i] == schema.ConnConnected {
			b.marketUp--
		}
		if st == schema.ConnConnected {
			b.marketUp++
		}
		b.market[i] = st
	})
}

func (b *stateBoard) close() { b.update(func(b *stateBoard) { b.closed = true }) }

// wait returns when done says so, or ctx ends.
func (b *stateBoard) wait(ctx context.Context, done func(b *stateBoard) (bool, error)) error {
	for {
		b.mu.Lock()
		ok, err := done(b)
		ch := b.changed
		b.mu.Unlock()
		if ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
