package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Books.Add closed the book it replaced while holding the Books' lock,
// and Close waits for that book's own lock, which an Apply holds for as
// long as it runs — a Resubscribe callback, a gap marker waiting for an
// exhausted pool. Meanwhile every other book's events, and every reader
// of Books.Book, waited behind the Add: one slow book stalled the
// venue's whole stream. Add now swaps the books under its lock and
// closes the old one after.
func TestS31BooksAddDoesNotHoldTheRouterWhileClosing(t *testing.T) {
	asked, release := make(chan struct{}), make(chan struct{})
	o := &Options{Resubscribe: func(context.Context, schema.Venue, string) error {
		close(asked)
		<-release // the old book's lock is held meanwhile
		return nil
	}}
	old, sink, events := newRecBook(t, OKX, "BTC-USDT", o)
	books := NewBooks(nil, events, nil)
	books.Add(old)
	o2 := Options{Sink: sink, Events: events}
	eth, err := NewBook(OKX, "ETH-USDT", &o2)
	require.NoError(t, err)
	books.Add(eth)
	repl, err := NewBook(OKX, "BTC-USDT", &o2)
	require.NoError(t, err)

	applied := make(chan error, 1)
	go func() { // a diff before any snapshot: the old book resubscribes, locked
		applied <- old.Apply(context.Background(), okxEvent(t, okxRaw("books", "update", 10, 11, `["100","1","0","1"]`, ``, "")))
	}()
	<-asked
	added := make(chan struct{})
	go func() {
		books.Add(repl)
		close(added)
	}()
	defer func() {
		close(release)
		require.NoError(t, <-applied)
		<-added
	}()

	require.Eventually(t, func() bool { return books.Book(schema.VenueOKX, "BTC-USDT") == repl }, 30*time.Second, time.Millisecond,
		"Books.Book waited for the replaced book's Apply")
	ev := okxEvent(t, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	ev.Symbol = "ETH-USDT"
	done := make(chan error, 1)
	go func() { done <- books.apply(context.Background(), ev) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("another book's event waited for the replaced book's Apply")
	}
	require.True(t, eth.Live())
}
