package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

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
			ev.Control.State = schema.ConnConnected
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
