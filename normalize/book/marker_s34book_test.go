package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A broken book's gap marker named view 0, which a book downstream of the
// dispatcher takes as its own whatever its view ("Depth 0 on a message is
// always the book's"), as the venue's parsers name the view that lost
// messages: when an OKX books (400) book broke, a book following the
// venue's books5 stream of the symbol, which was fine, heard that it broke
// and dropped its levels. The marker names the book's own view now.
func TestS34BrokenBookMarkerNamesItsView(t *testing.T) {
	b, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	five, err := OKX.WithDepth(5)
	require.NoError(t, err)
	down, _, _ := newRecBook(t, five, "BTC-USDT", nil)
	applyLive(t, down, okxRaw("books5", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))

	require.NoError(t, b.Apply(context.Background(), okxEvent(t, okxRaw("books", "update", 12, 13, `["100","2","0","1"]`, ``, "")))) // 11, 12 lost
	require.False(t, b.Live())
	gaps := sink.ofType(schema.EventGap)
	require.Len(t, gaps, 1)
	require.Equal(t, 400, gaps[0].Book.Depth, "the marker names the view that broke")
	require.Equal(t, uint64(11), gaps[0].Control.GapFirstSeq)
	for _, ev := range gaps {
		require.NoError(t, down.Apply(context.Background(), ev))
	}
	require.True(t, down.Live(), "the books5 book heard that the books book broke")
}
