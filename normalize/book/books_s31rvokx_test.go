package book

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Books.Close closes "every book added" so that no MaxSilence timer fires
// into the host's closed sink. A book added after it — a pipeline's
// bookKeeper creating one for a snapshot still on its way while Close
// runs, an Add racing the Close — was left open: its timer went on and
// published a silence marker into the closed sink. Add after Close now
// closes the book it adds.
func TestS31rvBooksAddAfterCloseClosesTheBook(t *testing.T) {
	clk := newStepClock()
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", &Options{MaxSilence: 5 * time.Second, Clock: clk})
	books := NewBooks(nil, events, nil)
	books.Close()
	books.Add(b)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	clk.step(time.Minute)
	require.Zero(t, b.Stats().Silences, "a book added after Close timed its silence")
	require.Empty(t, sink.ofType(schema.EventGap))
	require.Zero(t, clk.pending(), "its timer still armed")
}
