package dispatch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A snapshot staged behind its stream's gap marker (taken off the ordered
// lane, to go right after the marker in hand) is still queued: a marker
// about every symbol of its venue (a connection lost), published then,
// goes out on the critical lane ahead of it, and the staged snapshot,
// from before the loss, delivered after the marker would pass for the
// book after it. It is dropped with the lane's book events the marker
// covers (discardOrderedLocked).
func TestS39disp2WideMarkerDropsTheStagedSnapshot(t *testing.T) {
	d, s, publish := bookSub(t, []schema.EventType{schema.EventBookSnapshot}, 5, func(ev *schema.CanonicalEvent) {
		ev.Symbol, ev.Book.Depth = "", 0
		ev.Control = &schema.Control{Kind: schema.ControlGap, GapSource: schema.GapVenue, Reason: "connection lost"}
	})
	got := stageTop3(t, s, publish)
	publish(schema.EventGap, 7) // the connection lost
	publish(schema.EventBookSnapshot, 8)
	got = append(got, closeAndRead(t, d, s, topName)...)
	require.Equal(t, []string{"top 1", "queue marker", "venue marker", "top 8"}, got, "nothing from before the loss after its marker")
	st := s.Stats()
	require.Equal(t, uint64(4), st.Coalesced, "tops 3-6 replaced by the venue's marker: %+v", st)
	require.Equal(t, 8+st.Gaps, st.Delivered+st.Dropped+st.Coalesced, "every event in one place: %+v", st)
}

// topName names ev for the staged tests: "top N" for a snapshot of
// SeqProvider N, "venue marker" for a venue's gap marker, "queue marker"
// for the subscriber queue's.
func topName(ev *schema.CanonicalEvent) string {
	switch {
	case ev.Type == schema.EventBookSnapshot:
		return fmt.Sprintf("top %d", ev.SeqProvider)
	case ev.Control.GapSource == schema.GapVenue:
		return "venue marker"
	}
	return "queue marker"
}

// bookSub subscribes to types (of every venue and symbol) with an
// Ordered lane of 4 on a new dispatcher, and returns it with publish: an
// event of typ and SeqProvider seq of Bybit BTCUSDT of Book.Depth depth,
// or for schema.EventGap a marker that gap sets up (its Control, and the
// symbol and view it names).
func bookSub(t *testing.T, types []schema.EventType, depth int, gap func(ev *schema.CanonicalEvent)) (*Dispatcher, *Subscription, func(schema.EventType, uint64)) {
	t.Helper()
	events := schema.NewPools(nil).Events
	d := New(events, nil)
	s, err := d.Subscribe(Filter{Types: types}, &SubscribeOptions{OrderedBound: 4})
	require.NoError(t, err)
	publish := func(typ schema.EventType, seq uint64) {
		ctx := context.Background()
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider, ev.Book.Depth = schema.VenueBybit, "BTCUSDT", typ, seq, depth
		if typ == schema.EventGap {
			gap(ev)
		}
		require.NoError(t, d.Publish(ctx, ev))
	}
	return d, s, publish
}

// closeAndRead closes d (a 60 s guard) while it reads s's channel to its
// end, and returns what it read, each event named by name.
func closeAndRead(t *testing.T, d *Dispatcher, s *Subscription, name func(*schema.CanonicalEvent) string) []string {
	t.Helper()
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		closed <- d.Close(ctx)
	}()
	var got []string
	for ev := range s.C() {
		got = append(got, name(ev))
	}
	require.NoError(t, <-closed)
	return got
}

// indexOf returns where what is in got, the events read; not there fails
// the test.
func indexOf(t *testing.T, got []string, what string) int {
	t.Helper()
	for i, g := range got {
		if g == what {
			return i
		}
	}
	t.Fatalf("%s not delivered: %v", what, got)
	return -1
}

// BookSub, CloseAndRead and TopName are bookSub, closeAndRead and
// topName for the package's external tests.
var (
	BookSub      = bookSub
	CloseAndRead = closeAndRead
	TopName      = topName
)

// stageTop3 publishes tops 1-6 of Bybit BTCUSDT on s's lane of 4: top 1
// in hand first (offered on C, not read), so 2 is dropped and the marker
// of the tops' stream waits; top 1 is then received, and the next top
// taken off the lane (3) is staged behind the marker, in hand. It returns
// what was received: top 1. (Publishing 1-6 before the goroutine took
// top 1 left it to chance whether 1 or 2 was staged.)
func stageTop3(t *testing.T, s *Subscription, publish func(schema.EventType, uint64)) []string {
	t.Helper()
	publish(schema.EventBookSnapshot, 1)
	eventually(t, func() bool { return s.Stats().InHand == 1 }, "top 1 in hand")
	for seq := uint64(2); seq <= 6; seq++ {
		publish(schema.EventBookSnapshot, seq)
	}
	var got []string
	select {
	case ev := <-s.C():
		got = append(got, topName(ev))
	case <-time.After(60 * time.Second):
		t.Fatal("top 1 not received")
	}
	eventually(t, func() bool {
		st := s.Stats()
		return st.InHand == 1 && st.InHandType == schema.EventGap
	}, "the tops' queue marker in hand, top 3 staged")
	s.mu.Lock()
	staged := s.staged
	s.mu.Unlock()
	require.NotNil(t, staged)
	require.Equal(t, uint64(3), staged.SeqProvider)
	return got
}
