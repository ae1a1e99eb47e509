package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A resubscription asked for on a connection that is then lost is void
// (package session drops it with the connection): the book, empty since
// the break that asked, asks again on the next diff that finds it
// waiting, not snapshotWaits × RetryInterval later. Before s50book the loss of an empty
// book returned before the ask was cleared, and a book that broke on a
// rotation's old connection, lost before the streams were joined (the
// new connection's snapshot then dropped as a repeat of the old one's),
// stayed dark for ten RetryIntervals.
func TestS50bookLossVoidsTheAsk(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{RetryInterval: time.Hour})
	clock := time.Unix(1_700_000_000, 0)
	x.b.now = func() time.Time { return clock }
	bids, asks := [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}}
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks), -1, 1000))
	require.True(t, x.b.Live())
	x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "2"}}, nil, 0, 999, 1001)) // a gap
	require.False(t, x.b.Live())
	require.Equal(t, 1, x.resubs)

	clock = clock.Add(time.Second)
	require.NoError(t, x.b.Apply(context.Background(), &schema.CanonicalEvent{Venue: schema.VenueOKX, Type: schema.EventConnState,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected}}))
	require.Equal(t, 1, x.resubs, "the new connection's own subscription brings the snapshot")
	x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "3"}}, nil, 0, 1001, 1002))
	require.Equal(t, 2, x.resubs, "the ask made on the lost connection is void: asked again")
	x.feed(t, okxBook("update", "BTC-USDT", [][2]string{{"100", "4"}}, nil, 0, 1002, 1003))
	require.Equal(t, 2, x.resubs, "asked once per loss: the snapshot may still come")
}
