package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A quote the book held back while a break's announcement was owed
// (publishBBOLocked: nothing goes out before it) was published only with
// the book's next message applied. When the announcement went out from
// PublishTop (or a connection state, or the silence timer), the
// subscribers' latest best bid/offer was the withdrawal while the book
// was live again with a quote: a quiet market could leave them without
// the live book's quote for as long as it stayed quiet. The quote held
// back now follows the announcement, whoever flushed it.
func TestS35QuoteHeldBackFollowsTheOwedAnnouncement(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flush func(t *testing.T, b *Book)
	}{
		{"PublishTop", func(t *testing.T, b *Book) { require.NoError(t, b.PublishTop(context.Background(), 5)) }},
		{"connected", func(t *testing.T, b *Book) {
			ev := lostConn(schema.VenueOKX, 0)
			ev.UseControl().State = schema.ConnConnected
			require.NoError(t, b.Apply(context.Background(), ev))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, sink, events := newRecBook(t, OKX, "BTC-USDT", nil)
			applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
			held := takeAll(events)
			expired, cancel := context.WithCancel(context.Background())
			cancel()
			require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
			// The new connection's snapshot, applied while the pool is
			// still exhausted: live, its quote held back.
			require.Error(t, b.Apply(expired, okxEvent(t, okxRaw("books", "snapshot", -1, 20, `["99","1","0","1"]`, `["102","1","0","1"]`, ""))))
			require.True(t, b.Live())
			putAll(events, held)

			tc.flush(t, b)
			quotes := sink.ofType(schema.EventBBO)
			require.NotEmpty(t, quotes)
			last := quotes[len(quotes)-1]
			want, live := b.BBO()
			require.True(t, live)
			require.Equal(t, want.BidPrice.String()+"/"+want.AskPrice.String(), last.BBO.BidPrice.String()+"/"+last.BBO.AskPrice.String(),
				"the subscribers' latest quote is the withdrawal of a book live again")
		})
	}
}

// holdSink keeps a clone of every event and holds the pooled originals
// until release, as a sink that forwards events asynchronously (Publish
// takes ownership; it need not give them back at once) does.
type holdSink struct {
	recSink
	held []*schema.CanonicalEvent
}

func (s *holdSink) Publish(_ context.Context, ev *schema.CanonicalEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, ev.Clone())
	s.held = append(s.held, ev)
	return nil
}

func (s *holdSink) release() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	putAll(s.events, held)
}

// A break whose marker went out but whose quote's withdrawal the pool did
// not give is owed the withdrawal. A second break before that went out —
// the book live again meanwhile, on a snapshot applied by a host whose
// ctx bounds each message's wait for the pool — only added to what was
// owed, which no longer held a marker: the second break was never
// announced to the subscribers of diffs (who saw the first marker, then
// the new snapshot, and took the book as good again). A crossed book, a
// checksum mismatch: only the book knows, no parser marks them. Each
// break now has its marker.
func TestS35SecondBreakWhileWithdrawalOwedHasItsMarker(t *testing.T) {
	books, b, sink, events, pooled := newHoldBooks(t, "s35-second")
	require.NoError(t, books.Publish(context.Background(), pooled(schema.EventBookSnapshot, "100", "101")))
	require.True(t, b.Live())
	sink.release()

	cross1 := pooled(schema.EventBookUpdate, "102", "101")
	snap := pooled(schema.EventBookSnapshot, "99", "103")
	cross2 := pooled(schema.EventBookUpdate, "104", "103")
	held := takeAll(events)
	events.Put(held[0]) // one free event: the first break's marker takes it
	held = held[1:]
	expired, cancel := context.WithCancel(context.Background())
	cancel()

	require.Error(t, books.Publish(expired, cross1))
	require.False(t, b.Live())
	require.Len(t, sink.markers(), 1, "the first break's marker")
	require.Error(t, books.Publish(expired, snap))
	require.True(t, b.Live(), "live again, its withdrawal still owed")
	require.Error(t, books.Publish(expired, cross2))
	require.False(t, b.Live())
	require.Equal(t, uint64(2), b.Stats().Crossed)

	sink.release()
	putAll(events, held)
	require.NoError(t, books.Publish(context.Background(), pooled(schema.EventBookSnapshot, "98", "105")))
	require.Len(t, sink.markers(), 2, "one marker per break")
	quotes := sink.ofType(schema.EventBBO)
	require.Equal(t, "98", quotes[len(quotes)-1].BBO.BidPrice.String())
}

// newHoldBooks returns Books feeding a Coinbase BTC-USDT book, both
// publishing to a holdSink, on a pool of 16 events checked empty at the
// end, and pooled, which fills one of its events with a book message of
// one bid and one ask.
func newHoldBooks(t *testing.T, name string) (*Books, *Book, *holdSink, *pool.Pool[*schema.CanonicalEvent], func(schema.EventType, string, string) *schema.CanonicalEvent) {
	t.Helper()
	events := pool.New(name, 16, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &holdSink{recSink: recSink{events: events}}
	books := NewBooks(sink, events, nil)
	b, err := NewBook(Coinbase, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(b)
	t.Cleanup(func() {
		sink.release()
		require.Zero(t, events.Stats().InUse, "events not returned to the pool")
	})
	pooled := func(typ schema.EventType, bid, ask string) *schema.CanonicalEvent {
		ev := bookEv(schema.VenueCoinbase, typ, 0, 0, 0, []schema.Level{lvl(bid, "1")}, []schema.Level{lvl(ask, "1")})
		p, err := events.Get(context.Background())
		require.NoError(t, err)
		ev.CloneInto(p)
		return p
	}
	return books, b, sink, events, pooled
}

// markers returns the gap markers about diffs published.
func (s *recSink) markers() []*schema.CanonicalEvent {
	var out []*schema.CanonicalEvent
	for _, ev := range s.ofType(schema.EventGap) {
		if ev.Control.GapType == schema.EventBookUpdate {
			out = append(out, ev)
		}
	}
	return out
}

// The quote held back follows the owed announcement — but not when the
// event that flushed it is a lost connection: published then, on a pool
// that gives no more, it stayed the subscribers' latest, the quote of a
// connection already lost, the new break's announcement owed behind it.
func TestS35HeldQuoteNotPublishedBeforeALoss(t *testing.T) {
	events := pool.New("s35-heldloss", 16, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &holdSink{recSink: recSink{events: events}}
	b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	t.Cleanup(func() {
		sink.release()
		require.Zero(t, events.Stats().InUse, "events not returned to the pool")
	})
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	sink.release()
	held := takeAll(events)
	t.Cleanup(func() { putAll(events, held) }) // before the check above
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, b.Apply(expired, lostConn(schema.VenueOKX, 0)))
	require.Error(t, b.Apply(expired, okxEvent(t, okxRaw("books", "snapshot", -1, 20, `["99","1","0","1"]`, `["102","1","0","1"]`, ""))))
	require.True(t, b.Live(), "live again, its quote held back")
	putAll(events, held[:3]) // three free: the owed marker and withdrawal take two
	held = held[3:]
	_ = b.Apply(expired, lostConn(schema.VenueOKX, 0))
	require.False(t, b.Live())
	quotes := sink.ofType(schema.EventBBO)
	require.True(t, quotes[len(quotes)-1].BBO.BidPrice.IsZero(), "the subscribers' latest quote is a lost connection's")
}
