package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// With a loss and a later state of a venue both owed (Books.oweState),
// flushStates publishes the loss, and a next sink that calls back with
// an event of the venue from within it (a host's sink publishing on a
// connection state) had its event go out at once: before the later
// state, which happened before it. The host saw Disconnected, its
// event, Connected — the venue down while its event was of the
// connection up. The states owed go out first, in order.
func TestS37bookCallbackDuringALossGoesOutAfterTheLaterState(t *testing.T) {
	events := newEventsPool()
	sink := &recThenHook{recSink: recSink{events: events}}
	books := NewBooks(sink, events, nil)
	called := false
	sink.hook = func(ctx context.Context, ev schema.CanonicalEvent) {
		if ev.Type == schema.EventConnState && ev.Control.State == schema.ConnDisconnected && !called {
			called = true
			cb := pooledTrade(t, events, schema.VenueOKX)
			cb.Symbol = "callback"
			_ = books.Publish(ctx, cb)
		}
	}
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnDisconnected, reason: "eof", at: 100})
	books.oweState(schema.VenueOKX, stateMark{state: schema.ConnConnected, at: 101})
	require.NoError(t, books.Publish(context.Background(), pooledTrade(t, events, schema.VenueOKX)))
	require.True(t, called)
	var got []string
	sink.mu.Lock()
	for _, ev := range sink.got {
		if ev.Type == schema.EventConnState {
			got = append(got, ev.Control.State.String())
		} else {
			got = append(got, ev.Symbol)
		}
	}
	sink.mu.Unlock()
	require.Equal(t, []string{schema.ConnDisconnected.String(), schema.ConnConnected.String(), "callback", "BTC-USDT"}, got,
		"the states in order, then the callback's event, then the event that flushed them")
	require.False(t, books.owing.Load())
	require.Zero(t, events.Stats().InUse)
}

// recThenHook is a recSink that records each event, as delivered, and
// then runs hook with a copy of it: the order recorded is the order the
// sink was given the events in, a callback's event after the one it
// answers.
type recThenHook struct {
	recSink
	hook func(ctx context.Context, ev schema.CanonicalEvent)
}

func (s *recThenHook) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	// The copy owns its sections: ev's go back to the pool with it, zeroed.
	seen := schema.CanonicalEvent{Venue: ev.Venue, Type: ev.Type}
	ev.CopySectionsTo(&seen)
	err := s.recSink.Publish(ctx, ev)
	if s.hook != nil {
		s.hook(ctx, seen)
	}
	return err
}
