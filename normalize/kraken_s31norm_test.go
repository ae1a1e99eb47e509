package normalize

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A Kraken v2 book message does not name its depth. Without the
// subscription's ack (lost, late, or made before the parser) the parser
// names the view from its snapshot (TestS30KrakenV2DepthFromSnapshot): a
// snapshot whose deeper side holds an offered depth exactly is that view.
// For a thin pair that is ambiguous: a depth-25 subscription of a pair
// with exactly 10 levels a side sends the very bytes a depth-10 one does.
//
// The checksum cannot tell them apart: "The checksum is always calculated
// over the top 10 price levels regardless of subscription depth" (Kraken
// "Book checksum (WebSocket v2)"), so levels past the 10th never change
// it, and a snapshot at most 10 deep is checksummed whole either way.
//
// Decided: the snapshot names the shallowest view it can be (10), until
// an ack names the depth. Named shallower than the real view, a book
// truncates to 10 and stays a correct prefix of the venue's book (a
// truncation never invents a level); once a level the venue will not send
// again is needed in the top 10, the checksum fails and the book resyncs
// — seen, never silent. Named deeper, or not at all, a book would keep
// levels pushed out of a 10-deep view (Kraken sends no delete for them:
// "truncate your book to the subscribed depth — you will not receive
// qty 0 for levels that fall out of scope", same page): stale levels,
// silent past the 10th. The ack, whenever it comes, wins.
func TestS31KrakenV2ThinBookDepthAmbiguous(t *testing.T) {
	// The checksum of a book is the same with or without levels past the
	// 10th: it says nothing of the view's depth.
	thin, deep := s31KrBook(t, krV2Snapshot(10)), s31KrBook(t, krV2Snapshot(25))
	require.Len(t, thin.Book.Bids, 10)
	require.Len(t, deep.Book.Bids, 25)
	require.Equal(t, krakenChecksum(&thin.Book), krakenChecksum(&deep.Book))
	require.Equal(t, 10, thin.Book.Depth, "no ack: the shallowest view it can be")

	for _, tc := range []struct {
		name      string
		msgs      []string
		snap, upd int // Book.Depth of the snapshot and of the update after it
	}{
		{"depth 10 subscription, no ack", []string{krV2Snapshot(10), krV2Update}, 10, 10},
		{"depth 25 subscription of a thin pair, no ack", []string{krV2Snapshot(10), krV2Update}, 10, 10},
		{"depth 25, thin pair, ack after the snapshot", []string{krV2Snapshot(10), krV2Ack(25), krV2Update}, 10, 25},
		{"depth 25, thin pair, ack first", []string{krV2Ack(25), krV2Snapshot(10), krV2Update}, 25, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := NewKraken(events, sink, nil)
			for _, m := range tc.msgs {
				require.NoError(t, p.HandleBytes(context.Background(), []byte(m), 1), m)
			}
			var snap, upd *schema.CanonicalEvent
			for _, ev := range sink.got {
				switch ev.Type {
				case schema.EventBookSnapshot:
					snap = ev
				case schema.EventBookUpdate:
					upd = ev
				}
			}
			require.NotNil(t, snap)
			require.NotNil(t, upd)
			require.Equal(t, tc.snap, snap.Book.Depth, "snapshot")
			require.Equal(t, tc.upd, upd.Book.Depth, "update")
			require.Zero(t, events.Stats().InUse)
		})
	}
}

// s31KrBook returns the one book event msg normalises into.
func s31KrBook(t *testing.T, msg string) *schema.CanonicalEvent {
	t.Helper()
	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	require.NoError(t, NewKraken(events, sink, nil).HandleBytes(context.Background(), []byte(msg), 1))
	require.Len(t, sink.got, 1)
	return sink.got[0]
}
