package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Books.Add replaces a book, which reports not live from then on (its
// state only ages) "until a message applied to it by the host keeps it
// live". A message the Books routed to it before the swap — its Apply
// still running, a fetch on its way without the book's lock — made it
// live again after the swap: a host that kept the replaced *Book read
// it as current, though nothing feeds it any more. A routed message no
// longer revives a replaced book; the host's own Apply still does.
func TestS38bookRoutedApplyDoesNotReviveAReplacedBook(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	fetch := FetcherFunc(func(ctx context.Context, _ string, dst *schema.CanonicalEvent) error {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		dst.Venue, dst.Symbol, dst.Type = schema.VenueBinance, "BTC-USDT", schema.EventBookSnapshot
		dst.Book.LastSeq = 4
		dst.Book.Bids = append(dst.Book.Bids[:0], lvl("100", "1"))
		dst.Book.Asks = append(dst.Book.Asks[:0], lvl("101", "1"))
		return nil
	})
	old, sink, events := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: fetch})
	books := NewBooks(sink, events, nil)
	books.Add(old)
	done := make(chan error, 1)
	go func() { done <- books.Publish(context.Background(), s37rvDiff(t, events, 5)) }()
	select {
	case <-entered:
	case <-time.After(60 * time.Second):
		t.Fatal("no fetch")
	}
	nb, err := NewBook(Binance, "BTC-USDT", &Options{Fetcher: fetch, Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb) // the old book's Apply is in its fetch, without its lock
	close(release)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("the routed diff never returned")
	}
	require.False(t, old.Live(), "a replaced book read live on a message routed before the swap")
	_, ok := old.BBO()
	require.False(t, ok)
	books.Close()

	// The host's own message keeps it live, as Books.Add says.
	ev := s37rvDiff(t, events, 6)
	defer events.Put(ev)
	require.NoError(t, old.Apply(context.Background(), ev))
	require.True(t, old.Live())
}
