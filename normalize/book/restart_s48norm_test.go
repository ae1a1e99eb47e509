package book

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
)

// s48normBybitFrame is a Bybit v5 "Orderbook" push of orderbook.<depth>,
// generated after every frame built before it: its seq, the cross
// sequence, is the next of s48normBybitSeq.
func s48normBybitFrame(depth int, typ string, u int, bid string) []byte {
	return fmt.Appendf(nil, `{"topic":"orderbook.%d.BTCUSDT","type":%q,"ts":1700000000000,"data":{"s":"BTCUSDT","b":[[%q,"1"]],"a":[["101","1"]],"u":%d,"seq":%d},"cts":1700000000000}`, depth, typ, bid, u, 9000+s48normBybitSeq.Add(1))
}

// s48normBybitSeq numbers the frames s48normBybitFrame builds. Bybit's
// seq grows with the data the venue generates ("for the smaller seq, then
// it means the data is generated earlier", Bybit v5 "Orderbook"): a frame
// built later is newer — a restart's u = 1 after u = 2 is a new restart,
// as the tests using it mean. (It was 9000 + u: a restart then looked
// generated before the data it follows.)
var s48normBybitSeq atomic.Int64

// s48normBybitBooks is a Bybit parser feeding Books and one book of rule
// for BTC-USDT, as a host runs them; sink gets what they publish.
type s48normBybitBooks struct {
	b      *Book
	books  *Books
	p      *normalize.Parser
	events poolOfEvents
	sink   *recSink
}

func newS48normBybitBooks(t *testing.T, rule Rule) *s48normBybitBooks {
	t.Helper()
	x := &s48normBybitBooks{events: newEventsPool()}
	x.sink = &recSink{events: x.events}
	x.books = NewBooks(x.sink, x.events, nil)
	t.Cleanup(x.books.Close)
	var err error
	x.b, err = NewBook(rule, "BTC-USDT", &Options{Sink: x.sink, Events: x.events})
	require.NoError(t, err)
	x.books.Add(x.b)
	x.p = normalize.NewBybit(x.events, x.books, nil)
	return x
}

// Bybit v5 "Orderbook": "for level 1 data, if 3 seconds have elapsed
// without a change in the orderbook, a snapshot message will be pushed
// again, and the field u will be the same as that in the previous
// message". A level-1 book that started after a service restart has u = 1
// ("snapshot data due to the restart of the service"), and every re-push
// every 3 s carried it again: the book counted another Stats.Restarts (and
// logged "venue restarted its sequence") for each. A restart is counted
// once; the re-pushed snapshot is still applied (the same levels), the
// book stays live, nothing is a gap or a repeat; after a lost connection
// the new subscription's u = 1 snapshot is the same restart's; a later
// restart (u = 1 after the numbering passed it) is counted again. Through
// the parser and Books, as a host runs them.
func TestS48normBybitLevel1RepushedRestartCountedOnce(t *testing.T) {
	ctx := context.Background()
	level1, err := Bybit.WithDepth(1)
	require.NoError(t, err)
	x := newS48normBybitBooks(t, level1)
	b, p := x.b, x.p
	n := int64(0)
	feed := func(m []byte) {
		n++
		require.NoError(t, p.HandleBytes(ctx, m, n))
	}
	feed(s48normBybitFrame(1, "snapshot", 1, "100")) // the book starts after a restart
	for range 5 {
		feed(s48normBybitFrame(1, "snapshot", 1, "100")) // unchanged for 3 s: pushed again, same u
	}
	st := b.Stats()
	require.Equal(t, uint64(1), st.Restarts, "one restart, however often its snapshot is pushed again")
	require.Equal(t, uint64(6), st.Snapshots, "every re-push applied")
	require.Zero(t, st.Gaps)
	require.Zero(t, st.Stale)
	require.True(t, b.Live())
	require.Equal(t, uint64(1), b.LastSeq())
	requireTop(t, b, [][2]string{{"100", "1"}}, [][2]string{{"101", "1"}})
	require.Zero(t, p.Stats().Gaps)
	require.Zero(t, p.Stats().Repeats)

	// A lost connection: the book resyncs, and the new subscription's
	// snapshot is the same restart's data (nothing changed meanwhile).
	n++
	x.lose(t, n)
	require.False(t, b.Live())
	feed(s48normBybitFrame(1, "snapshot", 1, "100"))
	require.True(t, b.Live())
	require.Equal(t, uint64(1), b.Stats().Restarts, "the same restart, after a resync")

	feed(s48normBybitFrame(1, "snapshot", 2, "99")) // a change
	feed(s48normBybitFrame(1, "snapshot", 2, "99")) // pushed again
	feed(s48normBybitFrame(1, "snapshot", 1, "98")) // the service restarted again
	feed(s48normBybitFrame(1, "snapshot", 1, "98"))
	require.Equal(t, uint64(2), b.Stats().Restarts, "a second restart counted once")
	requireTop(t, b, [][2]string{{"98", "1"}}, [][2]string{{"101", "1"}})
	require.True(t, b.Live())
	require.Zero(t, b.Stats().Gaps)
}

// Deeper depths are not pushed again unchanged (the rule is level 1's),
// but a restart's u = 1 delta, its snapshot pushed once more by a
// resubscription, and the deltas after it count one restart too; the
// book continues from 1.
func TestS48normBybitDeepRestartCountedOnce(t *testing.T) {
	ctx := context.Background()
	x := newS48normBybitBooks(t, Bybit)
	b, p := x.b, x.p
	for i, m := range [][]byte{
		s48normBybitFrame(50, "snapshot", 500, "100"), s48normBybitFrame(50, "delta", 501, "99"),
		s48normBybitFrame(50, "delta", 1, "97"), s48normBybitFrame(50, "snapshot", 1, "97"),
		s48normBybitFrame(50, "delta", 2, "96"),
	} {
		require.NoError(t, p.HandleBytes(ctx, m, int64(i+1)))
	}
	st := b.Stats()
	require.Equal(t, uint64(1), st.Restarts)
	require.Zero(t, st.Gaps)
	require.True(t, b.Live())
	require.Equal(t, uint64(2), b.LastSeq())
}
