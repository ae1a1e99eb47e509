package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// With two clients of a venue registered (Books.OnEvent twice), a quote
// handed to Books.Publish — which does not say its connection — passed
// no tail rule at all: a lost connection's tail quote went out after the
// book's withdrawal and stayed the subscribers' latest until the client
// reconnected, a stale quote served as live (the fault s37book fixed).
// Without a Feed the book's own tail rule applies, on the safe side: a
// quote received before a loss the book applied is dropped, whichever
// connection it came on (a surviving one's is told apart only by its
// Feed, TestS38bookFeedDropsOnlyItsOwnConnectionsTail).
func TestS38book2PublishDropsALostConnectionsTailWithTwoClients(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	a := books.OnEvent(schema.VenueOKX, nil)
	_ = books.OnEvent(schema.VenueOKX, nil) // client B, alive
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))

	a(s38loss(1_000))
	require.False(t, b.Live())
	require.NoError(t, books.Publish(context.Background(), s38quote(t, events, 900, "100.5"))) // A's tail
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sink),
		"a lost connection's tail quote went out after the withdrawal")
	require.Equal(t, uint64(1), b.Stats().AfterLoss)
}

// A host that replaces its client (the old one closed) and registers the
// new one with Books.OnEvent made the Books count two clients for good:
// the new client's lost connection's tail quote then passed Books.Publish
// as in the test above. Registering a client leaves no count behind: the
// new client's tail is dropped as the first client's was.
func TestS38book2ReplacedClientLeavesTheTailRuleInPlace(t *testing.T) {
	b, sink, events, books := newOKXBooks(t)
	ctx := context.Background()
	old := books.OnEvent(schema.VenueOKX, nil)
	applyLive(t, b, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["101","1","0","1"]`, ""))
	old(wsclient.Event{State: schema.ConnClosed, Reason: wsclient.ReasonClosed, ConnID: 1, IngestTS: 500})
	require.False(t, b.Live())

	fresh := books.OnEvent(schema.VenueOKX, nil) // the host's new client
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 600)))
	require.True(t, b.Live())
	fresh(s38loss(1_000))
	require.False(t, b.Live())
	require.NoError(t, books.Publish(ctx, s38quote(t, events, 900, "100.5"))) // the new client's tail
	require.Equal(t, []string{"100/101", "0/0", "100/101", "0/0"}, s31quoteBBOs(sink),
		"the replaced client's count let the new client's tail quote out")
	require.Equal(t, uint64(1), b.Stats().AfterLoss)
}

// A book fed through a Feed stayed bound to it when the host replaced
// that client by one that feeds through Books.Publish (its OnEvent
// Books.OnEvent): the new client's loss skipped the book as "another
// client's", and it stayed live on a dead connection. A book message
// through Books.Publish, whose connection is not known, unbinds the book:
// every loss of the venue concerns it again.
func TestS38book2BookFedThroughPublishAfterAFeedHearsTheNewClientsLoss(t *testing.T) {
	b, _, events, books := newOKXBooks(t)
	ctx := context.Background()
	old := books.Feed(schema.VenueOKX, nil)
	require.NoError(t, old.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	require.True(t, b.Live())
	old.OnEvent(wsclient.Event{State: schema.ConnClosed, Reason: wsclient.ReasonClosed, ConnID: 1, IngestTS: 500})
	require.False(t, b.Live())

	fresh := books.OnEvent(schema.VenueOKX, nil)
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 600)))
	require.True(t, b.Live())
	fresh(s38loss(1_000))
	require.False(t, b.Live(), "the new client's loss skipped a book still bound to the old client's Feed")
}
