package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// toldOf reports, for each view of tops in views, whether one of the
// book's markers that reach the subscribers of its tops names it: one
// about its tops (GapType EventBookSnapshot) or its diffs (EventBookUpdate,
// which the dispatcher routes to the subscribers of snapshots too) of
// Book.Depth the view, or 0, which names the whole book's — every view's.
func toldOf(sink *recSink, views []int) map[int]bool {
	told := map[int]bool{}
	for _, g := range sink.ofType(schema.EventGap) {
		if g.Control.GapType != schema.EventBookSnapshot && g.Control.GapType != schema.EventBookUpdate {
			continue
		}
		for _, v := range views {
			if g.Book.Depth == v || g.Book.Depth == 0 {
				told[v] = true
			}
		}
	}
	return told
}

// A book announces its break to the views of tops it published with a
// marker each, at most maxTopViews of them: a fifth view's tops were
// silently left out — a host following that view by its markers' depth
// (as the dispatcher keys streams, and a book downstream follows its
// own view) kept its last top as the book. Past the bound, the last
// marker now names no view (Book.Depth 0: the whole book's tops), which
// is about every view; the views before it keep their own.
func TestS33rvBrokenBookAnnouncedToEveryViewOfItsTops(t *testing.T) {
	views := []int{1, 2, 3, 5, 8}
	for _, lost := range []string{"connection lost", "silent"} {
		t.Run(lost, func(t *testing.T) {
			clk := newStepClock()
			// OKX: a venue of views, whose gap marker names the book's
			// (400); a whole-book venue's names view 0, every view, and
			// tells every view of tops (TestS39bookWholeBookTopsHearOneMarkerPerBreak).
			b, sink, _ := newRecBook(t, OKX, "BTC-USDT", &Options{MaxSilence: time.Minute, Clock: clk})
			applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
			for _, v := range views {
				require.NoError(t, b.PublishTop(context.Background(), v))
			}
			if lost == "silent" {
				clk.step(time.Minute)
			} else {
				require.NoError(t, b.Apply(context.Background(), lostConn(schema.VenueOKX, 2)))
			}
			require.False(t, b.Live())
			told := toldOf(sink, views)
			for _, v := range views {
				require.True(t, told[v], "the tops of view %d were not told of the break", v)
			}
			// The last view, past the bound, names view 0, every view.
			require.Len(t, sink.ofType(schema.EventGap), 1+maxTopViews, "one marker about the diffs, one per view up to the bound")
		})
	}
}

// A view published again is announced once: its tops' stream is one.
func TestS33rvBrokenBookAnnouncesAViewOnce(t *testing.T) {
	b, sink, _ := newRecBook(t, OKX, "BTC-USDT", nil) // of views: whole-book venues' tops have no marker of their own
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	for range 3 {
		require.NoError(t, b.PublishTop(context.Background(), 3))
	}
	require.NoError(t, b.Apply(context.Background(), lostConn(schema.VenueOKX, 2)))
	var tops []int
	for _, g := range sink.ofType(schema.EventGap) {
		if g.Control.GapType == schema.EventBookSnapshot {
			tops = append(tops, g.Book.Depth)
		}
	}
	require.Equal(t, []int{3}, tops)
}
