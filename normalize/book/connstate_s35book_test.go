package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Books.OnEvent publishes each connection state to the subscribers; on a
// pool exhausted past StateTimeout the event was dropped, logged only.
// Its consumers downstream of the dispatcher — a book built there from
// the venue's diffs (one the upstream Books has none of), the quote
// Merger, the host — then never heard of the loss: the downstream book
// stayed live across it, its levels the dead connection's, and the
// Merger kept the venue's last quote. The state is now owed, and
// published before the next event of the venue the Books hand on (or its
// next state): the loss first, then the latest state after it.
func TestS35ConnStateOwedOnAnExhaustedPool(t *testing.T) {
	for _, tc := range []struct {
		name string
		next func(t *testing.T, books *Books, on func(wsclient.Event), events poolOfEvents)
	}{
		{"next state", func(t *testing.T, _ *Books, on func(wsclient.Event), _ poolOfEvents) {
			on(wsclient.Event{State: schema.ConnConnected, ConnID: 2, IngestTS: 300})
		}},
		{"next event", func(t *testing.T, books *Books, _ func(wsclient.Event), events poolOfEvents) {
			ev := bookEv(schema.VenueCoinbase, schema.EventBookSnapshot, 0, 0, 0, []schema.Level{lvl("98", "1")}, []schema.Level{lvl("99", "1")})
			ev.IngestTS = 300
			p, err := events.Get(context.Background())
			require.NoError(t, err)
			ev.CloneInto(p)
			require.NoError(t, books.Publish(context.Background(), p))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := newEventsPool()
			sink := &recSink{events: events}
			books := NewBooks(sink, events, nil) // no book of the symbol upstream
			on := books.OnEvent(schema.VenueCoinbase, nil)
			on(wsclient.Event{State: schema.ConnConnected, ConnID: 1, IngestTS: 100})
			p, err := events.Get(context.Background())
			require.NoError(t, err)
			bookEv(schema.VenueCoinbase, schema.EventBookSnapshot, 0, 0, 0, []schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")}).CloneInto(p)
			p.IngestTS = 150
			require.NoError(t, books.Publish(context.Background(), p))

			held := takeAll(events)
			on(wsclient.Event{State: schema.ConnDisconnected, ConnID: 1, IngestTS: 200}) // waits StateTimeout, then gives up
			require.Empty(t, statesOf(sink)[1:], "published on an exhausted pool")
			putAll(events, held)
			tc.next(t, books, on, events)

			states := statesOf(sink)
			require.GreaterOrEqual(t, len(states), 2, "the loss reaches the subscribers")
			require.Equal(t, schema.ConnDisconnected, states[1], "the loss reaches the subscribers")

			// A book kept downstream of the dispatcher from what the
			// subscribers got, in order.
			down, err := NewBook(Coinbase, "BTC-USDT", nil)
			require.NoError(t, err)
			sink.mu.Lock()
			got := append([]*schema.CanonicalEvent(nil), sink.got...)
			sink.mu.Unlock()
			var lostAt int
			for i, ev := range got {
				if i > 0 && ev.Type == schema.EventConnState && ev.Control.State.Lost() {
					lostAt = i
					require.True(t, down.Live(), "live before the loss")
				}
				require.NoError(t, down.Apply(context.Background(), ev))
				if lostAt == i && i > 0 {
					require.False(t, down.Live(), "a downstream book served across the lost connection")
				}
			}
			require.NotZero(t, lostAt)
			require.Zero(t, events.Stats().InUse)
		})
	}
}

func statesOf(s *recSink) []schema.ConnState {
	var out []schema.ConnState
	for _, ev := range s.ofType(schema.EventConnState) {
		out = append(out, ev.Control.State)
	}
	return out
}

type poolOfEvents = *pool.Pool[*schema.CanonicalEvent]

func newEventsPool() poolOfEvents {
	return pool.New("s35-events", 16, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
}
