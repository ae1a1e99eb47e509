package book

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// An OKX sequence break (prevSeqId not the last seqId) is announced by the
// parser (Parser.Stats().Gaps); its gap marker invalidates the book
// (ReasonUpstream) before the diff reaches it, so the book's own check
// never saw the break and Stats.Gaps ("sequence breaks seen") stayed 0. It
// counts the announced break now, once.
func TestS43normOKXAnnouncedBreakCountsInGaps(t *testing.T) {
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", nil)
	x.feed(t, string(okxSnap(200, `["100","5","0","1"]`, `["101","1","0","1"]`)), string(okxUpdate(200, 203, `["99","2","0","1"]`, ``)))
	require.True(t, x.b.Live())
	require.Zero(t, x.b.Stats().Gaps)

	x.feed(t, string(okxUpdate(205, 207, `["98","2","0","1"]`, ``))) // 204–205 lost
	require.False(t, x.b.Live())
	m := x.markers()
	require.Len(t, m, 1, "one marker per breakage")
	require.Equal(t, ReasonUpstream, m[0].Control.Reason, "the parser's marker broke the book")
	require.EqualValues(t, 1, x.b.Stats().Gaps, "the announced break is a sequence break the book saw")
}
