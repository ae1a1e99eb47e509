package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A silent book's announcement — its marker, the withdrawal of its quote
// and a marker for each view of tops it published — took all its pooled
// events at once or none: up to six free at one instant, which a busy
// pipeline (here: one event free, ever) never has. The book reported not
// live and told no subscriber, retrying every RetryInterval for as long
// as it stayed silent. It now takes one event at a time, each handed back
// by the sink before the next: one free event is enough, and on a pool
// exhausted outright what is left goes out once one comes back.
func TestS34SilenceAnnouncedWithOneFreeEvent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exhausted bool // no event free when the book goes silent; one comes back later
	}{
		{"one event free", false},
		{"exhausted, then one event back", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newStepClock()
			events := pool.New("s34-silence", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
			sink := &recSink{events: events}
			b, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events, MaxSilence: 5 * time.Second, RetryInterval: time.Second, Clock: clk})
			require.NoError(t, err)
			defer b.Close()
			applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
			require.NoError(t, b.PublishTop(context.Background(), 3))
			require.NoError(t, b.PublishTop(context.Background(), 2))

			held := make([]*schema.CanonicalEvent, 0, 4)
			take := func(n int) {
				for range n {
					ev, err := events.TryGet()
					require.NoError(t, err)
					held = append(held, ev)
				}
			}
			take(3) // the rest of the pipeline holds three of four, for good
			if tc.exhausted {
				take(1)
			}
			clk.step(5 * time.Second)
			require.False(t, b.Live())
			if tc.exhausted {
				require.Empty(t, sink.ofType(schema.EventGap), "published on an exhausted pool")
				events.Put(held[3])
				held = held[:3]
				clk.step(time.Second) // the retry, one event free
			}
			var got []string
			sink.mu.Lock()
			all := append([]*schema.CanonicalEvent(nil), sink.got...)
			sink.mu.Unlock()
			for _, ev := range all[3:] { // after the quote and the two tops
				switch {
				case ev.Type == schema.EventBBO:
					require.True(t, ev.BBO.BidPrice.IsZero() && ev.BBO.AskPrice.IsZero())
					got = append(got, "withdrawal")
				case ev.Type == schema.EventGap && ev.Control.GapType == schema.EventBookUpdate:
					require.Equal(t, ReasonSilent, ev.Control.Reason)
					got = append(got, "marker")
				case ev.Type == schema.EventGap && ev.Control.GapType == schema.EventBookSnapshot:
					require.Equal(t, ReasonSilent, ev.Control.Reason)
					got = append(got, map[int]string{3: "top 3", 2: "top 2"}[ev.Book.Depth])
				default:
					t.Fatalf("unexpected %v", ev.Type)
				}
			}
			require.Equal(t, []string{"marker", "withdrawal", "top 3", "top 2"}, got,
				"the silent book's subscribers are told, in order, with one free event")
			clk.step(time.Minute)
			sink.mu.Lock()
			require.Len(t, sink.got, 3+4, "announced twice")
			sink.mu.Unlock()
			require.Zero(t, clk.pending(), "a retry armed with nothing owed")
			for _, ev := range held {
				events.Put(ev)
			}
			require.Zero(t, events.Stats().InUse)
		})
	}
}
