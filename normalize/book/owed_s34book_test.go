package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A break's announcement (its marker, the quote's withdrawal, a marker
// per view of tops) waits for the pool as long as the applying ctx
// allows — StateTimeout for a lost connection applied by Books.OnEvent —
// and what it could not get was lost for good: on a pool exhausted that
// long the subscribers never learned that the book broke, and the next
// snapshot's quote went out as if nothing had happened. What is left is
// now owed, and published before anything else the book publishes, at
// the next event it is given.
func TestS34BreakMarkerOwedOnAnExhaustedPoolGoesOutFirst(t *testing.T) {
	events := pool.New("s34-owed", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &recSink{events: events}
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	require.NoError(t, b.PublishTop(context.Background(), 5))
	published := len(sink.got)

	held := takeAll(events)
	expired, cancel := context.WithCancel(context.Background())
	cancel() // StateTimeout passed on an exhausted pool
	require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
	require.False(t, b.Live())
	require.Len(t, sink.got, published, "published on an exhausted pool")
	putAll(events, held)

	applyLive(t, b, okxRaw("books", "snapshot", -1, 20, `["99","1","0","1"]`, `["102","1","0","1"]`, ""))
	var got []string
	sink.mu.Lock()
	for _, ev := range sink.got[published:] {
		switch {
		case ev.Type == schema.EventGap && ev.Control.GapType == schema.EventBookUpdate:
			require.Equal(t, ReasonReconnect, ev.Control.Reason)
			got = append(got, "marker")
		case ev.Type == schema.EventGap && ev.Control.GapType == schema.EventBookSnapshot:
			require.Equal(t, 5, ev.Book.Depth)
			got = append(got, "top marker")
		case ev.Type == schema.EventBBO && ev.BBO.BidPrice.IsZero():
			got = append(got, "withdrawal")
		case ev.Type == schema.EventBBO:
			require.Equal(t, "99", ev.BBO.BidPrice.String())
			got = append(got, "new quote")
		default:
			t.Errorf("unexpected %v", ev.Type)
		}
	}
	sink.mu.Unlock()
	require.Equal(t, []string{"marker", "withdrawal", "top marker", "new quote"}, got,
		"the break is announced, before the new snapshot's quote")
	require.Zero(t, events.Stats().InUse)
}
