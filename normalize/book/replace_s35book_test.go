package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Books.Add replaces a pair's book (and closes the old one). The old
// book's best bid/offer stayed the subscribers' latest, and its tops
// their last top, unannounced: the old book is fed nothing more, the
// new one publishes nothing until it is live — which, for a book that
// waits for the venue's next snapshot, may be never. A break's
// announcement the old book still owed was lost with it. The new book
// now takes them over: the old book's quote is withdrawn and its tops
// announced (ReasonReplaced), what it owed goes out first, at once where
// the pool gives, else before anything the new book publishes.
func TestS35ReplacedBookWithdrawsItsQuote(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exhausted bool
	}{{"free pool", false}, {"exhausted pool", true}} {
		t.Run(tc.name, func(t *testing.T) {
			old, sink, events := newRecBook(t, Coinbase, "BTC-USDT", nil)
			books := NewBooks(sink, events, nil)
			books.Add(old)
			publish := func(ev *schema.CanonicalEvent) {
				p, err := events.Get(context.Background())
				require.NoError(t, err)
				ev.CloneInto(p)
				p.IngestTS = 100
				require.NoError(t, books.Publish(context.Background(), p))
			}
			publish(bookEv(schema.VenueCoinbase, schema.EventBookSnapshot, 0, 0, 0, []schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")}))
			require.NoError(t, old.PublishTop(context.Background(), 5))
			require.Len(t, sink.ofType(schema.EventBBO), 1)

			nb, err := NewBook(Coinbase, "BTC-USDT", &Options{Sink: sink, Events: events})
			require.NoError(t, err)
			var held []*schema.CanonicalEvent
			if tc.exhausted {
				held = takeAll(events)
			}
			books.Add(nb)
			if tc.exhausted {
				require.Len(t, sink.ofType(schema.EventBBO), 1, "published on an exhausted pool")
				putAll(events, held)
				// The venue's next diff: the new book is not live, waits.
				publish(bookEv(schema.VenueCoinbase, schema.EventBookUpdate, 0, 0, 0, []schema.Level{lvl("100", "2")}, nil))
			}
			// An Apply the Books routed to the old book before the swap
			// runs after it: the old book publishes nothing more.
			require.NoError(t, old.Apply(context.Background(), bookEv(schema.VenueCoinbase, schema.EventBookUpdate, 0, 0, 0, []schema.Level{lvl("100.5", "1")}, nil)))
			require.NoError(t, old.PublishTop(context.Background(), 5))
			require.False(t, nb.Live())
			quotes := sink.ofType(schema.EventBBO)
			require.True(t, quotes[len(quotes)-1].BBO.BidPrice.IsZero(), "the replaced book's quote is the subscribers' latest")
			var tops int
			for _, ev := range sink.ofType(schema.EventGap) {
				if ev.Control.GapType == schema.EventBookSnapshot {
					tops++
					require.Equal(t, ReasonReplaced, ev.Control.Reason)
					require.NotZero(t, ev.IngestTS, "stamped as the replaced book's last message")
				}
			}
			require.Equal(t, 1, tops, "the replaced book's tops announced")
			require.Empty(t, sink.markers(), "nothing was lost of the diffs")
		})
	}
}
