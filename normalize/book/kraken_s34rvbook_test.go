package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A thin Kraken v2 pair whose connection is replaced again and again
// (each new connection's parser knows no ack yet and names its snapshot a
// shallower view): each replacement ends the live book once — one marker,
// one withdrawal of its quote — whether wsclient's report of the loss
// comes before the new snapshot or after it (stamped before), and the
// first update of the book's view makes it live again without a
// resubscription. The flapping is one announcement per connection,
// never more, and never a book that stays down.
func TestS34rvKrakenThinPairRotationsAnnouncedOncePerConnection(t *testing.T) {
	for _, lossFirst := range []bool{false, true} {
		name := map[bool]string{false: "loss reported after the new snapshot", true: "loss reported first"}[lossFirst]
		t.Run(name, func(t *testing.T) {
			x := newKrAsidePipe(t)
			v := newKrThin()
			x.feed(t, v.snapshot(), krAck(25), v.ask("50001.1", "0.25", false))
			require.True(t, x.b.Live())
			const rotations = 5
			for i := range rotations {
				markers, quotes := len(x.markers()), len(x.sink.ofType(schema.EventBBO))
				lostAt := x.ts + 1
				x.p = normalize.NewKraken(x.events, x.books, nil) // the new connection's parser
				if lossFirst {
					x.ts += 2e6
					require.NoError(t, x.b.Apply(context.Background(), krLost(lostAt)))
				}
				x.feed(t, v.snapshot())
				require.False(t, x.b.Live(), "rotation %d: the dead connection's book is served", i)
				if !lossFirst {
					require.NoError(t, x.b.Apply(context.Background(), krLost(lostAt)))
				}
				x.feed(t, krAck(25), v.ask("50001.1", []string{"0.5", "0.25"}[i%2], false))
				require.True(t, x.b.Live(), "rotation %d: %+v", i, x.b.Stats())
				require.Len(t, x.markers(), markers+1, "rotation %d: announced once", i)
				bbos := x.sink.ofType(schema.EventBBO)[quotes:]
				require.GreaterOrEqual(t, len(bbos), 2, "rotation %d: the withdrawal, then the new quotes", i)
				require.True(t, bbos[0].BBO.BidPrice.IsZero() && bbos[0].BBO.AskPrice.IsZero(), "rotation %d: withdrawn once, first", i)
				for _, q := range bbos[1:] {
					require.False(t, q.BBO.BidPrice.IsZero(), "rotation %d: withdrawn twice", i)
				}
			}
			require.Zero(t, x.resubs, "asked for a snapshot a new connection had sent")
			requireTop(t, x.b, v.bids, v.asks)
			st := x.b.Stats()
			require.Equal(t, uint64(rotations), st.Invalidations, "%+v", st)
			require.Zero(t, st.ChecksumErrors, "%+v", st)
		})
	}
}
