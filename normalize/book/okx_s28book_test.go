package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// OKX's seqId/prevSeqId rules on every book channel that numbers its
// pushes (OKX API v5 "Order book channel", which covers books,
// books-l2-tbt and books50-l2-tbt): prevSeqId -1 on a snapshot; an update's
// prevSeqId is the previous push's seqId; a push with no change (empty
// sides) has seqId = prevSeqId = the last seqId; after maintenance seqId
// may start again below prevSeqId. Through the real parser into a book:
// none of these is a gap, the book stays live, and a real loss is a gap.
func TestS28OKXSeqRulesEveryChannel(t *testing.T) {
	for _, ch := range []string{"books", "books-l2-tbt", "books50-l2-tbt"} {
		t.Run(ch, func(t *testing.T) {
			msg := func(action string, prev int64, seq uint64, bids, asks string) []byte {
				return okxRaw(ch, action, prev, seq, bids, asks, `,"checksum":0`)
			}
			rule := OKX
			if ch == "books50-l2-tbt" {
				rule.Depth = 50 // the view the book follows
			}
			bk, sink, _ := newRecBook(t, rule, "BTC-USDT", nil)
			ctx := context.Background()
			apply := func(b []byte) { t.Helper(); applyLive(t, bk, b) }
			apply(msg("snapshot", -1, 500, `["100","1","0","1"]`, `["101","1","0","1"]`))
			apply(msg("update", 500, 507, `["99","2","0","1"]`, ``))
			apply(msg("update", 507, 507, ``, ``))                  // no change: seqId = prevSeqId
			apply(msg("update", 507, 3, ``, `["102","3","0","1"]`)) // renumbered after maintenance
			apply(msg("update", 3, 4, `["100","4","0","1"]`, ``))
			require.Zero(t, bk.Stats().Gaps)
			require.Empty(t, sink.ofType(schema.EventGap))
			requireTop(t, bk, [][2]string{{"100", "4"}, {"99", "2"}}, [][2]string{{"101", "1"}, {"102", "3"}})
			// 5 and 6 lost.
			require.NoError(t, bk.Apply(ctx, okxEvent(t, msg("update", 6, 7, `["98","1","0","1"]`, ``))))
			require.False(t, bk.Live(), "a lost update left the book live")
			requireMarker(t, sink, 1, ReasonGap)
		})
	}
}

// books5 and bbo-tbt push whole views with seqId and no prevSeqId (OKX API
// v5 "Order book channel" examples): neither is an update, so the pair rule
// does not apply; each push is taken, whatever seqId the previous had.
func TestS28OKXViewsWithoutPrevSeqID(t *testing.T) {
	ctx := context.Background()
	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	p := normalize.NewOKX(events, sink, nil)
	for i, seq := range []int{10, 12, 40, 3} {
		for _, ch := range []string{"books5", "bbo-tbt"} {
			in := fmt.Sprintf(`{"arg":{"channel":%q,"instId":"BTC-USDT"},"data":[{"asks":[["101","1","0","1"]],"bids":[["100","1","0","1"]],"instId":"BTC-USDT","ts":"170000000000%d","seqId":%d}]}`, ch, i, seq)
			require.NoError(t, p.HandleBytes(ctx, []byte(in), 1), in)
		}
	}
	require.Len(t, sink.ofType(schema.EventBookSnapshot), 4)
	require.Len(t, sink.ofType(schema.EventBBO), 4)
	require.Empty(t, sink.ofType(schema.EventGap))
	require.Zero(t, p.Stats().Errors)
}
