package dispatch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s44dispPublishers starts n goroutines publishing trades into d until
// the returned stop is called (stop waits for them). Each publishes
// whatever the pool lends it; a Publish after Close returns ErrClosed,
// which they take as the end.
func s44dispPublishers(t *testing.T, d *Dispatcher, p *pool.Pool[*schema.CanonicalEvent], n int) (stop func()) {
	t.Helper()
	var quit atomic.Bool
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for seq := uint64(1); !quit.Load(); seq++ {
				ev, err := p.TryGet()
				if err != nil {
					continue // all lent: the others give theirs back within a Publish
				}
				ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "BTC-USDT", schema.EventTrade, seq<<8|uint64(g)
				if err := d.Publish(context.Background(), ev); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("publisher %d: %v", g, err)
					}
					return
				}
			}
		})
	}
	return func() { quit.Store(true); wg.Wait() }
}

// s44dispRounds is how many dispatchers the races below are run on: the
// window they aim at is a few instructions wide (seen within 1-30 rounds
// of 8 subscriptions before the fix).
func s44dispRounds() int {
	if testing.Short() {
		return 20
	}
	return 60
}

// S44disp: an inline subscription's counts are final when Unsubscribe
// returns (called outside a handler), with publishers racing it on other
// goroutines: Delivered + InHand (the calls admitted) never changes after,
// every read of Stats agrees, the handler is called exactly that many
// times, and once Done is closed InHand reads 0 and Idle true however
// hard the publishers still push. Before admission was one atomic step
// (inline.go), a publisher could count itself started between its two
// reads of stopped and take it back after: Stats read one call in hand
// that never ran (InHand 1 after Done closed, Delivered + InHand falling
// back after Unsubscribe), seen here within a few dozen rounds.
func TestS44dispUnsubscribeFreezesInlineCounts(t *testing.T) {
	const subs, publishers, reads = 8, 3, 50
	for round := range s44dispRounds() {
		p := newEventPool(64)
		d := New(p, nil)
		ss, calls, first := s44dispCalledInline(t, d, subs)
		stop := s44dispPublishers(t, d, p, publishers)
		for range subs {
			wait(t, first, "a first call")
		}
		for i, s := range ss {
			require.NoError(t, d.Unsubscribe(s))
			st := s.Stats()
			admitted := st.Delivered + uint64(st.InHand)
			for range reads {
				st = s.Stats()
				require.Equal(t, admitted, st.Delivered+uint64(st.InHand),
					"round %d sub %d: the calls admitted changed after Unsubscribe returned (%+v)", round, i, st)
			}
			waitDone(t, s)
			for range reads {
				st = s.Stats()
				require.Zero(t, st.InHand, "round %d sub %d: a call in hand after Done closed (%+v)", round, i, st)
				require.True(t, s.Idle(), "round %d sub %d: not idle after Done closed", round, i)
			}
			require.Equal(t, admitted, st.Delivered, "round %d sub %d", round, i)
			require.Equal(t, admitted, calls[i].Load(), "round %d sub %d: handler calls against the count", round, i)
		}
		stop()
		closeDispatcher(t, d)
		require.Zero(t, p.Stats().InUse)
	}
}

// S44disp: the same with Close stopping every inline subscription at
// once while publishers race it: when Close returns nil, each one's Done
// is closed, its counts are final (the handler was called Delivered
// times) and no read of Stats finds a call in hand, while publishers that
// read the routes before Close still reach the subscriptions. Before the
// fix a publisher between its two reads of stopped showed as InHand 1
// after Close returned.
func TestS44dispCloseFreezesInlineCounts(t *testing.T) {
	const subs, publishers, reads = 8, 3, 50
	for round := range s44dispRounds() {
		p := newEventPool(64)
		d := New(p, nil)
		ss, calls, first := s44dispCalledInline(t, d, subs)
		stop := s44dispPublishers(t, d, p, publishers)
		for range subs {
			wait(t, first, "a first call")
		}
		closeDispatcher(t, d)
		for range reads {
			for i, s := range ss {
				require.True(t, s.ended(), "round %d sub %d: Done open after Close returned nil", round, i)
				st := s.Stats()
				require.Zero(t, st.InHand, "round %d sub %d: a call in hand after Close (%+v)", round, i, st)
				require.Equal(t, calls[i].Load(), st.Delivered, "round %d sub %d", round, i)
			}
		}
		stop()
		require.Zero(t, p.Stats().InUse)
	}
}

// s44dispCalledInline subscribes n inline subscriptions to every event,
// each counting its handler calls in calls[i]; first receives once per
// subscription, at its first call.
func s44dispCalledInline(t *testing.T, d *Dispatcher, n int) ([]*Subscription, []atomic.Uint64, chan struct{}) {
	t.Helper()
	calls := make([]atomic.Uint64, n)
	ss := make([]*Subscription, n)
	first := make(chan struct{}, n)
	for i := range ss {
		var err error
		ss[i], err = d.Subscribe(Filter{}, &SubscribeOptions{Inline: true, Handler: func(*schema.CanonicalEvent) {
			if calls[i].Add(1) == 1 {
				first <- struct{}{}
			}
		}})
		require.NoError(t, err)
	}
	return ss, calls, first
}
