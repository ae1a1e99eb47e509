package book

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// slowDepth is a Binance depth endpoint that answers only when release is
// closed, and says on asked when a request came.
type slowDepth struct {
	srv      *httptest.Server
	asked    chan struct{}
	release  chan struct{}
	once     sync.Once
	requests atomic.Int32
}

// answer lets every request, waiting or to come, be answered.
func (s *slowDepth) answer() { s.once.Do(func() { close(s.release) }) }

func newSlowDepth(t *testing.T, body string) *slowDepth {
	t.Helper()
	s := &slowDepth{asked: make(chan struct{}, 16), release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.asked <- struct{}{}
		select {
		case <-s.release:
			_, _ = fmt.Fprint(w, body)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.answer) // first: a failed test's waiting handler must end for Close
	return s
}

// within runs f on a goroutine and requires it to return within a
// generous deadline: a call that waits for the slow fetch never does.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s blocked behind the snapshot fetch", what)
	}
}

func binanceSpotDiff(first, last uint64, bids, asks []schema.Level) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
	ev.Book = schema.Book{FirstSeq: first, LastSeq: last, Bids: bids, Asks: asks}
	return ev
}

func lvl1(p, q int64) []schema.Level {
	return []schema.Level{{Price: schema.NewDecimal(p, 0), Qty: schema.NewDecimal(q, 0)}}
}

// A BinanceREST fetch held the book's lock for as long as the venue took
// to answer (up to Timeout, 10 s by default): every reader of the book —
// BBO, Top, Live, Stats — and every other goroutine applying to it
// waited that long. The fetch now runs without the lock: readers get the
// book's state at once (not live, while it waits for its snapshot), a
// diff applied meanwhile is buffered behind the others and starts no
// second fetch, and the snapshot, when it comes, joins the buffered diffs
// in order.
func TestFetchDoesNotHoldTheBook(t *testing.T) {
	slow := newSlowDepth(t, `{"lastUpdateId":100,"bids":[["100","1"]],"asks":[["105","1"]]}`)
	b, sink, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: &BinanceREST{BaseURL: slow.srv.URL, Timeout: time.Hour}})
	ctx := context.Background()
	applied := make(chan error, 1)
	go func() { applied <- b.Apply(ctx, binanceSpotDiff(95, 101, lvl1(101, 2), nil)) }()
	<-slow.asked

	within(t, "Live", func() { require.False(t, b.Live()) })
	within(t, "BBO", func() {
		_, ok := b.BBO()
		require.False(t, ok)
	})
	within(t, "Top", func() {
		var top schema.CanonicalEvent
		require.False(t, b.Top(5, &top))
		require.Empty(t, top.Book.Bids)
	})
	within(t, "Stats", func() { require.Equal(t, uint64(1), b.Stats().Buffered) })
	within(t, "Apply of the next diff", func() {
		require.NoError(t, b.Apply(ctx, binanceSpotDiff(102, 103, nil, lvl1(104, 3))))
	})
	require.Equal(t, uint64(2), b.Stats().Buffered)

	slow.answer()
	require.NoError(t, <-applied)
	require.True(t, b.Live())
	require.Equal(t, uint64(103), b.LastSeq())
	requireTop(t, b, [][2]string{{"101", "2"}, {"100", "1"}}, [][2]string{{"104", "3"}, {"105", "1"}})
	require.Equal(t, int32(1), slow.requests.Load(), "a diff during the fetch started a second one")
	require.Equal(t, uint64(1), b.Stats().Fetches)
	require.Len(t, sink.ofType(schema.EventBBO), 1)
}

// A connection lost while the snapshot is on its way leaves the book not
// live: the snapshot, joined to diffs of the dead connection, would make
// it live on a stream that sends nothing more. The next diff (of the new
// connection) fetches again.
func TestFetchAfterLossDuringItIsDropped(t *testing.T) {
	slow := newSlowDepth(t, `{"lastUpdateId":100,"bids":[["100","1"]],"asks":[["105","1"]]}`)
	b, _, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: &BinanceREST{BaseURL: slow.srv.URL, Timeout: time.Hour}})
	ctx := context.Background()
	applied := make(chan error, 1)
	d := binanceSpotDiff(95, 101, lvl1(101, 2), nil)
	d.IngestTS = 10
	go func() { applied <- b.Apply(ctx, d) }()
	<-slow.asked
	lost := &schema.CanonicalEvent{Venue: schema.VenueBinance, Type: schema.EventConnState, IngestTS: 20}
	lost.UseControl().State = schema.ConnReconnecting
	within(t, "Apply of a lost connection", func() { require.NoError(t, b.Apply(ctx, lost)) })
	slow.answer()
	require.NoError(t, <-applied)
	require.False(t, b.Live(), "a snapshot fetched across a lost connection made the book live")

	next := binanceSpotDiff(102, 103, nil, lvl1(104, 3))
	next.IngestTS = 30
	require.NoError(t, b.Apply(ctx, next))
	<-slow.asked
	require.True(t, b.Live())
	require.Equal(t, uint64(103), b.LastSeq())
}
