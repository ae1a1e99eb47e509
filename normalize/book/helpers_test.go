package book

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// sharedVenues holds the real venue messages, copied into the repository
// (testdata/venues, sources in its SOURCES.md) so every clone runs these tests.
const sharedVenues = "../../testdata/venues"

func readVenue(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedVenues, name))
	if os.IsNotExist(err) {
		t.Skipf("%s not present", name)
	}
	require.NoError(t, err)
	return b
}

// recSink keeps a clone of every event and returns the original to its
// pool, as the dispatcher does.
type recSink struct {
	events *pool.Pool[*schema.CanonicalEvent]
	mu     sync.Mutex
	got    []*schema.CanonicalEvent
}

func (s *recSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.mu.Lock()
	s.got = append(s.got, ev.Clone())
	s.mu.Unlock()
	s.events.Put(ev)
	return nil
}

func (s *recSink) ofType(t schema.EventType) []*schema.CanonicalEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*schema.CanonicalEvent
	for _, ev := range s.got {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

func newRecBook(t testing.TB, rule Rule, symbol string, o *Options) (*Book, *recSink, *pool.Pool[*schema.CanonicalEvent]) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.Sink, opts.Events = sink, events
	b, err := NewBook(rule, symbol, &opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.Zero(t, events.Stats().InUse, "events not returned to the pool") })
	return b, sink, events
}

// viaParser runs one sample through a venue's real parser and returns the
// book event it makes (a heap clone: the tests' to keep).
func viaParser[P interface {
	HandleBytes(ctx context.Context, data []byte, receivedAt int64) error
}](t testing.TB, newParser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) P, data []byte) *schema.CanonicalEvent {
	t.Helper()
	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	require.NoError(t, newParser(events, sink, nil).HandleBytes(context.Background(), data, 1))
	require.Len(t, sink.got, 1)
	ev := sink.got[0]
	require.Contains(t, []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate}, ev.Type)
	return ev
}

func okxEvent(t testing.TB, data []byte) *schema.CanonicalEvent {
	return viaParser(t, normalize.NewOKX, data)
}

func krakenEvent(t testing.TB, data []byte) *schema.CanonicalEvent {
	return viaParser(t, normalize.NewKraken, data)
}

func bybitEvent(t testing.TB, data []byte) *schema.CanonicalEvent {
	return viaParser(t, normalize.NewBybit, data)
}

// requireTop asserts the best levels of a book, digits included.
func requireTop(t testing.TB, b *Book, bids, asks [][2]string) {
	t.Helper()
	var ev schema.CanonicalEvent
	b.Top(max(len(bids), len(asks)), &ev)
	require.GreaterOrEqual(t, len(ev.Book.Bids), len(bids))
	require.GreaterOrEqual(t, len(ev.Book.Asks), len(asks))
	for i, w := range bids {
		require.Equal(t, w[0]+" "+w[1], ev.Book.Bids[i].Price.String()+" "+ev.Book.Bids[i].Qty.String(), "bid %d", i)
	}
	for i, w := range asks {
		require.Equal(t, w[0]+" "+w[1], ev.Book.Asks[i].Price.String()+" "+ev.Book.Asks[i].Qty.String(), "ask %d", i)
	}
}

// sinkPut returns every event to its pool: for allocation tests and
// benchmarks.
type sinkPut struct {
	events *pool.Pool[*schema.CanonicalEvent]
}

func (s *sinkPut) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.events.Put(ev)
	return nil
}

// wholeBook is a Fetcher whose snapshots are the venue's whole book (a
// simulated venue's), as BinanceREST says of a side with fewer levels
// than its Limit: the book serves and keeps its top beyond their range.
type wholeBook struct{ FetcherFunc }

func (wholeBook) SnapshotDepth() int { return math.MaxInt }

// okxRaw is an OKX book push of channel as sent: bids and asks are levels
// as JSON text, tail more members (a checksum) after "ts".
func okxRaw(channel, action string, prev int64, seq uint64, bids, asks, tail string) []byte {
	return fmt.Appendf(nil, `{"arg":{"channel":%q,"instId":"BTC-USDT"},"action":%q,"data":[{"asks":[%s],"bids":[%s],"ts":"1700000000000"%s,"prevSeqId":%d,"seqId":%d}]}`,
		channel, action, asks, bids, tail, prev, seq)
}

// applyLive applies an OKX push through the real parser and requires the
// book live after it.
func applyLive(t testing.TB, bk *Book, b []byte) {
	t.Helper()
	require.NoError(t, bk.Apply(context.Background(), okxEvent(t, b)))
	require.True(t, bk.Live(), "%s", b)
}

// newOKXBooks is newRecBook's OKX BTC-USDT book added to a Books of the
// same sink and pool, closed when the test ends (before the pool's leak
// check).
func newOKXBooks(t testing.TB) (*Book, *recSink, *pool.Pool[*schema.CanonicalEvent], *Books) {
	t.Helper()
	b, sink, events := newRecBook(t, OKX, "BTC-USDT", nil)
	books := NewBooks(sink, events, nil)
	books.Add(b)
	t.Cleanup(books.Close)
	return b, sink, events, books
}
